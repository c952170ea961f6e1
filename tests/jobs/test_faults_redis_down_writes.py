"""Writes while Redis is down: the row is committed, so the request answers success; the
sweeper sends the job's message once Redis is back, and the job runs once.

Before the fix the message was sent by a ``functools.partial`` given to a robust
``on_commit``: when sending failed, Django logged the callback's ``__qualname__``, which a
partial does not have, and the AttributeError turned the saved write into a 500.

The writes go through the real API of a commune made for this module (its dossier numbers and
rows do not disturb the other tests; the schema is dropped at the end), with this process's
Celery producer pointed at a Redis server of the module's own, stopped during the writes.
"""
from __future__ import annotations

import json

import pytest
from django.db import connection, transaction
from django_tenants.utils import schema_context

from jobs.services import JobMessage, enqueue, sweep_all
from notifications.models import Notification
from tests.jobs.faults import (  # noqa: F401  (fixtures)
    broker_up, closed_port, fault_broker, fault_media, fault_redis, fault_worker, app_target, point_app,
)
from tests.jobs.helpers import wait_for

pytestmark = [pytest.mark.celery, pytest.mark.xdist_group("celery")]

HOST = "faults.localhost"
JSON = {"content_type": "application/json"}
APPLICANT_PHONE = "0913555111"


def test_a_failed_send_after_commit_never_raises(db, tule, in_commune, settings, fault_broker):
    """The after-commit send, in a transaction and in autocommit, with the broker on a closed
    port: nothing escapes, and the message says which job it is."""
    from config.celery import app

    saved = app_target(app)
    point_app(app, f"redis://127.0.0.1:{closed_port()}/0", saved[1])
    try:
        call = JobMessage("c_x", "notifications.Notification", 7)
        assert call.__qualname__ == "JobMessage(notifications.Notification:7)"
        assert call.args[:3] == ("c_x", "notifications.Notification", 7)
        call()  # does not raise
        connection.on_commit(JobMessage("c_x", "notifications.Notification", 8), robust=True)
        with in_commune(tule):
            with transaction.atomic():
                job = enqueue(Notification(channel="sms", message="x", recipients=["0912000001"]))
            assert Notification.objects.filter(pk=job.pk, state="queued").exists()
    finally:
        point_app(app, *saved)


@pytest.fixture(scope="module")
def faults_commune(django_db_setup, django_db_blocker):
    """A commune of this module's own, dropped with its schema at the end."""
    from communes.models import AdministrativeUnit, Commune, Domain
    from communes.provisioning import drop_schema
    from communes.services import create_commune

    with django_db_blocker.unblock():
        used = set(Commune.objects.values_list("code", flat=True))
        unit = AdministrativeUnit.objects.filter(level="commune").exclude(code__in=used).order_by("-code").first()
        Domain.objects.filter(domain=HOST).delete()
        commune, _seconds = create_commune(code=unit.code, name=unit.name, domain=HOST,
                                           province_code=unit.province_code)
        connection.set_schema_to_public()
    yield commune
    with django_db_blocker.unblock():
        connection.set_schema_to_public()
        Domain.objects.filter(tenant=commune).delete()
        Commune.objects.filter(pk=commune.pk).delete()
        drop_schema(commune.schema_name)


def _officials(commune, client_for):
    from communes.models import Membership, Role, User

    clients = {}
    for role in (Role.RADIO_OPERATOR, Role.ONESTOP_OFFICER):
        user = User.objects.create_user(username=f"faults_{role.value}", password="Mat-khau-2026!",
                                        full_name="Lường Văn Hải")
        Membership.objects.create(user=user, commune=commune, role=role)
        clients[role.value] = client_for(HOST, user, second_factor=True)
    return clients


