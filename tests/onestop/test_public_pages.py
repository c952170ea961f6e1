"""The citizens' pages of a commune host: the public home, the procedures (search without
accents, sectors), a procedure's page, citizen signup, applying online with uploads and drafts,
"my dossiers" (private, supplement, result, fee by VietQR)."""
from __future__ import annotations

import html
import re
import uuid

import pytest
from django.core.files.base import ContentFile
from django.db import connection
from django.template.defaultfilters import filesizeformat
from django.test import Client
from django.utils import timezone
from django.utils.translation import gettext, ngettext, override

from communes.models import User
from onestop import fees, files, services, vietqr
from onestop.models import CopyKind, Dossier, DossierDocument, DossierState, EventKind, OnlineLevel, Procedure
from tests.onestop.conftest import make_pdf, make_png, upload
from tests.onestop.helpers import run_form_jobs
from tests.sms_inbox import sms  # noqa: F401  (fixture)

HOST = "tule.localhost"


def vi(message: str) -> str:
    with override("vi"):
        return gettext(message)


def text_of(response) -> str:
    return html.unescape(response.content.decode())


def form_values(procedure) -> dict:
    """Plausible answers to every field the procedure asks for (keyed by the field's name)."""
    values = {}
    for spec in procedure.form_fields:
        kind = spec.get("type", "text")
        if kind == "date":
            values[spec["name"]] = "01/03/2026"
        elif kind == "select":
            choice = spec["choices"][0]
            values[spec["name"]] = choice[0] if isinstance(choice, (list, tuple)) else str(choice)
        elif kind == "number":
            values[spec["name"]] = "1"
        else:
            values[spec["name"]] = "Lò Thị Bình"
    return values


def needed(procedure):
    """The documents an online application cannot be sent without (the declaration that the
    online form itself replaces is not one of them)."""
    return [r for r in procedure.requirements.all()
            if r.required and not r.condition and not services.filled_online(r, procedure)]


def post_data(procedure, citizen, *, token=None, action="submit", **extra) -> dict:
    data = {
        "applicant_name": citizen.full_name, "applicant_phone": citizen.phone, "applicant_email": citizen.email,
        "applicant_id_number": "", "applicant_address": "Bản Nà Hìn, xã Tú Lệ", "delivery": "counter",
        "delivery_address": "", "submit_token": str(token or uuid.uuid4()), "action": action,
    }
    data.update({f"f_{name}": value for name, value in form_values(procedure).items()})
    data.update(extra)
    return data


def online_dossier(citizen, procedure, *, receive_by=None) -> Dossier:
    """An application sent online through the services (and received by the desk if asked)."""
    dossier = services.save_draft(
        citizen=citizen, procedure=procedure, form_data=form_values(procedure), delivery="counter",
        applicant={"name": citizen.full_name, "phone": citizen.phone, "email": citizen.email},
    )
    for requirement in needed(procedure):
        services.add_file(dossier=dossier, user=citizen, requirement_id=requirement.pk, upload=upload(make_pdf()))
    dossier = services.submit(dossier=dossier, citizen=citizen, submit_token=uuid.uuid4())
    if receive_by is not None:
        dossier = services.receive(dossier=dossier, user=receive_by)
        run_form_jobs()  # form 1, as a worker renders it
    return dossier


class CommuneClient(Client):
    """A client on the commune's host; after each request the test body is back in the
    commune's schema (the host middleware leaves the connection on the public schema)."""

    def __init__(self, commune, user=None):
        super().__init__(HTTP_HOST=HOST)
        self.commune = commune
        if user is not None:
            from tests.conftest import log_in

            log_in(self, user)

    def request(self, **request):
        try:
            return super().request(**request)
        finally:
            connection.set_tenant(self.commune)


@pytest.fixture
def browse(in_tule):
    """browse(user=None): a client on Tú Lệ's host, logged in as ``user``."""
    return lambda user=None: CommuneClient(in_tule, user)


@pytest.fixture
def citizen(people):
    return people["citizen"]  # Hoàng Văn Nam, 0912345678, no role


@pytest.fixture
def web(browse, citizen):
    return browse(citizen)


# --- public home and procedures ---------------------------------------------------------------------

