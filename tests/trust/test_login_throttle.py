"""Login throttling: wrong passwords lock the account (from any address) and the address (on any
account), each with its own limit; the page says until when, in Vietnamese, and keeps the
username; the lock does not grow while it lasts and a password reset lifts it. The same on the
national host. The second factor's codes are also limited per address."""
from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext, ngettext, override

PASSWORD = "Mat-khau-2026!"


def vi(message: str) -> str:
    with override("vi"):
        return gettext(message)


def lock_words(minutes: int = 15) -> str:
    """The words of the refusal before its figures, in Vietnamese."""
    with override("vi"):
        return ngettext(
            "Too many attempts. For your safety, try again in %(minutes)s minute (at %(time)s).",
            "Too many attempts. For your safety, try again in %(minutes)s minutes (at %(time)s).",
            minutes,
        ).split("%")[0]


@pytest.fixture(autouse=True)
def numbers(settings):
    settings.XASO_LOGIN_FAILURES_PER_ACCOUNT = 10
    settings.XASO_LOGIN_FAILURES_PER_ADDRESS = 30
    settings.AXES_FAILURE_LIMIT = 10
    settings.AXES_COOLOFF_TIME = 0.25  # 15 minutes
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


def post_login(username, password, *, host="tule.localhost", address="203.0.113.7", **extra):
    client = Client(HTTP_HOST=host, REMOTE_ADDR=address)
    response = client.post("/accounts/login/", {"username": username, "password": password}, **extra)
    return client, response


def logged_in(client) -> bool:
    return "_auth_user_id" in client.session


def assert_lock_page(response, username, *, minutes=15):
    """429, the message with the minutes left and the clock time, and the username kept."""
    assert response.status_code == 429
    wait = int(response["Retry-After"])
    assert (minutes - 1) * 60 < wait <= minutes * 60
    text = response.content.decode()
    moments = {date_format(timezone.localtime(timezone.now() + dt.timedelta(seconds=wait + d)), "H:i") for d in (-2, 0, 2)}
    assert any(moment in text for moment in moments), text
    assert re.search(rf"\b{minutes}\b", text)
    assert lock_words(minutes) in text
    assert f'value="{username}"' in text
    return wait


def test_wrong_passwords_lock_the_account_and_the_right_one_is_then_refused(make_user):
    make_user("0912000111", password=PASSWORD)
    for attempt in range(9):
        client, response = post_login("0912000111", f"sai-{attempt}")
        assert response.status_code == 200 and not logged_in(client)
    # The tenth failure locks the account, and says so at once.
    client, response = post_login("0912000111", "sai-10")
    assert_lock_page(response, "0912000111")
    # The right password no longer opens it, and the refused tries do not push the time back.
    client, first = post_login("0912000111", PASSWORD)
    assert not logged_in(client)
    wait = assert_lock_page(first, "0912000111")
    for _ in range(3):
        client, again = post_login("0912000111", "sai-nua")
    assert int(again["Retry-After"]) <= wait


def test_the_lock_ends_at_the_time_it_said(make_user):
    from axes.models import AccessAttempt

    make_user("0912000112", password=PASSWORD)
    for attempt in range(10):
        post_login("0912000112", f"sai-{attempt}")
    assert post_login("0912000112", PASSWORD)[1].status_code == 429
    AccessAttempt.objects.update(attempt_time=timezone.now() - dt.timedelta(minutes=15, seconds=5))
    client, response = post_login("0912000112", PASSWORD)
    assert response.status_code == 302 and logged_in(client)


def test_one_account_is_not_attacked_from_many_addresses(make_user):
    make_user("yentho.chairman.t", password=PASSWORD)
    for n in range(10):
        post_login("yentho.chairman.t", f"sai-{n}", address=f"198.51.100.{n + 1}")
    client, response = post_login("yentho.chairman.t", PASSWORD, address="192.0.2.200")
    assert not logged_in(client)
    assert_lock_page(response, "yentho.chairman.t")


def test_one_address_cannot_lock_out_everyone_nor_try_every_account(make_user):
    make_user("0912000113", password=PASSWORD)
    # 30 failures from one address, on 30 accounts (none reaches its own limit).
    for n in range(29):  # a forged header changes nothing
        response = post_login(f"09120009{n:02d}", "sai", HTTP_X_FORWARDED_FOR=f"10.0.0.{n}")[1]
        assert response.status_code == 200  # the address has its own, higher limit
    client, response = post_login("0912000199", "sai")
    assert response.status_code == 429
    # That address is locked, for an account it never tried too...
    client, response = post_login("0912000113", PASSWORD)
    assert not logged_in(client) and response.status_code == 429
    # ...but the account's owner, elsewhere, is not.
    client, response = post_login("0912000113", PASSWORD, address="192.0.2.55")
    assert response.status_code == 302 and logged_in(client)


