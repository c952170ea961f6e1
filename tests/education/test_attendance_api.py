"""Attendance and timetables in the API: a class's day (GET/PUT, the common error body on a
refusal), its month, the weeks of a class and of a teacher, slots POST/DELETE with a clash as 409
naming the other class; and the role matrix (another school's staff, the chairman, other officials
and parents get 403, an anonymous caller 401/403)."""
from __future__ import annotations

import datetime

import pytest

from education import attendance
from education.models import Absence, Enrolment, TimetableSlot
from population.models import AccessLog

pytestmark = pytest.mark.django_db

HOST = "tule.localhost"
TODAY = datetime.date(2026, 12, 7)


@pytest.fixture(autouse=True)
def fixed_today(monkeypatch):
    monkeypatch.setattr(attendance, "today", lambda: TODAY)


def test_a_day_read_and_written(tule, in_commune, schoolyard, school_people, client_for):
    s = schoolyard
    with in_commune(tule):
        e = list(Enrolment.objects.filter(school_class=s["class6a"]).order_by("number"))
        other = Enrolment.objects.filter(school_class=s["class1a"]).first()
    api = client_for(HOST, school_people["literature"])
    url = f"/api/v1/education/attendance/classes/{s['class6a'].pk}/days/{TODAY.isoformat()}/"
    body = api.get(url).json()
    assert body["taken"] is False and len(body["students"]) == 5 and body["present"] == 5
    response = api.put(url, {"absences": [{"enrolment": e[0].pk, "kind": "excused", "reason": "Ốm"},
                                          {"enrolment": e[1].pk, "kind": "unexcused"}]},
                       content_type="application/json")
    assert response.status_code == 200, response.content
    assert response.json()["present"] == 3 and response.json()["taken"] is True
    # A student of another class: 400 with the common body, nothing changed.
    response = api.put(url, {"absences": [{"enrolment": other.pk, "kind": "late"}]}, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["code"] == "not_in_class" and set(response.json()) == {"code", "detail", "fields"}
    response = api.put(url, {"absences": [{"enrolment": e[0].pk, "kind": "sick"}]}, content_type="application/json")
    assert response.status_code == 400 and set(response.json()) == {"code", "detail", "fields"}
    sunday = f"/api/v1/education/attendance/classes/{s['class6a'].pk}/days/06-12-2026/"
    response = api.put(sunday, {"absences": []}, content_type="application/json")
    assert response.status_code == 400 and response.json()["code"] == "sunday"
    old = f"/api/v1/education/attendance/classes/{s['class6a'].pk}/days/20-11-2026/"
    assert api.put(old, {"absences": []}, content_type="application/json").status_code == 409
    with in_commune(tule):
        assert Absence.objects.filter(date=TODAY).count() == 2
        assert AccessLog.objects.filter(object_type="school_class", channel="api").exists()
    month = api.get(f"/api/v1/education/attendance/classes/{s['class6a'].pk}/months/2026-12/").json()
    first = next(row for row in month["students"] if row["enrolment"] == e[0].pk)
    assert month["taken"] == [TODAY.isoformat()] and first["marks"][month["days"].index(TODAY.isoformat())] == "P"
    assert api.get(f"/api/v1/education/attendance/classes/{s['class6a'].pk}/months/2026-13/").status_code == 400


@pytest.mark.parametrize("who, read, write_day, write_slot", [
    ("principal", 200, 200, 201), ("clerk", 200, 200, 201), ("literature", 200, 200, 403),
    ("math", 200, 403, 403), ("accountant", 200, 403, 403), ("primary_principal", 403, 403, 403),
    ("primary_teacher", 403, 403, 403), ("unplaced", 403, 403, 403), ("chairman", 403, 403, 403),
    ("nurse", 403, 403, 403), ("parent", 403, 403, 403)])
def test_the_role_matrix_of_the_api(tule, schoolyard, school_people, client_for, who, read, write_day, write_slot):
    s = schoolyard
    api = client_for(HOST, school_people[who])
    day = f"/api/v1/education/attendance/classes/{s['class6a'].pk}/days/{TODAY.isoformat()}/"
    for url in (day, f"/api/v1/education/attendance/classes/{s['class6a'].pk}/months/2026-12/",
                f"/api/v1/education/timetable/classes/{s['class6a'].pk}/",
                f"/api/v1/education/timetable/teachers/{s['staff']['math'].pk}/"):
        response = api.get(url)
        assert response.status_code == read, url
        if read != 200:
            assert set(response.json()) == {"code", "detail", "fields"}
    assert api.put(day, {"absences": []}, content_type="application/json").status_code == write_day
    slot = {"school_class": s["class6a"].pk, "semester": s["sem1"].pk, "weekday": 1, "lesson": 1,
            "subject": s["subjects6"]["toan"].pk, "teacher": s["staff"]["math"].pk, "room": "P6A"}
    assert api.post("/api/v1/education/timetable/slots/", slot, content_type="application/json").status_code \
        == write_slot


def test_anonymous_callers_are_refused(schoolyard, client):
    response = client.get(f"/api/v1/education/timetable/classes/{schoolyard['class6a'].pk}/", HTTP_HOST=HOST)
    assert response.status_code in (401, 403)


def test_slots_posted_with_the_clash_answer_and_deleted(tule, in_commune, schoolyard, school_people, client_for):
    s = schoolyard
    api = client_for(HOST, school_people["principal"])
    base = {"semester": s["sem1"].pk, "weekday": 2, "lesson": 2, "subject": s["subjects6"]["toan"].pk}
    created = api.post("/api/v1/education/timetable/slots/", {
        **base, "school_class": s["class6a"].pk, "teacher": s["staff"]["math"].pk, "room": "P6A"},
        content_type="application/json")
    assert created.status_code == 201 and created.json()["class_name"] == "6A"
    clashes = {
        "teacher_busy": {"school_class": s["class6b"].pk, "teacher": s["staff"]["math"].pk, "room": "P6B"},
        "room_busy": {"school_class": s["class6b"].pk, "teacher": s["staff"]["literature"].pk, "room": "P6A"},
        "class_slot_taken": {"school_class": s["class6a"].pk, "teacher": s["staff"]["literature"].pk, "room": ""},
    }
    for code, changes in clashes.items():
        response = api.post("/api/v1/education/timetable/slots/", {**base, **changes}, content_type="application/json")
        assert response.status_code == 409, response.content
        assert response.json()["code"] == code and "6A" in response.json()["detail"]
        assert set(response.json()) == {"code", "detail", "fields"}
    bad = api.post("/api/v1/education/timetable/slots/", {**base, "school_class": s["class6b"].pk, "lesson": 11},
                   content_type="application/json")
    assert bad.status_code == 400 and "lesson" in bad.json()["fields"]
    week = api.get(f"/api/v1/education/timetable/teachers/{s['staff']['math'].pk}/?semester={s['sem1'].pk}").json()
    assert [(slot["class_name"], slot["weekday"], slot["lesson"]) for slot in week] == [("6A", 2, 2)]
    assert api.get(f"/api/v1/education/timetable/classes/{s['class6a'].pk}/?semester=abc").status_code == 400
    assert api.get("/api/v1/education/timetable/classes/99999999999999999999/").status_code == 404
    assert api.delete("/api/v1/education/timetable/slots/99999999999999999999/").status_code == 404
    slot_id = created.json()["id"]
    assert client_for(HOST, school_people["math"]).delete(f"/api/v1/education/timetable/slots/{slot_id}/") \
        .status_code == 403
    assert client_for(HOST, school_people["primary_principal"]).delete(
        f"/api/v1/education/timetable/slots/{slot_id}/").status_code == 403
    assert api.delete(f"/api/v1/education/timetable/slots/{slot_id}/").status_code == 204
    with in_commune(tule):
        assert not TimetableSlot.objects.exists()
