"""Import of personal health records from an .xlsx file, in two steps (``RecordImport``).

1. ``check_file``: every row is checked (the resident found by personal ID number, or by
   household code, name and birth date; the record's fields; a resident who already has a record,
   or twice in the file) and the import is kept with the refused rows' numbers and reasons and
   the good rows as checked. Nothing is written to the records yet. The residents and the
   existing records are read once for the whole file (three queries, whatever the number of
   rows): 6,000 rows check in a few seconds.
2. ``write``: the officer chooses to write the good rows and leave the refused ones, or to write
   nothing while a row is refused. The good rows are written in one transaction with
   ``bulk_create``; a resident who got a record since the check is skipped and counted.

The upload is limited in size and must be a real .xlsx (a zip holding a workbook), read with
openpyxl in read-only mode.
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

from core.text import clean_text, fold
from health.models import BloodGroup, HealthRecord, RecordImport, Rh
from health.records import INSURANCE_RE, INSURANCE_SHORT_RE, normalize_insurance, today

MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 10_000

# (field, heading, max length or None); the first four find the resident.
COLUMNS = [
    ("personal_id", gettext_lazy("Personal ID number"), 12),
    ("household_code", gettext_lazy("Household code"), 30),
    ("full_name", gettext_lazy("Full name"), 150),
    ("birth_date", gettext_lazy("Birth date (dd/mm/yyyy)"), None),
    ("opened_on", gettext_lazy("Record opened on (dd/mm/yyyy)"), None),
    ("blood_group", gettext_lazy("Blood group (A, B, AB, O)"), 2),
    ("rh", gettext_lazy("Rh (+ or -)"), 1),
    ("insurance_number", gettext_lazy("Health insurance card number"), 15),
    ("insurance_valid_from", gettext_lazy("Insurance valid from (dd/mm/yyyy)"), None),
    ("insurance_valid_until", gettext_lazy("Insurance valid until (dd/mm/yyyy)"), None),
    ("insurance_clinic", gettext_lazy("Registered first clinic"), 200),
    ("occupation", gettext_lazy("Occupation"), 100),
    ("allergy_drugs", gettext_lazy("Allergies to medicines"), 300),
    ("allergy_food", gettext_lazy("Allergies to food"), 300),
    ("allergy_other", gettext_lazy("Other allergies"), 300),
    ("disabilities", gettext_lazy("Disabilities"), 300),
    ("personal_history", gettext_lazy("Past illnesses and operations"), 2000),
    ("family_history", gettext_lazy("Family history"), 2000),
    ("note", gettext_lazy("Note"), 2000),
]
RECORD_FIELDS = [name for name, _h, _m in COLUMNS[4:]]
DATE_COLUMNS = {"birth_date", "opened_on", "insurance_valid_from", "insurance_valid_until"}


def headings() -> list[str]:
    return [str(heading) for _n, heading, _m in COLUMNS]


def template_workbook() -> bytes:
    """The file to fill: the headings, and one example row in the second sheet."""
    from core import xlsx

    workbook = xlsx.new_workbook()
    sheet = workbook.active
    sheet.title = _("Records")[:31]
    xlsx.append(sheet, headings())
    guide = workbook.create_sheet(_("How to fill")[:31])
    for line in (
        _("One row per resident, from the second row. Fill the personal ID number, or the household code; "
          "the full name and the birth date must be those of the registry."),
        _("Dates as dd/mm/yyyy. Blood group A, B, AB or O; Rh + or -. Leave a cell empty when not known."),
        _("Example:"),
    ):
        xlsx.append(guide, [line])
    xlsx.append(guide, ["015058001234", "TY-001", "Lò Văn Ông", "02/03/1958", "10/05/2026", "O", "+",
                        "GD4151234567890", "01/01/2026", "31/12/2026", "Trạm Y tế xã", "Làm ruộng"])
    return xlsx.save(workbook)


class FileRefused(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def _rows_of(data: bytes):
    if len(data) > MAX_BYTES:
        raise FileRefused(_("The file is larger than 5 MB."))
    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise FileRefused(_("The file is not an Excel workbook (.xlsx)."))
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged or foreign file
        raise FileRefused(_("The file is not an Excel workbook (.xlsx).")) from exc
    sheet = workbook.worksheets[0]
    rows = sheet.iter_rows(values_only=True)
    next(rows, None)  # the headings
    return workbook, rows


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = clean_text(str(value)).strip()
    return text


def _date(value):
    """A date cell (a date, or text dd/mm/yyyy); None for empty; raises ValueError when not a date."""
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


def _residents():
    """The registry's residents, read once: by ID number and by (household code, name, birth date)."""
    from population.models import Resident

    by_id, by_household = {}, {}
    for pk, pid, code, name, born in Resident.objects.values_list(
            "pk", "personal_id", "household__code", "search_name", "birth_date").iterator(chunk_size=5000):
        if pid:
            by_id[pid] = (pk, name, born)
        by_household.setdefault((code.upper(), name, born), []).append(pk)
    return by_id, by_household