def test_the_commune_home_is_public_for_visitors_and_citizens_and_officials_keep_theirs(procedures, people, browse):
    anonymous = browse().get("/")
    text = text_of(anonymous)
    assert anonymous.status_code == 200
    assert 'action="/services/"' in text and 'action="/lookup/"' in text and 'name="phone_last4"' in text
    assert "?sector=HT" in text and "Hộ tịch" in text and "Chứng thực" in text
    assert "htmx" not in text  # no script on the public pages

    citizen_home = text_of(browse(people["citizen"]).get("/"))
    assert "/my/dossiers/" in citizen_home and 'action="/services/"' in citizen_home

    official = text_of(browse(people["specialist"]).get("/"))
    assert vi("Officials' home") in official and 'name="phone_last4"' not in official


def test_procedures_are_found_without_accents_and_by_sector(procedures, browse):
    client = browse()
    everything = text_of(client.get("/services/"))
    for code in procedures:
        assert f"/services/{code}/" in everything

    for query in ("khai sinh", "dang ky khai sinh", "Đăng ký khai sinh", "DANG KY KHAI SINH", "HT-01"):
        text = text_of(client.get("/services/", {"q": query}))
        assert "/services/HT-01/" in text, query
        assert "/services/CT-01/" not in text and "/services/HT-02/" not in text, query
    certified = text_of(client.get("/services/", {"q": "chung thuc"}))
    assert "/services/CT-01/" in certified and "/services/HT-01/" not in certified

    by_sector = text_of(client.get("/services/", {"sector": "CT"}))
    ct_codes = {code for code, p in procedures.items() if p.sector.code == "CT"}
    assert ct_codes and all(f"/services/{code}/" in by_sector for code in ct_codes)
    assert "/services/HT-01/" not in by_sector
    both = text_of(client.get("/services/", {"sector": "HT", "q": "khai tu"}))
    assert "/services/HT-02/" in both and "/services/HT-01/" not in both

    nothing = text_of(client.get("/services/", {"q": "không có thủ tục này"}))
    assert vi("No procedure matches your search. Try other words, without accents if you like, e.g. “khai sinh”.") in nothing


def test_a_procedure_page_shows_documents_time_fee_templates_and_online_level(procedures, browse):
    birth = procedures["HT-01"]
    first = birth.requirements.first()
    template = make_pdf("Tờ khai đăng ký khai sinh")
    first.template.save("to-khai-khai-sinh.pdf", ContentFile(template))
    client = browse()
    text = text_of(client.get("/services/HT-01/"))
    with override("vi"):
        expected_fee = fees.describe(birth)
        expected_time = ngettext("%(n)s working day", "%(n)s working days", 1) % {"n": "1"}
        online = str(OnlineLevel(birth.online_level).label)
        kinds = {str(CopyKind(r.copy_kind).label) for r in birth.requirements.all()}
    for requirement in birth.requirements.all():
        assert requirement.name in text
    assert all(kind in text for kind in kinds)
    assert expected_time in text and expected_fee in text and online in text
    assert "/services/HT-01/apply/" in text
    link = f"/services/HT-01/documents/{first.pk}/template/"
    assert link in text
    download = client.get(link)
    assert download.status_code == 200 and b"".join(download.streaming_content) == template

    copy = text_of(client.get("/services/CT-01/"))
    with override("vi"):
        assert fees.describe(procedures["CT-01"]) in copy
    assert "2.000" in copy and "15:00" in copy

    police = procedures["CTR-01"]
    external = text_of(client.get("/services/CTR-01/"))
    assert police.external_url and police.external_url in external
    assert "/services/CTR-01/apply/" not in external
    desk_only = text_of(client.get("/services/CT-02/"))
    assert "/services/CT-02/apply/" not in desk_only
    assert client.get("/services/XX-99/").status_code == 404
    assert client.get(f"/services/HT-02/documents/{first.pk}/template/").status_code == 404


# --- citizen accounts ---------------------------------------------------------------------------------

