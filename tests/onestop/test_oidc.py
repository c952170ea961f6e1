"""Citizens' login through an OpenID Connect provider.

The provider is a small local HTTP server the test starts (authorize, token, JWKS and userinfo
endpoints; ID tokens signed RS256 with a key generated here). The Django test client drives the
real code flow: /oidc/authenticate/ → the provider's authorize endpoint → /oidc/callback/.
"""
from __future__ import annotations

import json
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import rsa
from django.contrib.auth import authenticate
from django.test import Client, override_settings
from django.utils.translation import gettext, override

from communes.models import ExternalIdentity, Role, User

HOST = "tule.localhost"
CLIENT_ID = "xaso-tule"
CLIENT_SECRET = "bi-mat-cua-ung-dung"


def vi(message: str) -> str:
    with override("vi"):
        return gettext(message)


class Provider:
    """The identity provider: who is logged in there, the keys, what it has been asked."""

    def __init__(self):
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.signing_key = self.key  # a test may sign with another key
        self.kid = "key-1"
        self.person = {"sub": "079123456789", "name": "Hoàng Thị Lan", "email": "lan@example.vn",
                       "phone_number": "+84912000111"}
        self.codes: dict[str, dict] = {}
        self.tokens: dict[str, dict] = {}
        self.token_requests: list[dict] = []
        self.issuer = ""
        self.audience = CLIENT_ID
        self.userinfo_sub = None  # a test may answer userinfo about someone else

    def jwks(self) -> dict:
        jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key()))
        jwk.update({"kid": self.kid, "alg": "RS256", "use": "sig"})
        return {"keys": [jwk]}

    def id_token(self, nonce: str) -> str:
        now = int(time.time())
        claims = {"iss": self.issuer, "sub": self.person["sub"], "aud": self.audience, "iat": now,
                  "exp": now + 300, "nonce": nonce, "name": self.person.get("name", "")}
        return jwt.encode(claims, self.signing_key, algorithm="RS256", headers={"kid": self.kid})


def _handler(provider: Provider):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def _json(self, status: int, body: dict):
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):
            url = urlsplit(self.path)
            query = {k: v[0] for k, v in parse_qs(url.query).items()}
            if url.path == "/authorize":
                assert query["client_id"] == CLIENT_ID and query["response_type"] == "code"
                assert "openid" in query["scope"].split()
                code = secrets.token_urlsafe(16)
                provider.codes[code] = {"nonce": query.get("nonce"), "redirect_uri": query["redirect_uri"]}
                self.send_response(302)
                self.send_header("Location", query["redirect_uri"] + "?" + urlencode({"code": code, "state": query["state"]}))
                self.end_headers()
            elif url.path == "/jwks":
                self._json(200, provider.jwks())
            elif url.path == "/userinfo":
                token = self.headers.get("Authorization", "").removeprefix("Bearer ")
                if token not in provider.tokens:
                    self._json(401, {"error": "invalid_token"})
                    return
                body = dict(provider.tokens[token])
                if provider.userinfo_sub:
                    body["sub"] = provider.userinfo_sub
                self._json(200, body)
            else:
                self._json(404, {"error": "not_found"})

        def do_POST(self):
            length = int(self.headers.get("Content-Length") or 0)
            form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
            provider.token_requests.append(form)
            grant = provider.codes.pop(form.get("code", ""), None)
            if (urlsplit(self.path).path != "/token" or grant is None or form.get("client_id") != CLIENT_ID
                    or form.get("client_secret") != CLIENT_SECRET or form.get("redirect_uri") != grant["redirect_uri"]):
                self._json(400, {"error": "invalid_grant"})
                return
            access = secrets.token_urlsafe(16)
            provider.tokens[access] = dict(provider.person)
            self._json(200, {"access_token": access, "token_type": "Bearer", "expires_in": 300,
                             "id_token": provider.id_token(grant["nonce"])})

    return Handler


