"""Schemathesis over the fees' operations of the commune's API (fee items and invoices of a
school, one invoice, a parent's invoices, the bank notification): generated input, valid and
invalid, never gets a server error, as the accountant and as the parent, through the real WSGI
application, inside the test's transaction."""
from __future__ import annotations

import datetime

import pytest
from hypothesis import HealthCheck, given, settings as hsettings
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error

from tests.test_api_fuzz import call, load_schema

pytestmark = pytest.mark.django_db(transaction=False)

MAX_EXAMPLES = 40
PATHS = ("/api/v1/education/fees/schools/{id}/items/", "/api/v1/education/fees/schools/{id}/invoices/",
         "/api/v1/education/fees/invoices/{code}/", "/api/v1/education/fees/my-invoices/",
         "/api/v1/education/fees/bank-notification/")


@pytest.mark.parametrize("who", ["accountant", "parent"])
def test_the_fees_api_has_no_server_errors(tule, in_commune, schoolyard, school_people, client_for, settings, who):
    from education import fees
    from education.models import Invoice

    settings.XASO_BANK_WEBHOOK_SECRET = "fuzz-master"
    with in_commune(tule):
        fees.save_fee_item(school_people["accountant"], schoolyard["thcs"], semester=schoolyard["sem1"],
                           name="Đồng phục", amount=300_000, grades=[6], due_on=datetime.date(2026, 10, 1))
        fees.issue_invoices(schoolyard["thcs"], schoolyard["sem1"])
        code = Invoice.objects.get(enrolment__student=schoolyard["students6"][0]).code
    token, _created = Token.objects.get_or_create(user=school_people[who])
    headers = {"Host": "tule.localhost", "Authorization": f"Token {token.key}"}
    schema = load_schema(client_for, "tule.localhost")
    operations = [result.ok() for result in schema.get_all_operations()]
    mine = [op for op in operations if op.path in PATHS]
    assert len(mine) == 6, [op.path for op in operations if "fees" in op.path]
    failures: list[str] = []
    for operation in mine:
        @given(case=operation.as_strategy())
        @hsettings(max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def run(case):
            if "id" in case.path_parameters and case.path_parameters["id"] % 2:
                case.path_parameters["id"] = schoolyard["thcs"].pk  # often the real school
            if "code" in case.path_parameters and len(str(case.path_parameters["code"])) % 2:
                case.path_parameters["code"] = code  # often a real invoice
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