def test_a_citizen_signs_up_with_a_phone_number_and_applies_with_it_prefilled(procedures, browse, sms):
    client = browse()
    assert client.get("/accounts/signup/").status_code == 200
    bad = client.post("/accounts/signup/", {"full_name": "Lò Thị Mai", "phone": "12345", "email": "",
                                            "password1": "Ban-Na-Hin-2026", "password2": "Ban-Na-Hin-2026"})
    assert bad.status_code == 200
    assert vi("Enter a Vietnamese mobile number of 10 digits, for example 0912 345 678.") in text_of(bad)
    mismatch = client.post("/accounts/signup/", {"full_name": "Lò Thị Mai", "phone": "0987654321", "email": "",
                                                 "password1": "Ban-Na-Hin-2026", "password2": "Ban-Na-Hin-2027"})
    assert vi("The two passwords are not the same.") in text_of(mismatch)
    assert not User.objects.filter(username="0987654321").exists()

    response = client.post("/accounts/signup/?next=/services/HT-01/apply/", {
        "full_name": "  Lò Thị   Mai ", "phone": "+84 987 654 321", "email": "mai@example.vn",
        "password1": "Ban-Na-Hin-2026", "password2": "Ban-Na-Hin-2026", "next": "/services/HT-01/apply/",
    })
    # The account exists once the code sent by SMS is entered.
    assert response.status_code == 302 and response["Location"] == "/accounts/signup/confirm/"
    assert not User.objects.filter(username="0987654321").exists()
    code = re.search(r"\b(\d{6})\b", sms.to("0987654321")[-1]).group(1)
    response = client.post("/accounts/signup/confirm/", {"code": code})
    assert response.status_code == 302 and response["Location"] == "/services/HT-01/apply/"
    user = User.objects.get(username="0987654321")
    assert (user.full_name, user.phone, user.email) == ("Lò Thị Mai", "0987654321", "mai@example.vn")
    assert not user.memberships.exists()
    form = text_of(client.get("/services/HT-01/apply/"))
    assert 'value="Lò Thị Mai"' in form and 'value="0987654321"' in form and 'value="mai@example.vn"' in form

    again = browse().post("/accounts/signup/", {"full_name": "Người Khác", "phone": "0987654321", "email": "",
                                                        "password1": "Ban-Na-Hin-2026", "password2": "Ban-Na-Hin-2026"})
    # A second sign-up with the number looks the same; the number's owner is told by SMS.
    assert again.status_code == 302 and again["Location"] == "/accounts/signup/confirm/"
    assert not re.search(r"\b\d{6}\b", sms.to("0987654321")[-1])
    fresh = browse()
    assert fresh.post("/accounts/login/", {"username": "0987654321", "password": "Ban-Na-Hin-2026"}).status_code == 302


# --- applying online ----------------------------------------------------------------------------------

def test_applying_needs_a_login_and_asks_only_what_the_procedure_needs(procedures, web, citizen, browse):
    anonymous = browse().get("/services/HT-01/apply/")
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/accounts/login/?next=/services/HT-01/apply/")

    text = text_of(web.get("/services/HT-01/apply/"))
    assert 'value="Hoàng Văn Nam"' in text and 'value="0912345678"' in text and 'value="nam@example.vn"' in text
    for spec in procedures["HT-01"].form_fields:
        assert spec["label"] in text and f'name="f_{spec["name"]}"' in text
    assert 'name="f_groom_name"' not in text  # a field of the marriage registration
    declaration = procedures["HT-01"].requirements.get(copy_kind=CopyKind.FORM)
    for requirement in procedures["HT-01"].requirements.exclude(pk=declaration.pk):
        assert f'name="doc_{requirement.pk}"' in text
    # The declaration "theo mẫu" is the online form itself: not asked for as a file.
    assert f'name="doc_{declaration.pk}"' not in text and declaration.name in text
    assert vi("Filled in online: the questions of this form above are its content. Nothing to print or upload.") in text
    assert 'name="submit_token"' in text


