"""The schools' figures published upward: students by grade and sex, attendance rates and results
by level per school and for the commune, computed in the commune's schema, published through the
outbox and read by the supervising unit on the national host, with nothing of a person in them."""
from __future__ import annotations

import datetime

import pytest
from django.core.management import call_command

pytestmark = pytest.mark.django_db(transaction=False)

NOV = datetime.date(2026, 11, 1)
NOV_END = datetime.date(2026, 11, 30)


@pytest.fixture
def november(tule, in_commune, schoolyard):
    """In November 2026: 6A took attendance on 3 days (Lò Văn An absent twice, once late, which is
    not an absence; Lường Thị Bình absent once), 1A on one day with nobody absent; Cầm Văn Em left
    6A on 15/11 (counted on the days before). Semester 1 of THCS Tú Lệ locked with results."""
    from education.models import Absence, AttendanceDay, Enrolment, Period, StudentResult

    y = schoolyard
    with in_commune(tule):
        enrol = {e.student_id: e for e in Enrolment.objects.filter(year=y["year"])}
        an, binh, _cuong, _dung, em = (enrol[s.pk] for s in y["students6"])
        Enrolment.objects.filter(pk=em.pk).update(status=Enrolment.Status.TRANSFERRED_OUT,
                                                  ends_on=datetime.date(2026, 11, 15))
        for day in (datetime.date(2026, 11, 2), datetime.date(2026, 11, 10), datetime.date(2026, 11, 20)):
            AttendanceDay.objects.create(school_class=y["class6a"], date=day)
        AttendanceDay.objects.create(school_class=y["class1a"], date=datetime.date(2026, 11, 2))
        Absence.objects.create(enrolment=an, date=datetime.date(2026, 11, 2), kind=Absence.Kind.EXCUSED, reason="ốm")
        Absence.objects.create(enrolment=an, date=datetime.date(2026, 11, 10), kind=Absence.Kind.UNEXCUSED)
        Absence.objects.create(enrolment=an, date=datetime.date(2026, 11, 20), kind=Absence.Kind.LATE)
        Absence.objects.create(enrolment=binh, date=datetime.date(2026, 11, 20), kind=Absence.Kind.EXCUSED)
        # An absence on a day without attendance taken is not counted (nothing to compare it with).
        Absence.objects.create(enrolment=binh, date=datetime.date(2026, 11, 21), kind=Absence.Kind.EXCUSED)
        for enrolment, learning, conduct in ((an, "K", "T"), (binh, "T", "T"), (enrol[y["students6"][2].pk], "D", "K")):
            StudentResult.objects.create(enrolment=enrolment, period=Period.SEM1, learning=learning, conduct=conduct)
        # Not locked: the primary school's results are not published.
        StudentResult.objects.create(enrolment=enrol[y["students1"][0].pk], period=Period.SEM1, outcome="HTT")
    return y


def test_the_month_s_figures_match_the_hand_computation(tule, in_commune, november):
    from education.facts import for_period
    from education.models import AssessmentLock

    with in_commune(tule):
        figures = for_period(NOV, NOV_END)
        # Semester 1 is not locked (nor ended) in November: no results published yet.
        assert not [key for key in figures if key.startswith(("learning_", "conduct_", "outcome_"))]
        # On 30/11: 6A has four students (Em left on 15/11), 1A three; 6B none.
        assert figures["schools"] == 2 and figures["classes"] == 3
        assert figures["students"] == 7
        assert figures["grade_6"] == 4 and figures["grade_6_female"] == 2
        assert figures["grade_1"] == 3 and figures["grade_1_female"] == 1
        assert figures["students_female"] == 3 and figures["students_male"] == 4
        # Attendance: 6A on 02/11 and 10/11 five students, on 20/11 four (Em left); 1A three.
        assert figures["attendance_days"] == 4
        assert figures["attendance_student_days"] == 5 + 5 + 4 + 3
        assert figures["absences"] == 3  # An twice, Bình once on a day taken; lateness is not absence
        assert figures["attendance_rate"] == 82.4  # 14 / 17 = 82.35… → 82.4
        thcs, primary = figures["schools_detail"][1], figures["schools_detail"][0]
        assert primary["name"] == "Trường THCS Tú Lệ" or thcs["name"] == "Trường THCS Tú Lệ"
        by_name = {row["name"]: row for row in figures["schools_detail"]}
        assert by_name["Trường THCS Tú Lệ"]["attendance_rate"] == 78.6  # 11 / 14
        assert by_name["Trường Tiểu học Tú Lệ"]["attendance_rate"] == 100.0
        assert by_name["Trường THCS Tú Lệ"]["students"] == 4 and by_name["Trường THCS Tú Lệ"]["classes"] == 2

        # Semester 1 locked after its end: its results count in January.
        AssessmentLock.objects.create(school=november["thcs"], semester=november["sem1"])
        january = for_period(datetime.date(2027, 1, 1), datetime.date(2027, 1, 31))
        assert january["learning_sem1_T"] == 1 and january["learning_sem1_K"] == 1 and january["learning_sem1_D"] == 1
        assert january["conduct_sem1_T"] == 2 and january["conduct_sem1_K"] == 1
        assert "outcome_sem1_HTT" not in january  # the primary school has not locked its semester


def test_the_figures_reach_the_supervising_unit_with_nothing_of_a_person(tule, november, client_for, make_user):
    from rest_framework.authtoken.models import Token

    from communes.models import SupervisingUnit

    call_command("publish_facts", "--commune", tule.code, "--month", "2026-11")
    staff = make_user("edu_facts_province", units=[SupervisingUnit.objects.get(code="15")])
    token, _created = Token.objects.get_or_create(user=staff)
    body = client_for("localhost").get("/api/v1/facts/monthly/", {"source": "education", "from": "2026-11",
                                                                   "to": "2026-11"},
                                       HTTP_AUTHORIZATION=f"Token {token.key}").json()
    assert [(row["commune_code"], row["source"], row["month"]) for row in body["results"]] == [
        ("04630", "education", "2026-11")]
    figures = body["results"][0]["figures"]
    assert figures["students"] == 7 and figures["attendance_rate"] == 82.4
    flat = {key: value for key, value in figures.items() if key != "schools_detail"}
    assert all(isinstance(value, (int, float)) and not isinstance(value, bool) for value in flat.values())
    text = str(figures)
    for personal in ("Lò Văn An", "Lường", "Bình", "0912000222", "015188004321", "Bản Thử Trường", "ốm"):
        assert personal not in text
    for school in figures["schools_detail"]:
        assert set(school) - {"name", "level"} and all(
            isinstance(value, (int, float)) for key, value in school.items() if key not in ("name", "level"))
