"""The attendance pages of the schools (``/schools/…``), thin over ``education.attendance``.

* ``attendance_index``: the classes the person takes attendance for (homeroom classes first) and
  the other classes of their school(s).
* ``attendance_day``: a class's day (``dd-mm-yyyy`` or ``yyyy-mm-dd`` in the address), a page made
  for a phone: every student present unless marked absent with leave, without leave or late, with
  a short reason; saving writes the day exactly (``attendance.take_attendance``). A day that is no
  school day shows why, without a form.
* ``attendance_month``: a class's month, students × days (P, K, M), totals and the flags; and
  its .xlsx.
* ``attendance_school``: a school's attendance rate per class and per day of a month, and its .xlsx
  (figures without a name: the commune's chairman and vice-chairman read them too).

Reading needs ``school.read`` in the class's school (logged as a read of the class's list);
writing ``permissions.may_take_attendance``. The chairman and vice-chairman read the schools'
rates only, never a class's list.
"""
from __future__ import annotations

import datetime

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext as _

from core import periods, xlsx
from education import access, attendance, permissions
from education.models import Absence, School, SchoolClass

page_requires = permissions.page_requires


MAX_DB_ID = 2**63 - 1


def _class_for(request, class_id: int) -> SchoolClass:
    if class_id > MAX_DB_ID:
        raise Http404
    school_class = get_object_or_404(SchoolClass.objects.select_related("school", "year", "homeroom_teacher"),
                                     pk=class_id)
    permissions.require(request.user, "school.read", school_class.school)
    return school_class


def _month_of(request) -> datetime.date:
    raw = request.GET.get("month", "")
    month = attendance.parse_month(raw) if raw else attendance.today().replace(day=1)
    if month is None:
        raise Http404
    return month


def _month_links(month: datetime.date) -> dict:
    previous = (month - datetime.timedelta(days=1)).replace(day=1)
    following = (month + datetime.timedelta(days=32)).replace(day=1)
    return {"previous": f"{previous:%Y-%m}", "next": f"{following:%Y-%m}" if following <= attendance.today() else ""}


@page_requires("module.open")
def attendance_index(request):
    user = request.user
    schools = list(permissions.schools_for(user).order_by("name"))
    own = list(attendance.homeroom_classes(user))
    others = []
    from education.models import SchoolYear

    for school in schools:
        others.append((school, list(SchoolClass.objects.filter(
            school=school, year__in=SchoolYear.objects.filter(current=True)).order_by("grade", "name"))))
    return render(request, "education/attendance/index.html", {
        "own": own, "schools": others, "today": attendance.today(),
        "leader_schools": School.objects.filter(active=True).order_by("name") if _leader(user) else [],
        "managers": {s.pk for s in schools if permissions.positions_in(user, s) & permissions.MANAGERS}})


@page_requires("module.open")
def attendance_today(request, class_id: int):
    _class_for(request, class_id)
    return HttpResponseRedirect(reverse("education:attendance_day", args=[class_id, attendance.today().isoformat()]))


def _marks_from(post, sheet) -> tuple[list, dict]:
    """The marks sent by the form, and what was typed per enrolment (to show it again)."""
    marks, typed = [], {}
    for key, value in post.items():
        if not key.startswith("kind_"):
            continue
        raw_id = key[5:]
        if not raw_id.isdigit() or len(raw_id) > 18:
            continue
        enrolment_id = int(raw_id)
        reason = post.get(f"reason_{raw_id}", "")
        marks.append(attendance.Mark(enrolment_id, value, reason))
        typed[enrolment_id] = (value, reason)
    return marks, typed


