"""JSON is read within a size and a depth limit (core.parsers): a 7 KB body nested 1,200 levels
deep, sent to every URL of both URLconfs as anonymous, as a logged-in official and as a device,
answers 4xx with the API's error body, never 500; a body just under the limits still works."""
from __future__ import annotations

import json
import re

import pytest
from django.urls import URLResolver, get_resolver, resolve
from django.urls.exceptions import Resolver404

from communes.models import Role, SupervisingUnit
from core import parsers
from tests.broadcasting.helpers import JSON, clock, device_headers, make_cluster  # noqa: F401 - fixture

DEEP = "[" * 1200 + "]" * 1200 + " " * (7 * 1024 - 2400)  # 7 KB, 1,200 levels
METHODS = ("post", "put", "patch")
VALUES = {"pk": "1", "document_id": "1", "form_id": "1", "year": "2026", "key": "0" * 64, "code": "CT-01",
          "token": "x", "uidb64": "MQ", "slug": "x"}


def concrete_paths(urlconf: str, commune_code: str) -> list[str]:
    """Every URL of ``urlconf`` with a value in each parameter (regex routes of DRF's routers
    included), kept when it resolves back to a view."""
    from tests.trust.url_walk import routes as url_routes

    routes = [route.pattern for route in url_routes(urlconf)]
    out = set()
    for route in routes:
        # /healthz answers 503 by design when no Celery worker runs (tests/jobs covers it).
        if "format" in route or route.startswith(("static/", "media/", "healthz")):
            continue
        path = re.sub(r"<commune_code:\w+>", commune_code, route)
        path = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: VALUES.get(m.group(1), "1"), path)
        path = re.sub(r"\(\?P<(\w+)>[^)]*\)", lambda m: VALUES.get(m.group(1), "1"), path)
        path = "/" + path.replace("^", "").replace("$", "").replace("\\", "")
        try:
            resolve(path, urlconf)
        except Resolver404:
            continue
        out.add(path)
    return sorted(out)


def send_deep(client, path: str, **headers) -> list[tuple]:
    """POST, PUT and PATCH the deep body; (method, path, status, body) of each answer."""
    client.raise_request_exception = False
    answers = []
    for method in METHODS:
        response = getattr(client, method)(path, DEEP, content_type="application/json", **headers)
        body = None
        if response.get("Content-Type", "").startswith("application/json") and response.content:
            body = response.json()
        answers.append((method, path, response.status_code, body))
    return answers


def check(answers) -> list[tuple]:
    """No 500; every 400 of the API carries the common error body. Returns the too_deep ones."""
    failures = [a[:3] for a in answers if a[2] >= 500]
    assert not failures, failures
    for method, path, status, body in answers:
        if status == 400 and path.startswith("/api/"):
            assert body is not None and set(body) == {"code", "detail", "fields"} and body["detail"], (method, path)
    return [a for a in answers if a[2] == 400 and a[3] and a[3]["code"] == "too_deep"]


@pytest.fixture
def device(tule, in_commune, make_user):
    from population.models import Village

    operator = make_user("json_radio", roles={tule: [Role.RADIO_OPERATOR]})
    with in_commune(tule):
        village = Village.objects.create(name="Bản Lướt")
        cluster, token = make_cluster(operator, village, "Cụm loa thử")
    return cluster, token


def test_deep_json_on_every_commune_url(db, tule, make_user, client_for, device):
    _cluster, token = device
    paths = concrete_paths("config.urls_tenant", tule.code)
    assert "/api/v1/radio/device/as-run/" in paths and "/api/v1/onestop/lookup/" in paths and len(paths) > 100
    official = make_user("json_official", roles={tule: list(Role)})
    too_deep = []
    for path in paths:
        too_deep += check(send_deep(client_for("tule.localhost"), path))
        too_deep += check(send_deep(client_for("tule.localhost", official, second_factor=True), path))
        if "/radio/device/" in path:
            too_deep += check(send_deep(client_for("tule.localhost"), path, **device_headers(token)))
    refused = {(method, path) for method, path, *_rest in too_deep}
    # Anonymous, device and official endpoints all read the body and refuse it.
    assert ("post", "/api/v1/onestop/lookup/") in refused
    assert ("post", "/api/v1/radio/device/as-run/") in refused
    assert ("post", "/api/v1/radio/device/heartbeat/") in refused
    assert ("post", "/api/v1/radio/bulletins/") in refused and ("post", "/api/v1/residents/") in refused
    assert len(refused) > 15


def test_deep_json_on_every_national_url(db, communes, tule, make_user, client_for):
    paths = concrete_paths("config.urls_public", tule.code)
    assert "/api/v1/communes/" in paths and len(paths) > 50
    staff = make_user("json_staff", units=[SupervisingUnit.objects.get(code="15")], roles={tule: list(Role)})
    for path in paths:
        check(send_deep(client_for("localhost"), path))
        check(send_deep(client_for("localhost", staff, second_factor=True), path))


