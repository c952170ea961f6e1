"""The assessment pages (``/schools/…``), thin over ``education.assessment``.

* ``class_marks``: a class's subjects × periods with how many cells are filled, links to each
  grid, to the homeroom's evaluations and to the results;
* ``grid``: the marks grid of a subject and period: a plain form (one save button) that
  ``static/education/grid.js`` turns into a spreadsheet-like grid saving as it goes through
  ``grid_save`` (JSON);
* ``evaluations`` / ``evaluations_save``: conduct or the primary qualities and competencies;
* ``results``: the computed results of a class and period; the principal confirms decisions
  after the summer retest;
* ``locks``: a school's semesters, locked or not, the lock log, and the principal's lock and
  unlock.

Reading needs ``marks.read`` in the class's school (logged as a read of the class's list);
writing the checks of the services.
"""
from __future__ import annotations

import json

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from education import access, assessment, permissions, rules
from education.models import (
    Enrolment, LockEvent, Period, School, SchoolClass, Semester, StudentResult, Subject, SubjectResult,
    TeachingAssignment,
)

page_requires = permissions.page_requires
PERIOD_LABELS = dict(Period.choices)


def _class_for(request, class_id: int) -> SchoolClass:
    school_class = get_object_or_404(SchoolClass.objects.select_related("school", "year", "homeroom_teacher"),
                                     pk=class_id)
    permissions.require(request.user, "marks.read", school_class.school)
    return school_class


def _subject_for(school_class, subject_id: int, period: str) -> Subject:
    subject = get_object_or_404(Subject, pk=subject_id, grade=school_class.grade)
    if not assessment.columns_for(school_class, subject, period):
        raise Http404
    return subject


def _number(value) -> int:
    """A posted id, 0 (found nowhere) when it is not one."""
    text = str(value or "")
    return int(text) if text.isdigit() and len(text) < 10 else 0


def _message(exc: ValidationError) -> str:
    return exc.messages[0] if exc.messages else _("The data sent are not valid.")


@page_requires("module.open")
def marks_index(request):
    """The classes whose marks the person reads, their own assignments first; ``?missing=1``: the
    grids of the current semester with marks missing (the inbox's line)."""
    user = request.user
    missing = request.GET.get("missing") == "1"
    grids = assessment.missing_grids(user) if missing else []
    schools = [s for s in permissions.schools_for(user).order_by("name") if permissions.can(user, "marks.read", s)]
    mine = set(TeachingAssignment.objects.filter(teacher__user_id=user.pk).values_list("school_class_id", flat=True))
    classes = []
    for school in schools:
        rows = list(SchoolClass.objects.filter(school=school, year__current=True, grade__gte=1)
                    .order_by("grade", "name"))
        rows.sort(key=lambda c: c.pk not in mine)
        classes.append({"school": school, "classes": rows,
                        "principal": permissions.can(user, "marks.lock", school)})
    return render(request, "education/assessment/index.html", {
        "schools": classes, "missing": missing, "grids": grids, "mine": mine,
        "period_labels": PERIOD_LABELS})


@page_requires("module.open")
def class_marks(request, class_id: int):
    school_class = _class_for(request, class_id)
    periods = [p for p in assessment.entry_periods(school_class) if p != Period.RETEST]
    done = assessment.completion(school_class)
    rows = []
    for subject in assessment.subjects_of(school_class):
        rows.append({"subject": subject, "cells": [
            {"period": p, "filled": done[(subject.pk, p)][0], "expected": done[(subject.pk, p)][1]}
            for p in periods]})
    return render(request, "education/assessment/class.html", {
        "school_class": school_class, "periods": [(p, PERIOD_LABELS[p]) for p in periods], "rows": rows,
        "evaluation_periods": [(p, PERIOD_LABELS[p]) for p in assessment.evaluation_periods(school_class)],
        "result_periods": _result_periods(school_class),
        "may_evaluate": assessment.may_write_evaluations(request.user, school_class),
        "primary": assessment.is_primary(school_class),
    })


