"""What the pages that ask for a signature show about it: the signing jobs of an object, and
what the official should do when a signature is refused or fails (a wrong PIN: type it again; an
expired certificate: whom to ask). The panel itself is the shared ``jobs.progress`` pattern."""
from __future__ import annotations

from django.utils.translation import gettext as _

from signatures.models import SigningJob

# Refusals that a certificate manager of the commune resolves (a new or renewed certificate, a
# grant of the commune's key, the trust of its authority).
MANAGER_CODES = frozenset({
    "certificate_expired", "certificate_not_yet_valid", "certificate_inactive", "untrusted", "no_certificate",
    "no_authority",
})


def latest_jobs(subjects) -> list[SigningJob]:
    """The newest signing job of each (object, signature field) among ``subjects``, newest first."""
    subjects = [str(s) for s in subjects if s]
    if not subjects:
        return []
    seen: set[tuple[str, str]] = set()
    jobs = []
    for job in SigningJob.objects.filter(subject__in=subjects).order_by("-created_at", "-pk")[:50]:
        key = (job.subject, job.field_name)
        if key not in seen:
            seen.add(key)
            jobs.append(job)
    return jobs


def job_of(pk, subjects) -> SigningJob | None:
    """The job ``pk`` when it signs one of ``subjects`` (a number from the address is not trusted)."""
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        return None
    return SigningJob.objects.filter(pk=pk, subject__in=[str(s) for s in subjects]).first()


def managers_text() -> str:
    """The names of the commune's certificate managers, for "ask …"."""
    from communes.permissions import members
    from signatures.permissions import ADMIN_ROLES

    names = [u.full_name or u.username for u in members(ADMIN_ROLES)[:3]]
    if names:
        return _("the commune's administrator (%(names)s)") % {"names": ", ".join(names)}
    return _("the commune's administrator")


def refusal_advice(code: str) -> str:
    """What to do after a refusal with ``code``; empty when the message says it already."""
    if code == "wrong_pin":
        return _("Type the PIN of your certificate again.")
    if code == "pin_locked":
        return _("Wait until the lock ends, or ask %(who)s to lift it.") % {"who": managers_text()}
    if code in MANAGER_CODES:
        return _("Ask %(who)s to renew or grant the certificate; nothing was signed.") % {"who": managers_text()}
    if code in ("key_unavailable", "signature_refused"):
        return _("Try again in a few minutes; nothing was signed.")
    return ""


def failure_advice() -> str:
    """What to do after a signing job failed (the form is offered again)."""
    return _("Type the PIN and sign again below; if it fails again, tell %(who)s.") % {"who": managers_text()}
