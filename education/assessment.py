"""The assessment services: saving cells of the marks grid and of the evaluations (with versions,
so that two teachers saving one cell see a conflict), locking and unlocking a school's semester,
and computing the results (``SubjectResult``, ``StudentResult``) from the cells by
``education.rules``.

* ``save_cells(user, school_class, subject, period, cells)``: marks of a subject;
* ``save_evaluations(user, school_class, period, cells)``: conduct (lower secondary) or the
  primary qualities and competencies, by the homeroom teacher or the school's leaders;
* ``lock`` / ``unlock``: the principal; both logged in ``LockEvent``; locking computes the
  school's results of the year;
* ``recompute_class`` / ``recompute_school``: set-based (one read of the cells, one upsert of
  the results);
* ``confirm_decision``: the principal confirms a decision after the summer retest.

A cell is ``{"enrolment": id, "column": "tx1", "value": "8,5", "version": 0}`` (``column`` is the
aspect for evaluations; ``version`` the one the grid showed, 0 for an empty cell). Each cell
gets a result: ``saved`` (with its new version), ``error`` (with the Vietnamese message) or
``conflict`` (with the value another person saved, who and when): a conflicting or wrong cell is
not written, the others are, in one transaction.

Retest marks (period ``retest``) are entered after the year's lock and are not held by it.
"""
from __future__ import annotations

import datetime
from collections import defaultdict
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from education import curriculum, permissions, rules
from education.models import (
    Absence, AssessmentLock, Enrolment, Evaluation, LockEvent, Mark, Period, SchoolClass, Semester, StudentResult,
    Subject, SubjectResult,
)

SECONDARY_PERIODS = (Period.SEM1, Period.SEM2, Period.RETEST)
PRIMARY_PERIODS = (Period.MID1, Period.SEM1, Period.MID2, Period.YEAR)
LISTED = (Enrolment.Status.ACTIVE, Enrolment.Status.COMPLETED)
SEMESTER_OF = {Period.MID1: 1, Period.SEM1: 1, Period.MID2: 2, Period.SEM2: 2, Period.YEAR: 2}


def is_primary(school_class) -> bool:
    return 1 <= school_class.grade <= 5


def subjects_of(school_class) -> list:
    return list(Subject.objects.filter(grade=school_class.grade).order_by("order", "name"))


def entry_periods(school_class) -> tuple:
    """The periods whose cells are typed in for the class."""
    return PRIMARY_PERIODS if is_primary(school_class) else SECONDARY_PERIODS


def columns_for(school_class, subject, period: str) -> list[str]:
    """The columns of the grid of ``subject`` at ``period`` (empty when the period has none)."""
    if period not in entry_periods(school_class):
        return []
    if subject.kind == Subject.Kind.PRIMARY:
        columns = ["level"]
        if subject.tested and period in rules.test_periods(school_class.grade, subject.code):
            columns.append("test")
        return columns
    if subject.kind == Subject.Kind.COMMENT:
        return ["level"]
    if period == Period.RETEST:
        return ["retest"]
    return [f"tx{i}" for i in range(1, subject.regular_marks + 1)] + ["mid", "end"]


def levels_for(school_class, subject) -> tuple:
    return rules.PRIMARY_SUBJECT_LEVELS if subject.kind == Subject.Kind.PRIMARY else rules.COMMENT_LEVELS


def aspects_for(school_class) -> list[dict]:
    return curriculum.aspects()["primary" if is_primary(school_class) else "lower_secondary"]


def evaluation_periods(school_class) -> tuple:
    return (Period.SEM1, Period.YEAR) if is_primary(school_class) else (Period.SEM1, Period.SEM2)


def aspect_levels(school_class) -> tuple:
    return rules.PRIMARY_ASPECT_LEVELS if is_primary(school_class) else rules.CONDUCT_LEVELS


# --- locks ---------------------------------------------------------------------------------------

def semester_for(school_class, period: str):
    number = SEMESTER_OF.get(period)
    if number is None:
        return None
    return Semester.objects.filter(year_id=school_class.year_id, number=number).first()


def is_locked(school_class, period: str) -> bool:
    semester = semester_for(school_class, period)
    return bool(semester and AssessmentLock.objects.filter(school_id=school_class.school_id,
                                                           semester=semester).exists())


def locked_message(semester) -> str:
    return _("The marks of %(semester)s are locked by the principal: nothing can be changed until it is unlocked.") % {
        "semester": semester}


