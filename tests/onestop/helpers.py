"""Helpers shared by the one-stop tests: applicants, checklists, dossiers taken through the
services, rows with fixed times for the statistics, and real signatures (a test CA, the
chairman's and the commune's certificates, signing jobs run in process as a worker would)."""
from __future__ import annotations

import datetime
import uuid
from zoneinfo import ZoneInfo

import pytest

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
PIN = "135790"
CLERK_PIN = "246802"
PHONE = "0912345678"


def at(day: str, clock: str = "09:00") -> datetime.datetime:
    """at("06/04/2026", "09:30") → an aware datetime in Vietnam time."""
    return datetime.datetime.strptime(f"{day} {clock}", "%d/%m/%Y %H:%M").replace(tzinfo=TZ)


def applicant(**overrides) -> dict:
    data = {"name": "Hoàng Văn Nam", "id_number": "015090001234", "phone": PHONE, "email": "nam@example.vn",
            "address": "Thôn Bản Lìm, xã Tú Lệ"}
    data.update(overrides)
    return data


def required_ids(procedure) -> list[int]:
    """The documents a dossier of ``procedure`` must hold to be received."""
    return [r.pk for r in procedure.requirements.all() if r.required and not r.condition]


def full_checklist(procedure) -> dict:
    return {pk: True for pk in required_ids(procedure)}


def form_data_for(procedure) -> dict:
    """A value for every field of the procedure's application."""
    values = {}
    for spec in procedure.form_fields or []:
        kind = spec.get("type", "text")
        if kind == "date":
            values[spec["name"]] = "01/03/2026"
        elif kind == "number":
            values[spec["name"]] = "2"
        elif kind == "select":
            choice = (spec.get("choices") or [["x"]])[0]
            values[spec["name"]] = choice[0] if isinstance(choice, (list, tuple)) else choice
        else:
            values[spec["name"]] = "Lò Thị Mai"
    return values


def received_dossier(procedure, officer, **overrides):
    """A dossier taken in at the desk and received, with form 1 issued (its job run in process,
    as a worker would)."""
    from onestop import services

    kwargs = dict(user=officer, procedure=procedure, applicant=applicant(), checklist=full_checklist(procedure),
                  form_data=form_data_for(procedure), decision="receive")
    kwargs.update(overrides)
    dossier = services.counter_intake(**kwargs)
    run_form_jobs()
    return dossier


def run_form_jobs() -> list[str]:
    """Run every queued form job (form 1 at receipt) of the current schema in process, as a
    worker would; their outcomes."""
    from django.db import connection

    from jobs.models import JobState
    from jobs.services import execute
    from onestop.models import FormJob

    return [execute(FormJob, pk, connection.schema_name)
            for pk in FormJob.objects.filter(state=JobState.QUEUED).order_by("pk").values_list("pk", flat=True)]


def step_kinds(dossier) -> list[str]:
    return [s.kind for s in dossier.procedure.steps.order_by("order")]


def to_signing(dossier, people, *, leader="chairman"):
    """Hand a received dossier over step by step until the leader's signature step."""
    from onestop import services

    dossier.refresh_from_db()
    while dossier.current_step.kind != "sign":
        step = dossier.current_step
        actor = {"onestop_officer": people["onestop_officer"], "specialist": people["specialist"]}.get(
            step.role, people[leader])
        following = dossier.procedure.steps.filter(order__gt=step.order).order_by("order").first()
        to_user = {"onestop_officer": people["onestop_officer"], "specialist": people["specialist"]}.get(
            following.role, people[leader])
        dossier = services.hand_over(dossier=dossier, user=actor, to_user_id=to_user.pk, note=f"→ {following.name}")
    return dossier


