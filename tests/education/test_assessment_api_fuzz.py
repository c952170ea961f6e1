"""Schemathesis over the assessment's operations of the commune's API (a grid read and saved,
a class's results, a school's lock): generated input, valid and invalid, never gets a server
error, as the principal and as a teacher, through the real WSGI application, inside the test's
transaction; half the generated ids are replaced by real ones so that the checks behind them run."""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings as hsettings
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error

from tests.test_api_fuzz import call, load_schema

pytestmark = pytest.mark.django_db(transaction=False)

MAX_EXAMPLES = 40
PATHS = ("/api/v1/education/classes/{class_id}/marks/{subject_id}/{period}/",
         "/api/v1/education/classes/{class_id}/results/{period}/",
         "/api/v1/education/schools/{school_id}/locks/")


@pytest.mark.parametrize("who", ["principal", "math"])
def test_the_assessment_api_has_no_server_errors(tule, in_commune, schoolyard, school_people, client_for, who):
    y = schoolyard
    token, _created = Token.objects.get_or_create(user=school_people[who])
    headers = {"Host": "tule.localhost", "Authorization": f"Token {token.key}"}
    schema = load_schema(client_for, "tule.localhost")
    operations = [result.ok() for result in schema.get_all_operations()]
    mine = [op for op in operations if op.path in PATHS]
    assert len(mine) == 5, [op.path for op in operations if "education/classes" in op.path]
    real = {"class_id": y["class6a"].pk, "subject_id": y["subjects6"]["toan"].pk, "school_id": y["thcs"].pk,
            "period": "sem1"}
    failures: list[str] = []
    for operation in mine:
        @given(case=operation.as_strategy())
        @hsettings(max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def run(case):
            for name, value in real.items():
                if name in case.path_parameters and len(str(case.path_parameters[name])) % 2:
                    case.path_parameters[name] = value
            response = call(case, headers)
            if response.status_code >= 500:
                failures.append(f"{operation.method.upper()} {operation.path}: {response.status_code} "
                                f"{case.path_parameters} {case.body!r}"[:400])
            case.validate_response(response, checks=[not_a_server_error])

        try:
            run()
        except Exception as exc:  # keep going: report every operation that fails
            failures.append(f"{operation.method.upper()} {operation.path}: {str(exc)[:400]}")
    assert not failures, "\n".join(failures)