@pytest.fixture(scope="module")
def provider_server():
    provider = Provider()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(provider))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    provider.base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield provider
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def provider(provider_server):
    """The provider, configured in the settings, reset for each test."""
    provider_server.signing_key = provider_server.key
    provider_server.issuer = provider_server.base
    provider_server.audience = CLIENT_ID
    provider_server.userinfo_sub = None
    provider_server.person = {"sub": "079123456789", "name": "Hoàng Thị Lan", "email": "lan@example.vn",
                              "phone_number": "+84912000111"}
    provider_server.token_requests.clear()
    base = provider_server.base
    with override_settings(
        OIDC_RP_CLIENT_ID=CLIENT_ID, OIDC_RP_CLIENT_SECRET=CLIENT_SECRET,
        OIDC_OP_AUTHORIZATION_ENDPOINT=f"{base}/authorize", OIDC_OP_TOKEN_ENDPOINT=f"{base}/token",
        OIDC_OP_USER_ENDPOINT=f"{base}/userinfo", OIDC_OP_JWKS_ENDPOINT=f"{base}/jwks",
        OIDC_RP_SIGN_ALGO="RS256", XASO_OIDC_ISSUER=base, XASO_OIDC_PROVIDER_NAME="VNeID Yên Bái",
    ):
        yield provider_server


def login_through_provider(client: Client, next_url: str = ""):
    """The browser's journey: our start page, the provider (who knows the person), our callback."""
    start = client.get("/oidc/authenticate/" + (f"?next={next_url}" if next_url else ""))
    assert start.status_code == 302
    answer = requests.get(start["Location"], allow_redirects=False, timeout=5)
    assert answer.status_code == 302
    back = urlsplit(answer.headers["Location"])
    assert back.netloc == HOST and back.path == "/oidc/callback/"
    return client.get(back.path, {k: v[0] for k, v in parse_qs(back.query).items()})


def logged_in_user_id(client):
    value = client.session.get("_auth_user_id")
    return int(value) if value else None


def test_first_login_creates_a_citizen_and_logs_in_on_the_commune_host(db, tule, provider):
    client = Client(HTTP_HOST=HOST)
    response = login_through_provider(client, next_url="/my/dossiers/")
    assert response.status_code == 302 and response["Location"] == "/my/dossiers/"

    identity = ExternalIdentity.objects.get(issuer=provider.base, subject="079123456789")
    user = identity.user
    assert logged_in_user_id(client) == user.pk
    assert user.full_name == "Hoàng Thị Lan" and user.email == "lan@example.vn" and user.phone == "0912000111"
    assert not user.has_usable_password() and not user.memberships.exists()
    assert identity.last_login_at is not None
    # The token request carried the code, our client's secret and the same redirect address.
    assert provider.token_requests[-1]["redirect_uri"] == f"http://{HOST}/oidc/callback/"
    # Logged in: the pages of the commune host know the person.
    page = client.get("/my/dossiers/")
    assert page.status_code == 200 and "Hoàng Thị Lan" in page.content.decode()


def test_the_same_person_is_found_by_issuer_and_subject_never_by_e_mail(db, tule, provider, make_user):
    # Someone else's local account with the e-mail address the provider will claim.
    other = make_user("0988777666", full_name="Người Khác", email="lan@example.vn")
    client = Client(HTTP_HOST=HOST)
    login_through_provider(client)
    first = ExternalIdentity.objects.get(subject="079123456789").user
    assert first.pk != other.pk and logged_in_user_id(client) == first.pk

    # Next login: the provider now gives the name in parts and a new e-mail; same account, names refreshed.
    provider.person = {"sub": "079123456789", "family_name": "Hoàng", "middle_name": "Thị", "given_name": "Lan Anh",
                       "email": "lananh@example.vn"}
    provider.person["name"] = ""
    again = Client(HTTP_HOST=HOST)
    response = login_through_provider(again)
    assert response.status_code == 302 and response["Location"] == "/"
    assert logged_in_user_id(again) == first.pk
    first.refresh_from_db()
    assert first.full_name == "Hoàng Thị Lan Anh" and first.email == "lananh@example.vn"
    assert User.objects.filter(external_identities__isnull=False).count() == 1

    # Another person at the provider is another account.
    provider.person = {"sub": "001099000111", "name": "Lò Văn Páo"}
    third = Client(HTTP_HOST=HOST)
    login_through_provider(third)
    assert logged_in_user_id(third) not in (None, first.pk, other.pk)
    assert ExternalIdentity.objects.count() == 2


