"""Form 7 of Circular 03/2025/TT-VPCP, the dossier register (sổ theo dõi hồ sơ): its rows and
an .xlsx workbook (the PDF is ``onestop.pdf.render_register``).

A row per dossier: the code, the procedure, the applicant, when it was received, the
appointment (and the new date of form 4), when it went to processing, when the result was ready
and returned, and whether it was early, on time or late against the appointment (moved only by
supplement pauses: a form-4 extension never makes a late result on time). The column headings
are the form's words (a legal format, not interface text).
"""
from __future__ import annotations

import datetime

from django.db.models import Prefetch, QuerySet
from django.utils import timezone
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.utils import get_column_letter

from core import xlsx
from onestop.deadlines import classify
from onestop.models import Channel, Delivery, Dossier, DossierEvent, DossierState, EventKind
from workcalendar.services import to_local

TITLE = "SỔ THEO DÕI HỒ SƠ"

# (key of the row, heading of the column, relative width). The code column holds a whole
# dossier code (``000.00.X04630-261207-0001``) on one line at the register's 9.5 pt.
COLUMNS: list[tuple[str, str, float]] = [
    ("stt", "STT", 0.65),
    ("code", "Mã hồ sơ", 2.8),
    ("procedure", "Tên thủ tục hành chính", 2.1),
    ("applicant", "Tên cá nhân, tổ chức", 1.6),
    ("address", "Địa chỉ", 1.3),
    ("received_at", "Ngày, giờ nhận hồ sơ", 1.2),
    ("appointment", "Ngày, giờ hẹn trả kết quả", 1.3),
    ("transferred", "Chuyển hồ sơ đến bộ phận giải quyết", 1.6),
    ("result_date", "Ngày có kết quả", 1.2),
    ("returned", "Ngày trả kết quả", 1.2),
    ("status", "Trước hạn / Đúng hạn / Quá hạn", 1.1),
    ("notes", "Ghi chú", 1.3),
]
KEYS = [key for key, _heading, _width in COLUMNS]
HEADINGS = [heading for _key, heading, _width in COLUMNS]
WIDTHS = [width for _key, _heading, width in COLUMNS]

CLASS_LABELS = {"early": "Trước hạn", "on_time": "Đúng hạn", "late": "Quá hạn"}
STATE_LABELS = {
    DossierState.DRAFT: "Chưa nộp",
    DossierState.SUBMITTED: "Chờ tiếp nhận",
    DossierState.INCOMPLETE: "Yêu cầu bổ sung, hoàn thiện",
    DossierState.RECEIVED: "Đang giải quyết",
    DossierState.IN_PROGRESS: "Đang giải quyết",
    DossierState.SUPPLEMENT: "Chờ bổ sung hồ sơ",
    DossierState.REFUSED: "Từ chối tiếp nhận",
    DossierState.STOPPED: "Dừng giải quyết",
    DossierState.WITHDRAWN: "Rút hồ sơ",
}
OVERDUE_LABEL = "Đang giải quyết, đã quá hạn"


def local(moment: datetime.datetime | None) -> datetime.datetime | None:
    """The moment in Asia/Ho_Chi_Minh (a naive one is taken as local time)."""
    return None if moment is None else to_local(moment)


def date_text(value) -> str:
    """dd/mm/yyyy of a date, or of a moment in local time."""
    if value is None:
        return ""
    if isinstance(value, datetime.datetime):
        value = local(value)
    return value.strftime("%d/%m/%Y")


def moment_text(value: datetime.datetime | None) -> str:
    """'dd/mm/yyyy HH:MM' in local time."""
    if value is None:
        return ""
    value = local(value)
    return f"{value:%d/%m/%Y %H:%M}"


def period_text(date_from=None, date_to=None) -> str:
    if date_from and date_to:
        return f"Từ ngày {date_text(date_from)} đến ngày {date_text(date_to)}"
    if date_from:
        return f"Từ ngày {date_text(date_from)}"
    if date_to:
        return f"Đến ngày {date_text(date_to)}"
    return ""


def completion_class(dossier: Dossier) -> str | None:
    """'early', 'on_time' or 'late' for a dossier with a result; None otherwise."""
    if dossier.completed_at is None or dossier.due_at is None:
        return None
    return classify(dossier.completed_at, dossier.due_at)


def status(dossier: Dossier, *, now: datetime.datetime | None = None) -> tuple[str, str]:
    """(machine value, Vietnamese text) of the register's status column."""
    klass = completion_class(dossier)
    if klass is not None:
        return klass, CLASS_LABELS[klass]
    if dossier.state in (DossierState.RECEIVED, DossierState.IN_PROGRESS):
        now = now or timezone.now()
        if dossier.due_at is not None and now > dossier.due_at:
            return "overdue", OVERDUE_LABEL
        return "open", STATE_LABELS[dossier.state]
    return str(dossier.state), STATE_LABELS.get(dossier.state, str(dossier.get_state_display()))


def _handovers(dossier: Dossier) -> list[DossierEvent]:
    cached = getattr(dossier, "register_handovers", None)
    if cached is not None:
        return cached
    return list(dossier.events.filter(kind=EventKind.HANDOVER).select_related("to_step").order_by("at", "pk"))


