"""Headers: a strict Content-Security-Policy on every answer, and ``Cache-Control: no-store`` on
every answer that may carry personal data (an official's pages and API answers, a citizen's
dossier, the result of the public status lookup), while public pages stay cacheable and a
loudspeaker keeps its audio. The templates hold nothing the policy would block."""
from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from rest_framework.authtoken.models import Token

from communes.models import Role, SupervisingUnit
from tests.onestop.conftest import in_tule, people, procedures  # noqa: F401 - fixtures
from tests.onestop.helpers import received_dossier
from tests.onestop.test_public_pages import online_dossier
from tests.test_pages_fuzz import page_paths

ROOT = Path(__file__).resolve().parent.parent.parent


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


def policy(response) -> dict[str, list[str]]:
    header = response.get("Content-Security-Policy", "")
    assert header, f"no Content-Security-Policy on {response.request['PATH_INFO']}"
    out = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            out[words[0]] = words[1:]
    return out


def map_tile_origin() -> str:
    """The tile host that the product map's page alone may load images from (its setting)."""
    from urllib.parse import urlsplit

    from django.conf import settings

    parts = urlsplit(settings.XASO_MAP_TILE_URL)
    return f"{parts.scheme}://{parts.netloc}"


def assert_strict(response):
    directives = policy(response)
    if response.request["PATH_INFO"] == "/ban-do/":
        assert directives.pop("img-src") == ["'self'", "data:", map_tile_origin()]
        directives["img-src"] = ["'self'", "data:"]
    assert directives["default-src"] == ["'self'"]
    assert directives["script-src"] == ["'self'"] and directives["style-src"] == ["'self'"]
    assert directives["object-src"] == ["'none'"] and directives["frame-ancestors"] == ["'none'"]
    assert directives["base-uri"] == ["'self'"] and directives["form-action"] == ["'self'"]
    assert directives["img-src"] == ["'self'", "data:"]


def assert_no_store(response):
    value = response.get("Cache-Control", "")
    assert "no-store" in value and "private" in value, (response.request["PATH_INFO"], value)
    assert "max-age" not in value and "public" not in value


def test_every_page_of_an_official_has_the_policy_and_is_not_stored(db, tule, make_user, client_for):
    official = make_user("hdr_all_roles", roles={tule: list(Role)})
    client = client_for("tule.localhost", official, second_factor=True)
    paths = page_paths("config.urls_tenant")
    assert "/population/" in paths and "/radio/" in paths
    for path in paths:
        response = client.get(path)
        assert_no_store(response)
        if response.get("Content-Type", "").startswith("text/html"):
            assert_strict(response)


def test_every_national_page_of_an_official_is_not_stored(db, communes, make_user, client_for):
    staff = make_user("hdr_staff", units=[SupervisingUnit.objects.get(code="15")])
    client = client_for("localhost", staff)
    for path in page_paths("config.urls_public", code="15"):
        response = client.get(path)
        assert_no_store(response)
        if response.get("Content-Type", "").startswith("text/html"):
            assert_strict(response)


def test_api_answers_to_an_authenticated_call_are_not_stored(db, tule, communes, make_user, client_for):
    official = make_user("hdr_api", roles={tule: list(Role)}, units=[SupervisingUnit.objects.get(code="15")])
    token, _created = Token.objects.get_or_create(user=official)
    headers = {"HTTP_AUTHORIZATION": f"Token {token.key}"}
    for host, path in [("tule.localhost", "/api/v1/residents/"), ("tule.localhost", "/api/v1/onestop/dossiers/"),
                       ("tule.localhost", "/api/v1/radio/bulletins/"), ("tule.localhost", "/api/v1/residents/export/"),
                       ("localhost", f"/api/v1/communes/{tule.code}/residents/"), ("localhost", "/api/v1/communes/")]:
        response = client_for(host).get(path, **headers)
        assert response.status_code == 200, (path, response.status_code)
        assert_no_store(response)
        assert_strict(response)
    # Refused calls too: the error body names the reader's situation.
    refused = client_for("tule.localhost").get("/api/v1/residents/", HTTP_AUTHORIZATION="Token wrong")
    assert refused.status_code == 401
    assert_no_store(refused)


