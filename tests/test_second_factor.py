"""The second factor at login (authenticator app codes) for officials who can sign."""
from __future__ import annotations

import base64
import re
import time

import pyotp
import pytest
from django.db import connection
from django.http import HttpResponse
from django.test import RequestFactory
from django.utils import timezone
from django.utils.translation import gettext, override

from communes import second_factor as sf
from communes.models import Role, TotpDevice

PASSWORD = "Mat-khau-2026!"
HOST = "tule.localhost"


def vi(message: str) -> str:
    with override("vi"):
        return gettext(message)


def login(client, username, password=PASSWORD, next_url=None):
    data = {"username": username, "password": password}
    url = "/accounts/login/" + (f"?next={next_url}" if next_url else "")
    return client.post(url, data)


def current_code(user) -> str:
    return pyotp.TOTP(sf.device_secret(TotpDevice.objects.get(user=user))).now()


def enrolled(user) -> TotpDevice:
    """A confirmed app for the user (as after enrolment)."""
    device = sf.start_enrolment(user)
    device.confirmed, device.confirmed_at = True, timezone.now()
    device.save(update_fields=["confirmed", "confirmed_at"])
    return device


def logged_in_user_id(client):
    return client.session.get("_auth_user_id")


@pytest.fixture
def chairman(make_user, tule):
    return make_user("chutich", roles={tule: [Role.CHAIRMAN]}, full_name="Lò Văn Chủ")


@pytest.fixture
def client(client_for):
    return client_for(HOST)


def test_officials_who_do_not_sign_log_in_as_before(db, tule, make_user, client):
    make_user("chuyenvien", roles={tule: [Role.TECH_TEAM, Role.PRODUCER]})
    response = login(client, "chuyenvien")
    assert response.status_code == 302 and response["Location"] == "/"
    assert client.get("/").status_code == 200
    assert not TotpDevice.objects.exists()
    citizen_less = client.get("/accounts/2fa/")  # nothing to do there: straight on
    assert citizen_less.status_code == 302 and citizen_less["Location"] == "/"


def test_which_roles_need_it(db, tule, make_user, settings):
    needing = {"chairman", "vice_chairman", "clerk", "onestop_officer", "specialist", "radio_operator",
               "health_staff", "school_staff", "economy_officer", "commune_admin"}
    for role in Role:
        user = make_user(f"u_{role.value}", roles={tule: [role]})
        assert sf.requires_second_factor(user) == (role.value in needing), role
    # The installation may add a role, never remove one.
    settings.XASO_SECOND_FACTOR_ROLES = ["tech_team"]
    assert sf.requires_second_factor(make_user("tech2", roles={tule: [Role.TECH_TEAM]}))
    assert sf.requires_second_factor(make_user("clerk2", roles={tule: [Role.CLERK]}))
    # The installation's operators too.
    assert sf.requires_second_factor(make_user("operator", is_superuser=True, is_staff=True))


def test_inactive_membership_does_not_count(db, tule, make_user):
    from communes.models import Membership

    user = make_user("former", roles={tule: [Role.CHAIRMAN]})
    Membership.objects.filter(user=user).update(is_active=False)
    assert not sf.requires_second_factor(user)


def test_enrolment_on_first_login(db, chairman, client):
    response = login(client, "chutich")
    assert response.status_code == 302 and response["Location"] == "/accounts/2fa/"
    assert logged_in_user_id(client) is None  # the password alone does not log in
    assert client.get("/population/").status_code == 302
    device = None

    page = client.get("/accounts/2fa/")
    text = page.content.decode()
    assert page.status_code == 200
    assert vi("Set up your authenticator app") in text
    assert "<svg" in text and 'role="img"' in text  # the QR code, inline
    device = TotpDevice.objects.get(user=chairman)
    assert device.confirmed_at is None and not device.confirmed
    secret = sf.device_secret(device)
    assert sf.group_secret(secret) in text
    # Reloading the page keeps the same secret (the app may already have scanned it).
    client.get("/accounts/2fa/")
    assert sf.device_secret(TotpDevice.objects.get(user=chairman)) == secret

    response = client.post("/accounts/2fa/", {"code": pyotp.TOTP(secret).now()})
    assert response.status_code == 302 and response["Location"] == "/"
    assert logged_in_user_id(client) == str(chairman.pk)
    assert client.get("/").status_code == 200
    device.refresh_from_db()
    assert device.confirmed_at is not None and device.last_used_step is not None
    assert client.session[sf.VERIFIED_KEY] == device.persistent_id


