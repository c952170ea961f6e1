"""Schemathesis over the enrolment applications' operations of the commune's API (a citizen's own
applications, sending and withdrawing one; a school's list, one application and the decisions):
generated input, valid and invalid, never gets a server error, as the parent and as the primary
school's principal, through the real WSGI application, inside the test's transaction."""
from __future__ import annotations

import datetime
import uuid

import pytest
from hypothesis import HealthCheck, given, settings as hsettings
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error

from tests.test_api_fuzz import call, load_schema

pytestmark = pytest.mark.django_db(transaction=False)

MAX_EXAMPLES = 40
PREFIX = "/api/v1/education/applications/"


@pytest.mark.parametrize("who", ["parent", "primary_principal"])
def test_the_applications_api_has_no_server_errors(tule, in_commune, schoolyard, school_people, client_for, who):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from education import applications

    with in_commune(tule):
        application, _ = applications.submit(
            school_people["parent"], school=schoolyard["primary"], year=schoolyard["year"], grade=1,
            child_name="Lò Văn Thử Máy", child_birth_date=datetime.date(2020, 1, 2), child_sex="male",
            applicant_name="Lường Thị Mẹ", applicant_phone="0912000222",
            papers=[("birth_certificate", SimpleUploadedFile("ks.pdf", b"%PDF-1.4\n%%EOF\n"))],
            submission_key=uuid.uuid4().hex)
    token, _created = Token.objects.get_or_create(user=school_people[who])
    headers = {"Host": "tule.localhost", "Authorization": f"Token {token.key}"}
    schema = load_schema(client_for, "tule.localhost")
    operations = [result.ok() for result in schema.get_all_operations()]
    mine = [op for op in operations if op.path.startswith(PREFIX)]
    assert len(mine) == 6, [op.path for op in mine]
    failures: list[str] = []
    for operation in mine:
        @given(case=operation.as_strategy())
        @hsettings(max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def run(case):
            if "id" in case.path_parameters and case.path_parameters["id"] % 2:
                case.path_parameters["id"] = application.pk  # often a real application
            if "school_id" in case.path_parameters and case.path_parameters["school_id"] % 2:
                case.path_parameters["school_id"] = schoolyard["primary"].pk
            if isinstance(case.body, dict) and "school" in case.body and isinstance(case.body["school"], int) \
                    and case.body["school"] % 2:
                case.body["school"] = schoolyard["primary"].pk
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
