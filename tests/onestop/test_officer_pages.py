"""The officials' pages of the one-stop desk, through the real middleware on tule.localhost:
counter intake end to end, the dossier page with the actions of each role, the files, the
register (form 7) and the statistics page."""
from __future__ import annotations

import datetime
import io
import re
import uuid
from decimal import Decimal

import pytest
from django.utils import timezone
from django_tenants.utils import tenant_context

from .conftest import flat, make_pdf, make_png, pdftotext, upload
from .helpers import pki_set, signing_setup  # noqa: F401  (fixtures)

HOST = "tule.localhost"
PROCEDURE_CODE = "KT-01"


# --- fixtures -----------------------------------------------------------------------------------

@pytest.fixture
def procedure(in_tule):
    """A procedure of our own (so the test does not depend on the catalogue's wording): two
    required papers and an optional one, a fixed fee, the five usual steps."""
    from onestop.models import Procedure, ProcedureStep, RequiredDocument, Sector

    sector, _created = Sector.objects.get_or_create(code="kt", defaults={"name": "Kiểm thử", "order": 99})
    procedure = Procedure.objects.create(
        code=PROCEDURE_CODE, name="Xác nhận tình trạng kiểm thử của công dân", sector=sector,
        agency="Ủy ban nhân dân xã", valid_from=datetime.date(2025, 7, 1), verified=True,
        time_amount=Decimal("3"), time_unit="working_days", fee_rule={"kind": "fixed", "amount": 10000},
        result_type="Giấy xác nhận", result_title="GIẤY XÁC NHẬN",
        result_template="Xác nhận ông/bà {applicant_name} (hồ sơ {code}).", online_level="partial",
        search_text="xac nhan tinh trang kiem thu cua cong dan",
        form_fields=[{"name": "purpose", "label": "Mục đích xác nhận", "type": "text", "required": True}],
    )
    docs = [
        RequiredDocument.objects.create(procedure=procedure, order=1, name="Tờ khai xác nhận kiểm thử", copy_kind="form"),
        RequiredDocument.objects.create(procedure=procedure, order=2, name="Giấy tờ chứng minh nơi cư trú", copy_kind="copy"),
        RequiredDocument.objects.create(procedure=procedure, order=3, name="Giấy ủy quyền", copy_kind="either",
                                        required=False, condition="khi nộp thay"),
    ]
    steps = [("receive", "Tiếp nhận hồ sơ", "onestop_officer", 2), ("process", "Thẩm định hồ sơ", "specialist", 12),
             ("approve", "Lãnh đạo phê duyệt", "leader", 4), ("sign", "Ký kết quả", "leader", 2),
             ("return", "Trả kết quả", "onestop_officer", 2)]
    for order, (kind, name, role, hours) in enumerate(steps, start=1):
        ProcedureStep.objects.create(procedure=procedure, order=order, kind=kind, name=name, role=role,
                                     duration_hours=Decimal(hours))
    procedure.docs = docs
    return procedure


def intake_data(procedure, *, token=None, decision="receive", skip=(), **extra) -> dict:
    data = {
        "submit_token": str(token or uuid.uuid4()), "applicant_name": "Giàng A Páo",
        "applicant_id_number": "015090001234", "applicant_phone": "0912345678", "applicant_email": "",
        "applicant_address": "Bản Tú Lệ, xã Tú Lệ", "delivery": "counter", "copy_count": "1", "page_count": "0",
        "f_purpose": "Bổ túc hồ sơ đi làm", "decision": decision, "missing": "", "reason": "",
    }
    for doc in procedure.docs:
        if doc.required and doc.pk not in skip:
            data[f"doc_{doc.pk}"] = "on"
    data.update(extra)
    return data


@pytest.fixture
def received(procedure, people):
    """A dossier received at the counter by the one-stop officer (through the service), with
    form 1 issued as a worker does."""
    from onestop import services

    from .helpers import run_form_jobs

    dossier = services.counter_intake(
        user=people["onestop_officer"], procedure=procedure,
        applicant={"name": "Lò Thị Mai", "id_number": "015190004321", "phone": "0987654321", "email": "",
                   "address": "Bản Lìm Mông"},
        checklist={doc.pk: doc.required for doc in procedure.docs}, form_data={"purpose": "Đi học"},
        decision="receive", submit_token=uuid.uuid4(),
    )
    run_form_jobs()
    return dossier


def dossier_count(tule) -> int:
    from onestop.models import Dossier

    with tenant_context(tule):
        return Dossier.objects.count()