def lock(user, school, semester) -> AssessmentLock:
    permissions.require(user, "marks.lock", school)
    with transaction.atomic():
        if AssessmentLock.objects.select_for_update().filter(school=school, semester=semester).exists():
            raise ValidationError(_("This semester is already locked."), code="already_locked")
        try:
            with transaction.atomic():
                row = AssessmentLock.objects.create(school=school, semester=semester, locked_by=user)
        except IntegrityError:
            raise ValidationError(_("This semester is already locked."), code="already_locked") from None
        LockEvent.objects.create(school=school, semester=semester, action=LockEvent.Action.LOCK, user=user,
                                 username=user.get_username())
        recompute_school(school, semester.year)
    return row


def unlock(user, school, semester, reason: str) -> None:
    permissions.require(user, "marks.lock", school)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(_("Say why the marks are unlocked."), code="reason_required")
    with transaction.atomic():
        deleted, _rows = AssessmentLock.objects.filter(school=school, semester=semester).delete()
        if not deleted:
            raise ValidationError(_("This semester is not locked."), code="not_locked")
        LockEvent.objects.create(school=school, semester=semester, action=LockEvent.Action.UNLOCK, user=user,
                                 username=user.get_username(), reason=reason[:300])


# --- saving cells --------------------------------------------------------------------------------

def _version(value) -> int:
    try:
        return max(0, int(value or 0))
    except (TypeError, ValueError):
        return -1


SCORE_MESSAGES = {
    "not_a_number": lambda: _("A mark is a number from 0 to 10, with at most one decimal (8,5)."),
    "out_of_range": lambda: _("A mark is between 0 and 10."),
    "too_many_decimals": lambda: _("A mark has at most one decimal: 8,5, not 8,25."),
    "not_whole": lambda: _("A test score is a whole number from 1 to 10."),
    "test_out_of_range": lambda: _("A test score is a whole number from 1 to 10."),
}


def _parse(column: str, raw, allowed_levels) -> dict:
    """The stored fields of a cell's value, or ValueError(message)."""
    text = "" if raw is None else str(raw).strip()
    if column == "level":
        code = text.upper()
        aliases = {"Đ": rules.PASS, "CĐ": rules.FAIL}
        code = aliases.get(code, code)
        if code and code not in allowed_levels:
            raise ValueError(_("Choose one of: %(levels)s.") % {
                "levels": ", ".join(f"{c} ({rules.label(c)})" for c in allowed_levels)})
        return {"score": None, "level": code}
    try:
        if column == "test":
            value = rules.parse_test_score(text)
            return {"score": None if value is None else Decimal(value), "level": ""}
        return {"score": rules.parse_score(text), "level": ""}
    except ValueError as exc:
        raise ValueError(SCORE_MESSAGES[str(exc)]()) from None


def _shown(row) -> str:
    if row is None:
        return ""
    if getattr(row, "level", ""):
        return row.level
    score = getattr(row, "score", None)
    if score is None:
        return ""
    if getattr(row, "column", "") == "test":
        return str(int(score))
    return f"{score:.1f}".replace(".", ",")


def _who(row) -> str:
    user = row.updated_by if row is not None and row.updated_by_id else None
    if user is None:
        return ""
    return getattr(user, "full_name", "") or user.get_username()


