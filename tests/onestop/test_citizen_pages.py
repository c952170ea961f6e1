"""What the citizen sees around an online dossier: the confirmation once it is sent (the code and
the expected result date at once), the withdrawal that asks first and stands apart, the account
pages in the citizens' layout, procedure pages without the catalogue's internal notes, every
declaration "theo mẫu" downloadable or filled in online, and the lookup that keeps the code and
gives the desk's phone."""
from __future__ import annotations

import datetime
import html
import re

import pytest
from django.utils import timezone
from django.utils.translation import gettext, override

from onestop import deadlines, services
from onestop.models import CopyKind, Dossier, DossierState, Handler
from tests.onestop.conftest import make_png, pdftotext, upload
from tests.onestop.test_public_pages import CommuneClient, needed, online_dossier, post_data, text_of
from workcalendar.services import is_working_day

PHONE_OF_THE_DESK = "0214 3870 123"


def vi(message: str) -> str:
    with override("vi"):
        return gettext(message)


@pytest.fixture
def browse(in_tule):
    """browse(user=None, **headers): a client on Tú Lệ's host (REMOTE_ADDR=… for an address)."""
    def client(user=None, **extra):
        made = CommuneClient(in_tule, user)
        made.defaults.update(extra)
        return made

    return client


@pytest.fixture
def citizen(people):
    return people["citizen"]


@pytest.fixture
def web(browse, citizen):
    return browse(citizen)


def section(text: str, css_class: str) -> str:
    """The HTML of the first element with this class (up to its closing tag of the same name)."""
    match = re.search(rf'<(\w+)[^>]*class="[^"]*\b{css_class}\b[^"]*"[^>]*>', text)
    assert match, css_class
    tag = match.group(1)
    end = text.index(f"</{tag}>", match.end())
    return text[match.start():end]


# --- the confirmation -------------------------------------------------------------------------------

def test_once_sent_the_citizen_sees_the_code_and_the_expected_working_day(procedures, people, web, citizen):
    birth = procedures["HT-01"]
    files = {f"doc_{r.pk}": upload(make_png(), "giay-chung-sinh.png", "image/png") for r in needed(birth)}
    response = web.post("/services/HT-01/apply/", {**post_data(birth, citizen), **files})
    dossier = Dossier.objects.get(citizen_id=citizen.pk)
    assert response.status_code == 302 and response["Location"] == f"/my/dossiers/{dossier.pk}/sent/"
    assert dossier.state == DossierState.SUBMITTED and dossier.code  # the code at once

    page = text_of(web.get(response["Location"]))
    panel = section(page, "panel-confirm")
    assert vi("Dossier sent") in panel and dossier.code in panel
    expected = timezone.localtime(deadlines.appointment(birth, dossier.submitted_at))
    assert is_working_day(expected.date()) and expected > timezone.localtime(dossier.submitted_at)
    assert expected.strftime("%d/%m/%Y") in panel
    assert vi("What happens next") in page
    assert f'href="/lookup/?code={dossier.code}"' in page and f'href="/my/dossiers/{dossier.pk}/"' in page

    # The same code and date on the dossier's page and on the public lookup.
    mine = text_of(web.get(f"/my/dossiers/{dossier.pk}/"))
    assert dossier.code in mine and expected.strftime("%d/%m/%Y") in mine
    found = text_of(CommuneClient(web.commune).post("/lookup/", {"code": dossier.code, "phone_last4": "5678"}))
    assert dossier.code in found and expected.strftime("%d/%m/%Y") in found

    # Once received, the desk's appointment is the one shown; the code does not change.
    received = services.receive(dossier=dossier, user=people["onestop_officer"])
    assert received.code == dossier.code
    again = section(text_of(web.get(f"/my/dossiers/{dossier.pk}/sent/")), "panel-confirm")
    assert dossier.code in again and timezone.localtime(received.due_at).strftime("%d/%m/%Y") in again


def test_the_expected_date_skips_the_weekend(procedures, citizen):
    """A dossier sent on a Friday evening is expected on a working day, not on the weekend."""
    birth = procedures["HT-01"]
    dossier = online_dossier(citizen, birth)
    friday = timezone.make_aware(datetime.datetime(2026, 12, 4, 21, 30))
    Dossier.objects.filter(pk=dossier.pk).update(submitted_at=friday)
    dossier.refresh_from_db()
    from onestop import selectors

    expected = timezone.localtime(selectors.expected_due(dossier))
    assert expected.date() >= datetime.date(2026, 12, 7) and is_working_day(expected.date())
    assert expected == timezone.localtime(deadlines.appointment(birth, friday))


def test_a_draft_has_no_confirmation(procedures, web, citizen):
    draft = services.save_draft(citizen=citizen, procedure=procedures["HT-01"], applicant={"name": citizen.full_name},
                                form_data={})
    response = web.get(f"/my/dossiers/{draft.pk}/sent/")
    assert response.status_code == 302 and response["Location"] == f"/my/dossiers/{draft.pk}/"


# --- withdrawing ------------------------------------------------------------------------------------

