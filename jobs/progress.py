"""The progress of the jobs a page started, shown in place of the form that started them.

One pattern for every page that starts a durable job (signing a document, issuing it, signing a
dossier's result): the page renders ``templates/jobs/_progress.html`` with a ``Progress``; while
the jobs run, htmx polls ``poll_url`` (a view that answers with ``respond``) and, without
JavaScript, a meta refresh and a plain "Reload" link reload ``page_url``. Once every job has
finished, the poll sends the browser to ``page_url``, which shows the ``Outcome``: the new
state and the next step, or on failure what to do.

The row of the job is the truth: while Redis is down, or no worker runs, the job is queued and
the page says that it waits and goes on by itself (the sweeper sends its message again).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from django.conf import settings
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from jobs.models import JobState

TEMPLATE = "jobs/_progress.html"
# A queued job not claimed after this many seconds is "waiting for its turn", not "starting".
QUEUED_NOTICE_SECONDS = 10
POLL_SECONDS = 2
REFRESH_SECONDS = 5


@dataclass
class Outcome:
    """What the page says once the jobs have finished well: the new state, and the next step
    (with a link to it when the person looking at the page takes it)."""

    title: str
    next_step: str = ""
    next_url: str = ""
    next_label: str = ""


@dataclass
class Progress:
    """The jobs of one action and what to say about them."""

    jobs: list
    label: str
    page_url: str
    poll_url: str
    outcome: Outcome | None = None
    advice: str = ""  # what to do when a job failed
    note: str = ""  # what the person must do meanwhile (confirm on the phone, say)
    now: object = field(default_factory=timezone.now)

    @property
    def state(self) -> str:
        states = {job.state for job in self.jobs}
        if JobState.FAILED in states:
            return JobState.FAILED
        if states <= {JobState.SUCCEEDED}:
            return JobState.SUCCEEDED
        if JobState.RUNNING in states or JobState.SUCCEEDED in states:
            return JobState.RUNNING
        if JobState.WAITING in states:
            return JobState.WAITING
        return JobState.QUEUED

    @property
    def finished(self) -> bool:
        return all(job.is_finished for job in self.jobs)

    @property
    def failed(self) -> bool:
        return self.finished and self.state == JobState.FAILED

    @property
    def succeeded(self) -> bool:
        return self.state == JobState.SUCCEEDED

    @property
    def percent(self) -> int:
        if not self.jobs:
            return 0
        values = [100 if job.state == JobState.SUCCEEDED else int(job.progress_percent or 0) for job in self.jobs]
        return int(sum(values) / len(values))

    @property
    def state_label(self) -> str:
        return str(JobState(self.state).label)

    @property
    def message(self) -> str:
        """The newest word of the running jobs (their own progress message)."""
        for job in self.jobs:
            if not job.is_finished and job.state == JobState.WAITING and job.waiting_reason:
                return _("Waiting: %(reason)s") % {"reason": job.waiting_reason}
        for job in self.jobs:
            if not job.is_finished and job.progress_message:
                return job.progress_message
        return ""

    @property
    def error(self) -> str:
        return next((job.error for job in self.jobs if job.state == JobState.FAILED and job.error), "")

    @property
    def waiting_note(self) -> str:
        """Why nothing moves yet, when a job still waits for a worker."""
        queued = [job for job in self.jobs if job.state == JobState.QUEUED]
        if not queued:
            return ""
        if not worker_alive():
            return _("The server that finishes this work is not running at the moment. Nothing is lost: the "
                     "work is saved and goes on by itself when the server is back. You may leave this page.")
        oldest = min(job.created_at for job in queued if job.created_at) if any(j.created_at for j in queued) else None
        if oldest is not None and (self.now - oldest).total_seconds() > QUEUED_NOTICE_SECONDS:
            return _("Waiting for its turn: the work is saved and goes on by itself. You may leave this page.")
        return _("Starting…")

    @property
    def poll_seconds(self) -> int:
        return POLL_SECONDS

    @property
    def refresh_seconds(self) -> int:
        return REFRESH_SECONDS


def worker_alive() -> bool:
    """Has a worker written its heartbeat recently? (PostgreSQL, so it answers while Redis is down.)"""
    from jobs.heartbeat import last_worker_heartbeat

    try:
        seen = last_worker_heartbeat()
    except Exception:  # noqa: BLE001 - the page still shows the job
        return False
    if seen is None:
        return False
    return (timezone.now() - seen).total_seconds() <= float(settings.XASO_WORKER_STALE_SECONDS)


def respond(request, progress: Progress) -> HttpResponse:
    """The answer to a poll: the panel while the jobs run; once they have finished, the page
    itself (htmx follows ``HX-Redirect``; a browser without it gets a plain redirect)."""
    if progress.finished or not progress.jobs:
        if request.headers.get("HX-Request"):
            response = HttpResponse("")
            response["HX-Redirect"] = progress.page_url
            return response
        return HttpResponseRedirect(progress.page_url)
    return render(request, TEMPLATE, {"progress": progress})
