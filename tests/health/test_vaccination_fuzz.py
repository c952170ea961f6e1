"""Schemathesis' generated cases for the vaccination operations of the commune's API (a child's
doses read and recorded, the due list, the schedule), sent as the health nurse in a session
confirmed by the second factor: no 5xx, ever, and the generated bodies were tried on a real
record."""
from __future__ import annotations

import json
from urllib.parse import urlencode

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings as hsettings
from schemathesis.core import NOT_SET

pytestmark = pytest.mark.django_db

MAX_EXAMPLES = 25
PATHS = ("/api/v1/health/records/{id}/vaccinations/", "/api/v1/health/vaccinations/due/",
         "/api/v1/health/vaccinations/schedule/")


def test_the_vaccination_api_has_no_server_errors(station, people, client_for):
    nurse = client_for("tule.localhost", people["nurse"])
    response = client_for("tule.localhost").get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    schema = schemathesis.openapi.from_dict(response.json())
    operations = [result.ok() for result in schema.get_all_operations()]
    mine = [op for op in operations if op.path in PATHS]
    assert len(mine) == 4  # the doses (read, record), the due list, the schedule
    real = station["records"]["baby"].pk
    failures: list[str] = []
    statuses: set[int] = set()
    for operation in mine:
        @given(case=operation.as_strategy())
        @hsettings(max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def run(case):
            body = "" if case.body is NOT_SET else json.dumps(case.body)
            query = case.query or {}
            paths = [case.formatted_path]
            if "{id}" in operation.path:
                paths.append(operation.path.replace("{id}", str(real)))
            for path in paths:
                response = nurse.generic(case.method.upper(), path, body, content_type="application/json",
                                         QUERY_STRING=urlencode(query, doseq=True))
                statuses.add(response.status_code)
                if response.status_code >= 500:
                    failures.append(f"{operation.method.upper()} {path}: {response.status_code} {case.body!r}"[:500])

        try:
            run()
        except Exception as exc:  # keep going: report every operation that fails
            failures.append(f"{operation.method.upper()} {operation.path}: {str(exc)[:400]}")
    assert not failures, "\n".join(failures)
    assert {200, 400, 404} <= statuses
