"""The report cards' demo: a first-semester result sheet of the lower-secondary school's class,
made and waiting for the principal's signature (in the principal's inbox); nothing more on a
second run."""
from __future__ import annotations

from types import SimpleNamespace

import pytest


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


def test_the_demo_makes_one_sheet_per_commune_once(schoolyard, school_people, tule):
    from communes.permissions import roles_for
    from core.storage import read
    from education import report_cards, report_demo
    from education.models import ReportCardJob
    from tests.education.test_reports_pdf import flat, pdftotext

    said = []
    context = SimpleNamespace(communes=[(None, tule)], out=said.append)
    report_demo.seed(context)
    job = ReportCardJob.objects.get()
    assert (job.school_class, job.kind, job.period, job.state) == (schoolyard["class6a"], "sheet", "sem1", "succeeded")
    assert job.result["students"] == 5 and not job.signed
    assert "Lò Văn An" in flat(pdftotext(read(job.file)))
    principal = school_people["principal"]
    assert [line.count for line in report_cards.inbox_lines(None, principal, roles_for(principal))] == [1]
    report_demo.seed(context)
    assert ReportCardJob.objects.count() == 1
    assert said and "1 result sheets made" in said[0] and "0 result sheets made" in said[1]
