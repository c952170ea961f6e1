"""Schemathesis over the contact book's operations of the commune's API (a class's messages, the
parent's children): generated input, valid and invalid, never gets a server error, as the class's
teacher and as the parent, through the real WSGI application, inside the test's transaction."""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings as hsettings
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error

from tests.test_api_fuzz import call, load_schema

pytestmark = pytest.mark.django_db(transaction=False)

MAX_EXAMPLES = 40
PATHS = ("/api/v1/education/classes/{class_id}/messages/", "/api/v1/education/my-children/",
         "/api/v1/education/my-children/{id}/")


@pytest.mark.parametrize("who", ["literature", "parent"])
def test_the_contact_book_api_has_no_server_errors(schoolyard, school_people, client_for, who):
    token, _created = Token.objects.get_or_create(user=school_people[who])
    headers = {"Host": "tule.localhost", "Authorization": f"Token {token.key}"}
    schema = load_schema(client_for, "tule.localhost")
    operations = [result.ok() for result in schema.get_all_operations()]
    mine = [op for op in operations if op.path in PATHS]
    assert len(mine) == 4, [op.path for op in operations if "education" in op.path]
    failures: list[str] = []
    for operation in mine:
        @given(case=operation.as_strategy())
        @hsettings(max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def run(case):
            if "class_id" in case.path_parameters and case.path_parameters["class_id"] % 2:
                case.path_parameters["class_id"] = schoolyard["class6a"].pk  # often a real class
            if "id" in case.path_parameters and case.path_parameters["id"] % 2:
                case.path_parameters["id"] = schoolyard["students6"][0].pk  # often a real child
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