def _result_periods(school_class):
    periods = (Period.SEM1, Period.YEAR) if assessment.is_primary(school_class) \
        else (Period.SEM1, Period.SEM2, Period.YEAR, Period.RETEST)
    return [(p, PERIOD_LABELS[p]) for p in periods]


def _cells_from_post(post, columns) -> tuple[list, dict]:
    """The cells a plain form sent that differ from what it showed: ``c_<enrolment>_<column>``
    with ``v_…`` (version) and ``o_…`` (the value shown)."""
    cells, typed = [], {}
    for name, value in post.items():
        if not name.startswith("c_"):
            continue
        try:
            _prefix, enrolment, column = name.split("_", 2)
        except ValueError:
            continue
        if column not in columns:
            continue
        typed[(enrolment, column)] = value
        if value.strip() != post.get(f"o_{enrolment}_{column}", "").strip():
            cells.append({"enrolment": enrolment, "column": column, "value": value,
                          "version": post.get(f"v_{enrolment}_{column}", "0")})
    return cells, typed


def _merge(table, results, typed):
    """Show each refused cell as it was typed, with its message."""
    by_cell = {(str(r["enrolment"]), r["column"]): r for r in results}
    for row in table["rows"]:
        for cell in row["cells"]:
            key = (str(row["enrolment"].pk), cell["column"])
            result = by_cell.get(key)
            if result and result["status"] != "saved":
                cell.update(value=typed.get(key, cell["value"]), error=result["message"],
                            status=result["status"], other=result.get("other_value", ""),
                            other_by=result.get("other_by", ""))
                if result["status"] == "conflict":
                    cell["version"] = result.get("version", cell["version"])


def _grid_page(request, school_class, *, title, table, may_write, save_url, levels, headers, back):
    return render(request, "education/assessment/grid.html", {
        "school_class": school_class, "title": title, "table": table, "may_write": may_write,
        "save_url": save_url, "levels": [(c, rules.label(c)) for c in levels],
        "headers": headers, "back": back, "locked": table.get("locked"),
    })


def _column_header(column):
    names = {"mid": _("Mid-term"), "end": _("End of term"), "level": _("Level"), "test": _("Test score"),
             "retest": _("Retest")}
    if column.startswith("tx"):
        return _("Regular %(n)s") % {"n": column[2:]}
    return names.get(column, column)


@page_requires("module.open")
def grid(request, class_id: int, subject_id: int, period: str):
    school_class = _class_for(request, class_id)
    subject = _subject_for(school_class, subject_id, period)
    may_write = permissions.may_write_marks(request.user, school_class, subject)
    results, typed = [], {}
    if request.method == "POST":
        if not may_write:
            raise PermissionDenied
        columns = assessment.columns_for(school_class, subject, period)
        cells, typed = _cells_from_post(request.POST, columns)
        try:
            results = assessment.save_cells(request.user, school_class, subject, period, cells)
        except ValidationError as exc:
            messages.error(request, _message(exc))
        else:
            if all(r["status"] == "saved" for r in results):
                messages.success(request, _("Saved."))
                return HttpResponseRedirect(request.path)
            messages.error(request, _("Some marks were not saved: see the cells marked below."))
    access.log_class_read(request.user, school_class, what=f"marks {subject.code} {period}")
    table = assessment.grid(school_class, subject, period)
    _merge(table, results, typed)
    locked = period != Period.RETEST and assessment.is_locked(school_class, period)
    table["locked"] = locked
    return _grid_page(
        request, school_class, title=f"{subject.name} · {PERIOD_LABELS[period]}", table=table,
        may_write=may_write and not locked,
        save_url=reverse("education:marks_save", args=[school_class.pk, subject.pk, period]),
        levels=assessment.levels_for(school_class, subject) if "level" in table["columns"] else (),
        headers=[_column_header(c) for c in table["columns"]],
        back=reverse("education:class_marks", args=[school_class.pk]))


