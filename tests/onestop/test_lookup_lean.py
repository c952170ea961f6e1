"""The status lookup's lean path: a small JSON object with a valid code and four digits is
answered without DRF's request and serializers, the address counted in the same statement as the
code (bench/README.md, one-stop). Its answers are DRF's, byte for byte; the throttles, the same
answer for an unknown code and a wrong phone, and the client address are kept."""
from __future__ import annotations

import json

from django.db import connection
from django.test.utils import CaptureQueriesContext

from core import throttle
from onestop import selectors

from .test_lookup import Visitor, received, visitor  # noqa: F401  (fixtures)

API = "/api/v1/onestop/lookup/"
JSON = {"content_type": "application/json"}
# Headers that must be the same on both paths (Date and the like aside).
SAME_HEADERS = ("Content-Type", "Allow", "Vary", "Cache-Control", "Content-Security-Policy", "X-Frame-Options",
                "X-Content-Type-Options", "Referrer-Policy", "Retry-After")


def _post(client, body: dict):
    with CaptureQueriesContext(connection) as queries:
        response = client.post(API, json.dumps(body), **JSON)
    return response, len(queries.captured_queries)


def _lean_and_drf(client, code: str, last4: str):
    """The same lookup through the lean path, then through DRF (a field DRF ignores sends it
    there)."""
    lean = _post(client, {"code": code, "phone_last4": last4})
    drf = _post(client, {"code": code, "phone_last4": last4, "note": ""})
    return lean, drf


def _headers(response) -> dict:
    return {name: response.get(name) for name in SAME_HEADERS}


def test_the_lean_answer_is_drfs_byte_for_byte_in_one_statement_less(received, visitor):
    client = visitor("203.0.113.120")
    client.post(API, {"code": received.code, "phone_last4": "5678"}, **JSON)  # a connection already used
    (lean, lean_statements), (drf, drf_statements) = _lean_and_drf(client, received.code.lower(), "5678")
    assert lean.status_code == drf.status_code == 200
    assert lean.content == drf.content
    assert _headers(lean) == _headers(drf) and lean["Content-Type"] == "application/json"
    assert lean["Cache-Control"] and "no-store" in lean["Cache-Control"] and lean["Content-Security-Policy"]
    assert lean.json()["code"] == received.code and lean.json()["timeline"]
    # The address's count goes with the code's: one statement less than through DRF.
    assert lean_statements == drf_statements - 1, (lean_statements, drf_statements)


def test_a_wrong_phone_and_an_unknown_code_get_drfs_same_404(received, visitor):
    client = visitor("203.0.113.121")
    (wrong, _n), (wrong_drf, _m) = _lean_and_drf(client, received.code, "1111")
    (unknown, _n), (unknown_drf, _m) = _lean_and_drf(client, received.code[:-1] + "9", "1111")
    assert wrong.status_code == unknown.status_code == 404
    assert wrong.content == unknown.content == wrong_drf.content == unknown_drf.content
    assert _headers(wrong) == _headers(wrong_drf)
    assert wrong.json()["code"] == "not_found"


def test_the_address_budget_is_counted_and_refused_as_drf_does(received, visitor, settings):
    settings.XASO_LOOKUP_RATE = "2/hour"
    lean_client, drf_client = visitor("203.0.113.122"), visitor("203.0.113.123")
    for _ in range(2):
        assert _post(lean_client, {"code": received.code, "phone_last4": "5678"})[0].status_code == 200
        assert _post(drf_client, {"code": received.code, "phone_last4": "5678", "note": ""})[0].status_code == 200
    lean, _n = _post(lean_client, {"code": received.code, "phone_last4": "5678"})
    drf, _m = _post(drf_client, {"code": received.code, "phone_last4": "5678", "note": ""})
    assert lean.status_code == drf.status_code == 429
    assert lean.json()["code"] == drf.json()["code"] == "throttled"
    assert int(lean["Retry-After"]) > 3500 and abs(int(lean["Retry-After"]) - int(drf["Retry-After"])) <= 1
    assert set(lean.json()) == set(drf.json()) and lean["Content-Type"] == drf["Content-Type"]
    # Refused by the address: nothing counted against the code for it.
    key = selectors._code_key(received.code, "203.0.113.122")
    assert throttle.peek(selectors.LOOKUP_WRONG_SCOPE, key, 5, 3600).count == 0
    # Another address, the owner's, still gets its answer; a forwarded-for header is not believed.
    assert _post(visitor("203.0.113.124"), {"code": received.code, "phone_last4": "5678"})[0].status_code == 200
    forged = Visitor(lean_client.commune, "203.0.113.122", HTTP_X_FORWARDED_FOR="198.51.100.7")
    assert _post(forged, {"code": received.code, "phone_last4": "5678"})[0].status_code == 429