def _write(user, school_class, period, cells, *, model, key_field, allowed_columns, allowed_levels, extra):
    """The shared body of ``save_cells`` and ``save_evaluations`` (inside a transaction)."""
    enrolled = set(Enrolment.objects.filter(school_class=school_class, status=Enrolment.Status.ACTIVE)
                   .values_list("pk", flat=True))
    results, wanted = [], {}
    for index, cell in enumerate(cells):
        enrolment = cell.get("enrolment")
        column = str(cell.get("column") or "")
        result = {"enrolment": enrolment, "column": column, "status": "error", "message": ""}
        results.append(result)
        try:
            enrolment = int(enrolment)
        except (TypeError, ValueError):
            result["message"] = _("This student is not in the class.")
            continue
        result["enrolment"] = enrolment
        if enrolment not in enrolled:
            result["message"] = _("This student is not in the class.")
            continue
        if column not in allowed_columns:
            result["message"] = _("This column is not assessed for this subject and period.")
            continue
        version = _version(cell.get("version"))
        if version < 0:
            result["message"] = _("The cell's version is not valid: reload the page.")
            continue
        try:
            fields = _parse("level" if key_field == "aspect" else column, cell.get("value"), allowed_levels)
        except ValueError as exc:
            result["message"] = str(exc)
            continue
        wanted[(enrolment, column)] = (index, version, fields)
    if not wanted:
        return results
    existing = {
        (row.enrolment_id, getattr(row, key_field)): row
        for row in model.objects.select_for_update().filter(
            enrolment_id__in={e for e, _c in wanted}, period=period,
            **{f"{key_field}__in": {c for _e, c in wanted}}, **extra)
    }
    now = timezone.now()
    to_create, to_update = [], []
    for (enrolment, column), (index, version, fields) in wanted.items():
        result = results[index]
        row = existing.get((enrolment, column))
        stored_version = row.version if row is not None else 0
        if version != stored_version:
            result.update(status="conflict", version=stored_version, other_value=_shown(row),
                          other_by=_who(row),
                          other_at=timezone.localtime(row.updated_at).strftime("%d/%m/%Y %H:%M")
                          if row is not None else "",
                          message=_("Someone else saved this cell meanwhile: keep their value or overwrite it."))
            continue
        if row is None:
            if key_field == "aspect":
                fields = {"level": fields["level"]}
            row = model(enrolment_id=enrolment, period=period, version=1, updated_by=user, updated_at=now,
                        **{key_field: column}, **extra, **fields)
            to_create.append(row)
        else:
            for name, value in fields.items():
                if hasattr(row, name):
                    setattr(row, name, value)
            row.version += 1
            row.updated_by = user
            row.updated_at = now
            to_update.append(row)
        result.update(status="saved", version=row.version, value=_shown(row), message="")
    _save_rows(model, to_create, insert=True, user=user, now=now)
    _save_rows(model, to_update, insert=False, user=user, now=now)
    return results


SQL_TYPES = {"ForeignKey": "bigint", "BigIntegerField": "bigint", "CharField": "text", "TextField": "text",
             "DecimalField": "numeric", "PositiveIntegerField": "integer", "DateTimeField": "timestamptz"}


def _save_rows(model, rows, *, insert: bool, user, now) -> None:
    """Insert or update cells and write their history rows (``Mark.history``) in one statement
    from arrays: a grid's save of a few hundred cells in a few milliseconds, where the ORM's
    bulk_update and simple_history's bulk helpers take seconds. A cell inserted twice at once
    breaks the unique constraint: the caller retries and reports the conflict."""
    if not rows:
        return
    from django.db import connection

    qn = connection.ops.quote_name
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    table = qn(model._meta.db_table)
    history = qn(model.history.model._meta.db_table)
    columns = [qn(f.column) for f in fields]
    names = [f"c{i}" for i in range(len(fields))]
    arrays = [[getattr(row, f.attname) for row in rows] for f in fields]
    unnest = ", ".join(f"%s::{SQL_TYPES[f.get_internal_type()]}[]" for f in fields)
    if insert:
        write = (f"INSERT INTO {table} ({', '.join(columns)}) SELECT {', '.join(names)} "
                 f"FROM unnest({unnest}) AS t({', '.join(names)}) RETURNING *")
        kind = "+"
    else:
        arrays = [[row.pk for row in rows]] + arrays
        sets = ", ".join(f"{c} = t.{n}" for c, n in zip(columns, names))
        write = (f"UPDATE {table} AS m SET {sets} FROM unnest(%s::bigint[], {unnest}) AS t(pk, {', '.join(names)}) "
                 f"WHERE m.id = t.pk RETURNING m.*")
        kind = "~"
    copied = [qn("id")] + columns
    sql = (f"WITH w AS ({write}) INSERT INTO {history} ({', '.join(copied)}, history_date, history_change_reason, "
           f"history_type, history_user_id) SELECT {', '.join('w.' + c for c in copied)}, %s, NULL, %s, %s FROM w")
    with connection.cursor() as cursor:
        cursor.execute(sql, arrays + [now, kind, getattr(user, "pk", None)])


def _check_writable(school_class, period):
    if period not in entry_periods(school_class) and period not in evaluation_periods(school_class):
        raise ValidationError(_("This period is not assessed in this class."), code="bad_period")
    if period != Period.RETEST and is_locked(school_class, period):
        raise ValidationError(locked_message(semester_for(school_class, period)), code="locked")