def test_writes_while_redis_is_down_answer_success_and_run_once_when_it_is_back(
        live_db, faults_commune, client_for, gateway, fault_worker, broker_up, fault_media, settings):
    from broadcasting.models import AudioAsset, Bulletin, SpeechJob
    from onestop.models import Dossier, FormJob, IssuedForm, Procedure
    from population.models import Village
    from tests.onestop.helpers import form_data_for, full_checklist

    settings.MEDIA_ROOT = str(fault_media)
    schema = faults_commune.schema_name
    clients = _officials(faults_commune, client_for)
    with schema_context(schema):
        village = Village.objects.get_or_create(name="Bản Lướt")[0]
        procedure = Procedure.objects.get(code="HT-01", is_current=True)
        checklist, form_data = full_checklist(procedure), form_data_for(procedure)
    connection.set_schema_to_public()

    broker_up.stop()  # Redis is down for the producer (and the worker waits for it)
    bulletin = clients["radio_operator"].post("/api/v1/radio/bulletins/", {
        "title": "Tiêm chủng", "text": "Trạm y tế tiêm vắc xin cho trẻ dưới năm tuổi vào sáng thứ bảy.",
        "category": "health", "village_ids": [village.pk]}, **JSON)
    dossier = clients["onestop_officer"].post("/api/v1/onestop/dossiers/", {
        "procedure": "HT-01", "applicant_name": "Hoàng Văn Nam", "applicant_id_number": "015090001234",
        "applicant_phone": APPLICANT_PHONE, "checklist": json.dumps(checklist),
        "form_data": json.dumps(form_data)})
    assert bulletin.status_code == 201, bulletin.content
    assert dossier.status_code == 201, dossier.content
    assert [(f["kind"], f["state"]) for f in dossier.json()["pending_forms"]] == [("1", "queued")]

    with schema_context(schema):  # committed: the rows are there for every connection
        assert Bulletin.objects.filter(pk=bulletin.json()["id"]).exists()
        assert Dossier.objects.filter(pk=dossier.json()["id"], state="received").exists()
        asset = Bulletin.objects.select_related("asset").get(pk=bulletin.json()["id"]).asset
        speech = SpeechJob.objects.get(asset=asset)
        notices = [n for n in Notification.objects.all() if APPLICANT_PHONE in (n.recipients or [])]
        assert speech.state == "queued" and len(notices) == 1 and notices[0].state == "queued"
        form_job = FormJob.objects.get(dossier_id=dossier.json()["id"])  # form 1, rendered by the worker
        assert form_job.state == "queued" and not IssuedForm.objects.filter(dossier_id=form_job.dossier_id).exists()
        jobs = [(SpeechJob, speech.pk), (Notification, notices[0].pk), (FormJob, form_job.pk)]

    broker_up.start()  # an empty Redis: the messages were never sent

    def all_done():
        sweep_all()  # what beat runs
        with schema_context(schema):
            rows = [model.objects.filter(pk=pk).values("state", "completions").first() for model, pk in jobs]
        if any(row["state"] == "failed" for row in rows):
            raise AssertionError(f"{rows}\n{fault_worker.output()}")
        return all(row["state"] == "succeeded" for row in rows) and rows

    rows = wait_for(all_done, timeout=120, interval=1.0, message="the jobs to run after Redis came back")
    assert [row["completions"] for row in rows] == [1, 1, 1]
    with schema_context(schema):
        assert AudioAsset.objects.get(pk=asset.pk).file
        form = IssuedForm.objects.get(dossier_id=form_job.dossier_id)
        assert form.kind == "1" and FormJob.objects.get(pk=form_job.pk).issued_form_id == form.pk
        assert (fault_media / form.file).read_bytes().startswith(b"%PDF-")
        key = Notification.objects.get(pk=notices[0].pk).idempotency_key
    effects = gateway.effects_for(key)
    assert list(effects.values()) == [APPLICANT_PHONE]
    assert all(gateway.effect_counts[k] == 1 for k in effects)


def test_form_1_whose_message_was_lost_is_made_once_the_sweeper_sends_it_again(
        live_db, faults_commune, client_for, fault_worker, broker_up, fault_broker, fault_media, settings):
    """The intake's message for form 1 never reaches the workers' queue (as after a FLUSHALL):
    the answer was given, the job's row waits, and the sweeper sends the message again."""
    from config.celery import app
    from onestop.models import FormJob, IssuedForm, Procedure
    from tests.celery_worker import queue_of_its_own
    from tests.onestop.helpers import full_checklist

    settings.MEDIA_ROOT = str(fault_media)
    settings.XASO_JOB_LOST_MESSAGE_SECONDS = 1
    schema = faults_commune.schema_name
    officer = _officials(faults_commune, client_for)["onestop_officer"]
    with schema_context(schema):
        checklist = full_checklist(Procedure.objects.get(code="CT-01", is_current=True))
    connection.set_schema_to_public()
    with queue_of_its_own(app, f"{fault_broker['queue']}-lost") as lost_queue:
        answer = officer.post("/api/v1/onestop/dossiers/", {
            "procedure": "CT-01", "applicant_name": "Lò Thị Duyên", "applicant_phone": "0913555222",
            "checklist": checklist, "page_count": 3, "copy_count": 2}, **JSON)
    assert answer.status_code == 201, answer.content
    broker_up.client().delete(lost_queue)  # the message is gone
    pending = answer.json()["pending_forms"][0]
    with schema_context(schema):
        job = FormJob.objects.get(pk=pending["job"])
        assert job.state == "queued" and job.dossier_id == answer.json()["id"]

    def made():
        sweep_all()  # what beat runs
        with schema_context(schema):
            row = FormJob.objects.filter(pk=job.pk).values("state", "completions", "issued_form").first()
        if row["state"] == "failed":
            raise AssertionError(f"{row}\n{fault_worker.output()}")
        return row["state"] == "succeeded" and row

    row = wait_for(made, timeout=90, interval=1.0, message="form 1 after its message was lost")
    assert row["completions"] == 1
    with schema_context(schema):
        assert IssuedForm.objects.filter(dossier_id=job.dossier_id).count() == 1
        assert IssuedForm.objects.get(pk=row["issued_form"]).kind == "1"
    # The officer's page then lists the form itself.
    page = officer.get(f"/onestop/dossiers/{job.dossier_id}/").content.decode()
    assert f"/onestop/dossiers/{job.dossier_id}/forms/{row['issued_form']}.pdf" in page
