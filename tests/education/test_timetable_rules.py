"""The timetable's rules in the service: a teacher or a room twice at one time, or a class's
period taken twice, is refused naming the other class before anything is written; the grid writes
all or nothing; semester 1 is copied to semester 2; the curriculum's hint; only the managers
write."""
from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from core.validation import error_code
from education import timetable
from education.models import TimetableSlot

pytestmark = pytest.mark.django_db


def refusal(call) -> ValidationError:
    with pytest.raises(ValidationError) as info:
        call()
    return info.value


def test_a_teacher_a_room_or_a_class_period_twice_is_refused(tule, in_commune, schoolyard, school_people):
    p, s = school_people, schoolyard
    math, toan, van = s["staff"]["math"], s["subjects6"]["toan"], s["subjects6"]["ngu_van"]
    with in_commune(tule):
        timetable.save_slot(p["principal"], s["class6a"], s["sem1"], timetable.Cell(2, 2, toan, math, "P6A"))
        # The same teacher in 6B at the same time: refused, naming class 6A.
        exc = refusal(lambda: timetable.save_slot(p["vice"], s["class6b"], s["sem1"],
                                                  timetable.Cell(2, 2, toan, math, "P6B")))
        assert error_code(exc) == "teacher_busy"
        assert "6A" in exc.messages[0] and math.full_name in exc.messages[0]
        assert "period 2 on Tuesday" in exc.messages[0] or "tiết 2 thứ Ba" in exc.messages[0]
        # The same room: refused, naming class 6A.
        exc = refusal(lambda: timetable.save_slot(p["clerk"], s["class6b"], s["sem1"],
                                                  timetable.Cell(2, 2, toan, s["staff"]["literature"], "P6A")))
        assert error_code(exc) == "room_busy" and "6A" in exc.messages[0] and "P6A" in exc.messages[0]
        # The class's own period taken (the API's POST).
        exc = refusal(lambda: timetable.save_slot(p["principal"], s["class6a"], s["sem1"],
                                                  timetable.Cell(2, 2, van, s["staff"]["literature"], "")))
        assert error_code(exc) == "class_slot_taken" and toan.name in exc.messages[0]
        assert TimetableSlot.objects.count() == 1
        # Another period, another semester, or the grid's replace are fine.
        timetable.save_slot(p["principal"], s["class6b"], s["sem1"], timetable.Cell(2, 3, toan, math, "P6A"))
        timetable.save_slot(p["principal"], s["class6b"], s["sem2"], timetable.Cell(2, 2, toan, math, "P6A"))
        timetable.save_slot(p["principal"], s["class6a"], s["sem1"],
                            timetable.Cell(2, 2, van, s["staff"]["literature"], "P6A"), replace=True)
        assert TimetableSlot.objects.count() == 3
        assert TimetableSlot.objects.get(school_class=s["class6a"], weekday=2, lesson=2).subject == van


def test_bad_cells_and_who_writes(tule, in_commune, schoolyard, school_people):
    p, s = school_people, schoolyard
    toan6, toan1 = s["subjects6"]["toan"], next(iter(s["subjects1"].values()))
    with in_commune(tule):
        assert error_code(refusal(lambda: timetable.save_slot(
            p["principal"], s["class6a"], s["sem1"], timetable.Cell(7, 1, toan6)))) == "invalid_day"
        assert error_code(refusal(lambda: timetable.save_slot(
            p["principal"], s["class6a"], s["sem1"], timetable.Cell(1, 11, toan6)))) == "invalid_lesson"
        assert error_code(refusal(lambda: timetable.save_slot(
            p["principal"], s["class6a"], s["sem1"], timetable.Cell(1, 1, toan1)))) == "invalid_subject"
        assert error_code(refusal(lambda: timetable.save_slot(
            p["principal"], s["class6a"], s["sem1"],
            timetable.Cell(1, 1, toan6, s["staff"]["primary_teacher"])))) == "invalid_teacher"
        for who in ("math", "literature", "accountant", "primary_principal", "chairman", "unplaced"):
            with pytest.raises(PermissionDenied):
                timetable.save_slot(p[who], s["class6a"], s["sem1"], timetable.Cell(1, 1, toan6))
        assert not TimetableSlot.objects.exists()