def test_login_with_the_code_and_next(db, chairman, client):
    enrolled(chairman)
    response = login(client, "chutich", next_url="/population/")
    assert response["Location"] == "/accounts/2fa/"
    page = client.get("/accounts/2fa/")
    assert vi("Login code") in page.content.decode() and "<svg" not in page.content.decode()
    response = client.post("/accounts/2fa/", {"code": " ".join([current_code(chairman)[:3], current_code(chairman)[3:]])})
    assert response.status_code == 302 and response["Location"] == "/population/"
    assert logged_in_user_id(client) == str(chairman.pk)


def test_the_national_host_asks_too(db, chairman, client_for):
    enrolled(chairman)
    client = client_for("localhost")
    assert login(client, "chutich")["Location"] == "/accounts/2fa/"
    response = client.post("/accounts/2fa/", {"code": current_code(chairman)})
    assert response.status_code == 302 and logged_in_user_id(client) == str(chairman.pk)


def test_wrong_password_never_reaches_the_code(db, chairman, client):
    enrolled(chairman)
    response = login(client, "chutich", password="sai-mat-khau")
    assert response.status_code == 200
    assert client.get("/accounts/2fa/")["Location"] == "/accounts/login/"


def test_wrong_code(db, chairman, client):
    enrolled(chairman)
    login(client, "chutich")
    good = current_code(chairman)
    wrong = f"{(int(good) + 1) % 1_000_000:06d}"
    response = client.post("/accounts/2fa/", {"code": wrong})
    assert response.status_code == 200
    assert vi("The code is not correct. Check that you entered the code currently shown in the app "
              "and that the phone's clock is right.") in response.content.decode().replace("&#x27;", "'")
    assert logged_in_user_id(client) is None
    assert TotpDevice.objects.get(user=chairman).failed_attempts == 1
    response = client.post("/accounts/2fa/", {"code": "12ab"})
    assert vi("Enter the 6 digits shown in your authenticator app.") in response.content.decode()
    assert TotpDevice.objects.get(user=chairman).failed_attempts == 1  # a typo of shape does not count
    # The right code still works and clears the count.
    response = client.post("/accounts/2fa/", {"code": good})
    assert response.status_code == 302 and logged_in_user_id(client) == str(chairman.pk)
    assert TotpDevice.objects.get(user=chairman).failed_attempts == 0


def test_a_code_is_accepted_once(db, chairman, client, client_for):
    enrolled(chairman)
    login(client, "chutich")
    code = current_code(chairman)
    assert client.post("/accounts/2fa/", {"code": code}).status_code == 302

    other = client_for(HOST)  # someone who saw the code, on another browser
    login(other, "chutich")
    response = other.post("/accounts/2fa/", {"code": code})
    assert response.status_code == 200
    assert vi("This code has already been used. Wait for the app to show a new code and enter that one.") \
        in response.content.decode()
    assert logged_in_user_id(other) is None


def test_an_older_step_is_refused_after_a_newer_one(db, chairman):
    device = enrolled(chairman)
    totp = pyotp.TOTP(sf.device_secret(device))
    now = time.time()
    step = int(now) // 30
    assert sf.check_code(chairman, totp.generate_otp(step), now=now).ok
    assert sf.check_code(chairman, totp.generate_otp(step - 1), now=now).reason == "replay"
    assert sf.check_code(chairman, totp.generate_otp(step + 1), now=now).ok  # clock drift: the next step
    assert sf.check_code(chairman, totp.generate_otp(step + 3), now=now).reason == "wrong"  # too far


def test_lockout_after_five_wrong_codes(db, chairman, client):
    enrolled(chairman)
    login(client, "chutich")
    good = current_code(chairman)
    wrong = f"{(int(good) + 7) % 1_000_000:06d}"
    for _ in range(4):
        assert client.post("/accounts/2fa/", {"code": wrong}).status_code == 200
    response = client.post("/accounts/2fa/", {"code": wrong})
    device = TotpDevice.objects.get(user=chairman)
    assert device.locked_until and device.locked_until > timezone.now()
    locked_text = vi("Too many wrong codes. For your safety, codes are refused until %(time)s.").split("%(time)s")[0]
    assert locked_text in response.content.decode()
    # Even the right code is refused while locked.
    response = client.post("/accounts/2fa/", {"code": good})
    assert response.status_code == 200 and locked_text in response.content.decode()
    assert logged_in_user_id(client) is None
    # The page says so too.
    assert locked_text in client.get("/accounts/2fa/").content.decode()
    # Once the lock is over, the right code works.
    TotpDevice.objects.filter(pk=device.pk).update(locked_until=timezone.now() - timezone.timedelta(seconds=1))
    response = client.post("/accounts/2fa/", {"code": good})
    assert response.status_code == 302 and logged_in_user_id(client) == str(chairman.pk)


