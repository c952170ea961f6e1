"""The list of children due for a vaccination in a month, as the station prints it before a
vaccination day (danh sách trẻ đến hẹn tiêm chủng): A4 in Liberation Serif (the project's fonts
with Vietnamese glyphs, ``documents.rendering``), grouped by village, with the child's name and
birth date, the head of the household, the household's phone masked, and the doses due with
their due date (overdue ones marked). The layout is ours; the wording is Vietnamese, as printed.
"""
from __future__ import annotations

import io

from django.utils import timezone
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import cm
from reportlab.platypus import LongTable, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from core.phones import mask_phone
from documents.rendering import FONT, FONT_BOLD, markup, register_fonts


def render_due_list(groups, month, *, commune_name: str = "", village: str = "") -> bytes:
    register_fonts()
    normal = ParagraphStyle("n", fontName=FONT, fontSize=10, leading=12)
    bold = ParagraphStyle("b", parent=normal, fontName=FONT_BOLD)
    centre = ParagraphStyle("c", parent=bold, alignment=TA_CENTER, fontSize=11, leading=14)
    title = ParagraphStyle("t", parent=centre, fontSize=14, leading=18, spaceBefore=8, spaceAfter=2)
    heading = ParagraphStyle("h", parent=bold, fontSize=12, leading=15, spaceBefore=10, spaceAfter=4)

    subtitle = f"Tháng {month:%m/%Y}" + (f" — {village}" if village else "")
    story = [
        Table([[Paragraph(markup(f"UBND {commune_name}".strip()), centre),
                Paragraph("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", centre)],
               [Paragraph("TRẠM Y TẾ", centre), Paragraph("Độc lập - Tự do - Hạnh phúc", centre)]],
              colWidths=[7 * cm, 10 * cm]),
        Paragraph("DANH SÁCH TRẺ ĐẾN HẸN TIÊM CHỦNG", title),
        Paragraph(markup(subtitle), ParagraphStyle("s", parent=normal, alignment=TA_CENTER, fontSize=11)),
        Spacer(1, 6),
    ]
    total = 0
    for village_name, rows in groups:
        story.append(Paragraph(markup(f"{village_name or 'Chưa rõ thôn, bản'} ({len(rows)} trẻ)"), heading))
        data = [[Paragraph(text, bold) for text in ("TT", "Họ tên trẻ", "Ngày sinh", "Chủ hộ, điện thoại",
                                                     "Mũi tiêm đến hẹn", "Đã tiêm (ký)")]]
        for index, row in enumerate(rows, start=1):
            doses = "<br/>".join(
                markup(f"{d.label}: {d.due_on:%d/%m/%Y}") + (" <b>(quá hạn)</b>" if d.overdue else "")
                for d in row.doses)
            head = markup(row.child.head or "—") + "<br/>" + markup(mask_phone(row.child.phone) or "—")
            data.append([Paragraph(str(index), normal), Paragraph(markup(row.child.name), normal),
                         Paragraph(f"{row.child.birth_date:%d/%m/%Y}", normal), Paragraph(head, normal),
                         Paragraph(doses, normal), ""])
        total += len(rows)
        table = LongTable(data, colWidths=[0.9 * cm, 3.8 * cm, 2.1 * cm, 3.5 * cm, 5.2 * cm, 2.1 * cm], repeatRows=1)
        table.setStyle(TableStyle([
            ("GRID", (0, 0), (-1, -1), 0.5, "#444444"),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("BACKGROUND", (0, 0), (-1, 0), "#eeeeee"),
        ]))
        story.append(table)
    if not groups:
        story.append(Paragraph("Không có trẻ nào đến hẹn tiêm trong tháng.", normal))
    story += [
        Spacer(1, 10),
        Paragraph(markup(f"Tổng số: {total} trẻ. In ngày {timezone.localdate():%d/%m/%Y}."), normal),
    ]
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(buffer, pagesize=A4, leftMargin=1.5 * cm, rightMargin=1.5 * cm, topMargin=1.5 * cm,
                            bottomMargin=1.5 * cm, title="Danh sách trẻ đến hẹn tiêm chủng")
    doc.build(story)
    return buffer.getvalue()
