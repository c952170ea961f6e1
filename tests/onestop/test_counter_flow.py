"""Intake at the desk: a complete dossier is received (code, appointment, form 1, messages),
an incomplete one gets form 2 and no code, a refused one form 3; codes follow the setting,
one sequence per day with neither gaps nor duplicates; a double submit records one dossier."""
from __future__ import annotations

import uuid

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from onestop import services
from onestop.models import Dossier, DossierEvent, DossierState, IssuedForm

from .conftest import flat, make_pdf, make_png, pdftotext, upload
from .helpers import PHONE, applicant, form_data_for, full_checklist, notifications_to, read, received_dossier


def test_complete_dossier_is_received_with_code_appointment_and_form_1(procedures, people, tule, settings):
    procedure = procedures["HT-01"]
    requirement = procedure.requirements.filter(required=True, condition="").first()
    dossier = received_dossier(procedure, people["onestop_officer"],
                               files={requirement.pk: [upload(make_pdf("Giấy chứng sinh"), "chung-sinh.pdf")]})
    dossier.refresh_from_db()
    assert dossier.state == DossierState.RECEIVED
    from workcalendar.services import to_local

    day = to_local(dossier.received_at).strftime("%y%m%d")
    assert dossier.code == f"{tule.agency_code}-{day}-0001" == f"000.00.X04630-{day}-0001"
    assert dossier.procedure_id == procedure.pk  # the version it was received under
    assert dossier.due_at == dossier.original_due_at and dossier.due_at > dossier.received_at
    from onestop.deadlines import appointment

    assert dossier.due_at == appointment(procedure, dossier.received_at)
    assert dossier.current_step.kind == "receive"
    assert dossier.current_handler_id == people["onestop_officer"].pk
    assert dossier.received_by_id == people["onestop_officer"].pk

    documents = list(dossier.documents.order_by("pk"))
    assert {d.requirement_id for d in documents} == set(full_checklist(procedure))
    scan = next(d for d in documents if d.requirement_id == requirement.pk)
    assert scan.content_type == "application/pdf" and scan.size > 0 and read(scan.file).startswith(b"%PDF-")

    form = IssuedForm.objects.get(dossier=dossier)
    assert form.kind == "1"
    text = flat(pdftotext(read(form.file)))
    assert "GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ" in text
    assert dossier.code in text and "Hoàng Văn Nam" in text and procedure.name in text

    event = DossierEvent.objects.get(dossier=dossier)
    assert (event.kind, event.actor_id, event.to_step_id) == ("received", people["onestop_officer"].pk,
                                                              dossier.current_step_id)
    sms = notifications_to(PHONE)
    assert len(sms) == 1 and sms[0].channel == "sms" and dossier.code in sms[0].message
    assert "/lookup/?code=" + dossier.code in sms[0].message
    mail = notifications_to("nam@example.vn")
    assert len(mail) == 1 and mail[0].channel == "email" and dossier.code in mail[0].subject


def test_codes_follow_the_format_setting_and_the_day_sequence(procedures, people, tule, settings):
    first = received_dossier(procedures["CT-01"], people["onestop_officer"], page_count=3)
    second = received_dossier(procedures["HT-02"], people["onestop_officer"])
    assert [first.code[-4:], second.code[-4:]] == ["0001", "0002"]
    settings.XASO_DOSSIER_CODE_FORMAT = "{agency}.{seq:06d}/{date:%Y}"
    third = received_dossier(procedures["HT-02"], people["onestop_officer"])
    from workcalendar.services import to_local

    assert third.code == f"000.00.X04630.000001/{to_local(third.received_at).year}"  # a yearly sequence of its own
    tule.agency_code = "H59.15.04630"
    tule.save()
    fourth = received_dossier(procedures["HT-02"], people["onestop_officer"])
    assert fourth.code.startswith("H59.15.04630.000001/")


def test_fee_is_computed_from_the_rule(procedures, people):
    dossier = received_dossier(procedures["CT-01"], people["onestop_officer"], page_count=5, copy_count=2)
    # 2.000 đ for pages 1-2, 1.000 đ after: 4.000 + 3.000 = 7.000 đ a copy, two copies.
    assert dossier.fee_amount == 14000
    exempt = received_dossier(procedures["CT-01"], people["onestop_officer"], page_count=5,
                              fee_exempt_reason="Người khuyết tật")
    assert exempt.fee_amount == 0


def test_incomplete_dossier_gets_form_2_and_no_code(procedures, people):
    procedure = procedures["HT-01"]
    checklist = full_checklist(procedure)
    missing_pk = next(iter(checklist))
    checklist[missing_pk] = False
    dossier = services.counter_intake(
        user=people["onestop_officer"], procedure=procedure, applicant=applicant(), checklist=checklist,
        decision="incomplete",
    )
    assert (dossier.state, dossier.code) == (DossierState.INCOMPLETE, None)
    missing_name = procedure.requirements.get(pk=missing_pk).name
    assert dossier.missing_items == [missing_name]
    form = IssuedForm.objects.get(dossier=dossier)
    text = flat(pdftotext(read(form.file)))
    assert "PHIẾU YÊU CẦU BỔ SUNG, HOÀN THIỆN HỒ SƠ" in text and flat(missing_name) in text
    [sms] = notifications_to(PHONE)
    assert missing_name in sms.message and procedure.name in sms.message