def test_the_half_login_expires(db, chairman, client):
    enrolled(chairman)
    login(client, "chutich")
    session = client.session
    data = session[sf.PENDING_KEY]
    data["started"] -= 301
    session[sf.PENDING_KEY] = data
    session.save()
    response = client.post("/accounts/2fa/", {"code": current_code(chairman)}, follow=True)
    assert response.redirect_chain[0][0] == "/accounts/login/"
    assert vi("The login took too long and has expired. Log in again.") in response.content.decode()
    assert logged_in_user_id(client) is None
    assert sf.PENDING_KEY not in client.session


def test_a_password_change_ends_the_half_login(db, chairman, client):
    enrolled(chairman)
    login(client, "chutich")
    chairman.set_password("Mat-khau-moi-2027!")
    chairman.save()
    response = client.post("/accounts/2fa/", {"code": current_code(chairman)})
    assert response["Location"] == "/accounts/login/" and logged_in_user_id(client) is None


def test_cancel(db, chairman, client):
    enrolled(chairman)
    login(client, "chutich")
    response = client.post("/accounts/2fa/", {"cancel": "1"})
    assert response["Location"] == "/accounts/login/" and sf.PENDING_KEY not in client.session


def test_secret_is_not_stored_in_clear(db, chairman, settings):
    device = sf.start_enrolment(chairman)
    secret = sf.device_secret(device)
    assert re.fullmatch(r"[A-Z2-7]{32}", secret)
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM communes_totpdevice WHERE id = %s", [device.pk])
        row = cursor.fetchone()
    raw = b"".join(bytes(v) if isinstance(v, (bytes, memoryview)) else str(v).encode() for v in row)
    assert secret.encode() not in raw and secret.lower().encode() not in raw
    assert base64.b32decode(secret) not in raw
    # Bound to the user: the same ciphertext does not open for another user.
    with pytest.raises(ValueError):
        sf.decrypt_secret(device.secret_encrypted, chairman.pk + 1)
    # Not bound to SECRET_KEY: the secrets' keyring is its own (core.secrets).
    settings.SECRET_KEY = "another-secret-key-for-this-test"
    assert sf.device_secret(device) == secret


def test_decorator_sends_an_unverified_session_to_the_code(db, chairman, make_user, client_for):
    enrolled(chairman)

    @sf.second_factor_required
    def signing_page(request):
        return HttpResponse("ok")

    factory = RequestFactory()

    def request_as(user, session=None):
        from django.contrib.auth.models import AnonymousUser
        from django.contrib.sessions.backends.db import SessionStore

        request = factory.get("/signatures/sign/7/", HTTP_HOST=HOST)
        request.user = user or AnonymousUser()
        request.session = session if session is not None else SessionStore()
        return request

    anonymous = signing_page(request_as(None))
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]
    unverified = signing_page(request_as(chairman))
    assert unverified.status_code == 302
    assert unverified["Location"] == "/accounts/2fa/?next=%2Fsignatures%2Fsign%2F7%2F"
    htmx = request_as(chairman)
    htmx.META["HTTP_HX_REQUEST"] = "true"
    assert signing_page(htmx)["HX-Redirect"].startswith("/accounts/2fa/")
    health = make_user("cv", roles={chairman.memberships.first().commune: [Role.TECH_TEAM]})
    assert signing_page(request_as(health)).content == b"ok"

    # A session opened without the code (e.g. given the role since) verifies on the code page.
    client = client_for(HOST, chairman, second_factor=False)
    page = client.get("/accounts/2fa/?next=/signatures/sign/7/")
    assert page.status_code == 200 and vi("Login code") in page.content.decode()
    response = client.post("/accounts/2fa/", {"code": current_code(chairman), "next": "/signatures/sign/7/"})
    assert response.status_code == 302 and response["Location"] == "/signatures/sign/7/"
    session = client.session
    assert signing_page(request_as(chairman, session)).content == b"ok"
    # Off-site "next" addresses are ignored.
    assert client.get("/accounts/2fa/?next=https://evil.example/")["Location"] == "/"


