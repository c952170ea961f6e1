"""The residents' file: one row per resident, with the household's columns repeated.

The header names are fixed Vietnamese words (a file format, not interface text): a file
exported by the portal re-imports unchanged. Reading accepts .xlsx (read-only, streamed) and
UTF-8 .csv (comma, semicolon or tab separated).
"""
from __future__ import annotations

import csv
import datetime
import io
import zipfile
from dataclasses import dataclass, field

from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

from population.models import Relation, Sex
from core import xlsx
from core.text import clean_text, fold

# (key, header)
COLUMNS: list[tuple[str, str]] = [
    ("household_code", "Mã hộ"),
    ("village", "Thôn/bản"),
    ("address", "Địa chỉ"),
    ("household_phone", "Điện thoại hộ"),
    ("full_name", "Họ và tên"),
    ("birth_date", "Ngày sinh"),
    ("sex", "Giới tính"),
    ("ethnicity", "Dân tộc"),
    ("personal_id", "Số định danh cá nhân"),
    ("relation", "Quan hệ với chủ hộ"),
    ("phone", "Điện thoại"),
]
HEADERS = dict(COLUMNS)
_KEY_BY_HEADER = {fold(header): key for key, header in COLUMNS}

SEX_VALUES = {Sex.MALE: "Nam", Sex.FEMALE: "Nữ"}
RELATION_VALUES = {
    Relation.HEAD: "Chủ hộ", Relation.WIFE: "Vợ", Relation.HUSBAND: "Chồng", Relation.CHILD: "Con",
    Relation.FATHER: "Cha", Relation.MOTHER: "Mẹ", Relation.GRANDFATHER: "Ông", Relation.GRANDMOTHER: "Bà",
    Relation.GRANDCHILD: "Cháu", Relation.ELDER_BROTHER: "Anh", Relation.ELDER_SISTER: "Chị",
    Relation.YOUNGER_SIBLING: "Em", Relation.OTHER: "Khác",
}
_SEX_BY_KEY = {fold(v): k for k, v in SEX_VALUES.items()}
_RELATION_BY_KEY = {fold(v): k for k, v in RELATION_VALUES.items()}
_RELATION_BY_KEY.update({"bo": Relation.FATHER, "chu ho": Relation.HEAD, "con de": Relation.CHILD})

XLSX_CONTENT_TYPE = xlsx.CONTENT_TYPE


def sex_from_text(value: str) -> str | None:
    return _SEX_BY_KEY.get(fold(value))


def relation_from_text(value: str) -> str | None:
    return _RELATION_BY_KEY.get(fold(value))


@dataclass
class RowError:
    row: int  # 1-based line of the file (the header is row 1); 0 for the whole file
    column: str  # the header name, or '' for the whole row or file
    message: str


@dataclass
class Table:
    rows: list[tuple[int, dict]] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)