@page_requires("module.open")
def attendance_day(request, class_id: int, day: str):
    school_class = _class_for(request, class_id)
    date = attendance.parse_day(day)
    if date is None:
        raise Http404
    may_write = permissions.may_take_attendance(request.user, school_class)
    if request.method == "POST" and not may_write:
        raise PermissionDenied
    problem = attendance.school_day_problem(school_class, date)
    problem_note = ""
    closed = attendance.correction_problem(request.user, school_class, date) if may_write and not problem else None
    if closed is not None and request.method != "POST":
        may_write, problem_note = False, closed.messages[0]
    errors, typed, status = [], {}, 200
    if request.method == "POST":
        sheet = attendance.day_sheet(school_class, date)
        marks, typed = _marks_from(request.POST, sheet)
        try:
            attendance.take_attendance(request.user, school_class, date, marks)
        except ValidationError as exc:
            errors, status = exc.messages, 400
        else:
            counts = attendance.day_sheet(school_class, date).counts
            messages.success(request, _("Attendance of %(date)s saved: %(present)s of %(students)s present.")
                             % {"date": f"{date:%d/%m/%Y}", **counts})
            return HttpResponseRedirect(request.path)
    sheet = attendance.day_sheet(school_class, date)
    access.log_class_read(request.user, school_class, what=f"attendance {date:%d/%m/%Y}")
    rows = []
    for enrolment, absence in sheet.rows:
        kind, reason = typed.get(enrolment.pk, (absence.kind if absence else "", absence.reason if absence else ""))
        rows.append({"enrolment": enrolment, "kind": kind, "reason": reason})
    previous, following = date - datetime.timedelta(days=1), date + datetime.timedelta(days=1)
    return render(request, "education/attendance/day.html", {
        "school_class": school_class, "date": date, "sheet": sheet, "rows": rows,
        "problem": problem.messages[0] if problem is not None else "", "note": problem_note,
        "may_write": may_write and problem is None, "errors": errors, "kinds": Absence.Kind.choices,
        "previous": previous.isoformat(), "next": following.isoformat() if following <= attendance.today() else "",
        "flags": attendance.flags(school_class, date),
    }, status=status)


@page_requires("module.open")
def attendance_month(request, class_id: int):
    school_class = _class_for(request, class_id)
    month = _month_of(request)
    grid = attendance.month_grid(school_class, month)
    access.log_class_read(request.user, school_class, what=f"attendance {month:%m/%Y}")
    return render(request, "education/attendance/month.html", {
        "school_class": school_class, "grid": grid, "month": month, "links": _month_links(month),
        "may_write": permissions.may_take_attendance(request.user, school_class),
    })


def _file(content: bytes, prefix: str, month: datetime.date) -> HttpResponse:
    period = periods.month(month.year, month.month)
    response = HttpResponse(content, content_type=xlsx.CONTENT_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{periods.file_name(prefix, connection.tenant, period, "xlsx")}"'
    return response


@page_requires("module.open")
def attendance_month_xlsx(request, class_id: int):
    school_class = _class_for(request, class_id)
    month = _month_of(request)
    grid = attendance.month_grid(school_class, month)
    access.log_export(request.user, what=f"attendance of class {school_class.name} {month:%m/%Y}",
                      count=len(grid.rows))
    from django.utils.text import slugify

    return _file(attendance.month_xlsx(grid), f"diem-danh-lop-{slugify(school_class.name) or school_class.pk}", month)


def _leader(user) -> bool:
    return bool(permissions.user_roles(user) & permissions.LEADERS)


def _school_for(request, school_id: int) -> School:
    """The school whose rates are read: by its staff, and by the commune's leaders (figures
    without a name)."""
    if school_id > MAX_DB_ID:
        raise Http404
    school = get_object_or_404(School, pk=school_id)
    if not _leader(request.user):
        permissions.require(request.user, "school.read", school)
    return school


@page_requires("module.open")
def attendance_school(request, school_id: int):
    school = _school_for(request, school_id)
    month = _month_of(request)
    first, last = attendance.month_bounds(month)
    rates = attendance.school_rates(school, first, last)
    return render(request, "education/attendance/school.html", {
        "school": school, "rates": rates, "month": month, "links": _month_links(month),
        "may_read": permissions.can(request.user, "school.read", school)})


@page_requires("module.open")
def attendance_school_xlsx(request, school_id: int):
    school = _school_for(request, school_id)
    month = _month_of(request)
    first, last = attendance.month_bounds(month)
    rates = attendance.school_rates(school, first, last)
    access.log_export(request.user, what=f"attendance rates of {school.name} {month:%m/%Y}")
    return _file(attendance.rates_xlsx(rates), "ty-le-chuyen-can", month)