def test_admin_reset_ends_verification_and_forces_a_new_enrolment(db, tule, chairman, make_user, client, client_for):
    from communes.models import Membership

    enrolled(chairman)
    login(client, "chutich")
    client.post("/accounts/2fa/", {"code": current_code(chairman)})
    assert logged_in_user_id(client) == str(chairman.pk)
    request = RequestFactory().get("/")
    request.user, request.session = chairman, client.session
    assert sf.is_verified(request)

    admin_user = make_user("quantri", roles={tule: [Role.COMMUNE_ADMIN]})
    admin_client = client_for(HOST, admin_user)
    membership = Membership.objects.get(user=chairman, commune=tule)
    response = admin_client.post("/admin/communes/membership/", {
        "action": "reset_second_factor_action", "_selected_action": [membership.pk],
    })
    assert response.status_code == 302
    assert not TotpDevice.objects.filter(user=chairman).exists()
    assert not sf.is_verified(request)
    # The next login enrols a new app.
    fresh = client_for(HOST)
    login(fresh, "chutich")
    assert vi("Set up your authenticator app") in fresh.get("/accounts/2fa/").content.decode()


def test_admin_of_another_commune_cannot_reset(db, tule, yenhoa, chairman, make_user, client_for):
    from communes.models import Membership

    enrolled(chairman)
    other_admin = make_user("quantri_yh", roles={yenhoa: [Role.COMMUNE_ADMIN]})
    membership = Membership.objects.get(user=chairman, commune=tule)
    client_for("yenhoa.localhost", other_admin).post("/admin/communes/membership/", {
        "action": "reset_second_factor_action", "_selected_action": [membership.pk],
    })
    assert TotpDevice.objects.filter(user=chairman).exists()


def test_drf_permission(db, chairman, make_user):
    from rest_framework.authentication import SessionAuthentication, TokenAuthentication
    from django.contrib.sessions.backends.db import SessionStore

    enrolled(chairman)
    permission = sf.SecondFactorVerified()
    assert permission.code == "second_factor_required"

    class FakeRequest:
        def __init__(self, user, authenticator):
            self.user, self.successful_authenticator, self.session = user, authenticator, SessionStore()

    unverified = FakeRequest(chairman, SessionAuthentication())
    assert not permission.has_permission(unverified, None)
    verified = FakeRequest(chairman, SessionAuthentication())
    sf.mark_verified(verified.session, chairman, TotpDevice.objects.get(user=chairman))
    assert permission.has_permission(verified, None)
    token_read = FakeRequest(chairman, TokenAuthentication())
    token_read.method = "GET"
    assert permission.has_permission(token_read, None)
    token_write = FakeRequest(chairman, TokenAuthentication())
    token_write.method = "POST"
    assert not permission.has_permission(token_write, None)
    health = make_user("cv2", roles={chairman.memberships.first().commune: [Role.TECH_TEAM]})
    assert permission.has_permission(FakeRequest(health, SessionAuthentication()), None)


@pytest.mark.parametrize("role, url", [
    (Role.CHAIRMAN, "/api/v1/documents/outgoing/999999/sign/"),
    (Role.CLERK, "/api/v1/documents/outgoing/999999/issue/"),
    (Role.CLERK, "/api/v1/documents/outgoing/999999/agency-sign/"),
    (Role.CHAIRMAN, "/api/v1/signatures/jobs/"),
    (Role.CHAIRMAN, "/api/v1/onestop/dossiers/999999/sign-leader/"),
    (Role.CLERK, "/api/v1/onestop/dossiers/999999/sign-agency/"),
])
def test_signing_through_the_api_needs_a_confirmed_session(db, tule, make_user, client_for, role, url):
    """The signing endpoints refuse a session that skipped the code (logged in through the admin's
    login page, or given the role since); the same call from a confirmed session gets past the
    check (to a 404 or a validation error here: there is nothing to sign)."""
    signer = make_user(f"signer_{role}", roles={tule: [role]})
    enrolled(signer)
    unconfirmed = client_for(HOST, signer, second_factor=False).post(url, {"pin": "123456"}, content_type="application/json")
    assert unconfirmed.status_code == 403 and unconfirmed.json()["code"] == "second_factor_required", unconfirmed.content
    confirmed = client_for(HOST, signer, second_factor=True).post(url, {"pin": "123456"}, content_type="application/json")
    assert confirmed.status_code in (400, 404), confirmed.content
