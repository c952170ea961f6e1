"""Schemathesis' generated cases for the programmes' operations of the commune's API, sent as the
health nurse in a session confirmed by the second factor (through the test client, so that the
writes are tried with generated bodies rather than refused at the door): no 5xx, ever."""
from __future__ import annotations

import datetime
import json

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings as hsettings
from schemathesis.core import NOT_SET

pytestmark = pytest.mark.django_db

MAX_EXAMPLES = 25
PATHS = ("/readings/", "/pregnancies/", "/antenatal-visits/", "/growth/")


def test_the_programmes_api_has_no_server_errors(station, tule, people, client_for, in_commune):
    from health import programmes

    with in_commune(tule):
        pregnancy = programmes.register_pregnancy(station["records"]["mother"], registered_on=programmes.today(),
                                                  expected_delivery=programmes.today() + datetime.timedelta(days=120))
    nurse = client_for("tule.localhost", people["nurse"])
    records = {"readings": station["records"]["grandfather"], "pregnancies": station["records"]["mother"],
               "growth": station["records"]["baby"]}
    response = client_for("tule.localhost").get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    schema = schemathesis.openapi.from_dict(response.json())
    operations = [result.ok() for result in schema.get_all_operations()]
    mine = [op for op in operations if op.path.startswith("/api/v1/health/") and op.path.endswith(PATHS)]
    assert len(mine) == 8
    failures: list[str] = []
    statuses: set[int] = set()
    for operation in mine:
        @given(case=operation.as_strategy())
        @hsettings(max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def run(case):
            body = "" if case.body is NOT_SET else json.dumps(case.body)
            real = pregnancy.pk if "antenatal" in operation.path else records[operation.path.split("/")[-2]].pk
            # The generated ids, then the same body on a real record (or pregnancy).
            for path in (case.formatted_path, operation.path.replace("{id}", str(real))):
                response = nurse.generic(case.method.upper(), path, body, content_type="application/json")
                statuses.add(response.status_code)
                if response.status_code >= 500:
                    failures.append(f"{operation.method.upper()} {path}: {response.status_code} {case.body!r}"[:500])

        try:
            run()
        except Exception as exc:  # keep going: report every operation that fails
            failures.append(f"{operation.method.upper()} {operation.path}: {str(exc)[:400]}")
    assert not failures, "\n".join(failures)
    assert {400, 404} <= statuses and statuses & {200, 201}  # bodies and ids were really tried