@pytest.mark.parametrize("tamper", ["foreign_key", "wrong_issuer", "wrong_audience", "userinfo_of_someone_else"])
def test_a_token_that_does_not_check_out_logs_nobody_in(db, tule, provider, tamper):
    if tamper == "foreign_key":
        provider.signing_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    elif tamper == "wrong_issuer":
        provider.issuer = "https://gia-mao.example"
    elif tamper == "wrong_audience":
        provider.audience = "another-client"
    else:
        provider.userinfo_sub = "someone-else"
    client = Client(HTTP_HOST=HOST)
    response = login_through_provider(client)
    assert response.status_code == 302 and response["Location"] == "/accounts/login/"
    assert logged_in_user_id(client) is None
    assert not ExternalIdentity.objects.exists()
    page = client.get("/accounts/login/").content.decode()
    assert vi("The login through %(provider)s did not succeed. Try again, or log in with your "
              "phone number and password.") % {"provider": "VNeID Yên Bái"} in page


def test_a_callback_with_an_unknown_state_or_a_replayed_code_fails_cleanly(db, tule, provider):
    client = Client(HTTP_HOST=HOST)
    start = client.get("/oidc/authenticate/")
    answer = requests.get(start["Location"], allow_redirects=False, timeout=5)
    query = {k: v[0] for k, v in parse_qs(urlsplit(answer.headers["Location"]).query).items()}
    forged = client.get("/oidc/callback/", {"code": query["code"], "state": "not-ours"})
    assert forged.status_code == 302 and forged["Location"] == "/accounts/login/"
    assert logged_in_user_id(client) is None
    # The real state once: logged in; the same answer again does nothing more.
    assert client.get("/oidc/callback/", query).status_code == 302
    user_id = logged_in_user_id(client)
    assert user_id is not None
    stranger = Client(HTTP_HOST=HOST)
    assert stranger.get("/oidc/callback/", query)["Location"] == "/accounts/login/"
    assert logged_in_user_id(stranger) is None
    # The provider's error answer: back to the login page, nobody logged in.
    assert stranger.get("/oidc/callback/", {"error": "access_denied"})["Location"] == "/accounts/login/"


def test_the_login_page_offers_the_provider_when_configured(db, tule, provider):
    page = Client(HTTP_HOST=HOST).get("/accounts/login/?next=/services/").content.decode()
    label = vi("Log in with your %(provider)s account") % {"provider": "VNeID Yên Bái"}
    assert label in page and "/oidc/authenticate/?next=/services/" in page


def test_an_official_who_signs_still_gives_the_authenticator_code(db, tule, provider, make_user):
    chairman = make_user("chutich_oidc", roles={tule: [Role.CHAIRMAN]}, full_name="Lò Văn Thành")
    ExternalIdentity.objects.create(user=chairman, issuer=provider.base, subject="079123456789")
    client = Client(HTTP_HOST=HOST)
    response = login_through_provider(client)
    assert response.status_code == 302 and response["Location"] == "/accounts/2fa/"
    assert logged_in_user_id(client) is None


def test_without_a_provider_everything_is_inert_and_passwords_still_work(db, tule, make_user, rf):
    make_user("0912345678", full_name="Hoàng Văn Nam")
    with override_settings(OIDC_OP_AUTHORIZATION_ENDPOINT="", OIDC_OP_JWKS_ENDPOINT=""):
        client = Client(HTTP_HOST=HOST)
        assert client.get("/oidc/authenticate/").status_code == 404
        assert client.get("/oidc/callback/", {"code": "x", "state": "y"}).status_code == 404
        page = client.get("/accounts/login/").content.decode()
        assert "/oidc/authenticate/" not in page
        # A callback-looking query on the login request does not confuse the backends.
        request = rf.get("/accounts/login/?code=abc&state=def")
        request.session = client.session
        assert authenticate(request, username="0912345678", password="Mat-khau-2026!").full_name == "Hoàng Văn Nam"
        response = client.post("/accounts/login/", {"username": "0912345678", "password": "Mat-khau-2026!"})
        assert response.status_code == 302 and logged_in_user_id(client) is not None