def test_the_bank_notification_refuses_deep_json(db, tule, client_for, monkeypatch):
    from onestop import payments

    monkeypatch.setattr(payments, "signature_ok", lambda raw, signature: True)  # as if the bank signed it
    client = client_for("tule.localhost")
    client.raise_request_exception = False
    response = client.post("/api/v1/onestop/bank-notifications/", DEEP, content_type="application/json",
                           HTTP_X_XASO_SIGNATURE="signed")
    assert response.status_code == 400 and response.json()["code"] == "too_deep"


def test_deep_json_in_a_form_field(db, tule, make_user, client_for):
    """The counter intake takes its checklist and form data as JSON in multipart fields."""
    officer = make_user("json_officer", roles={tule: [Role.ONESTOP_OFFICER]})
    client = client_for("tule.localhost", officer, second_factor=True)
    client.raise_request_exception = False
    response = client.post("/api/v1/onestop/dossiers/", {"procedure": "CT-01", "form_data": DEEP, "checklist": "{}"})
    assert response.status_code == 400, response.content
    assert "32" in response.json()["fields"]["form_data"][0]


def heartbeat_body(size: int, depth: int) -> str:
    """A valid heartbeat with an extra key nested ``depth`` levels in all, padded to ``size`` bytes."""
    nested = "[" * (depth - 1) + "]" * (depth - 1)
    text = json.dumps({"status": "ok", "volume": 70, "signal": -70, "firmware": "1.2.0"})[:-1] + f', "x": {nested}}}'
    assert parsers.depth(text) == depth
    return text + " " * (size - len(text.encode()))


def test_just_under_the_limits_works_and_just_over_does_not(db, tule, client_for, device, clock, settings):
    assert settings.XASO_JSON_MAX_BYTES == 2 * 1024 * 1024 and settings.XASO_JSON_MAX_DEPTH == 32
    _cluster, token = device
    client = client_for("tule.localhost")
    url, headers = "/api/v1/radio/device/heartbeat/", {**JSON, **device_headers(token)}
    limit, deepest = settings.XASO_JSON_MAX_BYTES, settings.XASO_JSON_MAX_DEPTH
    at_limits = client.post(url, heartbeat_body(limit, deepest), **headers)
    assert at_limits.status_code == 201, at_limits.content
    clock.advance(60)
    too_large = client.post(url, heartbeat_body(limit + 1, deepest), **headers)
    assert too_large.status_code == 400 and too_large.json()["code"] == "too_large"
    assert too_large.json()["detail"].replace("\xa0", " ") == "Dữ liệu JSON lớn hơn giới hạn 2,0 MB."
    too_deep = client.post(url, heartbeat_body(1000, deepest + 1), **headers)
    assert too_deep.status_code == 400 and too_deep.json()["code"] == "too_deep"
    assert too_deep.json()["detail"] == "Dữ liệu JSON lồng nhau quá 32 cấp."


@pytest.mark.parametrize("text, depth", [
    ('"plain"', 0), ("[]", 1), ('{"a": [1, {"b": []}]}', 4),
    ('{"a": "[[[[{{{{"}', 1),  # brackets inside strings do not count
    ('["\\"[[[", [2]]', 2),  # nor after an escaped quote
    ("[" * 40 + "]" * 40, 40),
])
def test_depth_is_measured_outside_strings(text, depth):
    assert parsers.depth(text) == depth


def test_loads_refuses_what_json_does_not_have(settings):
    with pytest.raises(ValueError):
        parsers.loads("[NaN]")
    with pytest.raises(parsers.JSONLimitError):
        parsers.loads("[" * 33 + "]" * 33)
    assert parsers.loads("[" * 32 + "]" * 32) is not None


def test_every_api_view_reads_json_within_the_limits():
    """The rule, not only the endpoints probed: no view of either URLconf names a JSON parser
    other than core's (DRF's own would read any depth)."""
    from rest_framework.parsers import JSONParser as DRFJSONParser

    seen, wrong = 0, []
    for urlconf in ("config.urls_tenant", "config.urls_public"):
        stack = list(get_resolver(urlconf).url_patterns)
        while stack:
            pattern = stack.pop()
            if isinstance(pattern, URLResolver):
                stack.extend(pattern.url_patterns)
                continue
            view_class = getattr(pattern.callback, "cls", None)
            if view_class is None:
                continue
            classes = list(view_class.parser_classes)
            for name in (getattr(pattern.callback, "actions", None) or {}).values():
                classes += getattr(getattr(view_class, name, None), "kwargs", {}).get("parser_classes", [])
            for parser in classes:
                seen += 1
                if (issubclass(parser, DRFJSONParser) or "json" in parser.media_type) \
                        and not issubclass(parser, parsers.JSONParser):
                    wrong.append(f"{view_class.__module__}.{view_class.__name__}: {parser}")
    assert seen > 100 and not wrong, wrong
