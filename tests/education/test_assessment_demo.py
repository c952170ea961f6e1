"""The demo's marks: semester 1 of every class of the current year with a realistic spread, the
results computed, and nothing more on a second run."""
from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db(transaction=False)


def test_the_demo_marks_a_semester_once(tule, in_commune, schoolyard):
    from education import assessment_demo
    from education.models import Enrolment, Mark, StudentResult

    made = assessment_demo.seed_commune(tule)
    assert made["marks"] > 0 and made["results"] > 0
    with in_commune(tule):
        y = schoolyard
        students6 = Enrolment.objects.filter(school_class=y["class6a"]).count()
        # every column of every subject of semester 1 in 6A: a full grid
        from education import assessment

        expected = sum(len(assessment.columns_for(y["class6a"], s, "sem1")) for s in y["subjects6"].values())
        assert Mark.objects.filter(enrolment__school_class=y["class6a"], period="sem1").count() == expected * students6
        scores = [float(s) for s in Mark.objects.filter(score__isnull=False, column__startswith="tx")
                  .values_list("score", flat=True)]
        assert all(0 <= s <= 10 for s in scores)
        assert sum(5 <= s <= 9.5 for s in scores) / len(scores) > 0.6
        results = StudentResult.objects.filter(enrolment__school_class=y["class6a"], period="sem1")
        assert results.count() == students6 and all(r.complete and r.learning for r in results)
        primary = StudentResult.objects.filter(enrolment__school_class=y["class1a"], period="sem1")
        assert all(r.complete and r.outcome for r in primary)
        before = Mark.objects.count()
    assert assessment_demo.seed_commune(tule)["marks"] == 0
    with in_commune(tule):
        assert Mark.objects.count() == before