def dossier_row(procedure, officer, *, received: datetime.datetime, completed: datetime.datetime | None = None,
                state: str | None = None, pauses=(), extended_to: datetime.datetime | None = None,
                code: str | None = None, score: int | None = None):
    """A dossier written directly with fixed times (for figures over past periods): its
    appointment from ``onestop.deadlines`` with its pauses, as the services compute it."""
    from onestop import deadlines
    from onestop.models import Dossier, Extension, Rating, SupplementPause

    dossier = Dossier.objects.create(
        procedure=procedure, channel="counter", state=state or ("result_ready" if completed else "in_progress"),
        applicant_name="Người thử", applicant_phone=PHONE, code=code or f"T-{uuid.uuid4().hex[:10]}",
        received_at=received, received_by=officer, completed_at=completed, submitted_at=received,
    )
    for start, end in pauses:
        SupplementPause.objects.create(dossier=dossier, started_at=start, ended_at=end, items=["Bản sao"])
    dossier.due_at = deadlines.dossier_due(dossier)
    dossier.original_due_at = deadlines.appointment(procedure, received)
    if extended_to is not None:
        Extension.objects.create(dossier=dossier, new_due_at=extended_to, reason="Cần xác minh thêm",
                                 created_at=received)
        dossier.extended_due_at = extended_to
    dossier.save()
    if score is not None:
        Rating.objects.create(dossier=dossier, score=score)
    return dossier


def notifications_to(recipient: str) -> list:
    """The SMS and e-mail jobs addressed to ``recipient`` (in the current schema)."""
    from notifications.models import Notification

    return [n for n in Notification.objects.order_by("pk") if recipient in (n.recipients or [])]


# --- real signatures ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def pki_set():
    from signatures import pki

    ca = pki.make_demo_ca("Xã Số Một cửa CA")
    return {
        "ca": ca,
        "chairman": pki.issue_personal(ca, "Lò Văn Thành", "Chủ tịch UBND xã", "UBND xã Tú Lệ"),
        "agency": pki.issue_agency(ca, "UBND xã Tú Lệ", locality="Tú Lệ"),
    }


@pytest.fixture
def signing_setup(in_tule, people, pki_set, settings):
    """The chairman's personal certificate and the commune's (the clerk holds its key), their
    signature image and seal; the test CA trusted by the portal."""
    from signatures import services
    from signatures.pdf.images import demo_seal_png, demo_signature_png
    from truststore.services import add_anchor, clear_cache

    settings.XASO_TSA_URL = ""
    clear_cache()
    add_anchor(pki_set["ca"].cert_pem(), label="Một cửa CA", source="test")
    services.import_pkcs12(
        file_bytes=pki_set["chairman"].to_pkcs12("x"), passphrase="x", kind="personal",
        owner_user_id=people["chairman"].pk, grants={people["chairman"].pk: PIN}, actor=None,
    )
    services.import_pkcs12(
        file_bytes=pki_set["agency"].to_pkcs12("x"), passphrase="x", kind="agency",
        grants={people["clerk"].pk: CLERK_PIN}, actor=None,
    )
    services.save_signature_image(data=demo_signature_png("Lò Văn Thành"), kind="signature",
                                  owner_user_id=people["chairman"].pk, actor=None)
    services.save_signature_image(data=demo_seal_png("UBND XÃ TÚ LỆ"), kind="seal", actor=None)
    yield pki_set
    clear_cache()


def run_signing_jobs(commune) -> list[str]:
    """Run every queued signing job in process, as a worker would; their outcomes."""
    from jobs.models import JobState
    from jobs.services import execute
    from signatures.models import SigningJob

    return [execute(SigningJob, pk, commune.schema_name)
            for pk in SigningJob.objects.filter(state=JobState.QUEUED).order_by("pk").values_list("pk", flat=True)]


def sign_fully(dossier, people, commune):
    """Leader then agency signatures on a dossier at the signature step; the dossier after."""
    from onestop import services

    services.sign_result_leader(dossier=dossier, user=people["chairman"], pin=PIN)
    assert run_signing_jobs(commune) == ["succeeded"]
    dossier.refresh_from_db()
    services.sign_result_agency(dossier=dossier, user=people["clerk"], pin=CLERK_PIN)
    assert run_signing_jobs(commune) == ["succeeded"]
    dossier.refresh_from_db()
    return dossier


def read(name: str) -> bytes:
    from onestop import files

    return files.read(name)
