"""Every .xlsx the portal writes goes through here: text is written as text, never as a formula.

openpyxl turns a string that begins with ``=`` into a live formula, and a spreadsheet program
re-reads a cell that begins with ``=``, ``+``, ``-`` or ``@`` as a formula when an official
edits it. A resident's name, a document's subject or a dossier's note is data typed by
someone else, so every string cell here is stored as a string (``data_type = "s"``); one that
begins with one of those characters (or a tab or a carriage return) also gets the quote prefix,
so that editing the cell keeps it text. Dates and numbers stay dates and numbers.
"""
from __future__ import annotations

import datetime
import io
from decimal import Decimal

from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell import Cell, WriteOnlyCell

CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# First characters that a spreadsheet program reads as the start of a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def clean_text(value) -> str:
    """The characters a worksheet may hold: control characters other than tab and line feed
    dropped (openpyxl refuses them)."""
    return "".join(ch for ch in str("" if value is None else value) if ch in "\t\n" or ord(ch) >= 32)


def _as_text(cell: Cell, value) -> Cell:
    text = clean_text(value)
    cell.value = text or None
    if text:
        cell.data_type = "s"  # after the value: assigning a value sets the type again
        if text.startswith(FORMULA_STARTS):
            cell.quotePrefix = True
    return cell


def _fill(cell: Cell, value, number_format: str | None) -> Cell:
    if value is None or value == "":
        cell.value = None
    elif isinstance(value, bool):
        _as_text(cell, "x" if value else "")
    elif isinstance(value, (int, float, Decimal)):
        cell.value = value
    elif isinstance(value, datetime.datetime):
        cell.value = timezone.localtime(value).replace(tzinfo=None) if value.tzinfo else value
        cell.number_format = number_format or "DD/MM/YYYY HH:MM"
        return cell
    elif isinstance(value, datetime.date):
        cell.value = value
        cell.number_format = number_format or "DD/MM/YYYY"
        return cell
    else:
        _as_text(cell, value)
    if number_format:
        cell.number_format = number_format
    return cell


def cell(sheet, value, *, number_format: str | None = None) -> Cell:
    """A cell to ``append`` to ``sheet`` (write-only or not): text as text, dates as dates."""
    return _fill(WriteOnlyCell(sheet), value, number_format)


def append(sheet, values, *, number_formats: dict[int, str] | None = None) -> None:
    """Append one row of values (0-based column → number format in ``number_formats``)."""
    formats = number_formats or {}
    sheet.append([cell(sheet, value, number_format=formats.get(index)) for index, value in enumerate(values)])


def put(sheet, row: int, column: int, value, *, number_format: str | None = None) -> Cell:
    """Write ``value`` at (row, column) of a normal worksheet; the cell, for styling."""
    return _fill(sheet.cell(row=row, column=column), value, number_format)


def new_workbook(*, write_only: bool = False) -> Workbook:
    return Workbook(write_only=write_only)


def save(workbook: Workbook) -> bytes:
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def figures_workbook(owner: str, title: str, period, *, details=()) -> tuple[Workbook, object]:
    """A workbook of figures for a period, as every statistics export starts it: a "Summary"
    sheet with the owner (commune or agency), the title in capitals, the period with its dates,
    then ``details`` (pairs of label and value), a blank line and the bold headings "Figure" and
    "Value". The figures are appended after by the caller; returns (workbook, summary sheet)."""
    from openpyxl.styles import Font

    workbook = new_workbook()
    sheet = workbook.active
    sheet.title = _("Summary")[:31]
    append(sheet, [owner])
    append(sheet, [str(title).upper()])
    sheet["A2"].font = Font(bold=True, size=14)
    append(sheet, [_("Period"), period.label])
    append(sheet, [_("From date"), period.date_from])
    append(sheet, [_("To date"), period.date_to])
    for label, value in details:
        append(sheet, [label, value])
    append(sheet, [])
    append(sheet, [_("Figure"), _("Value")])
    for heading in sheet[sheet.max_row]:
        heading.font = Font(bold=True)
    return workbook, sheet


def table_sheet(workbook: Workbook, title: str, headings: list, rows, *,
                number_formats: dict[int, str] | None = None, widths=(30,)):
    """A sheet of a table, as the statistics exports write theirs: the bold headings on the
    first row, which stays in view (frozen), then ``rows``; ``widths`` are the first columns'
    widths. Returns the sheet."""
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    sheet = workbook.create_sheet(str(title)[:31])
    append(sheet, [str(heading) for heading in headings])
    for heading in sheet[1]:
        heading.font = Font(bold=True)
    for values in rows:
        append(sheet, values, number_formats=number_formats)
    sheet.freeze_panes = "A2"
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    return sheet


def refused_rows_workbook(errors) -> bytes:
    """The refused rows of a two-step import (each ``{"row", "field", "message"}``) as an .xlsx to
    correct the file by: one sheet of row, column and reason."""
    workbook = new_workbook()
    workbook.remove(workbook.active)
    table_sheet(workbook, _("Refused rows"), [_("Row"), _("Column"), _("Reason")],
                ([e["row"], e["field"], e["message"]] for e in errors), widths=(8, 30, 80))
    return save(workbook)
