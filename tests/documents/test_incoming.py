"""Incoming documents: registration (with a checked upload), presentation, assignment with a
deadline in working days, handling, overdue and due-soon lists, reminders."""
import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from documents import files, numbering, selectors, services
from documents.models import TZ, DocumentNotice, HandlingEvent, IncomingDocument, ReminderJob
from jobs.services import execute

from .conftest import TULE_SCHEMA, make_pdf, upload

State = IncomingDocument.State


@pytest.fixture
def register(in_tule, people, doc_types):
    def factory(**fields):
        fields.setdefault("arrived_at", timezone.now() - datetime.timedelta(hours=1))
        fields.setdefault("sender_org", "Sở Nội vụ tỉnh Lào Cai")
        fields.setdefault("original_number_symbol", "123/SNV-CCVC")
        fields.setdefault("document_date", numbering.local_today() - datetime.timedelta(days=3))
        fields.setdefault("doc_type", doc_types["cong-van"])
        fields.setdefault("subject", "V/v rà soát đội ngũ công chức cấp xã")
        scan = fields.pop("scan", None)
        return services.register_incoming(IncomingDocument(**fields), user=people["clerk"], scan=scan)

    return factory


def test_register_with_one_yearly_sequence_for_paper_and_electronic(register, pdf_bytes):
    first = register(scan=upload(pdf_bytes))
    second = register(source="electronic")
    assert (first.incoming_number, second.incoming_number) == (1, 2)
    assert first.state == State.REGISTERED and first.scan and files.read(first.scan) == pdf_bytes
    assert first.type_name == "Công văn"
    assert first.events.get().kind == HandlingEvent.Kind.REGISTERED


@pytest.mark.parametrize("data, code", [
    (b"not a pdf at all", "not_pdf"),
    (b"%PDF-1.7\n1 0 obj << /Encrypt 2 0 R >> endobj\ntrailer << /Encrypt 2 0 R >>\n%%EOF\n", "encrypted"),
    (b"%PDF-1.4\n" + b"garbage " * 50, "malformed"),
])
def test_bad_uploads_are_refused_with_a_clear_message_and_nothing_written(register, data, code):
    with pytest.raises(ValidationError) as refused:
        register(scan=upload(data))
    assert services.error_code(refused.value) in (code, "malformed", "not_pdf")
    assert "scan" in refused.value.message_dict and refused.value.message_dict["scan"][0]
    assert not IncomingDocument.objects.exists()


def test_too_large_upload_is_refused(register, settings):
    settings.XASO_PDF_MAX_BYTES = 1000
    with pytest.raises(ValidationError) as refused:
        register(scan=upload(make_pdf() + b" " * 1000))
    assert services.error_code(refused.value) == "too_large"
    assert not IncomingDocument.objects.exists()


def test_arrival_and_dates_are_checked(register):
    with pytest.raises(ValidationError) as refused:
        register(arrived_at=timezone.now() + datetime.timedelta(days=1))
    assert "arrived_at" in refused.value.message_dict
    with pytest.raises(ValidationError) as refused:
        register(document_date=numbering.local_today() + datetime.timedelta(days=2))
    assert "document_date" in refused.value.message_dict
    with pytest.raises(ValidationError) as refused:
        register(sender_org="   ", subject="")
    assert {"sender_org", "subject"} <= set(refused.value.message_dict)


def test_present_assign_handle_complete(register, people):
    doc = register()
    assert services.presentation_due(doc) > doc.arrived_at
    doc = services.present(doc, user=people["clerk"], leader_id=people["chairman"].pk)
    assert doc.state == State.PRESENTED and doc.presented_to == people["chairman"]
    with pytest.raises(ValidationError):  # a specialist is no leader
        services.present(doc, user=people["clerk"], leader_id=people["specialist"].pk)
    with pytest.raises(PermissionDenied):
        services.assign(doc, user=people["clerk"], lead_handler_id=people["specialist"].pk)
    doc = services.assign(doc, user=people["chairman"], lead_handler_id=people["specialist"].pk,
                          co_handler_ids=[people["specialist2"].pk, people["specialist"].pk], working_days=5,
                          instruction="Giao công chức Nội vụ tham mưu.")
    assert doc.state == State.ASSIGNED and doc.co_handler_ids == [people["specialist2"].pk]
    from workcalendar.services import due_at

    assert abs((doc.deadline - due_at(doc.assigned_at, working_days=5)).total_seconds()) < 1
    with pytest.raises(PermissionDenied):  # only the lead handler starts
        services.start(doc, user=people["specialist2"])
    doc = services.start(doc, user=people["specialist"])
    assert doc.state == State.IN_PROGRESS
    services.add_note(doc, user=people["specialist2"], text="Đã liên hệ Sở Nội vụ.")
    doc = services.forward(doc, user=people["specialist"], to_user_id=people["specialist2"].pk, text="Nhờ anh xử lý.")
    assert doc.lead_handler == people["specialist2"] and doc.state == State.ASSIGNED
    with pytest.raises(PermissionDenied):
        services.complete(doc, user=people["specialist"], note="Xong")
    with pytest.raises(ValidationError):
        services.complete(doc, user=people["specialist2"], note="  ")
    doc = services.complete(doc, user=people["specialist2"], note="Đã báo cáo Sở Nội vụ.")
    assert doc.state == State.COMPLETED and doc.completed_at
    kinds = list(doc.events.values_list("kind", flat=True))
    assert kinds == ["registered", "presented", "assigned", "started", "note", "forwarded", "completed"]


