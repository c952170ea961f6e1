"""The outgoing flow: draft → review → leader's signature → number → agency's signature →
dispatch → filing; refusals; withdrawal. The signature calls are stand-ins here (FakeSigning)."""
import datetime
import threading

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from documents import files, services
from documents.models import OutgoingDocument

from .conftest import make_pdf, pdftotext, upload

State = OutgoingDocument.State


def test_the_whole_flow(draft_factory, people, fake_signing):
    doc = draft_factory()
    assert doc.state == State.DRAFT and doc.created_by == people["specialist"]
    doc = services.submit(doc, user=people["specialist"])
    assert doc.state == State.IN_REVIEW and doc.draft_pdf
    assert doc.signer_name == "Lò Văn Thành" and doc.authority_lines == ["TM. ỦY BAN NHÂN DÂN", "CHỦ TỊCH"]
    doc = services.approve(doc, user=people["vice_chairman"], note="Đồng ý.")
    assert doc.state == State.APPROVED
    services.sign_as_leader(doc, people["chairman"], "123456")
    doc.refresh_from_db()
    assert doc.state == State.SIGNED and doc.leader_signed_pdf and doc.leader_signed_pdf != doc.draft_pdf
    doc = services.issue(doc, people["clerk"], "123456", on=datetime.date(2026, 3, 5))
    assert doc.state == State.ISSUED and doc.number_symbol == "01/QĐ-UBND"
    assert doc.issued_on == datetime.date(2026, 3, 5) and doc.place_name == "Tú Lệ"
    assert doc.numbered_pdf and doc.issued_pdf
    assert [c[0] for c in fake_signing.calls] == ["leader", "agency"]
    text = pdftotext(files.read(doc.numbered_pdf))
    if "Số:" in text:  # filled when the PDF library of the signatures is installed
        assert "Số: 01/QĐ-UBND" in text and "Tú Lệ, ngày 05 tháng 3 năm 2026" in text
    doc = services.dispatch(doc, user=people["clerk"], day=datetime.date(2026, 3, 5))
    assert doc.state == State.DISPATCHED and doc.dispatched_on == datetime.date(2026, 3, 5)
    doc = services.file_document(doc, user=people["clerk"], retention_years=10, archive_code="HS-01")
    assert doc.state == State.FILED and doc.retention_years == 10
    reasons = list(doc.history.order_by("history_date").values_list("history_change_reason", flat=True))
    assert reasons[:3] == ["draft created", "submitted", "approved"]
    assert "numbered 01/QĐ-UBND" in reasons and reasons[-1] == "filed"


def test_files_are_written_once_and_never_replaced(draft_factory, people, fake_signing):
    from django.core.files.storage import default_storage

    from core.storage import FinalFileError

    doc = services.submit(draft_factory(), user=people["specialist"])
    assert default_storage.is_final(doc.draft_pdf)
    with pytest.raises(FinalFileError):
        default_storage.delete(doc.draft_pdf)
    doc = services.return_draft(doc, user=people["chairman"], reason="Sửa Điều 2.")
    first = doc.draft_pdf
    doc = services.submit(doc, user=people["specialist"])
    assert doc.draft_pdf != first and default_storage.exists(first)


def test_only_a_leader_with_authority_on_that_date_signs(draft_factory, people, authorities, fake_signing, doc_types):
    doc = services.approve(services.submit(draft_factory("nghi-quyet", authority=authorities["chairman"]),
                                           user=people["specialist"]), user=people["chairman"])
    with pytest.raises(ValidationError) as refused:
        services.sign_as_leader(doc, people["vice_chairman"], "1")
    assert services.error_code(refused.value) == "no_authority"
    with pytest.raises(PermissionDenied):
        services.sign_as_leader(doc, people["clerk"], "1")
    # The chairman's authority ended yesterday: he cannot sign any more.
    authorities["chairman"].valid_until = datetime.date(2020, 12, 31)
    authorities["chairman"].save()
    with pytest.raises(ValidationError) as refused:
        services.sign_as_leader(doc, people["chairman"], "1")
    assert services.error_code(refused.value) == "no_authority"
    assert fake_signing.calls == []


def test_the_vice_chairmans_authority_does_not_cover_resolutions(draft_factory, authorities):
    with pytest.raises(ValidationError) as refused:
        draft_factory("nghi-quyet", authority=authorities["vice"])
    assert "authority" in refused.value.message_dict