def check_rows(rows, *, start: int = 2) -> tuple[int, list[dict], list[dict]]:
    """(rows seen, errors [{"row", "field", "message"}], good rows as JSON-ready dicts)."""
    by_id, by_household = _residents()
    has_record = set(HealthRecord.objects.values_list("resident_id", flat=True))
    seen: dict[int, int] = {}
    errors: list[dict] = []
    good: list[dict] = []
    now = today()
    count = 0
    blood_values, rh_values = set(BloodGroup.values), set(Rh.values)
    meta = HealthRecord._meta
    for number, values in enumerate(rows, start=start):
        values = list(values or ())
        if not any(v not in (None, "") for v in values):
            continue
        count += 1
        if count > MAX_ROWS:
            raise FileRefused(_("The file has more than %(max)s rows: split it.") % {"max": f"{MAX_ROWS:,}".replace(",", ".")})
        values += [None] * (len(COLUMNS) - len(values))
        row_errors: list[tuple[str, str]] = []
        cells: dict = {}
        for index, (name, _heading, limit) in enumerate(COLUMNS):
            raw = values[index]
            if name in DATE_COLUMNS:
                try:
                    cells[name] = _date(raw)
                except ValueError:
                    row_errors.append((name, _("“%(value)s” is not a date dd/mm/yyyy.") % {"value": _text(raw)[:20]}))
                    cells[name] = None
            else:
                text = _text(raw)
                if limit and len(text) > limit:
                    row_errors.append((name, _("Longer than %(max)s characters.") % {"max": limit}))
                cells[name] = text[:limit] if limit else text
        # The resident.
        resident_id = None
        name, born = fold(cells["full_name"]), cells["birth_date"]
        if not cells["full_name"] or born is None:
            row_errors.append(("full_name", _("The full name and the birth date are needed to find the resident.")))
        elif cells["personal_id"]:
            found = by_id.get(cells["personal_id"])
            if found and found[1] == name[:150] and found[2] == born:
                resident_id = found[0]
            else:
                row_errors.append(("personal_id", _("No resident of the registry has this ID number with this name "
                                                    "and birth date.")))
        elif cells["household_code"]:
            found = by_household.get((cells["household_code"].upper(), name[:150], born), [])
            if len(found) == 1:
                resident_id = found[0]
            elif not found:
                row_errors.append(("household_code", _("No resident of this household has this name and birth date.")))
            else:
                row_errors.append(("household_code", _("Two residents of this household have this name and birth "
                                                       "date: give the personal ID number.")))
        else:
            row_errors.append(("personal_id", _("Give the personal ID number or the household code.")))
        if resident_id is not None:
            if resident_id in has_record:
                row_errors.append(("personal_id", _("This resident already has a health record.")))
            elif resident_id in seen:
                row_errors.append(("personal_id", _("The same resident is on row %(row)s.") % {"row": seen[resident_id]}))
        # The record's fields.
        opened = cells["opened_on"] or now
        if opened > now:
            row_errors.append(("opened_on", _("The record cannot be opened on a date in the future.")))
        elif born and opened < born:
            row_errors.append(("opened_on", _("The record cannot be opened before the resident's birth date.")))
        blood = cells["blood_group"].upper().replace(" ", "")
        if blood == "0":
            blood = "O"
        if blood not in blood_values:
            row_errors.append(("blood_group", _("The blood group is A, B, AB or O.")))
        rh = cells["rh"].replace("Rh", "").strip()
        if rh not in rh_values:
            row_errors.append(("rh", _("Rh is + or -.")))
        insurance = normalize_insurance(cells["insurance_number"])
        if insurance and not (INSURANCE_RE.match(insurance) or INSURANCE_SHORT_RE.match(insurance)):
            row_errors.append(("insurance_number", _("The health insurance card number is not valid (15 characters, "
                                                     "e.g. GD4151234567890).")))
        start_on, end_on = cells["insurance_valid_from"], cells["insurance_valid_until"]
        if start_on and end_on and end_on < start_on:
            row_errors.append(("insurance_valid_until", _("The card's end of validity comes before its start.")))
        if row_errors:
            for field, message in row_errors:
                label = str(meta.get_field(field).verbose_name) if field in RECORD_FIELDS else {
                    "personal_id": _("Personal ID number"), "household_code": _("Household code"),
                    "full_name": _("Full name"), "birth_date": _("Birth date")}[field]
                errors.append({"row": number, "field": label, "message": str(message)})
            continue
        seen[resident_id] = number
        row = {"row": number, "resident_id": resident_id, "opened_on": opened.isoformat(), "blood_group": blood,
               "rh": rh, "insurance_number": insurance,
               "insurance_valid_from": start_on.isoformat() if start_on else None,
               "insurance_valid_until": end_on.isoformat() if end_on else None}
        for field in RECORD_FIELDS:
            if field not in row:
                row[field] = cells[field]
        good.append(row)
    return count, errors, good