def _json_cells(request):
    try:
        body = json.loads(request.body or b"{}")
    except (ValueError, UnicodeDecodeError):
        return None
    cells = body.get("cells") if isinstance(body, dict) else None
    if not isinstance(cells, list) or len(cells) > 2000 or not all(isinstance(c, dict) for c in cells):
        return None
    return cells


def _computed(school_class, subject, enrolment_ids, period):
    found = {}
    for result in SubjectResult.objects.filter(enrolment_id__in=enrolment_ids, subject=subject, period=period):
        found[str(result.enrolment_id)] = (f"{result.average:.1f}".replace(".", ",")
                                           if result.average is not None else result.level)
    return found


@require_POST
@page_requires("module.open")
def grid_save(request, class_id: int, subject_id: int, period: str):
    school_class = _class_for(request, class_id)
    subject = _subject_for(school_class, subject_id, period)
    cells = _json_cells(request)
    if cells is None:
        return JsonResponse({"code": "invalid", "detail": _("The data sent are not valid."), "fields": {}},
                            status=400)
    try:
        results = assessment.save_cells(request.user, school_class, subject, period, cells)
    except ValidationError as exc:
        return JsonResponse({"code": exc.code or "invalid", "detail": _message(exc), "fields": {}},
                            status=409 if exc.code in ("locked", "conflict") else 400)
    touched = {r["enrolment"] for r in results if isinstance(r["enrolment"], int)}
    return JsonResponse({"cells": results, "computed": _computed(school_class, subject, touched, period)})


@page_requires("module.open")
def evaluations(request, class_id: int, period: str):
    school_class = _class_for(request, class_id)
    if period not in assessment.evaluation_periods(school_class):
        raise Http404
    may_write = assessment.may_write_evaluations(request.user, school_class)
    results, typed = [], {}
    table = assessment.evaluation_grid(school_class, period)
    if request.method == "POST":
        if not may_write:
            raise PermissionDenied
        cells, typed = _cells_from_post(request.POST, table["columns"])
        try:
            results = assessment.save_evaluations(request.user, school_class, period, cells)
        except ValidationError as exc:
            messages.error(request, _message(exc))
        else:
            if all(r["status"] == "saved" for r in results):
                messages.success(request, _("Saved."))
                return HttpResponseRedirect(request.path)
            messages.error(request, _("Some marks were not saved: see the cells marked below."))
        table = assessment.evaluation_grid(school_class, period)
    access.log_class_read(request.user, school_class, what=f"evaluations {period}")
    _merge(table, results, typed)
    locked = assessment.is_locked(school_class, period)
    table["locked"] = locked
    title = _("Qualities and competencies") if assessment.is_primary(school_class) else _("Conduct")
    return _grid_page(
        request, school_class, title=f"{title} · {PERIOD_LABELS[period]}", table=table,
        may_write=may_write and not locked,
        save_url=reverse("education:evaluations_save", args=[school_class.pk, period]),
        levels=assessment.aspect_levels(school_class), headers=table["headers"],
        back=reverse("education:class_marks", args=[school_class.pk]))


@require_POST
@page_requires("module.open")
def evaluations_save(request, class_id: int, period: str):
    school_class = _class_for(request, class_id)
    cells = _json_cells(request)
    if cells is None:
        return JsonResponse({"code": "invalid", "detail": _("The data sent are not valid."), "fields": {}},
                            status=400)
    try:
        results = assessment.save_evaluations(request.user, school_class, period, cells)
    except ValidationError as exc:
        return JsonResponse({"code": exc.code or "invalid", "detail": _message(exc), "fields": {}},
                            status=409 if exc.code in ("locked", "conflict") else 400)
    return JsonResponse({"cells": results, "computed": {}})


