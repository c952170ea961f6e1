"""Schemathesis' generated cases for every operation of the health station's API, sent as the
health nurse in a session confirmed by the second factor (through the test client, so that the
writes are tried with generated bodies rather than refused at the door, as an official's token
is in the project-wide fuzz): no 5xx, ever. Each case is sent as generated, then with its ids
replaced by those of real rows, so that the generated bodies reach the services."""
from __future__ import annotations

import datetime
import json
from urllib.parse import urlencode

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings as hsettings
from schemathesis.core import NOT_SET

pytestmark = pytest.mark.django_db

MAX_EXAMPLES = 15
PREFIX = "/api/v1/health/"


def real_ids(station, tule, people, in_commune) -> dict[str, int]:
    """{path: the id of a real row to put in it} for the operations that take an id."""
    from health import programmes
    from health.models import Question, Visit

    records = station["records"]
    with in_commune(tule):
        pregnancy = programmes.register_pregnancy(records["mother"], registered_on=programmes.today(),
                                                  expected_delivery=programmes.today() + datetime.timedelta(days=120))
        visit = Visit.objects.create(record=records["grandfather"], reason="Khám định kỳ",
                                     visited_at=datetime.datetime.now(datetime.timezone.utc))
        question = Question.objects.create(asker=people["citizen"], title="Hỏi về tiêm chủng",
                                           body="Trẻ sốt nhẹ có tiêm được không?")
    grandfather, mother, baby = records["grandfather"].pk, records["mother"].pk, records["baby"].pk
    return {
        "/api/v1/health/records/{id}/": grandfather, "/api/v1/health/records/{id}/readings/": grandfather,
        "/api/v1/health/records/{id}/pregnancies/": mother, "/api/v1/health/records/{id}/growth/": baby,
        "/api/v1/health/records/{id}/vaccinations/": baby,
        "/api/v1/health/pregnancies/{id}/antenatal-visits/": pregnancy.pk,
        "/api/v1/health/visits/{id}/": visit.pk, "/api/v1/health/questions/{id}/": question.pk,
        "/api/v1/health/questions/{id}/answer/": question.pk, "/api/v1/health/questions/{id}/decline/": question.pk,
    }


def test_the_health_api_has_no_server_errors(station, tule, people, client_for, in_commune):
    ids = real_ids(station, tule, people, in_commune)
    nurse = client_for("tule.localhost", people["nurse"])
    response = client_for("tule.localhost").get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    schema = schemathesis.openapi.from_dict(response.json())
    operations = [result.ok() for result in schema.get_all_operations()]
    mine = [op for op in operations if op.path.startswith(PREFIX)]
    assert len(mine) >= 25
    assert {op.path for op in mine if "{id}" in op.path} <= set(ids), "a new operation needs a real id here"
    failures: list[str] = []
    statuses: set[int] = set()
    for operation in mine:
        @given(case=operation.as_strategy())
        @hsettings(max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def run(case):
            body = "" if case.body is NOT_SET else json.dumps(case.body)
            paths = [case.formatted_path]
            if operation.path in ids:
                paths.append(operation.path.replace("{id}", str(ids[operation.path])))
            for path in paths:
                answer = nurse.generic(case.method.upper(), path, body, content_type="application/json",
                                       QUERY_STRING=urlencode(case.query or {}, doseq=True))
                statuses.add(answer.status_code)
                if answer.status_code >= 500:
                    failures.append(f"{operation.method.upper()} {path}: {answer.status_code} {case.query} "
                                    f"{case.body!r}"[:500])

        try:
            run()
        except Exception as exc:  # keep going: report every operation that fails
            failures.append(f"{operation.method.upper()} {operation.path}: {str(exc)[:400]}")
    assert not failures, "\n".join(failures)
    assert {400, 404} <= statuses and statuses & {200, 201}  # bodies and ids were really tried
