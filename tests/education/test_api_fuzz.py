"""Schemathesis' generated cases for the operations of the schools' API that the parts' own fuzz
tests do not cover (the structure: schools, classes, students, transfer out; the report cards'
jobs), sent as the principal in a session confirmed by the second factor (through the test
client, so that the writes reach the services rather than being refused at the door, as an
official's token is): no 5xx, ever. Each case is sent as generated, then with its ids replaced by
those of real rows. A last check makes sure every operation of the schools' API is fuzzed by one
of the tests of this folder."""
from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import urlencode

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings as hsettings
from schemathesis.core import NOT_SET

pytestmark = pytest.mark.django_db

MAX_EXAMPLES = 12
PATHS = (
    "/api/v1/education/schools/", "/api/v1/education/schools/{id}/classes/",
    "/api/v1/education/classes/{id}/students/", "/api/v1/education/students/{id}/",
    "/api/v1/education/enrolments/{id}/transfer-out/", "/api/v1/education/report-jobs/",
    "/api/v1/education/report-jobs/{id}/", "/api/v1/education/report-jobs/{id}/pdf/",
)


def _schema(client_for):
    response = client_for("tule.localhost").get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    return schemathesis.openapi.from_dict(response.json())


def test_the_structure_and_report_card_api_has_no_server_errors(tule, in_commune, schoolyard, school_people,
                                                                 client_for, settings, tmp_path):
    from education.models import Enrolment, ReportCardJob

    settings.MEDIA_ROOT = str(tmp_path / "media")
    y = schoolyard
    with in_commune(tule):
        enrolment = Enrolment.objects.filter(school_class=y["class6a"]).order_by("pk").last()
        job = ReportCardJob.objects.create(school_class=y["class6a"], kind=ReportCardJob.Kind.RESULT_SHEET,
                                           period="sem1")
    ids = {
        "/api/v1/education/schools/{id}/classes/": y["thcs"].pk,
        "/api/v1/education/classes/{id}/students/": y["class6a"].pk,
        "/api/v1/education/students/{id}/": y["students6"][0].pk,
        "/api/v1/education/enrolments/{id}/transfer-out/": enrolment.pk,
        "/api/v1/education/report-jobs/{id}/": job.pk, "/api/v1/education/report-jobs/{id}/pdf/": job.pk,
    }
    principal = client_for("tule.localhost", school_people["principal"])
    schema = _schema(client_for)
    operations = [result.ok() for result in schema.get_all_operations()]
    mine = [op for op in operations if re.sub(r"\{[a-z_]+\}", "{id}", op.path) in PATHS]
    assert len(mine) >= len(PATHS), sorted({op.path for op in mine})
    failures: list[str] = []
    statuses: set[int] = set()
    for operation in mine:
        template = re.sub(r"\{[a-z_]+\}", "{id}", operation.path)

        @given(case=operation.as_strategy())
        @hsettings(max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def run(case):
            body = "" if case.body is NOT_SET else json.dumps(case.body)
            paths = [case.formatted_path]
            if template in ids:
                paths.append(template.replace("{id}", str(ids[template])))
            for path in paths:
                answer = principal.generic(case.method.upper(), path, body, content_type="application/json",
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
    assert {400, 404} & statuses and statuses & {200, 201}  # bodies and ids were really tried


def test_every_operation_of_the_schools_api_is_fuzzed(db, client_for):
    """The paths named by this file and the parts' fuzz tests are all the schools' API has."""
    here = Path(__file__).parent
    text = "".join(path.read_text(encoding="utf-8") for path in here.glob("test_*fuzz*.py"))
    schema = _schema(client_for)
    paths = {result.ok().path for result in schema.get_all_operations()}
    ours = sorted(path for path in paths if path.startswith("/api/v1/education/"))
    assert ours
    prefixes = re.findall(r'"(/api/v1/education/[^"]*)"', text)
    missing = [path for path in ours if not any(
        path == p or re.sub(r"\{[a-z_]+\}", "{id}", path) == p or (p.endswith("/") and path.startswith(p))
        for p in prefixes)]
    assert not missing, missing
