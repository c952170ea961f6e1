"""Form 1 as a durable job: receiving a dossier saves it and queues the form; the form is made
once, by a worker or by the request that needs it first, whatever happens in between.

The broker's faults (a lost message, Redis down during the intake) are in
tests/jobs/test_faults_redis_down_writes.py, with a real worker."""
from __future__ import annotations

import pytest

from jobs.models import JobState
from jobs.services import JobMessage, execute
from onestop import services
from onestop.models import FormJob, IssuedForm

from .conftest import flat, pdftotext
from .helpers import applicant, form_data_for, full_checklist, read, run_form_jobs


def _intake(procedure, officer):
    return services.counter_intake(user=officer, procedure=procedure, applicant=applicant(),
                                   checklist=full_checklist(procedure), form_data=form_data_for(procedure))


def test_receiving_queues_form_1_and_sends_its_message_after_the_commit(
        procedures, people, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        dossier = _intake(procedures["HT-01"], people["onestop_officer"])
    job = FormJob.objects.get(dossier=dossier)
    assert (job.kind, job.state, job.issued_by_id, job.issued_form_id) == (
        "1", JobState.QUEUED, people["onestop_officer"].pk, None)
    assert not IssuedForm.objects.filter(dossier=dossier).exists()  # the answer did not wait for it
    sent = [c for c in callbacks if isinstance(c, JobMessage) and c.args[1] == "onestop.FormJob"]
    assert [c.args[2] for c in sent] == [job.pk]


def test_the_job_makes_form_1_once_even_when_run_again(procedures, people, tule):
    dossier = _intake(procedures["HT-01"], people["onestop_officer"])
    assert run_form_jobs() == ["succeeded"]
    job = FormJob.objects.get(dossier=dossier)
    form = IssuedForm.objects.get(dossier=dossier)
    assert (job.issued_form_id, job.completions, form.kind, form.created_by_id) == (
        form.pk, 1, "1", people["onestop_officer"].pk)
    text = flat(pdftotext(read(form.file)))
    assert "GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ" in text and dossier.code in text and "Lường Thị Thu" in text
    # A worker that died after the form was committed and before the job's end: the job is run
    # again and finds the form made.
    FormJob.objects.filter(pk=job.pk).update(state=JobState.QUEUED, completions=0)
    assert execute(FormJob, job.pk, tule.schema_name) == "succeeded"
    assert IssuedForm.objects.filter(dossier=dossier).count() == 1
    assert FormJob.objects.get(pk=job.pk).issued_form_id == form.pk


def test_the_form_asked_for_before_a_worker_took_it_is_made_in_that_request(procedures, people):
    dossier = _intake(procedures["HT-02"], people["onestop_officer"])
    job = FormJob.objects.get(dossier=dossier)
    form = services.form_now(job)
    assert form is not None and form.kind == "1" and read(form.file).startswith(b"%PDF-")
    assert services.pending_forms(dossier) == []
    assert services.form_now(FormJob.objects.get(pk=job.pk)) == form  # asked again: the same one
    assert run_form_jobs() == []  # the worker's message finds nothing left to do
    assert IssuedForm.objects.filter(dossier=dossier).count() == 1


def test_a_form_being_rendered_by_a_worker_is_not_rendered_twice(procedures, people):
    dossier = _intake(procedures["HT-02"], people["onestop_officer"])
    job = FormJob.objects.get(dossier=dossier)
    from django.utils import timezone

    FormJob.objects.filter(pk=job.pk).update(state=JobState.RUNNING, lease_owner="worker:1:x",
                                             lease_expires_at=timezone.now() + timezone.timedelta(seconds=30))
    assert services.form_now(FormJob.objects.get(pk=job.pk)) is None
    assert not IssuedForm.objects.filter(dossier=dossier).exists()


@pytest.mark.parametrize("decision", ["incomplete", "refuse"])
def test_forms_2_and_3_are_still_made_at_once(procedures, people, decision):
    procedure = procedures["HT-01"]
    dossier = services.counter_intake(user=people["onestop_officer"], procedure=procedure, applicant=applicant(),
                                      checklist={}, decision=decision, missing=["Tờ khai"], reason="Không thuộc thẩm quyền")
    assert IssuedForm.objects.filter(dossier=dossier).count() == 1 and not FormJob.objects.filter(dossier=dossier).exists()