def save_cells(user, school_class, subject, period, cells) -> list[dict]:
    """Save marks of ``subject`` in ``school_class`` at ``period``; returns a result per cell."""
    if subject.grade != school_class.grade:
        raise ValidationError(_("This subject is not taught in this grade."), code="bad_subject")
    if not permissions.may_write_marks(user, school_class, subject):
        raise PermissionDenied
    if period not in entry_periods(school_class):
        raise ValidationError(_("This period is not assessed in this class."), code="bad_period")
    columns = columns_for(school_class, subject, period)
    levels = levels_for(school_class, subject)
    for attempt in range(2):
        try:
            with transaction.atomic():
                _check_writable(school_class, period)
                results = _write(user, school_class, period, list(cells), model=Mark, key_field="column",
                                 allowed_columns=columns, allowed_levels=levels, extra={"subject_id": subject.pk})
                touched = {r["enrolment"] for r in results if r["status"] == "saved"}
                if touched:
                    recompute_class(school_class, enrolment_ids=touched)
                return results
        except IntegrityError:
            if attempt:  # two inserts of one cell at once: the second attempt reports the conflict
                raise ValidationError(_("Someone else saved these cells meanwhile: reload the page."),
                                      code="conflict") from None
    return []


def may_write_evaluations(user, school_class) -> bool:
    positions = permissions.positions_in(user, school_class.school_id)
    return bool(positions & {permissions.P.PRINCIPAL, permissions.P.VICE_PRINCIPAL}) \
        or permissions.is_homeroom_teacher(user, school_class)


def save_evaluations(user, school_class, period, cells) -> list[dict]:
    """Conduct (lower secondary) or qualities and competencies (primary); ``column`` is the aspect."""
    if not may_write_evaluations(user, school_class):
        raise PermissionDenied
    if period not in evaluation_periods(school_class):
        raise ValidationError(_("This period is not assessed in this class."), code="bad_period")
    aspects = [a["code"] for a in aspects_for(school_class)]
    for attempt in range(2):
        try:
            with transaction.atomic():
                _check_writable(school_class, period)
                results = _write(user, school_class, period, list(cells), model=Evaluation, key_field="aspect",
                                 allowed_columns=aspects, allowed_levels=aspect_levels(school_class), extra={})
                touched = {r["enrolment"] for r in results if r["status"] == "saved"}
                if touched:
                    recompute_class(school_class, enrolment_ids=touched)
                return results
        except IntegrityError:
            if attempt:
                raise ValidationError(_("Someone else saved these cells meanwhile: reload the page."),
                                      code="conflict") from None
    return []


# --- reading a grid ------------------------------------------------------------------------------

def grid(school_class, subject, period) -> dict:
    """The rows of a grid: students (listed enrolments) with their cells and the computed value."""
    enrolments = list(Enrolment.objects.filter(school_class=school_class, status__in=LISTED)
                      .select_related("student__resident").order_by("number", "pk"))
    columns = columns_for(school_class, subject, period)
    cells = defaultdict(dict)
    for row in Mark.objects.filter(enrolment__in=enrolments, subject=subject, period=period):
        cells[row.enrolment_id][row.column] = {"value": _shown(row), "version": row.version}
    results = {r.enrolment_id: r for r in SubjectResult.objects.filter(enrolment__in=enrolments, subject=subject,
                                                                       period=period)}
    rows = []
    for enrolment in enrolments:
        result = results.get(enrolment.pk)
        computed = ""
        if result is not None:
            computed = f"{result.average:.1f}".replace(".", ",") if result.average is not None else result.level
        rows.append({"enrolment": enrolment, "name": enrolment.student.resident.full_name,
                     "active": enrolment.status == Enrolment.Status.ACTIVE,
                     "cells": [dict(column=c, **cells[enrolment.pk].get(c, {"value": "", "version": 0}))
                               for c in columns],
                     "computed": computed})
    return {"columns": columns, "rows": rows}


def evaluation_grid(school_class, period) -> dict:
    enrolments = list(Enrolment.objects.filter(school_class=school_class, status__in=LISTED)
                      .select_related("student__resident").order_by("number", "pk"))
    aspects = aspects_for(school_class)
    cells = defaultdict(dict)
    for row in Evaluation.objects.filter(enrolment__in=enrolments, period=period):
        cells[row.enrolment_id][row.aspect] = {"value": row.level, "version": row.version}
    rows = [{"enrolment": e, "name": e.student.resident.full_name, "active": e.status == Enrolment.Status.ACTIVE,
             "cells": [dict(column=a["code"], **cells[e.pk].get(a["code"], {"value": "", "version": 0}))
                       for a in aspects], "computed": ""} for e in enrolments]
    return {"columns": [a["code"] for a in aspects], "headers": [a["name"] for a in aspects], "rows": rows}