def test_withdrawing_asks_to_confirm_and_stands_apart(procedures, people, web, citizen, browse, make_user):
    dossier = online_dossier(citizen, procedures["HT-02"])
    url = f"/my/dossiers/{dossier.pk}/withdraw/"
    page = text_of(web.get(f"/my/dossiers/{dossier.pk}/"))
    # No button on the dossier's page withdraws at once: a link, in its own section at the end.
    assert f'action="{url}"' not in page
    apart = section(page, "apart")
    assert f'href="{url}"' in apart and "danger" in apart
    assert page.index('class="apart"') > page.index("</dl>")

    question = web.get(url)
    text = text_of(question)
    assert question.status_code == 200 and vi("Withdraw the dossier?") in text
    assert f'action="{url}"' in text and 'name="confirm" value="yes"' in text and 'method="post"' in text
    dossier.refresh_from_db()
    assert dossier.state == DossierState.SUBMITTED  # asking changes nothing

    unconfirmed = web.post(url)  # a POST without the confirmation only asks again
    assert unconfirmed.status_code == 200 and vi("Withdraw the dossier?") in text_of(unconfirmed)
    dossier.refresh_from_db()
    assert dossier.state == DossierState.SUBMITTED

    stranger = browse(make_user("0977000222", full_name="Lường Văn Pọm", phone="0977000222"))
    assert stranger.get(url).status_code == 404
    assert stranger.post(url, {"confirm": "yes"}).status_code == 404

    done = web.post(url, {"confirm": "yes"})
    assert done.status_code == 302 and done["Location"] == f"/my/dossiers/{dossier.pk}/"
    dossier.refresh_from_db()
    assert dossier.state == DossierState.WITHDRAWN
    after = text_of(web.get(f"/my/dossiers/{dossier.pk}/"))
    assert f'href="{url}"' not in after
    again = web.get(url)  # nothing left to withdraw
    assert again.status_code == 302 and again["Location"] == f"/my/dossiers/{dossier.pk}/"


def test_a_received_dossier_cannot_be_withdrawn(procedures, people, web, citizen):
    dossier = online_dossier(citizen, procedures["HT-02"], receive_by=people["onestop_officer"])
    url = f"/my/dossiers/{dossier.pk}/withdraw/"
    assert url not in text_of(web.get(f"/my/dossiers/{dossier.pk}/"))
    asked = web.get(url)  # no question to answer: the dossier's page says why
    assert asked.status_code == 302 and asked["Location"] == f"/my/dossiers/{dossier.pk}/"
    assert vi("This dossier can no longer be withdrawn.") in text_of(web.get(asked["Location"]))
    assert web.post(url, {"confirm": "yes"}).status_code == 302
    dossier.refresh_from_db()
    assert dossier.state == DossierState.RECEIVED


# --- the account pages ------------------------------------------------------------------------------

def test_login_and_signup_use_the_citizens_layout_and_say_why(procedures, browse, people, client_for):
    reasons = [vi("Why an account?"), vi("send dossiers online, without going to the desk;"),
               vi("follow your dossiers and complete them when the desk asks;"),
               vi("receive the results and the notices by SMS or e-mail, and download results.")]
    for url in ("/accounts/login/", "/accounts/signup/"):
        page = text_of(browse().get(url))
        assert "css/public.css" in page and 'class="pub-nav"' in page, url  # the citizens' layout
        assert 'href="/services/"' in page and 'href="/lookup/"' in page, url
        assert all(reason in page for reason in reasons), url
    login = text_of(browse().get("/accounts/login/"))
    assert vi("Commune officials log in here too, with the account given by the commune's administrator.") in login
    assert 'name="username"' in login and 'name="password"' in login

    # The national host keeps its own layout (no commune's procedures there).
    national = client_for("localhost").get("/accounts/login/")
    assert national.status_code == 200
    assert "css/public.css" not in national.content.decode() and vi("Why an account?") not in text_of(national)

    # An official who signs still logs in there with the password, then the code.
    chairman = people["chairman"]
    client = browse()
    response = client.post("/accounts/login/", {"username": chairman.username, "password": "Mat-khau-2026!"})
    assert response.status_code == 302 and response["Location"].startswith("/accounts/2fa/")
    # A citizen logs in with the password alone.
    citizen = browse()
    response = citizen.post("/accounts/login/?next=/my/dossiers/",
                            {"username": people["citizen"].username, "password": "Mat-khau-2026!",
                             "next": "/my/dossiers/"})
    assert response.status_code == 302 and response["Location"] == "/my/dossiers/"


# --- procedure pages --------------------------------------------------------------------------------

def _internal_bits(procedure) -> list[str]:
    """What the catalogue keeps for the desk: the note on what is not confirmed and the sources
    (other communes' pages among them)."""
    bits = [procedure.verification_note.strip(), procedure.published_by.strip()]
    bits += re.findall(r"https?://[^\s;]+", procedure.published_by)
    return [b for b in bits if b]


