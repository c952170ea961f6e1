"""The parent's pages (``/my-children/…``) and API: a citizen whose account's phone is a
guardian's reads their own children only (another family's child is a 404), marks as they are
entered, results once the semester is locked, attendance, the timetable and the messages to the
class or the child; every read is logged; a citizen without a child linked is told why."""
from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from education import contact

pytestmark = pytest.mark.django_db(transaction=False)

HOST = "tule.localhost"


def _logs(user, student):
    from population.models import AccessLog

    return AccessLog.objects.filter(user_id=user.pk, object_type="student", object_id=str(student.pk))


@pytest.fixture
def school_life(tule, in_commune, schoolyard, school_people):
    """Marks, a result, absences, a timetable and messages for the parent's son An (6A)."""
    from education.models import Absence, Enrolment, Mark, StudentResult, SubjectResult, TimetableSlot

    y = schoolyard
    an = y["students6"][0]
    with in_commune(tule):
        enrolment = Enrolment.objects.get(student=an)
        other = Enrolment.objects.get(student=y["students6"][1])
        toan, van = y["subjects6"]["toan"], y["subjects6"]["ngu_van"]
        Mark.objects.create(enrolment=enrolment, subject=toan, period="sem1", column="tx1", score=Decimal("8.5"))
        Mark.objects.create(enrolment=enrolment, subject=toan, period="sem1", column="mid", score=Decimal("7.0"))
        Mark.objects.create(enrolment=enrolment, subject=van, period="sem1", column="tx1", score=Decimal("6.5"))
        Mark.objects.create(enrolment=other, subject=toan, period="sem1", column="tx1", score=Decimal("3.5"))
        SubjectResult.objects.create(enrolment=enrolment, subject=toan, period="sem1", average=Decimal("7.9"))
        StudentResult.objects.create(enrolment=enrolment, period="sem1", average=Decimal("7.4"), learning="K",
                                     conduct="T")
        today = timezone.localdate()
        Absence.objects.create(enrolment=enrolment, date=today.replace(day=1), kind="excused", reason="Ốm sốt")
        Absence.objects.create(enrolment=enrolment, date=today.replace(day=1) - datetime.timedelta(days=3),
                               kind="unexcused")
        sem = y["sem1"] if y["sem1"].starts_on <= today <= y["sem1"].ends_on else y["sem2"]
        TimetableSlot.objects.create(school=y["thcs"], semester=sem, school_class=y["class6a"], weekday=1, lesson=1,
                                     subject=toan, teacher=y["staff"]["math"], room="P6A")
        TimetableSlot.objects.create(school=y["thcs"], semester=sem, school_class=y["class6a"], weekday=1, lesson=2,
                                     subject=van, teacher=y["staff"]["literature"], room="P6A")
        to_class = contact.send_message(school_people["literature"], body="Lớp 6A nghỉ học chiều thứ Tư.",
                                        school_class=y["class6a"])
        to_an = contact.send_message(school_people["math"], body="Em An làm bài kiểm tra tốt.", student=an)
        to_binh = contact.send_message(school_people["math"], body="Em Bình cần cố gắng hơn.",
                                       student=y["students6"][1])
        to_1a = contact.send_message(school_people["primary_teacher"], body="Lớp 1A đi tham quan.",
                                     school_class=y["class1a"])
    return {"an": an, "enrolment": enrolment, "to_class": to_class, "to_an": to_an, "to_binh": to_binh,
            "to_1a": to_1a, "semester": sem}