def test_a_draft_with_uploads_then_the_submission_once_even_when_sent_twice(procedures, web, citizen):
    birth = procedures["HT-01"]
    first = birth.requirements.filter(required=False).first()  # sent only when it applies
    [second] = needed(birth)
    token = uuid.uuid4()
    response = web.post("/services/HT-01/apply/", {
        **post_data(birth, citizen, token=token, action="draft"), f"doc_{first.pk}": upload(make_pdf("Xác nhận")),
    })
    dossier = Dossier.objects.get(citizen_id=citizen.pk)
    assert response.status_code == 302 and response["Location"] == f"/my/dossiers/{dossier.pk}/edit/"
    assert dossier.state == DossierState.DRAFT and dossier.channel == "online"
    assert dossier.form_data["child_birth_date"] == "01/03/2026" and dossier.applicant_address == "Bản Nà Hìn, xã Tú Lệ"
    assert list(dossier.documents.values_list("requirement_id", flat=True)) == [first.pk]
    # The draft opens again with what was saved.
    again = text_of(web.get(f"/my/dossiers/{dossier.pk}/edit/"))
    assert 'value="Lò Thị Bình"' in again and 'value="2026-03-01"' in again

    # Sent without the second required document: refused with its name, still a draft.
    missing = web.post(f"/my/dossiers/{dossier.pk}/edit/", post_data(birth, citizen, token=token))
    assert missing.status_code == 200 and second.name in text_of(missing)
    dossier.refresh_from_db()
    assert dossier.state == DossierState.DRAFT

    data = {**post_data(birth, citizen, token=token), f"doc_{second.pk}": upload(make_png(), "giay-chung-sinh.png", "image/png")}
    sent = web.post(f"/my/dossiers/{dossier.pk}/edit/", data)
    assert sent.status_code == 302 and sent["Location"] == f"/my/dossiers/{dossier.pk}/sent/"
    dossier.refresh_from_db()
    assert dossier.state == DossierState.SUBMITTED and dossier.submitted_at and dossier.submit_token == token
    assert dossier.documents.count() == 2
    assert dossier.events.filter(kind=EventKind.SUBMITTED).count() == 1

    # The same page sent again (a double click, a reload): the same dossier, nothing more.
    data[f"doc_{second.pk}"] = upload(make_png(), "giay-chung-sinh.png", "image/png")
    replay = web.post(f"/my/dossiers/{dossier.pk}/edit/", data)
    assert replay.status_code == 302 and replay["Location"] == f"/my/dossiers/{dossier.pk}/"
    assert Dossier.objects.filter(citizen_id=citizen.pk).count() == 1
    assert dossier.documents.count() == 2 and dossier.events.filter(kind=EventKind.SUBMITTED).count() == 1
    page = text_of(web.get(f"/my/dossiers/{dossier.pk}/"))
    assert vi("Your application has already been sent.") in page


def test_a_double_click_on_a_new_application_makes_one_dossier(procedures, web, citizen):
    birth = procedures["HT-01"]
    token = uuid.uuid4()

    def send(action):
        files_ = {f"doc_{r.pk}": upload(make_pdf(r.name)) for r in needed(birth)}
        return web.post("/services/HT-01/apply/", {**post_data(birth, citizen, token=token, action=action), **files_})

    assert send("draft").status_code == 302
    assert send("draft").status_code == 302  # the second click finds the first one's draft
    assert Dossier.objects.filter(citizen_id=citizen.pk).count() == 1
    assert send("submit").status_code == 302
    assert send("submit").status_code == 302
    dossier = Dossier.objects.get(citizen_id=citizen.pk)
    assert dossier.state == DossierState.SUBMITTED


def test_wrong_files_and_bad_fields_get_clear_messages_and_nothing_half_saved(procedures, web, citizen, settings):
    birth = procedures["HT-01"]
    first = needed(birth)[0]
    fake = upload(b"MZ\x90\x00 this is a program, not a scan", "giay-to.pdf", "application/pdf")
    response = web.post("/services/HT-01/apply/", {**post_data(birth, citizen, action="submit"), f"doc_{first.pk}": fake})
    text = text_of(response)
    assert response.status_code == 200
    with override("vi"):
        refused = gettext("This file is not accepted: send a %(types)s file (the content is checked, not the name).") % {
            "types": files.accepted_names()}
    assert f"giay-to.pdf: {refused}" in text
    assert not DossierDocument.objects.filter(dossier__citizen_id=citizen.pk).exists()
    assert Dossier.objects.get(citizen_id=citizen.pk).state == DossierState.DRAFT  # kept as a draft, not sent

    settings.XASO_DOSSIER_FILE_MAX_BYTES = 2000
    big = upload(make_pdf("Trang dài", pages=3) + b"%" * 3000, "to-khai.pdf")
    response = web.post("/services/HT-01/apply/", {**post_data(birth, citizen, action="draft"), f"doc_{first.pk}": big})
    with override("vi"):
        too_large = gettext("The file is too large: at most %(max)s.") % {"max": filesizeformat(2000)}
    assert too_large in text_of(response)
    assert not DossierDocument.objects.filter(dossier__citizen_id=citizen.pk).exists()

    Dossier.objects.filter(citizen_id=citizen.pk).delete()
    bad_phone = web.post("/services/HT-01/apply/", post_data(birth, citizen, applicant_phone="0123"))
    assert bad_phone.status_code == 200
    assert vi("Enter a Vietnamese mobile number of 10 digits, for example 0912 345 678.") in text_of(bad_phone)
    bad_date = web.post("/services/HT-01/apply/", post_data(birth, citizen, f_child_birth_date="31/02/2026"))
    assert bad_date.status_code == 200
    assert not Dossier.objects.filter(citizen_id=citizen.pk).exists()