def completion(school_class) -> dict:
    """{(subject id, period): (cells filled, cells expected)} for the class's entry periods."""
    students = Enrolment.objects.filter(school_class=school_class, status=Enrolment.Status.ACTIVE).count()
    filled = {
        (row["subject_id"], row["period"]): row["n"]
        for row in Mark.objects.filter(enrolment__school_class=school_class, enrolment__status=Enrolment.Status.ACTIVE)
        .filter(Q(score__isnull=False) | ~Q(level="")).values("subject_id", "period").annotate(n=Count("pk"))
    }
    found = {}
    for subject in subjects_of(school_class):
        for period in entry_periods(school_class):
            if period == Period.RETEST:
                continue
            expected = students * len(columns_for(school_class, subject, period))
            found[(subject.pk, period)] = (filled.get((subject.pk, period), 0), expected)
    return found


# --- results -------------------------------------------------------------------------------------

def _absences(enrolment_ids, year) -> dict:
    """{(enrolment id, period): days absent with or without leave} for sem1, sem2 and the year."""
    semesters = {s.number: s for s in Semester.objects.filter(year=year)}
    counts = defaultdict(int)
    rows = (Absence.objects.filter(enrolment_id__in=enrolment_ids,
                                   kind__in=(Absence.Kind.EXCUSED, Absence.Kind.UNEXCUSED),
                                   date__gte=year.starts_on, date__lte=year.ends_on)
            .values_list("enrolment_id", "date"))
    for enrolment_id, day in rows:
        counts[(enrolment_id, Period.YEAR)] += 1
        for number, period in ((1, Period.SEM1), (2, Period.SEM2)):
            semester = semesters.get(number)
            if semester and semester.starts_on <= day <= semester.ends_on:
                counts[(enrolment_id, period)] += 1
    return counts


def recompute_class(school_class, periods=None, enrolment_ids=None) -> int:
    """Compute and store the results of a class (or of some of its students); returns how many
    student results were written."""
    return _recompute([school_class], enrolment_ids=enrolment_ids, periods=periods)


def recompute_school(school, year) -> int:
    classes = list(SchoolClass.objects.filter(school=school, year=year, grade__gte=1))
    return _recompute(classes)


def _recompute(classes, *, enrolment_ids=None, periods=None) -> int:
    if not classes:
        return 0
    year = classes[0].year
    enrolments = Enrolment.objects.filter(school_class__in=classes, status__in=LISTED)
    if enrolment_ids is not None:
        enrolments = enrolments.filter(pk__in=enrolment_ids)
    enrolments = list(enrolments.values_list("pk", "school_class_id"))
    if not enrolments:
        return 0
    ids = [pk for pk, _c in enrolments]
    class_of = {c.pk: c for c in classes}
    grades = {c.grade for c in classes}
    subjects = defaultdict(list)
    for subject in Subject.objects.filter(grade__in=grades).order_by("order", "name"):
        subjects[subject.grade].append(subject)
    marks = defaultdict(dict)  # (enrolment, subject) -> {(period, column): value}
    for enrolment_id, subject_id, period, column, score, level in Mark.objects.filter(enrolment_id__in=ids) \
            .values_list("enrolment_id", "subject_id", "period", "column", "score", "level"):
        value = level if column == "level" else score
        if value is not None and value != "":
            marks[(enrolment_id, subject_id)][(period, column)] = value
    evaluations = defaultdict(dict)  # enrolment -> {(period, aspect): level}
    for enrolment_id, period, aspect, level in Evaluation.objects.filter(enrolment_id__in=ids) \
            .values_list("enrolment_id", "period", "aspect", "level"):
        if level:
            evaluations[enrolment_id][(period, aspect)] = level
    absences = _absences(ids, year)
    confirmed = {e: d for e, d in StudentResult.objects.filter(enrolment_id__in=ids, period=Period.RETEST)
                 .exclude(decision="").values_list("enrolment_id", "decision")}
    subject_rows, student_rows = [], []
    for enrolment_id, class_id in enrolments:
        school_class = class_of[class_id]
        grade_subjects = subjects[school_class.grade]
        if is_primary(school_class):
            _primary(enrolment_id, school_class, grade_subjects, marks, evaluations, absences, subject_rows,
                     student_rows)
        else:
            _secondary(enrolment_id, school_class, grade_subjects, marks, evaluations, absences, confirmed,
                       subject_rows, student_rows)
    if periods is not None:
        subject_rows = [r for r in subject_rows if r.period in periods]
        student_rows = [r for r in student_rows if r.period in periods]
    _upsert(SubjectResult, ["enrolment_id", "subject_id", "period"], ["average", "level"],
            [(r.enrolment_id, r.subject.pk, r.period, r.average, r.level) for r in subject_rows],
            ["bigint", "bigint", "varchar", "numeric", "varchar"])
    fields = ["average", "learning", "conduct", "outcome", "commendation", "absences", "complete"]
    types = ["bigint", "varchar", "numeric", "varchar", "varchar", "varchar", "varchar", "integer", "boolean", "varchar"]

    def values(rows):
        return [(r.enrolment_id, r.period, r.average, r.learning, r.conduct, r.outcome, r.commendation, r.absences,
                 r.complete, r.decision) for r in rows]

    _upsert(StudentResult, ["enrolment_id", "period"], fields + ["decision"],
            values([r for r in student_rows if r.period != Period.RETEST]), types)
    # after a retest the decision is the principal's (confirm_decision): never overwritten here
    _upsert(StudentResult, ["enrolment_id", "period"], fields,
            values([r for r in student_rows if r.period == Period.RETEST]), types, insert_extra=["decision"])
    return len(student_rows)


