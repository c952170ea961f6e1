"""The monthly report's presentation, shared by the page, the PDF and the workbook: the sections
as (heading, rows of label and figure), and the PDF (A4, Liberation Serif for the Vietnamese
glyphs, ``documents.rendering``) and .xlsx (``core.xlsx``) files.

Aggregates only: the tables hold counts and shares, never a name nor an ID number.
"""
from __future__ import annotations

import io

from django.utils import timezone
from django.utils.translation import gettext as _

from core import charts, xlsx
from health.models import Payment
from health.reports import AGE_GROUPS, FORMS_NOTE, PROGRAMMES, SEXES


def _n(value) -> str:
    return charts.number(value)


def chapter_label(letter: str) -> str:
    return _("ICD-10 codes %(letter)s…") % {"letter": letter}


def sections(report: dict) -> list[dict]:
    """[{"key", "heading", "rows": [(label, figure, text)]}] in the report's order."""
    visits, vaccination, chronic = report["visits"], report["vaccination"], report["chronic"]
    births, deaths, maternal, growth = report["births"], report["deaths"], report["maternal"], report["growth"]
    payments = dict(Payment.choices)
    out = [
        {"key": "visits", "heading": _("Visits"), "rows": [
            (_("Visits in the month"), visits["total"]),
            *[(_("Aged %(group)s") % {"group": label}, visits["by_age"][key]) for key, label, *_r in AGE_GROUPS],
            *[(str(label), visits["by_sex"][key]) for key, label in SEXES],
            *[(str(payments[value]), visits["by_payment"][value]) for value in Payment.values],
            (_("Referred to a higher level"), visits["referred"]),
        ]},
        {"key": "vaccination", "heading": _("Immunisation"), "rows": [
            *[(_("%(vaccine)s, dose %(dose)s") % {"vaccine": row["vaccine"], "dose": row["dose"]}, row["count"])
              for row in vaccination["doses"]],
            (_("Doses given"), vaccination["doses_total"]),
            (_("Children under 1 fully immunised in the month"), vaccination["fully_immunised"]),
            (_("Children turning 1 in the month"), vaccination["turning_one"]),
            (_("Share fully immunised (month)"), vaccination["coverage"], "share"),
            (_("Children fully immunised since January"), vaccination["fully_immunised_year"]),
            (_("Children turning 1 in the year"), vaccination["turning_one_year"]),
            (_("Share fully immunised (year to date)"), vaccination["coverage_year"], "share"),
        ]},
        {"key": "chronic", "heading": _("New chronic cases"), "rows": [
            (_("New chronic conditions"), chronic["total"]),
            *[(str(label), chronic["by_programme"][key]) for key, label in PROGRAMMES],
            *[(chapter_label(letter), count) for letter, count in chronic["by_letter"].items()],
        ]},
        {"key": "births", "heading": _("Births"), "rows": [
            (_("Deliveries with a live birth"), births["deliveries"]),
            (_("Children born alive"), births["born_alive"]),
            (_("Residents of the registry born in the month"), births["residents_born"]),
        ]},
        {"key": "deaths", "heading": _("Deaths"), "rows": [
            (_("Deaths in the month"), deaths["total"]),
            (_("Of them under 1"), deaths["under_1"]),
            *[(_("Aged %(group)s") % {"group": label}, deaths["by_age"][key]) for key, label, *_r in AGE_GROUPS],
            *[(str(label), deaths["by_sex"][key]) for key, label in SEXES],
        ]},
        {"key": "maternal", "heading": _("Pregnant women"), "rows": [
            (_("Pregnant women under care at the end of the month"), maternal["under_care"]),
            (_("Antenatal visits in the month"), maternal["antenatal_visits"]),
            (_("Women seen for antenatal care"), maternal["women_seen"]),
        ]},
        {"key": "growth", "heading": _("Children under 5"), "rows": [
            (_("Children under 5 weighed"), growth["weighed"]),
            (_("Underweight"), growth["underweight"]),
            (_("Stunted"), growth["stunted"]),
            (_("Wasted"), growth["wasted"]),
            (_("Share underweight"), growth["underweight_share"], "share"),
            (_("Share stunted"), growth["stunted_share"], "share"),
        ]},
    ]
    for section in out:
        section["rows"] = [
            (label, value, charts.percent(value) if kind == "share" else _n(value))
            for label, value, *rest in section["rows"] for kind in [rest[0] if rest else "count"]
        ]
    return out