class FileRejected(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def parse_date(value) -> datetime.date | None:
    """A date cell (a real date) or text read day first: '03/04/2026' is 3 April 2026."""
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    text = clean_text(value)
    if not text:
        return None
    for fmt in ("%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y", "%Y-%m-%d"):
        try:
            parsed = datetime.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
        return parsed
    raise ValueError(text)


def cell_text(value, *, digits: int | None = None) -> str:
    """A cell as text; a number that a spreadsheet made of a digit string gets its zeros back."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int):
        text = str(value)
        return text.zfill(digits) if digits and len(text) < digits else text
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.strftime("%d/%m/%Y")
    return clean_text(value)


def _map_header(header_cells, table: Table) -> list[str | None] | None:
    keys: list[str | None] = []
    seen: set[str] = set()
    for cell in header_cells:
        name = cell_text(cell)
        if not name:
            keys.append(None)
            continue
        key = _KEY_BY_HEADER.get(fold(name))
        if key is None:
            table.errors.append(RowError(1, name, _("Unknown column. The columns are: %(columns)s.") % {
                "columns": ", ".join(HEADERS.values())}))
        elif key in seen:
            table.errors.append(RowError(1, name, _("This column appears twice.")))
        else:
            seen.add(key)
        keys.append(key)
    for key, header in COLUMNS:
        if key not in seen:
            table.errors.append(RowError(1, header, _("This column is missing.")))
    return None if table.errors else keys


def _collect(row_iter, table: Table) -> Table:
    max_rows = settings.XASO_IMPORT_MAX_ROWS
    try:
        header = next(row_iter)
    except StopIteration:
        raise FileRejected(_("The file is empty."))
    keys = _map_header(header, table)
    if keys is None:
        return table
    count = 0
    for number, cells in enumerate(row_iter, start=2):
        values = {}
        for key, value in zip(keys, cells):
            if key is not None:
                values[key] = value
        if all(cell_text(v) == "" for v in values.values()):
            continue
        count += 1
        if count > max_rows:
            raise FileRejected(_("The file has more than %(max)d rows.") % {"max": max_rows})
        table.rows.append((number, values))
    if not table.rows:
        raise FileRejected(_("The file has no resident rows."))
    return table


def _read_xlsx(data: bytes) -> Table:
    import openpyxl

    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise FileRejected(_("The file is not a valid Excel (.xlsx) file."))
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            if "xl/workbook.xml" not in archive.namelist():
                raise FileRejected(_("The file is not a valid Excel (.xlsx) file."))
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except FileRejected:
        raise
    except Exception:  # a broken archive or workbook: refuse it, whatever the library raised
        raise FileRejected(_("The file is not a valid Excel (.xlsx) file."))
    try:
        sheet = workbook.worksheets[0]
        return _collect(iter(sheet.iter_rows(values_only=True)), Table())
    except FileRejected:
        raise
    except Exception:
        raise FileRejected(_("The file is not a valid Excel (.xlsx) file."))
    finally:
        workbook.close()


def _read_csv(data: bytes) -> Table:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise FileRejected(_("The CSV file is not UTF-8 text."))
    if "\x00" in text:
        raise FileRejected(_("The CSV file is not UTF-8 text."))
    first_line = text.split("\n", 1)[0]
    delimiter = max([",", ";", "\t"], key=first_line.count)
    try:
        return _collect(iter(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)), Table())
    except csv.Error:
        raise FileRejected(_("The CSV file cannot be read."))


def read_table(upload) -> Table:
    """Read an uploaded file into (row number, {column key: value}) pairs.

    Raises FileRejected when the file as a whole cannot be used (size, type, rows, empty).
    """
    name = (getattr(upload, "name", "") or "").lower()
    size = getattr(upload, "size", None)
    limit = settings.XASO_IMPORT_MAX_BYTES
    too_large = _("The file is larger than the limit of %(max)s.") % {"max": filesizeformat(limit)}
    if size is not None and size > limit:
        raise FileRejected(too_large)
    data = upload.read(limit + 1)
    if len(data) > limit:
        raise FileRejected(too_large)
    if name.endswith(".xlsx"):
        return _read_xlsx(data)
    if name.endswith(".csv"):
        return _read_csv(data)
    raise FileRejected(_("Upload an Excel (.xlsx) or CSV (.csv) file."))


def write_xlsx(rows) -> bytes:
    """Write rows of {column key: value} to an .xlsx file (write-only, streamed); text as text
    (``core.xlsx``)."""
    workbook = xlsx.new_workbook(write_only=True)
    sheet = workbook.create_sheet("Nhân khẩu")
    xlsx.append(sheet, [header for _key, header in COLUMNS])
    text_columns = {index: "@" for index, (key, _h) in enumerate(COLUMNS)
                    if key in ("personal_id", "phone", "household_phone", "household_code")}
    for row in rows:
        xlsx.append(sheet, [row.get(key) for key, _header in COLUMNS], number_formats=text_columns)
    return xlsx.save(workbook)
