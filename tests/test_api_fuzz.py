"""Schemathesis over /api/schema/ of a commune host and of the national host: no 5xx, ever.

Every operation of the published schema is called with generated input (valid and invalid)
through the real WSGI application (middleware, tenancy, authentication), inside the test's
database transaction, as an official holding every role and as supervising-unit staff.
"""
from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings as hsettings
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error

from communes.models import Role, SupervisingUnit
from config.wsgi import application

MAX_EXAMPLES = 12  # per operation: each of the ~200 operations of both hosts, as every role or as supervisor staff


def call(case, headers):
    """Call through the WSGI application. Like Django's test client, keep the handler from
    closing the test's connection (it is inside the test's transaction)."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        return case.call(headers=headers)
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def load_schema(client_for, host: str):
    response = client_for(host).get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    schema = schemathesis.openapi.from_dict(response.json())
    schema.app = application
    return schema


def fuzz(schema, headers: dict) -> tuple[int, list[str]]:
    """Run every operation; return (operations run, failures)."""
    failures: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    for operation in operations:
        @given(case=operation.as_strategy())
        @hsettings(max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def run(case):
            response = call(case, headers)
            if response.status_code >= 500:
                failures.append(f"{operation.method.upper()} {operation.path}: {response.status_code} for {case.path_parameters} {case.query} {case.body!r}"[:500])
            case.validate_response(response, checks=[not_a_server_error])

        try:
            run()
        except Exception as exc:  # keep going: report every operation that fails
            failures.append(f"{operation.method.upper()} {operation.path}: {str(exc)[:400]}")
    return len(operations), failures


def test_commune_api_has_no_server_errors(db, tule, make_user, client_for):
    official = make_user("fuzz_all_roles", roles={tule: [r.value for r in Role]})
    token, _ = Token.objects.get_or_create(user=official)
    schema = load_schema(client_for, "tule.localhost")
    count, failures = fuzz(schema, {"Host": "tule.localhost", "Authorization": f"Token {token.key}"})
    assert count >= 1
    assert not failures, "\n".join(failures)


def test_national_api_has_no_server_errors(db, communes, make_user, client_for):
    staff = make_user("fuzz_staff", units=[SupervisingUnit.objects.get(code="15")])
    token, _ = Token.objects.get_or_create(user=staff)
    schema = load_schema(client_for, "localhost")
    count, failures = fuzz(schema, {"Host": "localhost", "Authorization": f"Token {token.key}"})
    assert count >= 2
    assert not failures, "\n".join(failures)


def test_harness_sends_the_host_header(db, tule, client_for):
    """The calls go to the host the headers name: an unknown host answers 404."""
    schema = load_schema(client_for, "tule.localhost")
    operation = next(r.ok() for r in schema.get_all_operations())
    case = operation.as_strategy().example()
    assert call(case, {"Host": "nowhere.localhost"}).status_code == 404
    assert call(case, {"Host": "tule.localhost"}).status_code in (401, 403)
