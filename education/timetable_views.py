"""The timetable pages of the schools (``/schools/…``), thin over ``education.timetable``.

* ``timetables``: a school's classes in a semester with their periods a week (``?missing=1``:
  those without a timetable, what the inbox line opens), its teachers' weeks, and the copy of
  semester 1 to semester 2 (managers).
* ``class_timetable``: a class's week, printable, with the curriculum's hint per subject;
  ``class_timetable_edit``: the same as a grid of choices for the managers, written at once by
  ``timetable.save_grid`` (a clash names the other class and writes nothing; the grid keeps what
  was chosen).
* ``teacher_timetable``: a teacher's week across classes.

Reading needs ``school.read`` in the school; writing ``timetable.write``.
"""
from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext as _

from education import permissions, timetable
from education.models import School, SchoolClass, Semester, StaffMember, Subject, TimetableSlot

page_requires = permissions.page_requires
MAX_DB_ID = 2**63 - 1


def _get(queryset, pk: int):
    """The row ``pk`` of ``queryset`` (404 for an id no row can have)."""
    if pk > MAX_DB_ID:
        raise Http404
    return get_object_or_404(queryset, pk=pk)


def _semester(request, year, param: str = "semester") -> Semester:
    raw = request.GET.get(param) or request.POST.get(param) or ""
    if raw:
        if not raw.isdigit() or len(raw) > 18:
            raise Http404
        return get_object_or_404(Semester, pk=int(raw), year=year)
    semester = timetable.current_semester(year)
    if semester is None:
        raise Http404
    return semester


def _days():
    return [(day, timetable.day_name(day)) for day in timetable.WEEKDAYS]


def _table(week: dict, lessons: list[int]) -> list:
    """Rows per period: (period, [slot or None per day])."""
    return [(lesson, [week.get((day, lesson)) for day in timetable.WEEKDAYS]) for lesson in lessons]


@page_requires("module.open")
def timetables(request, school_id: int):
    school = _get(School.objects.all(), school_id)
    permissions.require(request.user, "school.read", school)
    from education.models import SchoolYear

    year = SchoolYear.objects.filter(current=True).first()
    if year is None:
        raise Http404
    semester = _semester(request, year)
    classes = SchoolClass.objects.filter(school=school, year=year).order_by("grade", "name")
    if request.GET.get("missing"):
        classes = timetable.classes_without_timetable([school], semester)
    counts = {}
    for class_id in TimetableSlot.objects.filter(semester=semester, school=school).values_list(
            "school_class_id", flat=True):
        counts[class_id] = counts.get(class_id, 0) + 1
    return render(request, "education/timetable/school.html", {
        "school": school, "semester": semester, "semesters": Semester.objects.filter(year=year),
        "classes": [(c, counts.get(c.pk, 0)) for c in classes], "missing": bool(request.GET.get("missing")),
        "teachers": StaffMember.objects.filter(school=school, active=True).order_by("full_name"),
        "may_write": permissions.can(request.user, "timetable.write", school),
    })


@page_requires("module.open")
def copy_timetable(request, school_id: int):
    school = _get(School.objects.all(), school_id)
    if request.method != "POST":
        raise Http404
    if not permissions.can(request.user, "timetable.write", school):
        raise PermissionDenied
    from education.models import SchoolYear

    year = SchoolYear.objects.filter(current=True).first()
    source = get_object_or_404(Semester, year=year, number=1)
    target = get_object_or_404(Semester, year=year, number=2)
    try:
        copied = timetable.copy_semester(request.user, school, source, target)
    except ValidationError as exc:
        messages.error(request, exc.messages[0])
    else:
        messages.success(request, _("%(n)s periods copied to semester 2.") % {"n": copied})
    return HttpResponseRedirect(reverse("education:timetables", args=[school.pk]) + f"?semester={target.pk}")


def _class_for(request, class_id: int) -> SchoolClass:
    school_class = _get(SchoolClass.objects.select_related("school", "year"), class_id)
    permissions.require(request.user, "school.read", school_class.school)
    return school_class