def test_refused_dossier_gets_form_3_with_the_reason(procedures, people):
    dossier = services.counter_intake(
        user=people["onestop_officer"], procedure=procedures["HT-03"], applicant=applicant(), checklist={},
        decision="refuse", reason="Việc kết hôn thuộc thẩm quyền của cơ quan khác",
    )
    assert (dossier.state, dossier.code) == (DossierState.REFUSED, None)
    assert dossier.closed_reason == "Việc kết hôn thuộc thẩm quyền của cơ quan khác"
    text = flat(pdftotext(read(dossier.forms.get().file)))
    assert "PHIẾU TỪ CHỐI TIẾP NHẬN GIẢI QUYẾT HỒ SƠ" in text and "thuộc thẩm quyền của cơ quan khác" in text
    assert dossier.events.get().kind == "refused"
    [sms] = notifications_to(PHONE)
    assert "thuộc thẩm quyền của cơ quan khác" in sms.message and procedures["HT-03"].name in sms.message


def test_missing_required_document_is_refused_with_its_name_and_nothing_saved(procedures, people):
    procedure = procedures["HT-01"]
    checklist = full_checklist(procedure)
    missing_pk = next(iter(checklist))
    del checklist[missing_pk]
    before = Dossier.objects.count()
    with pytest.raises(ValidationError) as refused:
        services.counter_intake(user=people["onestop_officer"], procedure=procedure, applicant=applicant(),
                                checklist=checklist)
    assert procedure.requirements.get(pk=missing_pk).name in refused.value.message_dict["checklist"][0]
    assert Dossier.objects.count() == before and not IssuedForm.objects.exists()


def test_double_submit_with_the_same_token_records_one_dossier(procedures, people):
    token = uuid.uuid4()
    first = received_dossier(procedures["HT-02"], people["onestop_officer"], submit_token=token)
    again = received_dossier(procedures["HT-02"], people["onestop_officer"], submit_token=str(token))
    assert again.pk == first.pk and again.code == first.code
    assert Dossier.objects.filter(submit_token=token).count() == 1
    assert IssuedForm.objects.filter(dossier=first).count() == 1
    assert received_dossier(procedures["HT-02"], people["onestop_officer"]).code[-4:] == "0002"  # no gap


def test_only_the_one_stop_officer_takes_dossiers_in(procedures, people):
    for role in ("specialist", "chairman", "clerk", "commune_admin", "citizen"):
        with pytest.raises(PermissionDenied):
            received_dossier(procedures["HT-02"], people[role])
    assert not Dossier.objects.exists()


def test_scans_of_each_kind_are_accepted_by_content(procedures, people):
    procedure = procedures["CT-01"]
    pk = full_checklist(procedure)
    requirement = next(iter(pk))
    dossier = received_dossier(procedure, people["onestop_officer"], page_count=1, files={
        requirement: [upload(make_png(), "anh.png", "image/png"), upload(make_pdf(), "ban-sao.pdf")]})
    types = sorted(d.content_type for d in dossier.documents.exclude(file=""))
    assert types == ["application/pdf", "image/png"]
    assert all(d.file.endswith((".png", ".pdf")) for d in dossier.documents.exclude(file=""))


def test_form_data_keeps_only_what_the_procedure_asks(procedures, people):
    procedure = procedures["HT-01"]
    data = {**form_data_for(procedure), "religion": "không", "income": "5000000"}
    dossier = received_dossier(procedure, people["onestop_officer"], form_data=data)
    assert set(dossier.form_data) == {f["name"] for f in procedure.form_fields}


# --- codes drawn concurrently ---------------------------------------------------------------------

@pytest.fixture
def committed_counters(django_db_setup, django_db_blocker):
    """Autocommit access (other connections see the counter rows): Tú Lệ, and the far-future
    days whose counter rows are removed afterwards."""
    from django.db import connection
    from django_tenants.utils import schema_context

    from communes.models import Commune

    days: list = []
    with django_db_blocker.unblock():
        commune = Commune.objects.get(code="04630")
        try:
            yield commune, days
        finally:
            connection.set_schema_to_public()
            with schema_context(commune.schema_name):
                from onestop.models import DossierCounter

                DossierCounter.objects.filter(day__in=days).delete()


@pytest.mark.slow
def test_codes_drawn_concurrently_have_no_gap_and_no_duplicate(committed_counters):
    """Twelve connections draw the codes of the same day at the same moment."""
    import datetime
    import threading

    from django.db import connection, transaction
    from django_tenants.utils import tenant_context

    from onestop.models import DossierCounter
    from workcalendar.services import TZ

    tule, days = committed_counters
    moment = datetime.datetime(2091, 6, 1, 9, 0, tzinfo=TZ)
    days.append(moment.date())
    barrier = threading.Barrier(12)
    codes, errors, backends = [], [], set()

    def draw():
        try:
            with tenant_context(tule), transaction.atomic():
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_backend_pid()")
                    backends.add(cursor.fetchone()[0])
                barrier.wait(timeout=30)
                codes.append(services.draw_code(moment))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=draw) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    assert len(backends) == 12
    assert sorted(codes) == [f"000.00.X04630-910601-{n:04d}" for n in range(1, 13)]
    with tenant_context(tule):
        assert DossierCounter.objects.get(day=moment.date(), prefix="000.00.X04630").last == 12
