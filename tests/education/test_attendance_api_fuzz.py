"""Schemathesis over the attendance and timetable operations of the commune's API (a class's day
and month, the weeks of a class and of a teacher, slots posted and deleted): generated input,
valid and invalid, never gets a server error, as the principal and as the homeroom teacher,
through the real WSGI application, inside the test's transaction."""
from __future__ import annotations

import datetime

import pytest
from hypothesis import HealthCheck, given, settings as hsettings
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error

from education import attendance
from tests.test_api_fuzz import call, load_schema

pytestmark = pytest.mark.django_db(transaction=False)

MAX_EXAMPLES = 30
PREFIXES = ("/api/v1/education/attendance/", "/api/v1/education/timetable/")


@pytest.mark.parametrize("who", ["principal", "literature"])
def test_the_attendance_api_has_no_server_errors(schoolyard, school_people, client_for, monkeypatch, who):
    monkeypatch.setattr(attendance, "today", lambda: datetime.date(2026, 12, 7))
    s = schoolyard
    token, _created = Token.objects.get_or_create(user=school_people[who])
    headers = {"Host": "tule.localhost", "Authorization": f"Token {token.key}"}
    schema = load_schema(client_for, "tule.localhost")
    operations = [result.ok() for result in schema.get_all_operations()]
    mine = [op for op in operations if op.path.startswith(PREFIXES)]
    assert len(mine) == 7, [op.path for op in mine]
    real = {"class_id": s["class6a"].pk, "staff_id": s["staff"]["math"].pk, "day": "2026-12-07",
            "month": "2026-12"}
    failures: list[str] = []
    for operation in mine:
        @given(case=operation.as_strategy())
        @hsettings(max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def run(case):
            for name, value in real.items():
                current = case.path_parameters.get(name) if case.path_parameters else None
                if current is not None and hash(str(current)) % 2:
                    case.path_parameters[name] = value  # often a real class, teacher, day or month
            if isinstance(case.body, dict) and hash(str(case.body)) % 2:
                case.body.update({"school_class": s["class6a"].pk, "semester": s["sem1"].pk,
                                  "subject": s["subjects6"]["toan"].pk})
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
