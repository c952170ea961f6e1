"""The year's end of a whole class in one transaction (promoted, repeating, or completing the
school's last grade; nothing changed when one student cannot go on), and the semesters' dates
edited by a principal on the school years' page."""
from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError

from education import structure
from education.models import Enrolment, SchoolClass, SchoolYear

pytestmark = pytest.mark.django_db(transaction=False)
HOST = "tule.localhost"


@pytest.fixture
def next_year(tule, in_commune, schoolyard):
    with in_commune(tule):
        year = structure.open_year("2027-2028", datetime.date(2027, 9, 6), current=False)
        return {"year": year,
                "7a": SchoolClass.objects.create(school=schoolyard["thcs"], year=year, grade=7, name="7A"),
                "6a": SchoolClass.objects.create(school=schoolyard["thcs"], year=year, grade=6, name="6A"),
                "2a": SchoolClass.objects.create(school=schoolyard["primary"], year=year, grade=2, name="2A")}


def test_a_class_goes_on_at_the_years_end_all_or_nothing(tule, in_commune, schoolyard, next_year):
    c6a = schoolyard["class6a"]
    with in_commune(tule):
        rows = list(Enrolment.objects.filter(school_class=c6a, status="active").order_by("number"))
        # One student already placed in the next year: nothing changes for anyone.
        structure.enrol(next_year["7a"], rows[4].student.resident)
        with pytest.raises(ValidationError) as info:
            structure.year_end_class(c6a, promote_to=next_year["7a"], repeat_to=next_year["6a"],
                                     repeaters=[rows[1].pk])
        assert "Cầm Văn Em" in info.value.messages[0]
        assert Enrolment.objects.filter(school_class=c6a, status="active").count() == 5
        assert Enrolment.objects.filter(school_class=next_year["6a"]).count() == 0
        Enrolment.objects.filter(school_class=next_year["7a"]).delete()
        with pytest.raises(ValidationError):
            structure.year_end_class(c6a, promote_to=next_year["7a"], repeaters=[rows[1].pk])
        with pytest.raises(ValidationError):
            structure.year_end_class(c6a, promote_to=next_year["2a"])
        counts = structure.year_end_class(c6a, promote_to=next_year["7a"], repeat_to=next_year["6a"],
                                          repeaters=[rows[1].pk])
        assert counts == {"promoted": 4, "repeating": 1, "completed": 0}
        assert not Enrolment.objects.filter(school_class=c6a, status="active").exists()
        assert set(Enrolment.objects.filter(school_class=c6a).values_list("status", flat=True)) == {"completed"}
        assert list(Enrolment.objects.filter(school_class=next_year["6a"]).values_list("student_id", "entry")) == [
            (rows[1].student_id, "repeating")]
        assert [e.number for e in Enrolment.objects.filter(school_class=next_year["7a"]).order_by("number")] == [
            1, 2, 3, 4]
        with pytest.raises(ValidationError):
            structure.year_end_class(c6a, promote_to=next_year["7a"])  # nobody left


def test_the_last_grade_completes_and_the_page_works(tule, in_commune, schoolyard, next_year, school_people,
                                                     client_for):
    c6b = schoolyard["class6b"]
    with in_commune(tule):
        c9 = SchoolClass.objects.create(school=schoolyard["thcs"], year=schoolyard["year"], grade=9, name="9A")
        for student in schoolyard["students6"][:2]:
            Enrolment.objects.filter(student=student).update(status="completed")
            Enrolment.objects.create(student=student, school_class=c9, year=schoolyard["year"], number=1,
                                     starts_on=schoolyard["year"].starts_on)
        assert structure.year_end_class(c9, promote_to=None) == {"promoted": 0, "repeating": 0, "completed": 2}
    clerk = client_for(HOST, school_people["clerk"])
    page = clerk.get(f"/schools/classes/{schoolyard['class6a'].pk}/year-end/").content.decode()
    assert "7A · 2027-2028" in page and "Hà Văn Cường" in page and "Lường Thị Bình" not in page
    assert client_for(HOST, school_people["math"]).get(f"/schools/classes/{c6b.pk}/year-end/").status_code == 403
    assert client_for(HOST, school_people["primary_principal"]).post(
        f"/schools/classes/{schoolyard['class6a'].pk}/year-end/", {"promote_to": next_year["7a"].pk}).status_code == 403
    assert clerk.post(f"/schools/classes/{c6b.pk}/year-end/", {"promote_to": next_year["7a"].pk}).status_code == 400
    done = clerk.post(f"/schools/classes/{schoolyard['class6a'].pk}/year-end/", {"promote_to": next_year["7a"].pk})
    assert done.status_code == 302
    with in_commune(tule):
        assert Enrolment.objects.filter(school_class=next_year["7a"], entry="promoted").count() == 3


def test_a_principal_edits_the_semesters_dates_on_the_page(tule, in_commune, schoolyard, school_people, client_for):
    form = {"dates": "1", "s1_start": "07/09/2026", "s1_end": "15/01/2027", "s2_start": "18/01/2027",
            "s2_end": "28/05/2027"}
    assert client_for(HOST, school_people["clerk"]).post("/schools/year/", form).status_code == 403
    principal = client_for(HOST, school_people["principal"])
    assert b'name="dates"' in principal.get("/schools/year/").content
    bad = principal.post("/schools/year/", {**form, "s2_start": "10/01/2027"})
    assert bad.status_code == 400 and "28/05/2027" in bad.content.decode()
    assert principal.post("/schools/year/", form).status_code == 302
    with in_commune(tule):
        year = SchoolYear.objects.get(current=True)
        assert (year.starts_on, year.ends_on) == (datetime.date(2026, 9, 7), datetime.date(2027, 5, 28))
        assert year.semesters.get(number=2).starts_on == datetime.date(2027, 1, 18)
