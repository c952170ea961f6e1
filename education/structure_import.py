"""Import of a class list from an .xlsx file, in two steps (``StudentImport``).

1. ``check_file``: the file is refused as a whole when it is not a real .xlsx (opened with
   openpyxl), larger than 2 MB or longer than 200 rows; otherwise every row is checked (the child
   found in the registry by the personal ID number, else by the name without accents and the
   birth date, exactly one; the guardian's phone; a child twice in the file or already studying
   this year) and the import is kept with the good rows and the refused rows' reasons. Nothing is
   written to the class yet.
2. ``apply``: the staff member writes the good rows and leaves the refused ones, or writes
   nothing while a row is refused. The good rows are enrolled in one transaction; a child
   enrolled elsewhere since the check is skipped and reported.
"""
from __future__ import annotations

import datetime
import io
import re
import zipfile

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.phones import normalize_mobile
from core.text import clean_text, fold
from education import structure
from education.models import Enrolment, Guardian, SchoolClass, StudentImport
from population.models import Resident

MAX_BYTES = 2 * 1024 * 1024
MAX_ROWS = 200
GOOD_ROWS, ALL_OR_NOTHING = "good_rows", "all_or_nothing"
MODES = [(GOOD_ROWS, gettext_lazy("Write the good rows and leave the refused ones")),
         (ALL_OR_NOTHING, gettext_lazy("Write nothing while a row is refused"))]

COLUMNS = [
    ("number", gettext_lazy("No.")),
    ("full_name", gettext_lazy("Full name")),
    ("birth_date", gettext_lazy("Birth date (dd/mm/yyyy)")),
    ("sex", gettext_lazy("Sex (Nam/Nữ)")),
    ("personal_id", gettext_lazy("Personal ID number")),
    ("guardian_name", gettext_lazy("Full name of the father, mother or guardian")),
    ("relation", gettext_lazy("Relation")),
    ("phone", gettext_lazy("Phone")),
]
SEXES = {"nam": "male", "male": "male", "m": "male", "nu": "female", "female": "female", "f": "female"}
RELATIONS = {
    "me": Guardian.Relation.MOTHER, "mother": Guardian.Relation.MOTHER, "ma": Guardian.Relation.MOTHER,
    "cha": Guardian.Relation.FATHER, "bo": Guardian.Relation.FATHER, "father": Guardian.Relation.FATHER,
    "ong": Guardian.Relation.GRANDPARENT, "ba": Guardian.Relation.GRANDPARENT, "ong ba": Guardian.Relation.GRANDPARENT,
    "grandparent": Guardian.Relation.GRANDPARENT, "": Guardian.Relation.OTHER,
}