def test_the_grid_writes_all_or_nothing(tule, in_commune, schoolyard, school_people):
    p, s = school_people, schoolyard
    math, lit = s["staff"]["math"], s["staff"]["literature"]
    toan, van = s["subjects6"]["toan"], s["subjects6"]["ngu_van"]
    with in_commune(tule):
        timetable.save_slot(p["principal"], s["class6b"], s["sem1"], timetable.Cell(1, 1, toan, math, "P6B"))
        cells = {(1, 1): timetable.Cell(1, 1, van, lit, "P6A"), (1, 2): timetable.Cell(1, 2, toan, math, "P6A")}
        assert timetable.save_grid(p["principal"], s["class6a"], s["sem1"], cells) == 2
        # A clash on one cell: nothing of the new grid is written, the message names 6B.
        cells = {(1, 1): timetable.Cell(1, 1, toan, math, "P6A"), (3, 4): timetable.Cell(3, 4, van, lit, "")}
        exc = refusal(lambda: timetable.save_grid(p["principal"], s["class6a"], s["sem1"], cells))
        assert error_code(exc) == "teacher_busy" and "6B" in exc.message_dict["1_1"][0]
        week = timetable.class_week(s["class6a"], s["sem1"])
        assert {k: v.subject_id for k, v in week.items()} == {(1, 1): van.pk, (1, 2): toan.pk}
        # Emptied periods are removed.
        timetable.save_grid(p["principal"], s["class6a"], s["sem1"], {(1, 2): timetable.Cell(1, 2, toan, math, "")})
        assert list(timetable.class_week(s["class6a"], s["sem1"])) == [(1, 2)]
        hints = {h.subject.code: h for h in timetable.hints(s["class6a"], s["sem1"])}
        assert hints["toan"].actual == 1 and hints["toan"].planned == round(
            __import__("decimal").Decimal(toan.periods_per_year) / 35, 1)
        assert hints["toan"].differs


def test_semester_one_is_copied_to_semester_two(tule, in_commune, schoolyard, school_people):
    p, s = school_people, schoolyard
    math, toan = s["staff"]["math"], s["subjects6"]["toan"]
    with in_commune(tule):
        timetable.save_slot(p["principal"], s["class6a"], s["sem1"], timetable.Cell(1, 1, toan, math, "P6A"))
        timetable.save_slot(p["principal"], s["class6b"], s["sem1"], timetable.Cell(1, 2, toan, math, "P6B"))
        # In semester 2, the teacher is already in 6B at Monday period 1: the copy of 6A clashes.
        blocker = timetable.save_slot(p["principal"], s["class6b"], s["sem2"], timetable.Cell(1, 1, toan, math, ""))
        assert error_code(refusal(lambda: timetable.copy_semester(
            p["principal"], s["thcs"], s["sem1"], s["sem2"]))) == "teacher_busy"
        assert TimetableSlot.objects.filter(semester=s["sem2"]).count() == 1
        blocker.delete()
        assert timetable.copy_semester(p["principal"], s["thcs"], s["sem1"], s["sem2"]) == 2
        assert TimetableSlot.objects.filter(semester=s["sem2"]).count() == 2
        assert error_code(refusal(lambda: timetable.copy_semester(
            p["principal"], s["thcs"], s["sem1"], s["sem2"]))) == "nothing_to_copy"
        with pytest.raises(PermissionDenied):
            timetable.copy_semester(p["math"], s["thcs"], s["sem1"], s["sem2"])
        assert [c.name for c in timetable.classes_without_timetable([s["thcs"]], s["sem1"])] == []
        assert [c.name for c in timetable.classes_without_timetable([s["primary"]], s["sem1"])] == ["1A"]
