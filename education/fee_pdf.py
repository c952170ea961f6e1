"""The fees' printed papers, in Liberation Serif (Vietnamese glyphs, ``documents.rendering``):

* the payment notice (giấy báo thu) of a class: two students to an A4 page, each with the
  school, the student, the class, the lines, the total in figures (``1.234.000 đ``), the due date
  and the VietQR code to the school's account (or, for a school without an account, the request
  to pay at the school);
* the receipt (biên lai thu tiền) of a payment: the school, the student, the class, the lines,
  the amount, the method, the receipt number and the date (dd/mm/yyyy).

The wording is Vietnamese, as printed.
"""
from __future__ import annotations

import io

from django.utils import timezone
from reportlab.lib.enums import TA_CENTER, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import cm
from reportlab.platypus import (
    CondPageBreak, HRFlowable, Image, KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle,
)

from documents.rendering import FONT, FONT_BOLD, markup, register_fonts
from education import fees


def _styles():
    register_fonts()
    normal = ParagraphStyle("n", fontName=FONT, fontSize=10.5, leading=13)
    return {
        "normal": normal,
        "bold": ParagraphStyle("b", parent=normal, fontName=FONT_BOLD),
        "centre": ParagraphStyle("c", parent=normal, fontName=FONT_BOLD, alignment=TA_CENTER, fontSize=11, leading=14),
        "title": ParagraphStyle("t", parent=normal, fontName=FONT_BOLD, alignment=TA_CENTER, fontSize=14, leading=18,
                                spaceBefore=4, spaceAfter=4),
        "right": ParagraphStyle("r", parent=normal, alignment=TA_RIGHT),
        "rightbold": ParagraphStyle("rb", parent=normal, fontName=FONT_BOLD, alignment=TA_RIGHT),
    }


def _header(school, s):
    return Table([[Paragraph(markup(school.name.upper()), s["centre"]),
                   Paragraph("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", s["centre"])],
                  [Paragraph(markup(school.address or ""), s["normal"]),
                   Paragraph("Độc lập - Tự do - Hạnh phúc", s["centre"])]],
                 colWidths=[7.5 * cm, 10 * cm])


def _lines_table(lines, total, s, total_label="Tổng cộng"):
    data = [[Paragraph("TT", s["bold"]), Paragraph("Khoản thu", s["bold"]), Paragraph("Số tiền", s["rightbold"])]]
    for index, line in enumerate(lines, start=1):
        data.append([Paragraph(str(index), s["normal"]), Paragraph(markup(line.name), s["normal"]),
                     Paragraph(fees.format_money(line.amount), s["right"])])
    data.append(["", Paragraph(total_label, s["bold"]), Paragraph(fees.format_money(total), s["rightbold"])])
    table = Table(data, colWidths=[1 * cm, 11 * cm, 4.5 * cm])
    table.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.5, "#444444"), ("VALIGN", (0, 0), (-1, -1), "TOP"),
                               ("BACKGROUND", (0, 0), (-1, 0), "#eeeeee")]))
    return table


def _student_lines(invoice, s):
    enrolment = invoice.enrolment
    student = enrolment.student
    rows = [
        f"Học sinh: <b>{markup(student.resident.full_name)}</b>"
        + (f" — ngày sinh {student.resident.birth_date:%d/%m/%Y}" if student.resident.birth_date else ""),
        f"Lớp: <b>{markup(enrolment.school_class.name)}</b> — năm học {markup(invoice.semester.year.name)}, "
        f"học kỳ {invoice.semester.number}",
        f"Mã hóa đơn: <b>{markup(invoice.code)}</b>",
    ]
    return [Paragraph(text, s["normal"]) for text in rows]