def test_assign_with_a_deadline_date(register, people):
    doc = register()
    monday = datetime.date(2099, 6, 1)  # a Monday far ahead
    doc = services.assign(doc, user=people["vice_chairman"], lead_handler_id=people["specialist"].pk, deadline=monday)
    assert doc.deadline.astimezone(TZ) == datetime.datetime(2099, 6, 1, 17, 0, tzinfo=TZ)
    for bad in (datetime.date(2000, 1, 3), datetime.date(2099, 5, 31)):  # past; a Sunday
        with pytest.raises(ValidationError) as refused:
            services.assign(doc, user=people["vice_chairman"], lead_handler_id=people["specialist"].pk, deadline=bad)
        assert "deadline" in refused.value.message_dict
    with pytest.raises(ValidationError) as refused:
        services.assign(doc, user=people["vice_chairman"], lead_handler_id=10**12)
    assert "lead_handler" in refused.value.message_dict
    with pytest.raises(ValidationError):  # a producer is no official
        services.assign(doc, user=people["vice_chairman"], lead_handler_id=people["producer"].pk)


def _assigned(register, people, deadline):
    doc = register()
    services.assign(doc, user=people["chairman"], lead_handler_id=people["specialist"].pk,
                    co_handler_ids=[people["specialist2"].pk], working_days=1)
    IncomingDocument.objects.filter(pk=doc.pk).update(deadline=deadline)
    return IncomingDocument.objects.get(pk=doc.pk)


def test_overdue_and_due_soon_lists_and_reminders(register, people):
    now = timezone.now()
    late = _assigned(register, people, now - datetime.timedelta(hours=2))
    soon = _assigned(register, people, now + datetime.timedelta(days=1))
    later = _assigned(register, people, now + datetime.timedelta(days=20))
    done = _assigned(register, people, now - datetime.timedelta(days=3))
    services.complete(done, user=people["specialist"], note="Xong")
    assert list(selectors.overdue()) == [late]
    assert list(selectors.due_soon(days=2)) == [soon]
    assert set(selectors.incoming_documents(people["specialist"], overdue_only=True)) == {late}
    assert later not in selectors.due_soon(days=2)

    job = services_schedule()
    assert execute(ReminderJob, job.pk, TULE_SCHEMA) == "succeeded"
    job.refresh_from_db()
    assert job.result == {"overdue": 1, "due_soon": 1, "notices": 4}
    notices = set(DocumentNotice.objects.values_list("user_id", "document_id", "kind"))
    assert notices == {
        (people["specialist"].pk, late.pk, "overdue"), (people["specialist2"].pk, late.pk, "overdue"),
        (people["specialist"].pk, soon.pk, "due_soon"), (people["specialist2"].pk, soon.pk, "due_soon"),
    }
    # The same day again: nothing new (one job per day, one notice per person and document).
    from documents.reminders import schedule_today

    assert schedule_today() is None
    assert DocumentNotice.objects.count() == 4


def services_schedule():
    from documents.reminders import schedule_today

    return schedule_today()


def test_reminders_are_scheduled_for_every_commune(communes, in_commune):
    from documents.reminders import schedule_all

    day = datetime.date(2030, 1, 2)
    assert schedule_all(day) == 3
    for commune in communes.values():
        with in_commune(commune):
            assert ReminderJob.objects.filter(day=day).count() == 1
    assert schedule_all(day) == 0


def test_search_is_accent_insensitive(register, people):
    register(subject="V/v tổ chức Lễ hội Đền Tú Lệ", sender_org="Phòng Văn hóa")
    register(subject="V/v phòng chống dịch", original_number_symbol="45/TTYT-KHNV", sender_org="Trung tâm Y tế")
    clerk = people["clerk"]

    def found(**kw):
        return {d.subject for d in selectors.incoming_documents(clerk, **kw)}

    assert found(q="le hoi den tu le") == {"V/v tổ chức Lễ hội Đền Tú Lệ"}
    assert found(q="LỄ HỘI") == {"V/v tổ chức Lễ hội Đền Tú Lệ"}
    assert found(q="45/ttyt") == {"V/v phòng chống dịch"}
    assert found(q="2") == {"V/v phòng chống dịch"}  # incoming number 2
    assert found(sender="trung tam y te") == {"V/v phòng chống dịch"}
    assert found(q="không có") == set()


def test_specialist_sees_only_what_they_handle(register, people):
    mine = register()
    register()
    services.assign(mine, user=people["chairman"], lead_handler_id=people["specialist2"].pk,
                    co_handler_ids=[people["specialist"].pk])
    assert list(selectors.incoming_documents(people["specialist"])) == [mine]
    assert selectors.incoming_documents(people["clerk"]).count() == 2
    assert selectors.incoming_documents(people["radio_operator"]).count() == 0
