"""Schemathesis over the signature operations of the commune API: no 5xx, whatever the input
(an official holding every role, a real signer with certificates and a finished job)."""
from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, given, settings as hsettings
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error

from communes.models import Membership, Role
from config.wsgi import application


def call(case, headers):
    """Through the WSGI application, keeping the test's connection open (it holds the transaction)."""
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


def test_signature_api_has_no_server_errors(tule, signer, clerk, stored_pdf, sign_request, run_job, client_for):
    job = sign_request(signer, stored_pdf)
    assert run_job(job) == "succeeded"
    for role in Role:
        Membership.objects.get_or_create(user=signer.user, commune=tule, role=role.value)
    token, _ = Token.objects.get_or_create(user=signer.user)
    headers = {"Host": "tule.localhost", "Authorization": f"Token {token.key}"}
    schema = load_schema(client_for, "tule.localhost")
    operations = [r.ok() for r in schema.get_all_operations() if "/signatures/" in r.ok().path]
    assert len(operations) >= 10
    failures: list[str] = []
    for operation in operations:
        @given(case=operation.as_strategy())
        @hsettings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def run(case):
            response = call(case, headers)
            if response.status_code >= 500:
                failures.append(f"{operation.method.upper()} {operation.path}: {response.status_code} "
                                f"{case.path_parameters} {case.body!r}"[:500])
            case.validate_response(response, checks=[not_a_server_error])

        try:
            run()
        except Exception as exc:  # noqa: BLE001 - report every operation that fails
            failures.append(f"{operation.method.upper()} {operation.path}: {str(exc)[:400]}")
    assert not failures, "\n".join(failures)