def test_wrong_phones_lock_the_address_out_of_the_code_on_the_lean_path(received, visitor, settings):
    settings.XASO_LOOKUP_MAX_FAILURES = 2
    client = visitor("203.0.113.125")
    for _ in range(2):
        assert _post(client, {"code": received.code, "phone_last4": "1111"})[0].status_code == 404
    refused, _n = _post(client, {"code": received.code, "phone_last4": "5678"})  # even the right digits
    assert refused.status_code == 429 and refused.json()["code"] == "throttled" and int(refused["Retry-After"]) > 0
    assert _post(visitor("203.0.113.126"), {"code": received.code, "phone_last4": "5678"})[0].status_code == 200


def test_the_address_is_counted_for_a_code_that_cannot_be_one(received, visitor, settings):
    settings.XASO_LOOKUP_RATE = "1/hour"
    client = visitor("203.0.113.127")
    assert _post(client, {"code": "không phải mã", "phone_last4": "5678"})[0].status_code == 404
    assert _post(client, {"code": received.code, "phone_last4": "5678"})[0].status_code == 429


def test_other_requests_go_through_drf(received, visitor):
    client = visitor("203.0.113.128")
    invalid = client.post(API, json.dumps({"code": received.code, "phone_last4": "56"}), **JSON)
    assert invalid.status_code == 400 and invalid.json()["code"] == "invalid" and "phone_last4" in invalid.json()["fields"]
    form = client.post(API, {"code": received.code, "phone_last4": "5678"})  # multipart
    assert form.status_code == 200 and form.json()["code"] == received.code


def test_the_counts_of_the_lean_path_are_one_statement(db, settings):
    settings.XASO_THROTTLE_NAMESPACE = "lookup-lean"
    first = ("test.address", "203.0.113.129", 2, 3600)
    guard = ("test.day", "203.0.113.129", 5)
    for expected in (1, 2):
        counted, daily, per_code = throttle.hit_then_unless(first, "test.code", "A", 5, 3600, guard=guard)
        assert counted.allowed and counted.count == expected and daily.allowed and per_code.count == expected
    counted, daily, per_code = throttle.hit_then_unless(first, "test.code", "A", 5, 3600, guard=guard)
    assert not counted.allowed and counted.retry_after > 0 and daily is None and per_code is None
    assert throttle.peek("test.code", "A", 5, 3600).count == 2  # not counted when the address refused


def test_the_right_phone_clears_the_codes_count_in_the_statement_that_reads_the_dossier(received, visitor):
    from onestop.models import Dossier

    Dossier.objects.filter(pk=received.pk).update(applicant_phone="+84 91-234.56 78")
    address = "203.0.113.130"
    client = visitor(address)
    key = selectors._code_key(received.code, address)
    for _ in range(2):
        assert _post(client, {"code": received.code, "phone_last4": "1111"})[0].status_code == 404
    assert throttle.peek(selectors.LOOKUP_WRONG_SCOPE, key, 5, 3600).count == 2
    with CaptureQueriesContext(connection) as queries:
        right = client.post(API, json.dumps({"code": received.code, "phone_last4": "5678"}), **JSON)
    assert right.status_code == 200
    assert throttle.peek(selectors.LOOKUP_WRONG_SCOPE, key, 5, 3600).count == 0
    assert not any(q["sql"].lstrip().startswith(("DELETE", "SET LOCAL synchronous_commit TO OFF; DELETE"))
                   for q in queries.captured_queries)
    # A wrong phone whose digits are the dossier's first four clears nothing.
    assert _post(client, {"code": received.code, "phone_last4": "8491"})[0].status_code == 404
    assert throttle.peek(selectors.LOOKUP_WRONG_SCOPE, key, 5, 3600).count == 1