def _notice(invoice, s):
    school = invoice.school
    parts = [_header(school, s), Paragraph("GIẤY BÁO CÁC KHOẢN THU", s["title"])]
    parts += _student_lines(invoice, s)
    parts += [Spacer(1, 4), _lines_table(list(invoice.lines.all()), invoice.total, s), Spacer(1, 4)]
    if invoice.due_on:
        parts.append(Paragraph(f"Hạn nộp: <b>{invoice.due_on:%d/%m/%Y}</b>", s["normal"]))
    payload = fees.payload_for(invoice)
    if invoice.state == invoice.State.PAID:
        parts.append(Paragraph("Đã nộp đủ. Xin cảm ơn gia đình.", s["bold"]))
    elif payload:
        from core import vietqr

        image = Image(io.BytesIO(vietqr.qr_png(payload, box_size=6)), width=4.2 * cm, height=4.2 * cm)
        text = [
            Paragraph(f"Quét mã VietQR bằng ứng dụng ngân hàng để nộp <b>{fees.format_money(fees.remaining(invoice))}</b>.",
                      s["normal"]),
            Paragraph(f"Tài khoản: {markup(school.bank_account)} — {markup(school.bank_account_name)}", s["normal"]),
            Paragraph(f"Nội dung chuyển khoản: <b>{markup(fees.purpose_for(invoice))}</b>", s["normal"]),
            Paragraph("Hoặc nộp tiền mặt tại bộ phận kế toán của nhà trường.", s["normal"]),
        ]
        table = Table([[image, text]], colWidths=[4.6 * cm, 11.9 * cm])
        table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "MIDDLE")]))
        parts.append(table)
    else:
        parts.append(Paragraph("Nhà trường chưa có tài khoản nhận chuyển khoản: xin gia đình nộp tiền tại bộ phận "
                               "kế toán của nhà trường.", s["normal"]))
    return KeepTogether(parts)


def render_notices(invoices, *, title: str = "Giấy báo các khoản thu") -> bytes:
    """Two notices to an A4 page, cut along the line between them."""
    s = _styles()
    story = []
    for index, invoice in enumerate(invoices):
        if index % 2 == 1:
            story += [Spacer(1, 10), HRFlowable(width="100%", dash=(3, 3), color="#888888"), Spacer(1, 10)]
        elif index:
            story.append(CondPageBreak(28 * cm))
        story.append(_notice(invoice, s))
    if not story:
        story.append(Paragraph("Không có hóa đơn nào.", s["normal"]))
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(buffer, pagesize=A4, leftMargin=1.5 * cm, rightMargin=1.5 * cm, topMargin=1.2 * cm,
                            bottomMargin=1.2 * cm, title=title)
    doc.build(story)
    return buffer.getvalue()


def render_receipt(payment) -> bytes:
    s = _styles()
    invoice = payment.invoice
    method = "Chuyển khoản (VietQR)" if payment.method == payment.Method.BANK else "Tiền mặt tại trường"
    received = timezone.localtime(payment.received_at)
    story = [_header(invoice.school, s), Paragraph("BIÊN LAI THU TIỀN", s["title"]),
             Paragraph(f"Số: <b>{markup(payment.receipt_number)}</b>",
                       ParagraphStyle("num", parent=s["normal"], alignment=TA_CENTER)),
             Spacer(1, 6)]
    story += _student_lines(invoice, s)
    story += [Spacer(1, 4), _lines_table(list(invoice.lines.all()), payment.amount, s, "Số tiền đã nộp"), Spacer(1, 6),
              Paragraph(f"Hình thức: {method}"
                        + (f" — mã giao dịch {markup(payment.transaction_id)}" if payment.transaction_id else ""),
                        s["normal"]),
              Paragraph(f"Ngày nộp: <b>{received:%d/%m/%Y}</b>", s["normal"]),
              Spacer(1, 18),
              Table([["", Paragraph(markup(f"Ngày {received:%d} tháng {received:%m} năm {received:%Y}"), s["centre"])],
                     [Paragraph("Người nộp tiền", s["centre"]), Paragraph("Người thu tiền", s["centre"])]],
                    colWidths=[8 * cm, 8.5 * cm])]
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(buffer, pagesize=A4, leftMargin=1.5 * cm, rightMargin=1.5 * cm, topMargin=1.5 * cm,
                            bottomMargin=1.5 * cm, title=f"Biên lai {payment.receipt_number}")
    doc.build(story)
    return buffer.getvalue()