class FileRefused(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def headings() -> list[str]:
    return [str(heading) for _name, heading in COLUMNS]


def template_workbook() -> bytes:
    """The file to fill: the headings, two example rows and a sheet that says how to fill it."""
    from core import xlsx

    workbook = xlsx.new_workbook()
    sheet = workbook.active
    sheet.title = _("Class list")[:31]
    xlsx.append(sheet, headings())
    xlsx.append(sheet, [1, "Lò Văn An", "10/01/2015", "Nam", "", "Lường Thị Mẹ", "Mẹ", "0912000222"])
    xlsx.append(sheet, [2, "Lường Thị Bình", "20/02/2015", "Nữ", "015315001234", "Lường Văn Bố", "Cha", "0987000111"])
    for index, width in enumerate((6, 28, 14, 10, 18, 30, 12, 14)):
        sheet.column_dimensions[chr(ord("A") + index)].width = width
    guide = workbook.create_sheet(_("How to fill")[:31])
    for line in (
        _("One row per student, from the second row; at most %(max)s rows.") % {"max": MAX_ROWS},
        _("The full name and the birth date must be those of the commune's registry; give the personal ID number "
          "when two children have the same name and birth date."),
        _("Dates as dd/mm/yyyy. Sex: Nam or Nữ. Relation: Cha, Mẹ, Ông, Bà or another word. Phone: a mobile number "
          "of 10 digits."),
        _("Replace the two example rows with your students."),
    ):
        xlsx.append(guide, [line])
    return xlsx.save(workbook)


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return clean_text(str(value))


def _date(value):
    if value is None or value == "":
        return None
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    match = re.fullmatch(r"\s*(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})\s*", str(value))
    if not match:
        raise ValueError
    day, month, year = (int(x) for x in match.groups())
    return datetime.date(year, month, day)


def _rows_of(data: bytes):
    if len(data) > MAX_BYTES:
        raise FileRefused(_("The file is larger than 2 MB."))
    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise FileRefused(_("The file is not an Excel workbook (.xlsx)."))
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        sheet = workbook.worksheets[0]
    except Exception as exc:  # openpyxl raises many kinds for a damaged or foreign file
        raise FileRefused(_("The file is not an Excel workbook (.xlsx).")) from exc
    rows = sheet.iter_rows(values_only=True)
    next(rows, None)  # the headings
    return workbook, rows


def _residents(names: set[str], ids: set[str]):
    by_id, by_name = {}, {}
    for resident in Resident.objects.filter(search_name__in=names).only("pk", "search_name", "birth_date", "sex",
                                                                         "personal_id"):
        by_name.setdefault((resident.search_name, resident.birth_date), []).append(resident)
    for resident in Resident.objects.filter(personal_id__in=ids).only("pk", "search_name", "birth_date", "sex",
                                                                       "personal_id"):
        by_id[resident.personal_id] = resident
    return by_id, by_name


def check_rows(school_class: SchoolClass, rows, *, start: int = 2) -> tuple[int, list[dict], list[dict]]:
    """(rows seen, errors [{"row", "field", "message"}], good rows as JSON-ready dicts)."""
    cells_of = []
    for number, values in enumerate(rows, start=start):
        values = list(values or ())
        if not any(v not in (None, "") for v in values):
            continue
        if len(cells_of) >= MAX_ROWS:
            raise FileRefused(_("The file has more than %(max)s rows: a class list has fewer.") % {"max": MAX_ROWS})
        values += [None] * (len(COLUMNS) - len(values))
        cells_of.append((number, values[:len(COLUMNS)]))
    names = {fold(_text(values[1]))[:150] for _n, values in cells_of}
    ids = {_text(values[4]) for _n, values in cells_of if _text(values[4])}
    by_id, by_name = _residents(names, ids)
    enrolled = {e.student.resident_id: e for e in Enrolment.objects.filter(
        year=school_class.year, status=Enrolment.Status.ACTIVE,
        student__resident__in=[r for rs in by_name.values() for r in rs] + list(by_id.values()),
    ).select_related("student", "school_class", "school_class__school")}
    labels = dict((name, str(heading)) for name, heading in COLUMNS)
    errors: list[dict] = []
    good: list[dict] = []
    seen: dict[int, int] = {}
    for number, values in cells_of:
        row_errors: list[tuple[str, str]] = []
        full_name = _text(values[1])[:150]
        try:
            born = _date(values[2])
        except ValueError:
            born = None
            row_errors.append(("birth_date", _("“%(value)s” is not a date dd/mm/yyyy.") % {"value": _text(values[2])[:20]}))
        else:
            if born is None:
                row_errors.append(("birth_date", _("The birth date is missing.")))
        if not full_name:
            row_errors.append(("full_name", _("The full name is missing.")))
        sex = SEXES.get(fold(_text(values[3])), None) if _text(values[3]) else ""
        if sex is None:
            row_errors.append(("sex", _("The sex is Nam or Nữ.")))
        personal_id = _text(values[4])
        guardian_name = _text(values[5])[:150]
        relation = RELATIONS.get(fold(_text(values[6])), Guardian.Relation.OTHER)
        phone = normalize_mobile(values[7])
        if phone is None:
            row_errors.append(("phone", _("“%(value)s” is not a Vietnamese mobile number (10 digits).")
                               % {"value": _text(values[7])[:20]}))
        resident = None
        if full_name and born:
            if personal_id:
                resident = by_id.get(personal_id)
                if resident is None or resident.search_name != fold(full_name)[:150] or resident.birth_date != born:
                    resident = None
                    row_errors.append(("personal_id", _("No resident of the registry has this personal ID number "
                                                        "with this name and birth date.")))
            else:
                found = by_name.get((fold(full_name)[:150], born), [])
                if len(found) == 1:
                    resident = found[0]
                elif found:
                    row_errors.append(("full_name", _("Several residents of the registry have this name and birth "
                                                      "date: give the personal ID number.")))
                else:
                    row_errors.append(("full_name", _("No resident of the registry has this name and birth date.")))
        if resident is not None:
            if sex and resident.sex != sex:
                row_errors.append(("sex", _("The registry gives another sex for this child.")))
            if resident.pk in seen:
                row_errors.append(("full_name", _("The same student is on row %(row)s.") % {"row": seen[resident.pk]}))
            elif resident.pk in enrolled:
                existing = enrolled[resident.pk]
                row_errors.append(("full_name", _("This child is already studying this year in class %(class)s of "
                                                  "%(school)s.") % {"class": existing.school_class.name,
                                                                    "school": existing.school_class.school.name}))
            else:
                seen[resident.pk] = number
        if phone and not guardian_name:
            row_errors.append(("guardian_name", _("Give the name of the guardian whose phone this is.")))
        if row_errors:
            for field, message in row_errors:
                errors.append({"row": number, "field": labels[field], "message": str(message)})
            continue
        good.append({"row": number, "resident_id": resident.pk, "full_name": full_name,
                     "guardian_name": guardian_name, "relation": relation, "phone": phone or ""})
    return len(cells_of), errors, good


def check_file(school_class: SchoolClass, upload, user) -> StudentImport:
    """Check every row of ``upload`` (a Django UploadedFile) and keep the import, state "checked"."""
    name = clean_text(getattr(upload, "name", "") or "lop.xlsx")[:200]
    if not name.lower().endswith(".xlsx"):
        raise FileRefused(_("Choose an Excel file (.xlsx)."))
    if getattr(upload, "size", 0) > MAX_BYTES:
        raise FileRefused(_("The file is larger than 2 MB."))
    data = upload.read(MAX_BYTES + 1)
    workbook, rows = _rows_of(data)
    try:
        count, errors, good = check_rows(school_class, rows)
    except FileRefused:
        raise
    except Exception as exc:  # a damaged sheet fails while reading its rows
        raise FileRefused(_("The file is not an Excel workbook (.xlsx).")) from exc
    finally:
        workbook.close()
    if count == 0:
        raise FileRefused(_("The file has no student under the headings."))
    return StudentImport.objects.create(school_class=school_class, file_name=name, rows=good, errors=errors,
                                        uploaded_by_id=getattr(user, "pk", None))


def apply(student_import: StudentImport, mode: str) -> StudentImport:
    """Write the import as chosen (``MODES``); nothing half-written."""
    if mode not in dict(MODES):
        raise ValidationError(_("Choose what to write."), code="invalid")
    with transaction.atomic():
        student_import = StudentImport.objects.select_for_update().select_related(
            "school_class", "school_class__year", "school_class__school").get(pk=student_import.pk)
        if student_import.state != StudentImport.State.CHECKED:
            raise ValidationError(_("This import was already finished."), code="finished")
        student_import.applied_at = timezone.now()
        if mode == ALL_OR_NOTHING and student_import.errors:
            student_import.state = StudentImport.State.REFUSED
            student_import.save(update_fields=["state", "applied_at"])
            return student_import
        residents = Resident.objects.in_bulk([row["resident_id"] for row in student_import.rows])
        created, skipped = 0, []
        for row in student_import.rows:
            resident = residents.get(row["resident_id"])
            guardians = None
            if row["guardian_name"]:
                guardians = [{"full_name": row["guardian_name"], "relation": row["relation"], "phone": row["phone"]}]
            try:
                if resident is None:
                    raise ValidationError(_("The resident is no longer in the registry."))
                structure.enrol(student_import.school_class, resident, guardians=guardians)
            except ValidationError as exc:
                if mode == ALL_OR_NOTHING:
                    transaction.set_rollback(True)
                    raise ValidationError(_("Row %(row)s can no longer be written (%(reason)s): nothing was written.")
                                          % {"row": row["row"], "reason": exc.messages[0]}, code="conflict")
                skipped.append({"row": row["row"], "field": str(COLUMNS[1][1]), "message": exc.messages[0]})
            else:
                created += 1
        student_import.created = created
        student_import.errors = student_import.errors + skipped
        student_import.state = StudentImport.State.APPLIED
        student_import.save(update_fields=["state", "created", "errors", "applied_at"])
    return student_import


@transaction.atomic
def cancel(student_import: StudentImport) -> StudentImport:
    student_import = StudentImport.objects.select_for_update().get(pk=student_import.pk)
    if student_import.state == StudentImport.State.CHECKED:
        student_import.state = StudentImport.State.REFUSED
        student_import.applied_at = timezone.now()
        student_import.save(update_fields=["state", "applied_at"])
    return student_import