def _transferred(dossier: Dossier) -> str:
    """The first hand-over out of the desk: when, to which step and to whom."""
    events = _handovers(dossier)
    if not events:
        return ""
    first = events[0]
    parts = [moment_text(first.at)]
    target = first.to_step.name if first.to_step_id and first.to_step else ""
    if first.to_user_name:
        target = f"{target} ({first.to_user_name})" if target else first.to_user_name
    if target:
        parts.append(target)
    return " – ".join(parts)


def _notes(dossier: Dossier) -> str:
    notes = []
    if dossier.channel == Channel.ONLINE:
        notes.append("Nộp trực tuyến")
    pauses = len(dossier.pauses.all())
    if pauses:
        notes.append(f"Bổ sung hồ sơ: {pauses} lần")
    if dossier.extended_due_at:
        notes.append(f"Xin lỗi, hẹn lại ngày {date_text(dossier.extended_due_at)}")
    if dossier.delivery == Delivery.POST:
        notes.append("Trả qua dịch vụ bưu chính")
    elif dossier.delivery == Delivery.ONLINE:
        notes.append("Trả kết quả trực tuyến")
    if dossier.closed_reason and dossier.state in (DossierState.REFUSED, DossierState.STOPPED):
        notes.append(f"Lý do: {dossier.closed_reason}")
    if dossier.fee_exempt_reason:
        notes.append(f"Miễn phí, lệ phí: {dossier.fee_exempt_reason}")
    return ". ".join(notes)


def row(dossier: Dossier, number: int, *, now: datetime.datetime | None = None) -> dict:
    status_code, status_text = status(dossier, now=now)
    appointment = moment_text(dossier.due_at)
    if dossier.extended_due_at:
        appointment = f"{appointment} (hẹn lại: {moment_text(dossier.extended_due_at)})".strip()
    return {
        "stt": number,
        "dossier_id": dossier.pk,
        "code": dossier.code or "",
        "procedure": dossier.procedure.name,
        "procedure_code": dossier.procedure.code,
        "applicant": dossier.applicant_name,
        "address": dossier.applicant_address,
        "received_at": moment_text(dossier.received_at),
        "appointment": appointment,
        "transferred": _transferred(dossier),
        "result_date": moment_text(dossier.completed_at),
        "returned": moment_text(dossier.returned_at),
        "status": status_text,
        "status_code": status_code,
        "notes": _notes(dossier),
    }


def register_rows(queryset, *, now: datetime.datetime | None = None) -> list[dict]:
    """The rows of form 7 for these dossiers, in the queryset's order (numbered from 1).

    Each row is a dict with the keys of ``COLUMNS`` (text as printed) plus ``dossier_id``,
    ``procedure_code`` and ``status_code`` (early / on_time / late / open / overdue / a state).
    """
    if isinstance(queryset, QuerySet):
        queryset = queryset.select_related("procedure").prefetch_related(
            "pauses",
            Prefetch(
                "events", to_attr="register_handovers",
                queryset=DossierEvent.objects.filter(kind=EventKind.HANDOVER).select_related("to_step").order_by("at", "pk"),
            ),
        )
    now = now or timezone.now()
    return [row(dossier, number, now=now) for number, dossier in enumerate(queryset, start=1)]


def cell_text(value) -> str:
    """Characters a worksheet or a PDF cell may hold (no control characters)."""
    return "".join(ch for ch in str("" if value is None else value) if ch in "\t\n" or ord(ch) >= 32)


def to_xlsx(rows: list[dict], *, commune_name: str = "", date_from=None, date_to=None) -> bytes:
    """The register as an .xlsx workbook: a title, the period, the headings and one line per row;
    every text written as text (``core.xlsx``)."""
    workbook = xlsx.new_workbook()
    sheet = workbook.active
    sheet.title = "Sổ theo dõi hồ sơ"
    thin = Side(style="thin")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)
    wrap = Alignment(wrap_text=True, vertical="top")
    xlsx.append(sheet, [commune_name.replace("\n", " ")])
    xlsx.append(sheet, [TITLE])
    sheet["A2"].font = Font(bold=True, size=14)
    xlsx.append(sheet, [period_text(date_from, date_to)])
    header_row = 4
    xlsx.append(sheet, HEADINGS)
    for index in range(1, len(HEADINGS) + 1):
        cell = sheet.cell(row=header_row, column=index)
        cell.font, cell.border = Font(bold=True), border
        cell.alignment = Alignment(wrap_text=True, horizontal="center", vertical="center")
    for row_index, values in enumerate(rows, start=header_row + 1):
        for index, key in enumerate(KEYS, start=1):
            value = values.get(key, "")
            if not (key == "stt" and isinstance(value, int)):
                value = cell_text(value)
            cell = xlsx.put(sheet, row_index, index, value)
            cell.border, cell.alignment = border, wrap
    for index, width in enumerate(WIDTHS, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = max(6, width * 11)
    sheet.freeze_panes = sheet.cell(row=header_row + 1, column=1)
    sheet.print_options.gridLines = True
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    return xlsx.save(workbook)


XLSX_CONTENT_TYPE = xlsx.CONTENT_TYPE