def test_procedures_not_offered_online_send_the_citizen_back_to_the_procedure_page(procedures, web):
    for code in ("CT-02", "CTR-01"):
        response = web.get(f"/services/{code}/apply/")
        assert response.status_code == 302 and response["Location"] == f"/services/{code}/"


# --- my dossiers ----------------------------------------------------------------------------------

def test_my_dossiers_are_mine_only(procedures, people, web, citizen, make_user, browse):
    dossier = online_dossier(citizen, procedures["HT-01"], receive_by=people["onestop_officer"])
    document = dossier.documents.first()
    receipt = dossier.forms.get(kind="1")
    mine = text_of(web.get("/my/dossiers/"))
    assert f"/my/dossiers/{dossier.pk}/" in mine and dossier.code in mine
    detail = web.get(f"/my/dossiers/{dossier.pk}/")
    assert detail.status_code == 200 and dossier.code in text_of(detail)
    assert f"/my/dossiers/{dossier.pk}/forms/{receipt.pk}/" in text_of(detail)
    form1 = web.get(f"/my/dossiers/{dossier.pk}/forms/{receipt.pk}/")
    assert form1.status_code == 200 and b"".join(form1.streaming_content).startswith(b"%PDF")

    other = browse(make_user("0977000111", full_name="Lường Văn Pọm", phone="0977000111"))
    assert dossier.code not in text_of(other.get("/my/dossiers/"))
    for url in (f"/my/dossiers/{dossier.pk}/", f"/my/dossiers/{dossier.pk}/edit/", f"/my/dossiers/{dossier.pk}/result/",
                f"/my/dossiers/{dossier.pk}/forms/{receipt.pk}/", f"/my/dossiers/{dossier.pk}/documents/{document.pk}/",
                f"/my/dossiers/{dossier.pk}/vietqr.png"):
        assert other.get(url).status_code == 404, url
    assert other.post(f"/my/dossiers/{dossier.pk}/supplement/", {"note": "x"}).status_code == 404
    assert other.post(f"/my/dossiers/{dossier.pk}/withdraw/").status_code == 404
    assert browse().get("/my/dossiers/").status_code == 302  # anonymous: to the login page


def test_a_supplement_asked_during_processing_is_sent_from_the_dossier_page(procedures, people, web, citizen):
    dossier = online_dossier(citizen, procedures["HT-01"], receive_by=people["onestop_officer"])
    due_before = dossier.due_at
    services.request_supplement(dossier=dossier, user=people["onestop_officer"],
                                items=["Giấy chứng sinh bản rõ nét hơn"], reason="Bản chụp bị mờ")
    page = text_of(web.get(f"/my/dossiers/{dossier.pk}/"))
    assert "Giấy chứng sinh bản rõ nét hơn" in page and f'action="/my/dossiers/{dossier.pk}/supplement/"' in page
    form2 = dossier.forms.get(kind="2")
    assert f"/my/dossiers/{dossier.pk}/forms/{form2.pk}/" in page

    empty = web.post(f"/my/dossiers/{dossier.pk}/supplement/", {"note": ""})
    assert vi("Choose at least one file to send.") in text_of(empty)
    dossier.refresh_from_db()
    assert dossier.state == DossierState.SUPPLEMENT

    sent = web.post(f"/my/dossiers/{dossier.pk}/supplement/", {
        "note": "Đã chụp lại", "files": [upload(make_jpeg_bytes(), "chung-sinh.jpg", "image/jpeg")],
    })
    assert sent.status_code == 302
    dossier.refresh_from_db()
    assert dossier.state in (DossierState.RECEIVED, DossierState.IN_PROGRESS)
    assert dossier.pauses.get().ended_at is not None and dossier.due_at >= due_before
    assert dossier.documents.filter(is_supplement=True, content_type="image/jpeg").count() == 1
    assert dossier.events.filter(kind=EventKind.SUPPLEMENT_RECEIVED).count() == 1


def make_jpeg_bytes() -> bytes:
    from tests.onestop.conftest import make_jpeg

    return make_jpeg()