class _Row:
    """A computed result before it is written (lighter than a model instance)."""

    def __init__(self, **fields):
        self.__dict__.update(fields)


def _upsert(model, keys, updated, rows, types, insert_extra=()) -> None:
    """Insert or update ``rows`` (tuples of ``keys`` + ``updated`` (+ ``insert_extra``) columns) in
    one statement from arrays; a row whose values did not change is not rewritten."""
    if not rows:
        return
    from django.db import connection

    qn = connection.ops.quote_name
    table = qn(model._meta.db_table)
    columns = list(keys) + list(updated) + list(insert_extra)
    names = [f"c{i}" for i in range(len(columns))]
    arrays = [list(column) for column in zip(*rows)]
    unnest = ", ".join(f"%s::{kind}[]" for kind in types)
    changed = " OR ".join(f"{table}.{qn(c)} IS DISTINCT FROM EXCLUDED.{qn(c)}" for c in updated)
    sets = ", ".join(f"{qn(c)} = EXCLUDED.{qn(c)}" for c in list(updated) + ["computed_at"])
    sql = (f"INSERT INTO {table} ({', '.join(qn(c) for c in columns)}, {qn('computed_at')}) "
           f"SELECT {', '.join(names)}, now() FROM unnest({unnest}) AS t({', '.join(names)}) "
           f"ON CONFLICT ({', '.join(qn(c) for c in keys)}) DO UPDATE SET {sets} WHERE {changed}")
    with connection.cursor() as cursor:
        cursor.execute(sql, arrays)


def _mean(values):
    return rules.round1(sum((rules._fraction(v) for v in values), rules.Fraction(0)) / len(values)) if values else None


