"""The demo's past school year for Tú Lệ, seeded by the whole schools demo from a registry of the
population demo: the checks of tests/education/pastyear_demo_checks.py hold, the year shows
promotions, retests and a repeat after a failed retest, about 3% absences on school days, the
report cards of a past class print its whole year, and a second run adds nothing."""
from __future__ import annotations

import datetime
import subprocess
import time
import unicodedata

import pytest

from tests.education.pastyear_demo_checks import check, pastyear_counts

pytestmark = pytest.mark.django_db(transaction=False)


def pdftotext(data: bytes) -> str:
    text = subprocess.run(["pdftotext", "-enc", "UTF-8", "-", "-"], input=data, capture_output=True,
                          check=True).stdout.decode("utf-8")
    return " ".join(unicodedata.normalize("NFC", text).split())


def test_the_demo_s_past_year_for_tule(tule, in_commune, make_user, client_for, monkeypatch):
    from communes.demo import DEMO_COMMUNES, DemoContext
    from communes.models import Role
    from education import attendance, pastyear_demo, report_cards
    from education.demo import PARTS, seed_demo
    from education.models import Absence, AttendanceDay, Enrolment, SchoolClass, StudentResult
    from population.demo import populate

    assert PARTS.index("education.pastyear_demo.seed") > PARTS.index("education.attendance_demo.seed")
    assert PARTS.index("education.pastyear_demo.seed") > PARTS.index("education.assessment_demo.seed")
    monkeypatch.setattr(attendance, "today", lambda: datetime.date(2026, 12, 7))
    spec = next(s for s in DEMO_COMMUNES if s.slug == "tule")
    populate(tule, villages=spec.villages, households=120, seed=4630)
    staff = make_user("tule.school_staff", roles={tule: [Role.SCHOOL_STAFF]}, full_name="Lò Văn Thành")
    citizen = make_user("congdan", full_name="Hoàng Văn Nam", phone="0912345678")
    printed = []
    context = DemoContext(communes=[(spec, tule)], citizen=citizen, households=120, pin="000000", out=printed.append)
    parts = PARTS[:PARTS.index("education.pastyear_demo.seed")]
    monkeypatch.setattr("education.demo.PARTS", parts)
    seed_demo(context)  # this year's schools, marks and attendance
    started = time.perf_counter()
    pastyear_demo.seed(context)
    seconds = time.perf_counter() - started
    print(f"past year demo for Tú Lệ: {seconds:.2f} s")
    assert seconds < 5, seconds
    assert any("2025-2026" in line for line in printed)
    monkeypatch.setattr("education.demo.PARTS", PARTS)
    seed_demo(context)  # the rest of the demo after it
    check(tule)
    first = pastyear_counts(tule)
    assert first[0] == 9 and first[1] > 50 and first[3] > 1000
    with in_commune(tule):
        past = SchoolClass.objects.filter(year__name="2025-2026")
        # a grade-7 student of this year was in 6A last year, promoted from it
        seventh = Enrolment.objects.filter(year__current=True, school_class__grade=7, status="active")
        assert seventh.exists()
        for enrolment in seventh:
            assert enrolment.entry == "promoted"
            assert Enrolment.objects.get(student=enrolment.student, year__name="2025-2026").school_class.grade == 6
        # this year's first-graders have no past class
        first_graders = Enrolment.objects.filter(year__current=True, school_class__grade=1).values("student")
        assert not Enrolment.objects.filter(year__name="2025-2026", student__in=first_graders).exists()
        decisions = set(StudentResult.objects.filter(enrolment__year__name="2025-2026", period="year")
                        .values_list("decision", flat=True))
        assert {"promoted", "completed", "retest"} <= decisions, decisions
        assert StudentResult.objects.filter(enrolment__year__name="2025-2026", period="retest",
                                            decision="repeat").exists()
        # about 3% of the student-days absent or late
        student_days = sum(AttendanceDay.objects.filter(school_class=c).count() * c.enrolments.count() for c in past)
        absences = Absence.objects.filter(enrolment__year__name="2025-2026").count()
        assert 0.015 < absences / student_days < 0.05, (absences, student_days)
        days = AttendanceDay.objects.filter(school_class=past.get(school__level="lower_secondary", grade=6))
        assert 150 < days.count() < 175  # 35 weeks of five days, less the days off
        nine = past.get(grade=9)
        data, _slots = report_cards.render_cards(nine, day=datetime.date(2026, 5, 28))
        text = pdftotext(data)
        student = Enrolment.objects.filter(school_class=nine).order_by("number").first().student
        assert unicodedata.normalize("NFC", student.resident.full_name) in text
        assert "2025-2026" in text
        five = past.get(grade=5)  # a primary card of the whole year too
        text = pdftotext(report_cards.render_cards(five, day=datetime.date(2026, 5, 28))[0])
        pupil = Enrolment.objects.filter(school_class=five).order_by("number").first().student
        assert unicodedata.normalize("NFC", pupil.resident.full_name) in text and "2025-2026" in text
    # the principal reads the past class's year results and the school's locks
    client = client_for("tule.localhost", staff)
    results = client.get(f"/schools/classes/{nine.pk}/results/year/")
    assert results.status_code == 200
    assert unicodedata.normalize("NFC", student.resident.full_name) in unicodedata.normalize(
        "NFC", results.content.decode())
    locks = client.get(f"/schools/{nine.school_id}/locks/")
    assert locks.status_code == 200 and "2025-2026" in locks.content.decode()
    seed_demo(context)
    assert pastyear_counts(tule) == first
    check(tule)