def test_issue_needs_the_leaders_signature(draft_factory, people, fake_signing):
    doc = services.approve(services.submit(draft_factory(), user=people["specialist"]), user=people["chairman"])
    with pytest.raises(ValidationError) as refused:
        services.issue(doc, people["clerk"], "1")
    assert services.error_code(refused.value) == "wrong_state"
    doc.refresh_from_db()
    assert doc.number is None
    with pytest.raises(PermissionDenied):
        services.issue(doc, people["specialist"], "1")


def test_second_issue_is_refused_as_already_issued(issued_factory, people):
    doc = issued_factory()
    with pytest.raises(ValidationError) as refused:
        services.issue(doc, people["clerk2"], "1")
    assert services.error_code(refused.value) == "already_issued"
    assert "01/QĐ-UBND" in refused.value.messages[0]


def test_agency_failure_keeps_the_number_and_can_be_retried(draft_factory, people, fake_signing):
    doc = services.approve(services.submit(draft_factory(), user=people["specialist"]), user=people["chairman"])
    services.sign_as_leader(doc, people["chairman"], "1")
    fake_signing.refuse["agency"] = ("wrong_pin", "wrong PIN")
    with pytest.raises(ValidationError) as refused:
        services.issue(doc, people["clerk"], "0000", on=datetime.date(2026, 6, 1))
    assert services.error_code(refused.value) == "wrong_pin"
    assert "01/QĐ-UBND" in refused.value.messages[0]
    doc.refresh_from_db()
    assert doc.state == State.NUMBERED and doc.number_symbol == "01/QĐ-UBND" and doc.numbered_pdf
    numbered_file = doc.numbered_pdf
    del fake_signing.refuse["agency"]
    doc = services.apply_agency_signature(doc, people["clerk"], "1234")
    assert doc.state == State.ISSUED and doc.number_symbol == "01/QĐ-UBND" and doc.numbered_pdf == numbered_file
    with pytest.raises(ValidationError):
        services.apply_agency_signature(doc, people["clerk"], "1234")


def test_attachments_are_signed_by_the_agency_one_job_each(draft_factory, people, fake_signing):
    doc = draft_factory()
    services.add_attachment(doc, user=people["specialist"], upload=upload(make_pdf("Phụ lục 1")), title="Phụ lục 1")
    services.add_attachment(doc, user=people["specialist"], upload=upload(make_pdf("Phụ lục 2")), title="Phụ lục 2")
    doc = services.approve(services.submit(doc, user=people["specialist"]), user=people["chairman"])
    services.sign_as_leader(doc, people["chairman"], "1")
    fake_signing.deferred = True
    doc.refresh_from_db()
    services.issue(doc, people["clerk"], "1")
    assert [c[0] for c in fake_signing.calls] == ["leader", "agency", "attachment", "attachment"]
    doc.refresh_from_db()
    assert doc.state == State.NUMBERED  # the agency's job has not finished yet


def test_dispatch_waits_for_the_signed_attachments(draft_factory, people, fake_signing):
    doc = draft_factory()
    attachment = services.add_attachment(doc, user=people["specialist"], upload=upload(make_pdf()), title="Phụ lục")
    doc = services.approve(services.submit(doc, user=people["specialist"]), user=people["chairman"])
    services.sign_as_leader(doc, people["chairman"], "1")
    fake_signing.refuse["attachment"] = ("unavailable", "down")
    doc.refresh_from_db()
    with pytest.raises(ValidationError):
        services.issue(doc, people["clerk"], "1")
    doc.refresh_from_db()
    assert doc.state == State.ISSUED  # the main file was signed
    with pytest.raises(ValidationError) as refused:
        services.dispatch(doc, user=people["clerk"])
    assert services.error_code(refused.value) == "wrong_state"
    attachment.refresh_from_db()
    assert not attachment.signed_file


def test_withdrawn_document_keeps_its_number(issued_factory, people, draft_factory):
    doc = issued_factory(on=datetime.date(2026, 7, 1))
    doc = services.withdraw(doc, user=people["chairman"], reason="Ban hành nhầm")
    assert doc.state == State.WITHDRAWN and doc.number_symbol == "01/QĐ-UBND"
    with pytest.raises(ValidationError):
        services.withdraw(doc, user=people["chairman"], reason="Lần nữa")
    # The next document gets 02: a withdrawn number is never given again.
    nxt = issued_factory(on=datetime.date(2026, 7, 2))
    assert nxt.number_symbol == "02/QĐ-UBND"