def test_a_citizens_dossier_and_the_status_lookup_are_not_stored(people, procedures, tule, client_for,  # noqa: F811
                                                                 in_commune):
    citizen = people["citizen"]
    with in_commune(tule):
        own = online_dossier(citizen, procedures["HT-01"])
        counter = received_dossier(procedures["CT-03"], people["onestop_officer"])
    mine = client_for("tule.localhost", citizen)
    for path in ("/my/dossiers/", f"/my/dossiers/{own.pk}/", "/services/"):
        response = mine.get(path)
        assert response.status_code == 200, path
        assert_no_store(response)
        assert_strict(response)

    visitor = client_for("tule.localhost")
    found = visitor.post("/lookup/", {"code": counter.code, "phone_last4": "5678"})
    assert found.status_code == 200 and counter.code in found.content.decode()
    assert_no_store(found)
    api = visitor.post("/api/v1/onestop/lookup/", {"code": counter.code, "phone_last4": "5678"},
                       content_type="application/json")
    assert api.status_code == 200
    assert_no_store(api)

    # A visitor's public pages carry nothing personal: they may be cached.
    public = client_for("tule.localhost").get("/services/")
    assert public.status_code == 200 and "no-store" not in public.get("Cache-Control", "")
    assert_strict(public)


def test_the_api_documentation_keeps_scripts_strict(db, client_for):
    response = client_for("tule.localhost").get("/api/docs/")
    assert response.status_code == 200
    directives = policy(response)
    assert directives["script-src"] == ["'self'"] and directives["object-src"] == ["'none'"]
    assert "'unsafe-inline'" in directives["style-src"]
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>\s*\S", response.content.decode())
    init = client_for("tule.localhost").get("/api/docs/?script=")
    assert init.status_code == 200 and "javascript" in init["Content-Type"]


INLINE = [
    # A JSON-LD block is data, never run, and outside script-src; any other inline script is not.
    (re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*\btype=\"application/ld\+json\")[^>]*>", re.I), "an inline script"),
    (re.compile(r"<[a-z][^>]*\son[a-z]+\s*=", re.I), "an event-handler attribute"),
    (re.compile(r"\bhx-on", re.I), "an hx-on attribute (htmx evaluates it)"),
    (re.compile(r"<[a-z][^>]*\sstyle\s*=", re.I), "a style attribute"),
    (re.compile(r"<style", re.I), "a style element"),
    (re.compile(r"javascript:", re.I), "a javascript: address"),
]


def test_no_template_holds_what_the_policy_blocks():
    problems = []
    for path in sorted((ROOT / "templates").rglob("*.html")):
        text = path.read_text()
        for pattern, what in INLINE:
            for match in pattern.finditer(text):
                line = text.count("\n", 0, match.start()) + 1
                problems.append(f"{path.relative_to(ROOT)}:{line}: {what}")
    assert not problems, "\n".join(problems)


def test_production_keeps_the_policy_and_check_deploy_stays_clean():
    env = {
        **os.environ,
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50), "XASO_SECRETS_KEYS": secrets.token_urlsafe(48),
        "XASO_LOCAL_ENV_FILE": str(ROOT / "no-such-local.env"), "DJANGO_ALLOWED_HOSTS": ".xaso.example.gov.vn",
        "XASO_SECURE_COOKIES": "1", "XASO_BEHIND_PROXY": "1", "XASO_HSTS_SECONDS": "31536000",
        "XASO_HSTS_INCLUDE_SUBDOMAINS": "1", "XASO_HSTS_PRELOAD": "1",
    }
    env.pop("DJANGO_DEBUG", None)
    env.pop("XASO_DEVELOPMENT", None)
    check = subprocess.run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
                           cwd=ROOT, env=env, capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    shown = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c",
         "from django.conf import settings as s; print(s.CONTENT_SECURITY_POLICY['DIRECTIVES']['script-src'], "
         "'csp.middleware.CSPMiddleware' in s.MIDDLEWARE, 'core.middleware.PrivateResponseMiddleware' in s.MIDDLEWARE)"],
        cwd=ROOT, env=env, capture_output=True, text=True)
    assert shown.stdout.strip().splitlines()[-1:] == ["[\"'self'\"] True True"], shown.stdout + shown.stderr


def test_a_loudspeaker_keeps_the_caching_of_its_playlist(tule, in_tule, people, client_for):  # noqa: F811
    """Not personal data, and kept by the device to play offline: the device API's own headers."""
    from population.models import Village
    from tests.broadcasting.helpers import device_headers, make_cluster

    _cluster, token = make_cluster(people["radio_operator"], Village.objects.create(name="Bản Lướt"))
    response = client_for("tule.localhost").get("/api/v1/radio/device/playlist/", **device_headers(token))
    assert response.status_code == 200 and response["Cache-Control"] == "private, no-cache"