@page_requires("module.open")
def results(request, class_id: int, period: str):
    school_class = _class_for(request, class_id)
    if period not in dict(_result_periods(school_class)):
        raise Http404
    principal = permissions.can(request.user, "marks.lock", school_class.school)
    if request.method == "POST":
        if not principal:
            raise PermissionDenied
        enrolment = get_object_or_404(Enrolment, pk=_number(request.POST.get("enrolment")), school_class=school_class)
        try:
            assessment.confirm_decision(request.user, enrolment, request.POST.get("decision", ""))
        except ValidationError as exc:
            messages.error(request, _message(exc))
        else:
            messages.success(request, _("The decision is confirmed."))
        return HttpResponseRedirect(request.path)
    access.log_class_read(request.user, school_class, what=f"results {period}")
    enrolments = list(Enrolment.objects.filter(school_class=school_class, status__in=assessment.LISTED)
                      .select_related("student__resident").order_by("number", "pk"))
    subjects = assessment.subjects_of(school_class)
    subject_period = Period.YEAR if period == Period.RETEST else period
    by_subject = {(r.enrolment_id, r.subject_id): r for r in SubjectResult.objects.filter(
        enrolment__in=enrolments, period=subject_period)}
    by_student = {r.enrolment_id: r for r in StudentResult.objects.filter(enrolment__in=enrolments, period=period)}
    year_rows = {r.enrolment_id: r for r in StudentResult.objects.filter(enrolment__in=enrolments,
                                                                         period=Period.YEAR)}
    decisions = dict(StudentResult.Decision.choices)
    rows = []
    for enrolment in enrolments:
        result = by_student.get(enrolment.pk)
        values = []
        for subject in subjects:
            sr = by_subject.get((enrolment.pk, subject.pk))
            if sr is None:
                values.append("")
            elif sr.average is not None:
                values.append(f"{sr.average:.1f}".replace(".", ","))
            else:
                values.append(sr.level)
        proposed = ""
        if period == Period.RETEST and result is not None:
            proposed = assessment.proposed_after_retest(year_rows.get(enrolment.pk), result, school_class.grade)
        rows.append({
            "enrolment": enrolment, "name": enrolment.student.resident.full_name, "values": values,
            "result": result,
            "average": f"{result.average:.1f}".replace(".", ",") if result and result.average is not None else "",
            "learning": rules.label(result.learning) if result else "",
            "conduct": rules.label(result.conduct) if result else "",
            "outcome": rules.label(result.outcome) if result else "",
            "decision": decisions.get(result.decision, "") if result and result.decision else "",
            "proposed": proposed, "proposed_label": decisions.get(proposed, ""),
        })
    return render(request, "education/assessment/results.html", {
        "school_class": school_class, "period": period, "period_label": PERIOD_LABELS[period], "rows": rows,
        "subjects": subjects, "primary": assessment.is_primary(school_class), "principal": principal,
        "result_periods": _result_periods(school_class),
    })


@page_requires("module.open")
def locks(request, school_id: int):
    school = get_object_or_404(School, pk=school_id)
    permissions.require(request.user, "marks.read", school)
    principal = permissions.can(request.user, "marks.lock", school)
    if request.method == "POST":
        if not principal:
            raise PermissionDenied
        semester = get_object_or_404(Semester, pk=_number(request.POST.get("semester")))
        try:
            if request.POST.get("action") == "unlock":
                assessment.unlock(request.user, school, semester, request.POST.get("reason", ""))
                messages.success(request, _("The semester is unlocked."))
            else:
                assessment.lock(request.user, school, semester)
                messages.success(request, _("The semester is locked and the results are computed."))
        except ValidationError as exc:
            messages.error(request, _message(exc))
        return HttpResponseRedirect(request.path)
    locked = {lock.semester_id: lock for lock in school.locks.all()}
    semesters = [{"semester": s, "lock": locked.get(s.pk)} for s in
                 Semester.objects.select_related("year").order_by("-year__starts_on", "number")[:6]]
    events = LockEvent.objects.filter(school=school).select_related("semester__year")[:50]
    return render(request, "education/assessment/locks.html", {
        "school": school, "semesters": semesters, "events": events, "principal": principal,
    })