def check_file(upload, user) -> RecordImport:
    """Check every row of ``upload`` (a Django UploadedFile) and keep the import, state "checked"."""
    name = clean_text(getattr(upload, "name", "") or "records.xlsx")[:200]
    if not name.lower().endswith(".xlsx"):
        raise FileRefused(_("Choose an Excel file (.xlsx)."))
    if getattr(upload, "size", 0) > MAX_BYTES:
        raise FileRefused(_("The file is larger than 5 MB."))
    data = upload.read(MAX_BYTES + 1)
    workbook, rows = _rows_of(data)
    try:
        count, errors, good = check_rows(rows)
    finally:
        workbook.close()
    if count == 0:
        raise FileRefused(_("The file has no row of records under the headings."))
    return RecordImport.objects.create(file_name=name, rows=count, good_rows=len(good), errors=errors,
                                       payload=good, user_id=getattr(user, "pk", None))


def write(record_import: RecordImport, mode: str) -> RecordImport:
    """Write the import as the officer chose (``RecordImport.Mode``); nothing half-written."""
    if mode not in RecordImport.Mode.values:
        raise ValidationError(_("Choose what to write."), code="invalid")
    with transaction.atomic():
        record_import = RecordImport.objects.select_for_update().get(pk=record_import.pk)
        if record_import.state != RecordImport.State.CHECKED:
            raise ValidationError(_("This import was already finished."), code="finished")
        record_import.mode = mode
        record_import.finished_at = timezone.now()
        if mode == RecordImport.Mode.ALL_OR_NOTHING and record_import.errors:
            record_import.state = RecordImport.State.CANCELLED
            record_import.written = 0
        else:
            ids = [row["resident_id"] for row in record_import.payload]
            taken = set(HealthRecord.objects.filter(resident_id__in=ids).values_list("resident_id", flat=True))
            records = []
            for row in record_import.payload:
                if row["resident_id"] in taken:
                    continue
                values = {k: v for k, v in row.items() if k not in ("row",)}
                for field in ("opened_on", "insurance_valid_from", "insurance_valid_until"):
                    values[field] = datetime.date.fromisoformat(values[field]) if values[field] else None
                records.append(HealthRecord(**values))
            HealthRecord.objects.bulk_create(records, batch_size=1000)
            record_import.written = len(records)
            record_import.state = RecordImport.State.WRITTEN
        record_import.payload = []
        record_import.save(update_fields=["mode", "state", "written", "payload", "finished_at"])
    return record_import


@transaction.atomic
def cancel(record_import: RecordImport) -> RecordImport:
    record_import = RecordImport.objects.select_for_update().get(pk=record_import.pk)
    if record_import.state == RecordImport.State.CHECKED:
        record_import.state = RecordImport.State.CANCELLED
        record_import.payload = []
        record_import.finished_at = timezone.now()
        record_import.save(update_fields=["state", "payload", "finished_at"])
    return record_import