def test_a_password_reset_by_e_mail_lifts_the_lock_of_its_account(make_user):
    make_user("0912000114", password=PASSWORD, email="mai@example.vn")
    for n in range(10):
        post_login("0912000114", f"sai-{n}", address=f"198.51.100.{n + 1}")
    assert post_login("0912000114", PASSWORD)[1].status_code == 429

    owner = Client(HTTP_HOST="tule.localhost", REMOTE_ADDR="192.0.2.9")
    assert owner.post("/accounts/password/reset/", {"email": "mai@example.vn"}).status_code == 302
    link = re.search(r"https?://\S+/accounts/password/reset/\S+/", mail.outbox[-1].body).group(0)
    path = link.split("tule.localhost", 1)[1]
    form = owner.get(path, follow=True)
    owner.post(form.redirect_chain[-1][0], {"new_password1": "Moi-Mat-Khau-2027", "new_password2": "Moi-Mat-Khau-2027"})
    client, response = post_login("0912000114", "Moi-Mat-Khau-2027")
    assert response.status_code == 302 and logged_in(client)


def test_the_national_host_login_is_throttled_too(make_user):
    make_user("operator.t", password=PASSWORD)
    for n in range(10):
        post_login("operator.t", f"sai-{n}", host="localhost")
    client, response = post_login("operator.t", PASSWORD, host="localhost")
    assert not logged_in(client)
    assert_lock_page(response, "operator.t")


def test_the_test_client_login_still_works(make_user):
    user = make_user("0912000115", password=PASSWORD)
    client = Client(HTTP_HOST="tule.localhost")
    assert client.login(username="0912000115", password=PASSWORD)
    client.force_login(user)
    assert client.get("/").status_code == 200


def test_second_factor_codes_are_limited_per_address(settings, make_user, tule):
    from communes.models import Role

    settings.XASO_SECOND_FACTOR_ADDRESS_RATE = "4/15min"
    officials = [make_user(f"tule.vice{n}.t", roles={tule: [Role.VICE_CHAIRMAN]}, password=PASSWORD) for n in range(3)]
    statuses = []
    for official in officials:  # a few wrong codes on each account: none locks its own app
        client, response = post_login(official.username, PASSWORD)
        assert response.status_code == 302 and "/accounts/2fa/" in response["Location"]
        for _ in range(2):
            statuses.append(client.post("/accounts/2fa/", {"code": "000000"}).status_code)
    assert statuses[:4] == [200, 200, 200, 200]
    assert set(statuses[4:]) == {429}
    refused = client.post("/accounts/2fa/", {"code": "000000"})
    text = refused.content.decode()
    assert refused.status_code == 429 and vi("Too many attempts") in text and lock_words() in text
    assert date_format(timezone.localtime(timezone.now() + dt.timedelta(minutes=15)), "H:i")[:2] in text


def test_password_reset_requests_are_limited_per_address_and_per_e_mail(settings, make_user):
    settings.XASO_PASSWORD_RESET_ADDRESS_RATE = "4/hour"
    settings.XASO_PASSWORD_RESET_EMAIL_RATE = "2/hour"
    make_user("0912000116", email="lan@example.vn")

    def ask(email, address="203.0.113.50"):
        return Client(HTTP_HOST="tule.localhost", REMOTE_ADDR=address).post("/accounts/password/reset/", {"email": email})

    # Per e-mail address, from any client address, whether an account has it or not.
    assert [ask("lan@example.vn", f"198.51.100.{n}").status_code for n in range(3)] == [302, 302, 429]
    assert [ask("nobody@example.vn", f"198.51.100.{n}").status_code for n in range(3)] == [302, 302, 429]
    sent = len(mail.outbox)
    # Per client address, whatever the e-mail address.
    statuses = [ask(f"person{n}@example.vn").status_code for n in range(5)]
    assert statuses == [302, 302, 302, 302, 429]
    refused = ask("lan@example.vn", "203.0.113.50")
    text = refused.content.decode()
    assert refused.status_code == 429 and lock_words(60) in text and 'value="lan@example.vn"' in text
    assert len(mail.outbox) == sent + 4