@page_requires("module.open")
def class_timetable(request, class_id: int):
    school_class = _class_for(request, class_id)
    semester = _semester(request, school_class.year)
    week = timetable.class_week(school_class, semester)
    return render(request, "education/timetable/class.html", {
        "school_class": school_class, "semester": semester, "days": _days(),
        "semesters": Semester.objects.filter(year=school_class.year),
        "rows": _table(week, timetable.lessons_shown(week)), "hints": timetable.hints(school_class, semester),
        "may_write": permissions.can(request.user, "timetable.write", school_class.school),
    })


def _grid_cells(post, school_class, subjects: dict, teachers: dict) -> tuple[dict, dict, dict]:
    """The cells chosen in the grid, what was chosen (to show again), and the unreadable cells."""
    cells, chosen, errors = {}, {}, {}
    for day in timetable.WEEKDAYS:
        for lesson in timetable.LESSONS:
            key = f"{day}_{lesson}"
            subject_id = post.get(f"s_{key}", "").strip()
            teacher_id = post.get(f"t_{key}", "").strip()
            room = post.get(f"r_{key}", "")
            chosen[key] = {"subject": subject_id, "teacher": teacher_id, "room": room}
            if not subject_id:
                if teacher_id or room.strip():
                    errors[key] = [_("Choose the subject of this period, or leave it empty.")]
                continue
            subject = subjects.get(subject_id)
            teacher = teachers.get(teacher_id) if teacher_id else None
            if subject is None or (teacher_id and teacher is None):
                errors[key] = [_("Choose a subject of the grade and a teacher of the school.")]
                continue
            cells[(day, lesson)] = timetable.Cell(day, lesson, subject, teacher, room)
    return cells, chosen, errors


@page_requires("module.open")
def class_timetable_edit(request, class_id: int):
    school_class = _class_for(request, class_id)
    if not permissions.can(request.user, "timetable.write", school_class.school):
        raise PermissionDenied
    semester = _semester(request, school_class.year)
    subjects = {str(s.pk): s for s in Subject.objects.filter(grade=school_class.grade).order_by("order", "name")}
    teachers = {str(t.pk): t for t in StaffMember.objects.filter(school=school_class.school, active=True)
                .order_by("full_name")}
    week = timetable.class_week(school_class, semester)
    status, errors = 200, {}
    if request.method == "POST":
        cells, chosen, errors = _grid_cells(request.POST, school_class, subjects, teachers)
        if not errors:
            try:
                written = timetable.save_grid(request.user, school_class, semester, cells)
            except ValidationError as exc:
                errors = exc.message_dict
            else:
                messages.success(request, _("Timetable of class %(name)s saved: %(n)s periods a week.")
                                 % {"name": school_class.name, "n": written})
                return HttpResponseRedirect(reverse("education:class_timetable", args=[school_class.pk])
                                            + f"?semester={semester.pk}")
        status = 400
        lessons = list(timetable.LESSONS)
    else:
        chosen = {f"{day}_{lesson}": {"subject": str(s.subject_id), "teacher": str(s.teacher_id or ""), "room": s.room}
                  for (day, lesson), s in week.items()}
        lessons = list(timetable.LESSONS)
    rows = []
    for lesson in lessons:
        cells_row = []
        for day in timetable.WEEKDAYS:
            key = f"{day}_{lesson}"
            cells_row.append({"key": key, "chosen": chosen.get(key, {}), "errors": errors.get(key, []),
                              "label": _("Period %(lesson)s, %(day)s") % {"lesson": lesson,
                                                                        "day": timetable.day_name(day)}})
        rows.append((lesson, cells_row))
    return render(request, "education/timetable/edit.html", {
        "school_class": school_class, "semester": semester, "days": _days(), "rows": rows,
        "subjects": list(subjects.values()), "teachers": list(teachers.values()),
        "errors": [m for ms in errors.values() for m in ms], "hints": timetable.hints(school_class, semester),
    }, status=status)


@page_requires("module.open")
def teacher_timetable(request, staff_id: int):
    staff = _get(StaffMember.objects.select_related("school"), staff_id)
    permissions.require(request.user, "school.read", staff.school)
    from education.models import SchoolYear

    year = SchoolYear.objects.filter(current=True).first()
    if year is None:
        raise Http404
    semester = _semester(request, year)
    week = timetable.teacher_week(staff, semester)
    return render(request, "education/timetable/teacher.html", {
        "staff": staff, "semester": semester, "semesters": Semester.objects.filter(year=year), "days": _days(),
        "rows": _table(week, timetable.lessons_shown(week)), "periods": len(week)})
