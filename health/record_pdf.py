"""A personal health record as a PDF: for the station (``health:record_pdf``) and for the person
(``health_public:my_health_pdf``).

A4 in Liberation Serif (the project's fonts with Vietnamese glyphs, ``documents.rendering``):
the commune's station and the national motto at the top, the title, the resident's
identification (the personal ID number masked: the person knows it, and a printed page travels),
the record's fields by the parts of the form of Decision 831/QĐ-BYT, and the chronic conditions
with their ICD-10 titles. The layout is ours; the parts' headings are the form's.
"""
from __future__ import annotations

import io

from django.utils import timezone
from django.utils.translation import gettext as _
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import cm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from documents.rendering import FONT, FONT_BOLD, markup, register_fonts
from health.record_form import sections_for
from health.records import conditions_of


def render(record, *, commune_name: str = "") -> bytes:
    register_fonts()
    normal = ParagraphStyle("n", fontName=FONT, fontSize=11, leading=14)
    bold = ParagraphStyle("b", parent=normal, fontName=FONT_BOLD)
    centre = ParagraphStyle("c", parent=bold, alignment=TA_CENTER)
    title = ParagraphStyle("t", parent=centre, fontSize=14, leading=18, spaceBefore=8, spaceAfter=8)
    heading = ParagraphStyle("h", parent=bold, fontSize=12, spaceBefore=8, spaceAfter=4)

    resident = record.resident
    story = [
        Table([[Paragraph(markup(f"UBND {commune_name}".strip()), centre),
                Paragraph("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", centre)],
               [Paragraph("TRẠM Y TẾ", centre), Paragraph("Độc lập - Tự do - Hạnh phúc", centre)]],
              colWidths=[7 * cm, 10 * cm]),
        Paragraph("HỒ SƠ QUẢN LÝ SỨC KHỎE CÁ NHÂN", title),
        Paragraph(markup(_("Personal health record (Decision 831/QĐ-BYT)")), ParagraphStyle("s", parent=normal,
                                                                                          alignment=TA_CENTER)),
        Spacer(1, 8),
    ]

    def table(rows):
        data = [[Paragraph(markup(label), normal), Paragraph(markup(value or "—").replace("\n", "<br/>"), normal)]
                for label, value in rows]
        t = Table(data, colWidths=[6 * cm, 11 * cm])
        t.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("LINEBELOW", (0, 0), (-1, -1), 0.25, "#999999")]))
        return t

    story.append(Paragraph(markup(_("Identification")), heading))
    story.append(table([
        (_("Full name"), resident.full_name),
        (_("Birth date"), resident.birth_date.strftime("%d/%m/%Y")),
        (_("Sex"), str(resident.get_sex_display())),
        (_("Personal ID number"), resident.masked_id),
        (_("Household"), f"{resident.household.code} · {resident.household.village.name}"),
    ]))
    for section in sections_for(record):
        story.append(Paragraph(markup(f"{section['number']}. {section['title_vi']} ({section['title']})"), heading))
        story.append(table(section["rows"]))
    story.append(Paragraph(markup(_("Chronic conditions")), heading))
    conditions = conditions_of(record)
    if conditions:
        story.append(table([(f"{c.icd10} – {c.title}", _("diagnosed on %(date)s") % {
            "date": c.diagnosed_on.strftime("%d/%m/%Y")} + ("" if c.active else f" · {_('closed')}"))
            for c in conditions]))
    else:
        story.append(Paragraph(markup(_("No chronic condition recorded.")), normal))
    story.append(Spacer(1, 12))
    story.append(Paragraph(markup(_("Printed on %(date)s") % {
        "date": timezone.localtime().strftime("%H:%M %d/%m/%Y")}), normal))

    buffer = io.BytesIO()
    SimpleDocTemplate(buffer, pagesize=A4, leftMargin=2 * cm, rightMargin=2 * cm, topMargin=1.5 * cm,
                      bottomMargin=1.5 * cm, title=f"Hồ sơ sức khỏe – {resident.full_name}", creator="Xã Số",
                      ).build(story)
    return buffer.getvalue()