def test_the_result_is_downloaded_when_ready_and_then_rated(procedures, people, web, citizen):
    dossier = online_dossier(citizen, procedures["HT-01"], receive_by=people["onestop_officer"])
    assert web.get(f"/my/dossiers/{dossier.pk}/result/").status_code == 404
    signed = make_pdf("Giấy khai sinh – đã ký")
    name = files.save_final(f"onestop/tests/{dossier.pk}-ket-qua.pdf", signed)
    Dossier.objects.filter(pk=dossier.pk).update(state=DossierState.RESULT_READY, signed_result=name,
                                                 completed_at=timezone.now())
    page = text_of(web.get(f"/my/dossiers/{dossier.pk}/"))
    assert f"/my/dossiers/{dossier.pk}/result/" in page and f"/rate/{dossier.rating_token}/" in page
    result = web.get(f"/my/dossiers/{dossier.pk}/result/")
    assert result.status_code == 200 and b"".join(result.streaming_content) == signed
    assert f'filename="{dossier.code}-ket-qua.pdf"' in result["Content-Disposition"]


def test_the_fee_is_paid_by_vietqr_with_the_dossier_code_in_the_note(procedures, people, web, citizen, tule):
    tule.bank_bin, tule.bank_account, tule.bank_account_name = "970415", "113366668888", "UBND XA TU LE"
    tule.save()
    dossier = online_dossier(citizen, procedures["HT-09"], receive_by=people["onestop_officer"])
    assert dossier.fee_amount > 0
    text = text_of(web.get(f"/my/dossiers/{dossier.pk}/"))
    assert fees.format_money(dossier.fee_amount) in text
    assert f'src="/my/dossiers/{dossier.pk}/vietqr.png"' in text and "113366668888" in text
    payload = re.search(r"(000201[^<]+?6304[0-9A-F]{4})", text).group(1)
    fields = vietqr.parse_payload(payload)
    assert fields["01"] == "12" and fields["54"] == str(dossier.fee_amount)
    assert fields["38"]["01"] == {"00": "970415", "01": "113366668888"}
    assert fields["62"]["08"] == vietqr.purpose_for(dossier.code) and dossier.code in fields["62"]["08"]
    image = web.get(f"/my/dossiers/{dossier.pk}/vietqr.png")
    assert image.status_code == 200 and image["Content-Type"] == "image/png" and image.content.startswith(b"\x89PNG")

    services.record_payment(dossier=dossier, user=people["onestop_officer"], method="cash")
    paid = text_of(web.get(f"/my/dossiers/{dossier.pk}/"))
    assert "vietqr.png" not in paid
    assert web.get(f"/my/dossiers/{dossier.pk}/vietqr.png").status_code == 404


def test_a_citizen_withdraws_a_dossier_not_yet_received(procedures, web, citizen):
    dossier = online_dossier(citizen, procedures["HT-02"])
    assert web.post(f"/my/dossiers/{dossier.pk}/withdraw/", {"confirm": "yes"}).status_code == 302
    dossier.refresh_from_db()
    assert dossier.state == DossierState.WITHDRAWN


def test_only_the_current_version_of_a_procedure_is_listed(procedures, browse):
    old = procedures["HT-01"]
    Procedure.objects.filter(pk=old.pk).update(is_current=False)
    text = text_of(browse().get("/services/"))
    assert "/services/HT-01/" not in text
    assert browse().get("/services/HT-01/").status_code == 404


def test_a_dossier_sent_back_to_be_completed_is_completed_and_sent_again(procedures, people, web, citizen):
    birth = procedures["HT-01"]
    dossier = online_dossier(citizen, birth)
    services.ask_completion(dossier=dossier, user=people["onestop_officer"], items=["Tờ khai chưa có chữ ký"])
    page = text_of(web.get(f"/my/dossiers/{dossier.pk}/"))
    assert "Tờ khai chưa có chữ ký" in page and f"/my/dossiers/{dossier.pk}/edit/" in page
    form = text_of(web.get(f"/my/dossiers/{dossier.pk}/edit/"))
    assert "Tờ khai chưa có chữ ký" in form
    old = dossier.documents.get(requirement=needed(birth)[0])
    response = web.post(f"/my/dossiers/{dossier.pk}/edit/", {
        **post_data(birth, citizen), "remove": [str(old.pk)],
        f"doc_{needed(birth)[0].pk}": upload(make_pdf("Tờ khai đã ký")),
    })
    assert response.status_code == 302 and response["Location"] == f"/my/dossiers/{dossier.pk}/sent/"
    dossier.refresh_from_db()
    assert dossier.state == DossierState.SUBMITTED and dossier.documents.count() == 1
    assert not dossier.documents.filter(pk=old.pk).exists()
    # Sent: the form no longer opens.
    assert web.get(f"/my/dossiers/{dossier.pk}/edit/")["Location"] == f"/my/dossiers/{dossier.pk}/"