def _secondary(enrolment_id, school_class, subjects, marks, evaluations, absences, confirmed, subject_rows,
               student_rows):
    per_period = {p: {} for p in (Period.SEM1, Period.SEM2, Period.YEAR)}
    comment_keys = set()
    retest_values = {}
    for subject in subjects:
        cells = marks.get((enrolment_id, subject.pk), {})
        if subject.kind == Subject.Kind.COMMENT:
            comment_keys.add(subject.pk)
            sem = {p: cells.get((p, "level"), "") for p in (Period.SEM1, Period.SEM2)}
            sem[Period.YEAR] = rules.comment_year_level(sem[Period.SEM1], sem[Period.SEM2])
            for period, level in sem.items():
                per_period[period][subject.pk] = level or None
                subject_rows.append(_Row(enrolment_id=enrolment_id, subject=subject, period=period,
                                                  average=None, level=level))
            if cells.get((Period.RETEST, "level")):
                retest_values[subject.pk] = cells[(Period.RETEST, "level")]
            continue
        averages = {}
        for period in (Period.SEM1, Period.SEM2):
            regular = [cells.get((period, f"tx{i}")) for i in range(1, 5)]
            averages[period] = rules.semester_average(regular, cells.get((period, "mid")), cells.get((period, "end")),
                                                      required=subject.regular_marks)
        averages[Period.YEAR] = rules.year_average(averages[Period.SEM1], averages[Period.SEM2])
        for period, average in averages.items():
            per_period[period][subject.pk] = average
            subject_rows.append(_Row(enrolment_id=enrolment_id, subject=subject, period=period,
                                              average=average, level=""))
        if cells.get((Period.RETEST, "retest")) is not None:
            retest_values[subject.pk] = cells[(Period.RETEST, "retest")]
    conduct = {p: evaluations[enrolment_id].get((p, "conduct"), "") for p in (Period.SEM1, Period.SEM2)}
    conduct[Period.YEAR] = rules.year_conduct(conduct[Period.SEM1], conduct[Period.SEM2])
    year_row = None
    for period, values in per_period.items():
        scored = [v for k, v in values.items() if k not in comment_keys]
        comments = [v for k, v in values.items() if k in comment_keys]
        complete_marks = bool(values) and all(v is not None for v in values.values())
        learning = rules.learning_result(scored, comments) if complete_marks else ""
        complete = complete_marks and bool(conduct[period])
        row = _Row(
            enrolment_id=enrolment_id, period=period, learning=learning, conduct=conduct[period],
            average=_mean(scored) if complete_marks and scored else None, outcome="", commendation="",
            absences=min(absences.get((enrolment_id, period), 0), 32767), complete=complete, decision="")
        if period == Period.YEAR and complete:
            row.decision = rules.decision(learning, conduct[period], row.absences, school_class.grade)
        student_rows.append(row)
        if period == Period.YEAR:
            year_row = row
    if year_row is not None and year_row.decision == rules.RETEST and retest_values:
        learning, _proposed = rules.after_retest(per_period[Period.YEAR], retest_values, comment_keys,
                                                 year_row.conduct, school_class.grade)
        student_rows.append(_Row(
            enrolment_id=enrolment_id, period=Period.RETEST, learning=learning, conduct=year_row.conduct,
            average=None, outcome="", commendation="", absences=year_row.absences, complete=True,
            decision=confirmed.get(enrolment_id, "")))


def proposed_after_retest(result_year, result_retest, grade) -> str:
    """The decision the rules propose after the retest (the principal confirms it)."""
    if result_retest is None or not result_retest.learning:
        return ""
    ok = rules.RANK.get(result_retest.learning, -1) >= rules.RANK[rules.PASS] \
        and rules.RANK.get(result_year.conduct if result_year else "", -1) >= rules.RANK[rules.PASS]
    if not ok:
        return rules.REPEAT
    return rules.COMPLETED_LEVEL if grade == 9 else rules.PROMOTED


def _primary(enrolment_id, school_class, subjects, marks, evaluations, absences, subject_rows, student_rows):
    aspect_codes = curriculum.primary_aspect_codes()
    for period in PRIMARY_PERIODS:
        levels, tests, complete = [], [], True
        for subject in subjects:
            cells = marks.get((enrolment_id, subject.pk), {})
            level = cells.get((period, "level"), "")
            test = cells.get((period, "test"))
            subject_rows.append(_Row(enrolment_id=enrolment_id, subject=subject, period=period,
                                              average=None, level=level))
            levels.append(level)
            complete = complete and bool(level)
            if subject.tested and period in rules.test_periods(school_class.grade, subject.code):
                if test is None:
                    complete = False
                else:
                    tests.append(int(test))
        if period not in (Period.SEM1, Period.YEAR):
            continue
        aspect_levels = [evaluations[enrolment_id].get((period, code), "") for code in aspect_codes]
        complete = complete and all(aspect_levels)
        outcome = rules.primary_outcome(levels, aspect_levels, tests) if complete else ""
        row = _Row(
            enrolment_id=enrolment_id, period=period, average=None, learning="", conduct="", outcome=outcome,
            commendation=rules.commendation(outcome) if period == Period.YEAR else "",
            absences=min(absences.get((enrolment_id, period), 0), 32767), complete=complete,
            decision=rules.primary_decision(outcome, school_class.grade) if period == Period.YEAR else "")
        student_rows.append(row)