def test_procedure_pages_show_citizens_no_internal_notes(procedures, browse, web, people):
    assert any(not p.verified for p in procedures.values())
    officer = browse(people["onestop_officer"])
    for code, procedure in procedures.items():
        bits = _internal_bits(procedure)
        assert bits, code
        for client in (browse(), web):
            page = html.unescape(client.get(f"/services/{code}/").content.decode())
            for bit in bits:
                assert bit not in page, (code, bit)
            assert vi("not confirmed") not in page and vi("Notes for officials") not in page
        # Officials still see them, in a part marked as theirs.
        official = text_of(officer.get(f"/services/{code}/"))
        notes = section(official, "internal")
        assert vi("Notes for officials") in notes and procedure.published_by in notes
        if not procedure.verified:
            assert vi("not confirmed") in notes
    listing = text_of(browse().get("/services/"))
    for procedure in procedures.values():
        for bit in _internal_bits(procedure):
            assert bit not in listing


# --- declarations "theo mẫu" ------------------------------------------------------------------------

def test_every_declaration_theo_mau_is_downloadable_or_filled_in_online(procedures, browse, web, citizen):
    declarations = [(p, r) for p in procedures.values() if p.handler == Handler.COMMUNE
                    for r in p.requirements.all() if "theo mẫu" in r.name]
    assert len(declarations) >= 10
    visitor = browse()
    for procedure, requirement in declarations:
        page = text_of(visitor.get(f"/services/{procedure.code}/"))
        link = f"/services/{procedure.code}/documents/{requirement.pk}/template/"
        assert link in page, procedure.code
        download = visitor.get(link)
        assert download.status_code == 200 and download["Content-Type"] == "application/pdf"
        data = download.content
        assert data.startswith(b"%PDF")
        text = pdftotext(data)
        flat = " ".join(text.split())
        assert requirement.name.split("(")[0].strip().upper() in flat, procedure.code
        assert "Kính gửi: Ủy ban nhân dân" in flat and "NGƯỜI YÊU CẦU" in flat
        for spec in procedure.form_fields:  # every question of the online form, to answer by hand
            assert " ".join(spec["label"].split()) in flat, (procedure.code, spec["label"])
        assert ".pdf" in download["Content-Disposition"]

        # Applying online: the form is the declaration, so it is neither asked nor missing.
        if procedure.online_level in ("full", "partial"):
            form = text_of(web.get(f"/services/{procedure.code}/apply/"))
            assert f'name="doc_{requirement.pk}"' not in form, procedure.code
    birth = procedures["HT-01"]
    declaration = birth.requirements.get(copy_kind=CopyKind.FORM)
    dossier = online_dossier(citizen, birth)  # no file for the declaration
    assert dossier.state == DossierState.SUBMITTED
    assert declaration.name not in services.missing_uploads(dossier)
    assert not dossier.documents.filter(requirement=declaration).exists()


def test_a_template_file_uploaded_by_the_commune_comes_first(procedures, browse):
    from django.core.files.base import ContentFile

    from tests.onestop.conftest import make_pdf

    birth = procedures["HT-01"]
    declaration = birth.requirements.get(copy_kind=CopyKind.FORM)
    url = f"/services/HT-01/documents/{declaration.pk}/template/"
    printed = browse().get(url)  # the portal's own print of the declaration
    assert printed.status_code == 200 and "TỜ KHAI ĐĂNG KÝ KHAI SINH" in pdftotext(printed.content)
    own = make_pdf("Tờ khai của xã")
    declaration.template.save("to-khai.pdf", ContentFile(own))
    download = browse().get(url)
    assert b"".join(download.streaming_content) == own
    # A paper that is not a form to fill in has no template to offer.
    other = birth.requirements.exclude(copy_kind=CopyKind.FORM).first()
    assert browse().get(f"/services/HT-01/documents/{other.pk}/template/").status_code == 404


# --- the lookup -------------------------------------------------------------------------------------

@pytest.fixture
def desk_phone(tule):
    tule.__class__.objects.filter(pk=tule.pk).update(phone=PHONE_OF_THE_DESK)
    tule.phone = PHONE_OF_THE_DESK
    return PHONE_OF_THE_DESK


def test_the_lookup_keeps_the_typed_code_and_gives_the_desks_phone(procedures, people, browse, desk_phone, settings):
    dossier = online_dossier(people["citizen"], procedures["HT-01"], receive_by=people["onestop_officer"])
    client = browse(REMOTE_ADDR="203.113.9.9")
    wrong = client.post("/lookup/", {"code": dossier.code, "phone_last4": "1111"})
    text = text_of(wrong)
    assert wrong.status_code == 200 and f'value="{dossier.code}"' in text
    alert = section(text, "error-box")
    assert desk_phone in alert and 'href="tel:02143870123"' in alert

    missing_digits = text_of(client.post("/lookup/", {"code": dossier.code.lower(), "phone_last4": ""}))
    assert f'value="{dossier.code.lower()}"' in missing_digits
    assert desk_phone in missing_digits

    # Too many lookups: the page still shows the code typed and where to call.
    settings.XASO_LOOKUP_RATE = "1/h"
    blocked = client.post("/lookup/", {"code": dossier.code, "phone_last4": "5678"})
    page = text_of(blocked)
    assert blocked.status_code == 429 and dossier.code in page and desk_phone in section(page, "desk-phone")