def action_ids(html: str) -> set[str]:
    return set(re.findall(r'id="action-([a-z_]+)"', html))


# --- counter intake -----------------------------------------------------------------------------

def test_intake_receives_a_dossier_with_a_code_and_form_1(procedure, people, client_for, tule):
    officer = client_for(HOST, people["onestop_officer"])
    listing = officer.get("/onestop/intake/", {"q": "kiem thu"})
    assert listing.status_code == 200 and f"/onestop/intake/{PROCEDURE_CODE}/" in listing.content.decode()
    page = officer.get(f"/onestop/intake/{PROCEDURE_CODE}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'name="submit_token"' in html and "Tờ khai xác nhận kiểm thử" in html and "Mục đích xác nhận" in html

    data = intake_data(procedure)
    data[f"scan_{procedure.docs[0].pk}"] = [upload(make_pdf("Tờ khai"), "to-khai.pdf"),
                                           upload(make_png(), "anh.png", "image/png")]
    response = officer.post(f"/onestop/intake/{PROCEDURE_CODE}/", data)
    assert response.status_code == 302, response.content.decode()[:2000]

    from onestop.models import Dossier

    with tenant_context(tule):
        dossier = Dossier.objects.get()
        assert dossier.code and dossier.state == "received" and dossier.channel == "counter"
        assert dossier.applicant_name == "Giàng A Páo" and dossier.form_data.get("purpose") == "Bổ túc hồ sơ đi làm"
        assert dossier.received_by_id == people["onestop_officer"].pk and dossier.due_at
        assert dossier.documents.exclude(file="").count() == 2
        # Form 1 follows as a job; the page shows its progress and a link that renders it when
        # no worker has yet (the citizen waits at the desk).
        assert not dossier.forms.exists()
        job = dossier.form_jobs.get(kind="1")
    assert response["Location"] == f"/onestop/dossiers/{dossier.pk}/"

    detail = officer.get(response["Location"])
    html = detail.content.decode()
    assert detail.status_code == 200 and dossier.code in html
    pending_link = f"/onestop/dossiers/{dossier.pk}/forms/pending/{job.pk}.pdf"
    assert pending_link in html and 'id="job-progress"' in html
    assert f'hx-get="/onestop/dossiers/{dossier.pk}/forms/progress/"' in html
    assert officer.get(f"/onestop/dossiers/{dossier.pk}/forms/progress/").status_code == 200  # still queued
    pdf = officer.get(pending_link)
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    data = b"".join(pdf.streaming_content)
    assert data.startswith(b"%PDF")
    text = flat(pdftotext(data))
    assert dossier.code in text and "GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ" in text
    with tenant_context(tule):
        form_1 = dossier.forms.get(kind="1")
    # Once made, the page lists the form itself, and the progress poll sends the page back to it.
    html = officer.get(response["Location"]).content.decode()
    assert f"/onestop/dossiers/{dossier.pk}/forms/{form_1.pk}.pdf" in html and pending_link not in html
    assert officer.get(f"/onestop/dossiers/{dossier.pk}/forms/progress/").status_code == 302
    # The scans are there to open.
    with tenant_context(tule):
        scan = dossier.documents.exclude(file="").order_by("pk").first()
    opened = officer.get(f"/onestop/dossiers/{dossier.pk}/files/{scan.pk}/")
    assert opened.status_code == 200 and b"".join(opened.streaming_content)[:4] in (b"%PDF", b"\x89PNG")


def test_intake_missing_document_is_refused_and_nothing_saved(procedure, people, client_for, tule):
    officer = client_for(HOST, people["onestop_officer"])
    missing = procedure.docs[1]
    data = intake_data(procedure, skip={missing.pk})
    data[f"scan_{procedure.docs[0].pk}"] = upload(make_pdf(), "to-khai.pdf")
    response = officer.post(f"/onestop/intake/{PROCEDURE_CODE}/", data)
    assert response.status_code == 400
    html = response.content.decode()
    errors = " ".join(re.findall(r'<ul class="errorlist[^"]*">(.*?)</ul>', html, re.S))
    assert missing.name in errors  # the message names the missing paper, in Vietnamese
    assert dossier_count(tule) == 0
    from onestop.models import DossierDocument

    with tenant_context(tule):
        assert not DossierDocument.objects.exists()
    # The page keeps what was typed, and the same submission key for the next try.
    assert "Giàng A Páo" in html and data["submit_token"] in html


def test_intake_bad_input_is_shown_on_the_form(procedure, people, client_for, tule):
    officer = client_for(HOST, people["onestop_officer"])
    url = f"/onestop/intake/{PROCEDURE_CODE}/"
    no_name = officer.post(url, intake_data(procedure, applicant_name=""))
    assert no_name.status_code == 400 and "applicant_name" in no_name.context["form"].errors
    not_a_scan = intake_data(procedure)
    not_a_scan[f"scan_{procedure.docs[0].pk}"] = upload(b"MZ\x90\x00 not a paper", "to-khai.pdf")
    response = officer.post(url, not_a_scan)
    assert response.status_code == 400 and response.context["form"].errors
    refuse_without_reason = officer.post(url, intake_data(procedure, decision="refuse"))
    assert refuse_without_reason.status_code == 400 and refuse_without_reason.context["form"].errors
    bad_token = officer.post(url, intake_data(procedure, submit_token="not-a-uuid"))
    assert bad_token.status_code == 400 and "submit_token" in bad_token.context["form"].errors
    assert str(bad_token.context["form"].errors["submit_token"][0]) in bad_token.content.decode()
    not_a_resident = officer.post(url, intake_data(procedure, resident_id="987654321"))
    assert not_a_resident.status_code == 400 and "resident_id" in not_a_resident.context["form"].errors
    assert dossier_count(tule) == 0


def test_double_post_with_the_same_token_makes_one_dossier(procedure, people, client_for, tule):
    officer = client_for(HOST, people["onestop_officer"])
    token = uuid.uuid4()
    first = officer.post(f"/onestop/intake/{PROCEDURE_CODE}/", intake_data(procedure, token=token))
    second = officer.post(f"/onestop/intake/{PROCEDURE_CODE}/", intake_data(procedure, token=token))
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"]
    assert dossier_count(tule) == 1
    third = officer.post(f"/onestop/intake/{PROCEDURE_CODE}/", intake_data(procedure))
    assert third.status_code == 302 and third["Location"] != first["Location"]
    assert dossier_count(tule) == 2


def test_incomplete_gives_form_2_and_refusal_form_3(procedure, people, client_for, tule):
    from onestop.models import Dossier

    officer = client_for(HOST, people["onestop_officer"])
    missing = procedure.docs[1]
    response = officer.post(f"/onestop/intake/{PROCEDURE_CODE}/", intake_data(
        procedure, decision="incomplete", skip={missing.pk}))
    assert response.status_code == 302
    with tenant_context(tule):
        dossier = Dossier.objects.get()
        assert dossier.state == "incomplete" and dossier.code is None
        form_2 = dossier.forms.get(kind="2")
    pdf = officer.get(f"/onestop/dossiers/{dossier.pk}/forms/{form_2.pk}.pdf")
    text = flat(pdftotext(b"".join(pdf.streaming_content)))
    assert "PHIẾU YÊU CẦU BỔ SUNG, HOÀN THIỆN HỒ SƠ" in text and missing.name in text

    response = officer.post(f"/onestop/intake/{PROCEDURE_CODE}/", intake_data(
        procedure, decision="refuse", reason="Thủ tục không thuộc thẩm quyền của xã"))
    assert response.status_code == 302
    with tenant_context(tule):
        refused = Dossier.objects.get(state="refused")
        assert refused.closed_reason == "Thủ tục không thuộc thẩm quyền của xã"
        assert refused.forms.filter(kind="3").exists()


def test_applicant_from_the_registry_is_linked_and_the_reads_are_logged(procedure, people, client_for, tule):
    from onestop.models import Dossier
    from population.models import AccessLog, Household, Resident, Village

    with tenant_context(tule):
        village = Village.objects.create(name="Bản Khe Căm")
        household = Household.objects.create(code="HK-0001", village=village, address="Số 5, đường bản")
        resident = Resident.objects.create(household=household, full_name="Vàng Thị Dợ", birth_date=datetime.date(1992, 3, 4),
                                           sex="female", personal_id="015192004567", relation="head", phone="0934567890")
    officer = client_for(HOST, people["onestop_officer"])
    url = f"/onestop/intake/{PROCEDURE_CODE}/"
    found = officer.get(url, {"rq": "vang thi do"})
    html = found.content.decode()
    assert found.status_code == 200 and "Vàng Thị Dợ" in html and f"resident={resident.pk}" in html
    assert "015192004567" not in html  # the list shows the masked number
    chosen = officer.get(url, {"resident": resident.pk})
    form = chosen.context["form"]
    assert form["applicant_name"].value() == "Vàng Thị Dợ" and form["resident_id"].value() == resident.pk
    assert form["applicant_id_number"].value() == "015192004567"
    assert "Bản Khe Căm" in form["applicant_address"].value()
    with tenant_context(tule):
        logs = list(AccessLog.objects.filter(user_id=people["onestop_officer"].pk).order_by("pk"))
        # The search, the registry read, and the full ID number put into the form (a reveal).
        assert [(log.action, log.object_id) for log in logs] == [
            ("search", ""), ("view", str(resident.pk)), ("reveal", str(resident.pk))]
        assert "vang thi do" in logs[0].description
    response = officer.post(url, intake_data(procedure, resident_id=str(resident.pk), applicant_name="Vàng Thị Dợ",
                                             applicant_id_number="015192004567"))
    assert response.status_code == 302
    with tenant_context(tule):
        assert Dossier.objects.get().resident_id == resident.pk


def test_intake_needs_the_one_stop_officer(procedure, people, client_for, tule):
    for role in ("specialist", "chairman", "clerk", "commune_admin", "citizen"):
        client = client_for(HOST, people[role])
        assert client.get("/onestop/intake/").status_code == 403, role
        assert client.post(f"/onestop/intake/{PROCEDURE_CODE}/", intake_data(procedure)).status_code == 403, role
    assert dossier_count(tule) == 0
    anonymous = client_for(HOST)
    assert anonymous.get("/onestop/intake/").status_code == 302


# --- the dossier page ---------------------------------------------------------------------------

def test_detail_shows_only_the_actions_of_the_role(received, people, client_for):
    url = f"/onestop/dossiers/{received.pk}/"
    seen = {}
    for role in ("onestop_officer", "specialist", "chairman", "clerk"):
        response = client_for(HOST, people[role]).get(url)
        assert response.status_code == 200, role
        assert received.code in response.content.decode()
        seen[role] = action_ids(response.content.decode())
    # At the receiving step: the officer hands over, and holds the desk's actions.
    assert {"hand_over", "request_supplement", "extend", "stop", "payment", "add_file"} <= seen["onestop_officer"]
    assert not seen["onestop_officer"] & {"sign_leader", "sign_agency", "receive", "return"}
    assert seen["specialist"] == {"request_supplement"}
    assert seen["chairman"] == {"extend", "stop"}
    assert seen["clerk"] == set()
    # The officer's hand-over lists the specialists (the next step's role).
    html = client_for(HOST, people["onestop_officer"]).get(url).content.decode()
    hand_over = html[html.index('id="action-hand_over"'):]
    hand_over = hand_over[:hand_over.index("</form>")]
    assert "Trần Văn Lâm" in hand_over and "Đinh Văn Khánh" in hand_over and "Lò Văn Thành" not in hand_over


def test_every_read_of_a_dossier_page_is_logged(received, people, client_for, in_commune, tule):
    """The page shows the applicant's ID number and phone: who read it, and when, is kept."""
    from population.models import AccessLog

    for role in ("onestop_officer", "chairman"):
        assert client_for(HOST, people[role]).get(f"/onestop/dossiers/{received.pk}/").status_code == 200
    with in_commune(tule):
        reads = AccessLog.objects.filter(object_type="onestop.dossier", object_id=str(received.pk), channel="page",
                                         action=AccessLog.Action.VIEW)
        assert sorted(reads.values_list("username", flat=True)) == sorted(
            [people["onestop_officer"].username, people["chairman"].username])
        assert all(log.description == received.code for log in reads)
        # The officer who takes dossiers in sees the full ID number: that read is a reveal.
        reveals = AccessLog.objects.filter(object_type="onestop.dossier", object_id=str(received.pk),
                                           action=AccessLog.Action.REVEAL)
        assert list(reveals.values_list("username", flat=True)) == [people["onestop_officer"].username]


def test_wrong_role_post_is_403_and_changes_nothing(received, people, client_for, tule):
    from onestop.models import Dossier

    url = f"/onestop/dossiers/{received.pk}/"
    cases = [
        ("specialist", "stop", {"reason": "Không"}),
        ("specialist", "payment", {"method": "cash"}),
        ("clerk", "extend", {"new_due_at": "01/12/2030 10:00", "reason": "Chậm"}),
        ("clerk", "sign_leader", {"pin": "123456"}),
        ("onestop_officer", "sign_agency", {"pin": "123456"}),
        ("chairman", "receive", {}),
        ("chairman", "hand_over", {"to_user": people["specialist"].pk}),
        ("citizen", "stop", {"reason": "x"}),
    ]
    for role, action, data in cases:
        response = client_for(HOST, people[role]).post(f"{url}{action}/", data)
        assert response.status_code == 403, (role, action)
        assert "403.html" in [t.name for t in response.templates], (role, action)
    for role in ("citizen", "commune_admin"):
        assert client_for(HOST, people[role]).get(url).status_code == 403
    assert client_for(HOST, people["onestop_officer"]).post(f"{url}no_such_action/").status_code == 404
    with tenant_context(tule):
        dossier = Dossier.objects.get(pk=received.pk)
        assert dossier.state == "received" and not dossier.closed_reason and not dossier.extended_due_at
        assert not dossier.payments.exists()


def test_processing_through_the_pages(received, procedure, people, client_for, tule):
    from onestop.models import Dossier

    url = f"/onestop/dossiers/{received.pk}/"
    officer = client_for(HOST, people["onestop_officer"])
    specialist = client_for(HOST, people["specialist"])
    response = officer.post(f"{url}hand_over/", {"to_user": people["specialist"].pk, "note": "Chuyển thẩm định"})
    assert response.status_code == 302
    page = specialist.get(url).content.decode()
    assert {"hand_over", "prepare_result", "request_supplement"} <= action_ids(page)
    # A supplement: the form needs an item; then the clock stops until the desk records it.
    bad = specialist.post(f"{url}request_supplement/", {"items": "  ", "note": ""})
    assert bad.status_code == 400 and "errorlist" in bad.content.decode()
    response = specialist.post(f"{url}request_supplement/", {"items": "Bản sao sổ hộ khẩu\nẢnh 4x6", "note": "Thiếu giấy tờ"})
    assert response.status_code == 302
    with tenant_context(tule):
        dossier = Dossier.objects.get(pk=received.pk)
        assert dossier.state == "supplement" and dossier.forms.filter(kind="2").exists()
    assert {"supplement_arrived", "add_file"} <= action_ids(officer.get(url).content.decode())
    # The papers brought to the desk are scanned in; a file that is no scan is refused.
    not_a_scan = officer.post(f"{url}add_file/", {"requirement": "", "file": upload(b"GIF89a...", "anh.pdf")})
    assert not_a_scan.status_code == 400 and "errorlist" in not_a_scan.content.decode()
    response = officer.post(f"{url}add_file/", {"requirement": str(procedure.docs[1].pk),
                                                "file": upload(make_pdf("Bản sao sổ hộ khẩu"), "so-ho-khau.pdf")})
    assert response.status_code == 302
    with tenant_context(tule):
        assert Dossier.objects.get(pk=received.pk).documents.filter(is_supplement=True).exclude(file="").count() == 1
    assert officer.post(f"{url}supplement_arrived/", {"note": "Đã nhận bản sao"}).status_code == 302
    # Form 4: a date is needed, read day first.
    bad = officer.post(f"{url}extend/", {"new_due_at": "31/02/2030 10:00", "reason": "Chậm xác minh"})
    assert bad.status_code == 400
    response = officer.post(f"{url}extend/", {"new_due_at": "16/12/2030 10:00", "reason": "Cần xác minh thêm"})
    assert response.status_code == 302, response.content.decode()[:3000]
    # The fee paid in cash: a receipt.
    assert officer.post(f"{url}payment/", {"method": "cash", "amount": "", "reference": ""}).status_code == 302
    with tenant_context(tule):
        dossier = Dossier.objects.get(pk=received.pk)
        assert dossier.state in ("received", "in_progress")
        assert timezone.localtime(dossier.extended_due_at).date() == datetime.date(2030, 12, 16)
        assert dossier.fee_paid_at and dossier.payments.count() == 1
        kinds = set(dossier.forms.values_list("kind", flat=True))
        assert {"1", "2", "4", "fee"} <= kinds
        handovers = dossier.events.filter(kind="handover").count()
    page = officer.get(url).content.decode()
    assert "payment" not in action_ids(page) and "Chuyển thẩm định" in page
    # Form 6, printed now, lists the hand-over.
    sheet = officer.get(f"{url}control-sheet.pdf")
    assert sheet.status_code == 200 and sheet["Content-Type"] == "application/pdf"
    text = flat(pdftotext(sheet.content))
    assert "PHIẾU KIỂM SOÁT QUÁ TRÌNH GIẢI QUYẾT HỒ SƠ" in text and handovers >= 1 and "Trần Văn Lâm" in text
    # Stop (form 5) closes it.
    assert officer.post(f"{url}stop/", {"reason": ""}).status_code == 400
    assert officer.post(f"{url}stop/", {"reason": "Người nộp đề nghị dừng"}).status_code == 302
    with tenant_context(tule):
        dossier = Dossier.objects.get(pk=received.pk)
        assert dossier.state == "stopped" and dossier.forms.filter(kind="5").exists()
    assert action_ids(officer.get(url).content.decode()) == set()


def test_signing_asks_for_the_second_factor(received, people, client_for):
    url = f"/onestop/dossiers/{received.pk}/"
    chairman = client_for(HOST, people["chairman"], second_factor=False)  # password only, no authenticator code
    # A leader's every action (form 4 too) waits for the second factor, and comes back to the page.
    response = chairman.post(f"{url}extend/", {"new_due_at": "15/12/2030 10:00", "reason": "Chậm"},
                             HTTP_REFERER=f"http://{HOST}{url}")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/2fa/?next=")
    # sign_leader is refused by state here, but first the session must pass the second factor.
    response = chairman.post(f"{url}sign_leader/", {"pin": "123456"})
    assert response.status_code == 302 and response["Location"].startswith("/accounts/2fa/")


def test_vietqr_for_the_unpaid_fee(received, people, client_for, tule):
    from onestop import vietqr

    tule.bank_bin, tule.bank_account = "970415", "113366668888"
    tule.save(update_fields=["bank_bin", "bank_account"])
    officer = client_for(HOST, people["onestop_officer"])
    page = officer.get(f"/onestop/dossiers/{received.pk}/")
    payload = page.context["vietqr_payload"]
    fields = vietqr.parse_payload(payload)
    assert fields["54"] == str(received.fee_amount) and received.code in fields["62"]["08"]
    assert fields["38"]["01"] == {"00": "970415", "01": "113366668888"}
    image = officer.get(f"/onestop/dossiers/{received.pk}/vietqr.png")
    assert image.status_code == 200 and image["Content-Type"] == "image/png" and image.content.startswith(b"\x89PNG")
    assert client_for(HOST, people["citizen"]).get(f"/onestop/dossiers/{received.pk}/vietqr.png").status_code == 403


def test_home_online_queue_and_list(received, procedure, people, client_for, tule):
    from onestop.models import Dossier

    with tenant_context(tule):
        online = Dossier.objects.create(
            procedure=procedure, channel="online", state="submitted", applicant_name="Sùng A Chứ",
            applicant_phone="0977000111", submitted_at=timezone.now(), citizen=people["citizen"],
        )
    officer = client_for(HOST, people["onestop_officer"])
    home = officer.get("/onestop/")
    assert home.status_code == 200
    assert home.context["counts"]["online_queue"] == 1 and home.context["counts"]["my_steps"] == 1
    assert received.code in home.content.decode() and "Sùng A Chứ" in home.content.decode()
    queue = officer.get("/onestop/online/").content.decode()
    assert "Sùng A Chứ" in queue and f"/onestop/dossiers/{online.pk}/" in queue
    assert {"receive", "ask_completion", "refuse"} <= action_ids(officer.get(f"/onestop/dossiers/{online.pk}/").content.decode())
    listing = officer.get("/onestop/dossiers/", {"q": received.code})
    assert received.code in listing.content.decode() and "Sùng A Chứ" not in listing.content.decode()
    assert officer.get("/onestop/dossiers/", {"date_from": "32/13/2026"}).status_code == 400
    for role in ("specialist", "chairman", "clerk"):
        assert client_for(HOST, people[role]).get("/onestop/").status_code == 200
    assert client_for(HOST, people["commune_admin"]).get("/onestop/").status_code == 200
    assert client_for(HOST, people["citizen"]).get("/onestop/").status_code == 403


# --- register and statistics --------------------------------------------------------------------

def test_register_page_and_exports(received, people, client_for):
    from openpyxl import load_workbook

    today = timezone.localdate()
    period = {"date_from": (today - datetime.timedelta(days=3)).strftime("%d/%m/%Y"), "date_to": today.strftime("%d/%m/%Y")}
    officer = client_for(HOST, people["onestop_officer"])
    page = officer.get("/onestop/register/", period)
    assert page.status_code == 200 and received.code in page.content.decode() and "Lò Thị Mai" in page.content.decode()
    pdf = officer.get("/onestop/register.pdf", period)
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf" and "attachment" in pdf["Content-Disposition"]
    text = flat(pdftotext(pdf.content))
    assert "SỔ THEO DÕI HỒ SƠ" in text and received.code in text
    xlsx = officer.get("/onestop/register.xlsx", period)
    assert xlsx["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    values = [str(cell.value) for row in sheet.iter_rows() for cell in row if cell.value is not None]
    assert received.code in values and "Lò Thị Mai" in values and "SỔ THEO DÕI HỒ SƠ" in values
    # Another period holds nothing; a bad date is a clear error, not a file.
    earlier = officer.get("/onestop/register.xlsx", {"date_from": "01/01/2020", "date_to": "31/01/2020"})
    assert received.code not in [str(c.value) for row in load_workbook(io.BytesIO(earlier.content)).active.iter_rows() for c in row]
    bad = officer.get("/onestop/register.pdf", {"date_from": "31/02/2026"})
    assert bad.status_code == 400 and "errorlist" in bad.content.decode()
    reversed_period = officer.get("/onestop/register/", {"date_from": "10/03/2026", "date_to": "01/03/2026"})
    assert reversed_period.status_code == 400
    assert client_for(HOST, people["specialist"]).get("/onestop/register.xlsx", period).status_code == 403
    assert client_for(HOST, people["chairman"]).get("/onestop/register/", period).status_code == 200


def test_statistics_page_shows_the_figures(procedure, people, client_for, tule):
    """Three dossiers received this month: one finished early, one late, one still open; the
    early one rated satisfied."""
    from onestop import services
    from onestop.models import Dossier, Rating

    made = []
    with tenant_context(tule):
        for name in ("Hờ A Dế", "Mùa Thị Sua", "Lý A Sử"):
            made.append(services.counter_intake(
                user=people["onestop_officer"], procedure=procedure,
                applicant={"name": name, "id_number": "", "phone": "0912000111", "email": "", "address": ""},
                checklist={doc.pk: doc.required for doc in procedure.docs}, decision="receive",
                submit_token=uuid.uuid4(),
            ))
        early, late, _open = made
        Dossier.objects.filter(pk=early.pk).update(state="result_ready", completed_at=early.due_at - datetime.timedelta(days=1))
        Dossier.objects.filter(pk=late.pk).update(state="result_ready", completed_at=late.due_at + datetime.timedelta(days=1))
        Rating.objects.create(dossier_id=early.pk, score=3)
    today = timezone.localdate()
    params = {"date_from": (today - datetime.timedelta(days=1)).strftime("%d/%m/%Y"), "date_to": today.strftime("%d/%m/%Y")}
    chairman = client_for(HOST, people["chairman"])
    response = chairman.get("/onestop/statistics/", params)
    assert response.status_code == 200
    figures = response.context["figures"]
    assert (figures["received"], figures["early"], figures["late"], figures["on_time"]) == (3, 1, 1, 0)
    html = flat(response.content.decode())
    block = html[html.index('id="figures"'):]
    assert "<strong>3</strong>" in block and "<strong>1</strong>" in block and "100 %" in block
    # Filtered by another procedure: nothing.
    other = chairman.get("/onestop/statistics/", {**params, "procedure": "NO-SUCH"})
    assert other.status_code == 400 or other.context["figures"]["received"] == 0
    officer_view = chairman.get("/onestop/statistics/", {**params, "officer": people["onestop_officer"].pk})
    assert officer_view.status_code == 200
    assert chairman.get("/onestop/statistics/", {"date_from": "01/05/2026", "date_to": "01/04/2026"}).status_code == 400
    assert client_for(HOST, people["commune_admin"]).get("/onestop/statistics/", params).status_code == 200
    assert client_for(HOST, people["specialist"]).get("/onestop/statistics/", params).status_code == 403


def test_result_signed_and_returned_through_the_pages(received, people, client_for, tule, signing_setup):
    """Hand-overs to the signature step, the leader's and the agency's signatures with their PINs
    (each asks a session opened with the second factor), the fee, the return."""
    from onestop.models import Dossier

    from .helpers import CLERK_PIN, PIN, run_signing_jobs

    url = f"/onestop/dossiers/{received.pk}/"
    officer = client_for(HOST, people["onestop_officer"])
    specialist = client_for(HOST, people["specialist"])
    chairman = client_for(HOST, people["chairman"], second_factor=True)
    clerk = client_for(HOST, people["clerk"], second_factor=True)
    assert officer.post(f"{url}hand_over/", {"to_user": people["specialist"].pk}).status_code == 302
    assert specialist.post(f"{url}prepare_result/", {"result_number": "15/XN-UBND"}).status_code == 302
    assert f"{url}result/draft.pdf" in specialist.get(url).content.decode()
    # The specialist may only hand over to a leader (the next step's role).
    wrong = specialist.post(f"{url}hand_over/", {"to_user": people["specialist2"].pk})
    assert wrong.status_code == 400
    assert specialist.post(f"{url}hand_over/", {"to_user": people["chairman"].pk}).status_code == 302
    assert chairman.post(f"{url}hand_over/", {"to_user": people["chairman"].pk}).status_code == 302
    page = chairman.get(url).content.decode()
    assert "sign_leader" in action_ids(page) and f"{url}result/draft.pdf" in page
    assert "sign_leader" not in action_ids(client_for(HOST, people["vice_chairman"], second_factor=True).get(url).content.decode())
    bad_pin = chairman.post(f"{url}sign_leader/", {"pin": "000000"})
    assert bad_pin.status_code == 400 and "errorlist" in bad_pin.content.decode()
    assert chairman.post(f"{url}sign_leader/", {"pin": PIN}).status_code == 302
    with tenant_context(tule):
        assert run_signing_jobs(tule) == ["succeeded"]
    page = clerk.get(url).content.decode()
    assert action_ids(page) == {"sign_agency"} and f"{url}result/leader-signed.pdf" in page
    assert clerk.post(f"{url}sign_agency/", {"pin": CLERK_PIN}).status_code == 302
    with tenant_context(tule):
        assert run_signing_jobs(tule) == ["succeeded"]
    with tenant_context(tule):
        dossier = Dossier.objects.get(pk=received.pk)
        assert dossier.state == "result_ready" and dossier.signed_result and dossier.completed_at
    signed = officer.get(f"{url}result/signed.pdf")
    assert signed.status_code == 200 and signed["Content-Type"] == "application/pdf"
    data = b"".join(signed.streaming_content)
    assert data.startswith(b"%PDF") and data.count(b"/ByteRange") == 2
    # The fee comes before the return.
    assert {"return", "payment"} <= action_ids(officer.get(url).content.decode())
    unpaid = officer.post(f"{url}return/", {"delivery": "counter"})
    assert unpaid.status_code == 400 and "10.000" in unpaid.content.decode()
    assert officer.post(f"{url}payment/", {"method": "vietqr", "reference": "FT2611230001"}).status_code == 302
    assert officer.post(f"{url}return/", {"delivery": "counter"}).status_code == 302
    with tenant_context(tule):
        dossier = Dossier.objects.get(pk=received.pk)
        assert dossier.state == "returned" and dossier.returned_at and dossier.fee_paid_at


def test_pages_answer_hostile_queries_without_error(received, people, client_for, make_user, tule):
    from communes.models import Role

    everyone = make_user("os_all_roles", roles={tule: list(Role)})
    client = client_for(HOST, everyone)
    url = f"/onestop/dossiers/{received.pk}/"
    paths = ["/onestop/", "/onestop/intake/", f"/onestop/intake/{PROCEDURE_CODE}/", "/onestop/online/",
             "/onestop/dossiers/", url, f"{url}control-sheet.pdf", "/onestop/register/", "/onestop/register.pdf",
             "/onestop/register.xlsx", "/onestop/statistics/"]
    junk = ["?page=abc", "?page=99999999999999999999", "?q=%00", "?q=" + "ả" * 500, "?rq=%00", "?rq=" + "ả" * 500,
            "?resident=1e309", "?resident=99999999999999999999", "?date_from=00/00/0000", "?date_to=%ff",
            "?state=nonsense", "?officer=-1", "?officer=abc", "?procedure=%00"]
    for path in paths:
        for query in junk:
            response = client.get(path + query)
            assert response.status_code < 500, (path + query, response.status_code)
    for path in ["/onestop/dossiers/999999/", "/onestop/dossiers/999999/vietqr.png", f"{url}forms/999999.pdf",
                 f"{url}files/999999/", f"{url}result/signed.pdf", f"{url}result/other.pdf", "/onestop/intake/NO-SUCH/"]:
        assert client.get(path).status_code == 404, path
    assert client.post(f"{url}stop/", {"reason": "x" * 5000}).status_code == 400
    assert client.post(f"{url}hand_over/", {"to_user": "99999999999999999999"}).status_code == 400
    assert client.post(f"{url}extend/", {"new_due_at": "%00", "reason": "x"}).status_code == 400