def confirm_decision(user, enrolment, decision: str) -> StudentResult:
    """The principal's decision after the summer retest: promoted (completed in grade 9) or repeat."""
    school = enrolment.school_class.school
    permissions.require(user, "marks.lock", school)
    allowed = {rules.PROMOTED, rules.REPEAT, rules.COMPLETED_LEVEL}
    if decision not in allowed:
        raise ValidationError(_("Choose promoted or repeats the grade."), code="bad_decision")
    with transaction.atomic():
        row = StudentResult.objects.select_for_update().filter(enrolment=enrolment, period=Period.RETEST).first()
        if row is None:
            raise ValidationError(_("This student has no retest result yet."), code="no_retest")
        row.decision = decision
        row.save(update_fields=["decision", "computed_at"])
    return row


def current_semester(year, today: datetime.date | None = None):
    today = today or timezone.localdate()
    semesters = list(Semester.objects.filter(year=year).order_by("number"))
    for semester in semesters:
        if semester.starts_on <= today <= semester.ends_on:
            return semester
    return semesters[-1] if semesters else None


# --- what waits for the person -------------------------------------------------------------------

DUE_WINDOW = datetime.timedelta(weeks=3)


def missing_grids(user, today: datetime.date | None = None) -> list[dict]:
    """The grids of the user's teaching assignments in the current semester with cells still
    empty, within three weeks of the semester's end (or after it, while not locked)."""
    from education.models import SchoolYear, TeachingAssignment

    today = today or timezone.localdate()
    year = SchoolYear.objects.filter(current=True).first()
    if year is None:
        return []
    semester = current_semester(year, today)
    if semester is None or today < semester.ends_on - DUE_WINDOW:
        return []
    period = Period.SEM1 if semester.number == 1 else Period.SEM2
    assignments = list(TeachingAssignment.objects.filter(
        teacher__user_id=user.pk, teacher__active=True, school_class__year=year,
        school_class__school__in=permissions.schools_for(user)).select_related("school_class__school", "subject"))
    found = []
    for assignment in assignments:
        school_class, subject = assignment.school_class, assignment.subject
        grid_period = period
        if is_primary(school_class):
            grid_period = Period.SEM1 if semester.number == 1 else Period.YEAR
        if is_locked(school_class, grid_period):
            continue
        columns = columns_for(school_class, subject, grid_period)
        students = Enrolment.objects.filter(school_class=school_class, status=Enrolment.Status.ACTIVE).count()
        filled = Mark.objects.filter(enrolment__school_class=school_class, enrolment__status=Enrolment.Status.ACTIVE,
                                     subject=subject, period=grid_period, column__in=columns) \
            .filter(Q(score__isnull=False) | ~Q(level="")).count()
        if filled < students * len(columns):
            found.append({"school_class": school_class, "subject": subject, "period": grid_period,
                          "missing": students * len(columns) - filled})
    return found


def unlocked_semesters(user, today: datetime.date | None = None) -> list[tuple]:
    """(school, semester) of the schools where ``user`` is principal: semesters of the current
    year that ended and are not locked."""
    from education.models import SchoolYear

    today = today or timezone.localdate()
    year = SchoolYear.objects.filter(current=True).first()
    if year is None:
        return []
    found = []
    for school in permissions.schools_for(user):
        if not permissions.can(user, "marks.lock", school):
            continue
        for semester in Semester.objects.filter(year=year, ends_on__lt=today).exclude(locks__school=school):
            found.append((school, semester))
    return found


def inbox_lines(request, user, roles) -> list:
    from django.urls import reverse

    from communes.modules import InboxLine, Severity

    if permissions.SCHOOL_STAFF not in roles:
        return []
    lines = []
    grids = missing_grids(user)
    if grids:
        lines.append(InboxLine("education.marks_missing", _("Marks grids of your classes with marks missing"),
                               len(grids), reverse("education:marks_index") + "?missing=1", Severity.DUE_SOON))
    by_school = defaultdict(int)
    for school, _semester in unlocked_semesters(user):
        by_school[school] += 1
    for school, count in by_school.items():
        lines.append(InboxLine(f"education.unlocked.{school.pk}",
                               _("Semesters ended and not locked: %(school)s") % {"school": school.short_name or school.name},
                               count, reverse("education:locks", args=[school.pk]), Severity.OVERDUE))
    return lines