def test_the_parent_lists_their_own_children(tule, in_commune, schoolyard, school_people, client_for):
    parent = school_people["parent"]
    response = client_for(HOST, parent).get("/my-children/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "Lò Văn An" in html and "Lò Thị Gấm" in html and "6A" in html and "1A" in html
    assert "Lường Thị Bình" not in html and "Hà Văn Hải" not in html
    assert 'href="/my-children/' in html and "pub-nav" in html  # the citizens' layout
    assert 'href="/my-children/invoices/"' in html  # the fees of the children, one tap away
    with in_commune(tule):
        assert _logs(parent, schoolyard["students6"][0]).exists()
        assert _logs(parent, schoolyard["students1"][0]).exists()


def test_a_citizen_without_a_child_is_told_why(tule, schoolyard, school_people, client_for):
    response = client_for(HOST, school_people["citizen"]).get("/my-children/")
    html = response.content.decode()
    assert response.status_code == 200 and 'id="no-children"' in html and "0912000333" in html
    assert "Lò Văn An" not in html


def test_not_logged_in_goes_to_the_login_page(schoolyard, client_for):
    from django.test import Client

    response = Client(HTTP_HOST=HOST).get("/my-children/")
    assert response.status_code == 302 and "/login/?next=/my-children/" in response["Location"]
    assert Client(HTTP_HOST=HOST).get(f"/my-children/{schoolyard['students6'][0].pk}/").status_code == 302
    assert Client(HTTP_HOST=HOST).get("/api/v1/education/my-children/").status_code in (401, 403)


def test_the_child_s_page(tule, in_commune, schoolyard, school_people, client_for, school_life):
    from education.models import AssessmentLock

    parent = school_people["parent"]
    client = client_for(HOST, parent)
    url = f"/my-children/{school_life['an'].pk}/"
    html = client.get(url).content.decode()
    assert "Lò Văn An" in html and "6A" in html and "Đinh Thị Văn" in html  # the homeroom teacher
    # Marks as entered (with the decimal comma), not another student's.
    assert "8,5" in html and "7,0" in html and "6,5" in html and "3,5" not in html
    # The semester is not locked: no result yet.
    assert "7,9" not in html and "7,4" not in html
    # Attendance: this month's excused absence with its reason; the year's totals count both.
    assert "Ốm sốt" in html and "<b>1</b>" in html
    # The timetable and the messages to the class and to the child, not those to others.
    assert "P6A" in html
    assert "Lớp 6A nghỉ học chiều thứ Tư." in html and "Em An làm bài kiểm tra tốt." in html
    assert "Em Bình cần cố gắng hơn." not in html and "Lớp 1A đi tham quan." not in html
    with in_commune(tule):
        assert _logs(parent, school_life["an"]).count() == 1
        AssessmentLock.objects.create(school=schoolyard["thcs"], semester=schoolyard["sem1"])
    html = client.get(url).content.decode()
    assert "7,9" in html and "7,4" in html
    # The daughter in the primary school: her class's message, not her brother's.
    html = client.get(f"/my-children/{schoolyard['students1'][0].pk}/").content.decode()
    assert "Lớp 1A đi tham quan." in html and "Em An làm bài kiểm tra tốt." not in html


def test_another_family_s_child_is_not_found(tule, in_commune, schoolyard, school_people, client_for, school_life):
    from population.models import AccessLog

    for who in ("parent", "citizen", "principal"):
        client = client_for(HOST, school_people[who])
        for student in (schoolyard["students6"][1], schoolyard["students1"][1]):
            response = client.get(f"/my-children/{student.pk}/")
            assert response.status_code == 404
            assert "Lường Thị Bình" not in response.content.decode()
            api = client.get(f"/api/v1/education/my-children/{student.pk}/")
            assert api.status_code == 404 and set(api.json()) == {"code", "detail", "fields"}
    assert client_for(HOST, school_people["parent"]).get("/my-children/99999999999999999999/").status_code == 404
    # The parent of Tú Lệ on another commune's host: no child there.
    assert client_for("yenhoa.localhost", school_people["parent"]).get(
        f"/my-children/{school_life['an'].pk}/").status_code == 404
    with in_commune(tule):
        assert not AccessLog.objects.filter(object_type="student",
                                            object_id=str(schoolyard["students6"][1].pk)).exclude(
            user_id__in=[school_people["math"].pk]).exists()


def test_the_parent_s_api(tule, in_commune, schoolyard, school_people, client_for, school_life):
    parent = school_people["parent"]
    client = client_for(HOST, parent)
    listed = client.get("/api/v1/education/my-children/")
    assert listed.status_code == 200
    assert sorted(c["full_name"] for c in listed.json()) == ["Lò Thị Gấm", "Lò Văn An"]
    an = client.get(f"/api/v1/education/my-children/{school_life['an'].pk}/").json()
    assert an["class"]["name"] == "6A"
    toan = next(row for row in an["marks"] if row["subject"] == schoolyard["subjects6"]["toan"].name)
    assert [c["value"] for c in toan["periods"][0]["cells"]] == ["8,5", "7,0"]
    assert an["results"] == []
    assert an["attendance"]["year_totals"] == {"excused": 1, "unexcused": 1, "late": 0}
    assert {m["body"] for m in an["messages"]} == {school_life["to_class"].body, school_life["to_an"].body}
    assert [p["subject"] for p in an["timetable"][0]["periods"]] == [schoolyard["subjects6"]["toan"].name,
                                                                     schoolyard["subjects6"]["ngu_van"].name]
    with in_commune(tule):
        assert _logs(parent, school_life["an"]).filter(channel="api").count() == 2
    assert client_for(HOST, school_people["citizen"]).get("/api/v1/education/my-children/").json() == []