def test_state_changes_refuse_the_wrong_state(draft_factory, people):
    doc = draft_factory()
    with pytest.raises(ValidationError) as refused:
        services.approve(doc, user=people["chairman"])
    assert services.error_code(refused.value) == "wrong_state"
    with pytest.raises(ValidationError):
        services.dispatch(doc, user=people["clerk"])
    with pytest.raises(ValidationError):
        services.file_document(doc, user=people["clerk"], retention_years=5)
    doc = services.submit(doc, user=people["specialist"])
    with pytest.raises(ValidationError):
        services.save_draft(doc, user=people["specialist"])  # no more edits in review
    with pytest.raises(ValidationError) as refused:
        services.return_draft(doc, user=people["chairman"], reason="  ")
    assert "reason" in refused.value.message_dict


def test_only_the_drafter_or_a_clerk_edits_a_draft(draft_factory, people):
    doc = draft_factory()
    doc.subject = "Sửa"
    with pytest.raises(PermissionDenied):
        services.save_draft(doc, user=people["specialist2"])
    with pytest.raises(PermissionDenied):
        services.save_draft(doc, user=people["chairman"])
    services.save_draft(doc, user=people["clerk"])


def test_electronic_recipients_are_checked(draft_factory, people, yenhoa):
    doc = draft_factory(electronic_recipients=[{"kind": "commune", "code": "14701"}, {"kind": "unit", "code": "15"}])
    assert {(r.kind, r.code) for r in doc.electronic_recipients.all()} == {("commune", "14701"), ("unit", "15")}
    for bad in ({"kind": "commune", "code": "99999"}, {"kind": "commune", "code": "04630"},
                {"kind": "unit", "code": "38"}, {"kind": "nowhere", "code": "1"}, "14701"):
        with pytest.raises(ValidationError) as refused:
            draft_factory(electronic_recipients=[bad])
        assert "electronic_recipients" in refused.value.message_dict


@pytest.mark.slow
def test_two_clerks_issuing_at_the_same_moment(committed, fake_signing):
    """Two clerks, two connections, the same signed document: one numbers it, the other is
    told it was already issued (the row lock orders them)."""
    from django_tenants.utils import tenant_context

    from communes.models import Commune, Membership, Role, User
    from documents import rendering, signing
    from documents.models import DocumentType

    from .conftest import TULE_SCHEMA

    year = 2092
    committed["years"].append(year)
    commune = Commune.objects.get(schema_name=TULE_SCHEMA)
    clerks = []
    for name in ("clerk_a", "clerk_b"):
        clerk = User.objects.create_user(f"concurrent_{name}", password="x")
        Membership.objects.create(user=clerk, commune=commune, role=Role.CLERK)
        clerks.append(clerk)
    with tenant_context(commune):
        content = rendering.DraftContent(agency_lines=["ỦY BAN NHÂN DÂN", "XÃ TÚ LỆ"], subject="Về việc thử",
                                         body="Điều 1.", signer_name="Lò Văn Thành", authority_lines=["CHỦ TỊCH"],
                                         type_title="Quyết định")
        rendered = rendering.render_draft(content)
        signed = files.save_final("documents/outgoing/test/signed.pdf", signing.add_text_fields(rendered.pdf, rendered.layout))
        doc = OutgoingDocument.objects.create(
            doc_type=DocumentType.objects.get(code="quyet-dinh"), subject="Về việc thử", state=State.SIGNED,
            leader_signed_pdf=signed, layout=rendered.layout)
    committed["documents"].append(doc.pk)
    barrier = threading.Barrier(2)
    outcomes: list = []

    def issue(clerk):
        try:
            with tenant_context(commune):
                barrier.wait(timeout=30)
                outcomes.append(services.issue(OutgoingDocument.objects.get(pk=doc.pk), clerk, "1",
                                               on=datetime.date(year, 1, 5)).number_symbol)
        except ValidationError as exc:
            outcomes.append(services.error_code(exc))
        except BaseException as exc:  # noqa: BLE001
            outcomes.append(repr(exc))
        finally:
            from django.db import connection

            connection.close()

    threads = [threading.Thread(target=issue, args=(clerk,)) for clerk in clerks]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes) == ["01/QĐ-UBND", "already_issued"], outcomes
    with tenant_context(commune):
        assert OutgoingDocument.objects.get(pk=doc.pk).state == State.ISSUED