def section_charts(report: dict) -> dict:
    """One SVG chart per section that has figures to compare."""
    visits, vaccination, deaths, growth = report["visits"], report["vaccination"], report["deaths"], report["growth"]
    result = {
        "visits": charts.bar_chart(
            [(str(label), visits["by_age"][key]) for key, label, *_r in AGE_GROUPS],
            title=_("Visits by age group")),
        "chronic": charts.bar_chart(
            [(str(label), report["chronic"]["by_programme"][key]) for key, label in PROGRAMMES],
            title=_("New chronic cases by programme"), colour=charts.PALETTE[2]),
        "deaths": charts.bar_chart(
            [(str(label), deaths["by_age"][key]) for key, label, *_r in AGE_GROUPS],
            title=_("Deaths by age group"), colour=charts.PALETTE[5]),
        "growth": charts.bar_chart(
            [(_("Weighed"), growth["weighed"]), (_("Underweight"), growth["underweight"]),
             (_("Stunted"), growth["stunted"]), (_("Wasted"), growth["wasted"])],
            title=_("Children under 5 weighed and malnourished"), colour=charts.PALETTE[1]),
    }
    if vaccination["doses"]:
        result["vaccination"] = charts.bar_chart(
            [(f"{row['vaccine']} ({row['dose']})", row["count"]) for row in vaccination["doses"]],
            title=_("Doses given by vaccine and dose"), colour=charts.PALETTE[4])
    return result


def title(month) -> str:
    return _("Monthly report of the health station, %(month)s") % {"month": f"{month:%m/%Y}"}


def to_xlsx(report: dict, *, commune_name: str, period) -> bytes:
    workbook, sheet = xlsx.figures_workbook(commune_name, title(period.date_from), period,
                                            details=[(_("Layout"), str(FORMS_NOTE))])
    for section in sections(report):
        xlsx.append(sheet, [section["heading"].upper()])
        for label, value, _text in section["rows"]:
            xlsx.append(sheet, [label, value if value is not None else ""])
    sheet.column_dimensions["A"].width = 55
    sheet.column_dimensions["B"].width = 14
    return xlsx.save(workbook)


def to_pdf(report: dict, *, commune_name: str, month) -> bytes:
    from reportlab.lib import colors
    from reportlab.lib.enums import TA_CENTER
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    from documents.rendering import FONT, FONT_BOLD, FONT_ITALIC, markup, register_fonts

    register_fonts()
    body = ParagraphStyle("body", fontName=FONT, fontSize=11, leading=13.5)
    head = ParagraphStyle("head", fontName=FONT_BOLD, fontSize=12, leading=15, alignment=TA_CENTER)
    note = ParagraphStyle("note", fontName=FONT_ITALIC, fontSize=9.5, leading=11.5)
    section_style = ParagraphStyle("section", fontName=FONT_BOLD, fontSize=12, leading=15, spaceBefore=6)
    story = [
        Paragraph(markup(_("Health station of %(commune)s") % {"commune": commune_name}), head),
        Spacer(1, 3 * mm),
        Paragraph(markup(title(month).upper()), head),
        Paragraph(markup(_("Printed on %(date)s") % {"date": f"{timezone.localdate():%d/%m/%Y}"}), note),
        Paragraph(markup(str(FORMS_NOTE)), note),
        Spacer(1, 3 * mm),
    ]
    for section in sections(report):
        story.append(Paragraph(markup(section["heading"]), section_style))
        rows = [[Paragraph(markup(label), body), Paragraph(markup(text), body)] for label, _v, text in section["rows"]]
        table = Table(rows, colWidths=[130 * mm, 35 * mm])
        table.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
                                   ("VALIGN", (0, 0), (-1, -1), "TOP")]))
        story.append(table)
    buffer = io.BytesIO()
    document = SimpleDocTemplate(buffer, pagesize=A4, leftMargin=20 * mm, rightMargin=15 * mm, topMargin=15 * mm,
                                 bottomMargin=15 * mm, title=title(month), author=commune_name)
    document.build(story)
    return buffer.getvalue()
