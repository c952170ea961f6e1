"""Sign-up does not tell whether a phone number or an e-mail address has an account: the same
page, status and work either way; the owner is told by SMS or e-mail instead. The account is
created once the code sent by SMS is entered. Sign-ups are throttled per address and phone."""
from __future__ import annotations

import re

from django.core import mail
from django.test import Client
from django.utils.translation import gettext, override

from communes.models import User
from tests.sms_inbox import sms  # noqa: F401  (fixture)

PASSWORD = "Ban-Na-Hin-2026"


def vi(message: str) -> str:
    with override("vi"):
        return gettext(message)


def sign_up(phone, email="", *, address="203.0.113.20", name="Lò Thị Mai", next_url=""):
    client = Client(HTTP_HOST="tule.localhost", REMOTE_ADDR=address)
    response = client.post("/accounts/signup/" + (f"?next={next_url}" if next_url else ""), {
        "full_name": name, "phone": phone, "email": email,
        "password1": PASSWORD, "password2": PASSWORD, "next": next_url,
    })
    return client, response


def shape(client, response, phone):
    """What the person signing up sees: the answer, then the page it leads to (which repeats the
    end of the number they typed)."""
    from communes.signup import masked_phone

    page = client.get(response["Location"])
    text = re.sub(r"\b[A-Za-z0-9]{64}\b", "<csrf>", page.content.decode())
    assert masked_phone(phone) in text
    text = text.replace(masked_phone(phone), "…")
    return response.status_code, response["Location"], page.status_code, text


def test_a_taken_phone_or_e_mail_gets_the_same_answer_and_its_owner_is_told(sms, make_user):
    make_user("0987000111", phone="0987000111", email="nam@example.vn")
    fresh_client, fresh = sign_up("0987000222", "mai@example.vn")
    taken_client, taken = sign_up("0987000111", "other@example.vn")
    email_client, email_taken = sign_up("0987000333", "nam@example.vn")
    answers = [shape(fresh_client, fresh, "0987000222"), shape(taken_client, taken, "0987000111"),
               shape(email_client, email_taken, "0987000333")]
    assert answers[0] == answers[1] == answers[2]
    text = answers[0][3]
    assert "0987000222" not in text and "0987000111" not in text
    assert vi("An account with this phone number already exists. Log in, or reset your password.") not in text

    # The owner of the taken number is told by SMS, with no code; the new number gets a code.
    (notice,) = sms.to("0987000111")
    assert not re.search(r"\b\d{6}\b", notice) and "http://tule.localhost/accounts/password/reset/" in notice
    (code_sms,) = sms.to("0987000222")
    assert re.search(r"\b\d{6}\b", code_sms)
    # The owner of the taken e-mail address is told by e-mail.
    told = [m for m in mail.outbox if m.to == ["nam@example.vn"]]
    assert len(told) == 1 and "http://tule.localhost/accounts/password/reset/" in told[0].body
    assert not User.objects.filter(username__in=["0987000222", "0987000333"]).exists()


def test_the_code_creates_the_account_and_logs_in(sms, make_user):
    make_user("0987000999", email="nam@example.vn")
    client, response = sign_up("+84 987 000 444", "nam@example.vn", next_url="/services/")
    assert response["Location"] == "/accounts/signup/confirm/"
    wrong = client.post("/accounts/signup/confirm/", {"code": "000000" if "000000" not in sms.to("0987000444")[0] else "111111"})
    assert wrong.status_code == 200 and not User.objects.filter(username="0987000444").exists()
    code = re.search(r"\b(\d{6})\b", sms.to("0987000444")[0]).group(1)
    done = client.post("/accounts/signup/confirm/", {"code": code})
    assert done.status_code == 302 and done["Location"] == "/services/"
    user = User.objects.get(username="0987000444")
    # The e-mail address belongs to another account: the new one is made without it.
    assert (user.full_name, user.phone, user.email) == ("Lò Thị Mai", "0987000444", "")
    assert "_auth_user_id" in client.session


def test_a_taken_number_never_gets_an_account_however_the_code_is_guessed(sms, make_user):
    make_user("0987000555")
    client, _response = sign_up("0987000555")
    for guess in ("123456", "000000", "999999", "654321", "111111"):
        client.post("/accounts/signup/confirm/", {"code": guess})
    assert client.get("/accounts/signup/confirm/")["Location"] == "/accounts/signup/"
    assert User.objects.filter(username="0987000555").count() == 1


def test_sign_ups_are_throttled_per_address_and_per_phone(db, sms, settings):
    settings.XASO_SIGNUP_ADDRESS_RATE = "3/hour"
    settings.XASO_SIGNUP_PHONE_RATE = "2/hour"
    statuses = [sign_up(f"09870006{n:02d}")[1].status_code for n in range(4)]
    assert statuses == [302, 302, 302, 429]
    # Another address still may, but not for a number already sent two SMS.
    assert sign_up("0987000600", address="198.51.100.4")[1].status_code == 302
    _client, refused = sign_up("0987000600", address="198.51.100.5")
    assert refused.status_code == 429 and 'value="0987000600"' in refused.content.decode()
    assert len(sms.to("0987000600")) == 2
