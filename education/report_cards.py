"""Report cards (học bạ) and term result sheets (bảng tổng hợp kết quả) as PDF, made by a durable
job (``ReportCardJob``) and signed by the principal with the signatures app.

What is drawn
-------------
* **Lower secondary** (học bạ THCS, the form issued with Circular 22/2021/TT-BGDĐT): the Ministry
  and the school at the top, the student's identity (name, birth date, sex, ethnicity, place of
  residence — never the personal ID number: a report card does not need it), then the year's
  table: subjects × (Học kì I, Học kì II, Cả năm) with the average of a scored subject or the
  level Đ / CĐ of a comment-assessed one, the level after a retest where there is one, and the
  subject teacher's comment; then the learning and conduct results per semester and for the
  year, the days absent, the decision (lên lớp / rèn luyện, kiểm tra lại / ở lại lớp), and the
  homeroom teacher's and the principal's signature blocks under "…, ngày dd tháng mm năm yyyy".
* **Primary** (học bạ of Circular 27/2020/TT-BGDĐT): 1. subjects and educational activities with
  the level reached, the periodic test's score and the comment; 2. the main qualities and 3. the
  core competencies (general, specific) with their levels; 4. the education result;
  5. commendation; 6. completion of the grade's programme; the signature blocks.
* **Term result sheet** of a class (A4 landscape): one row per student, the subjects' averages or
  levels, the results, the days absent.

Layout not confirmed: the order of the blocks and the column headings follow the forms as we
know them (the Ministry's Word templates were not at hand); the sizes, the fonts and putting a
lower-secondary year on one page and a primary year on one or two pages are ours.

The form's own words (headings, the circulars' level names "Tốt", "Hoàn thành tốt"…) are
Vietnamese in the PDF whatever the page's language: they are the official form's text, like the
national motto. Marks are written with one decimal and the Vietnamese decimal comma ("8,5")
everywhere in these PDFs.

Data come from the stored ``SubjectResult`` / ``StudentResult`` / ``Mark`` / ``Evaluation`` rows;
``education.assessment.recompute_class`` (when that module exists) runs first so the results are
fresh. Every PDF made or downloaded is logged as an export of students' data.
"""
from __future__ import annotations

import datetime
import io
import logging
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from education import access, permissions
from education.models import (
    Enrolment, Evaluation, Mark, Period, ReportCardJob, SchoolClass, StaffPosition, StudentResult,
    Subject, SubjectResult,
)
from jobs.models import JobState

logger = logging.getLogger(__name__)

SIGNATURE_FIELD = "xaso_principal"
ON_SIGNED = "education.report_cards.on_signed"
SUBJECT_PREFIX = "education.report_job:"
# What the access log says (in plain English, like every line of the log).
LOG_WORDS = {ReportCardJob.Kind.REPORT_CARDS: "report cards of class", ReportCardJob.Kind.RESULT_SHEET:
             "term result sheet of class"}
RUNNING_STATES = (JobState.QUEUED, JobState.RUNNING, JobState.WAITING)
LISTED_STATUSES = (Enrolment.Status.ACTIVE, Enrolment.Status.COMPLETED)

# The circulars' level names, as the form prints them (codes of ``education.rules``).
FORM_LEVELS = {
    "T": "Tốt", "K": "Khá", "D": "Đạt", "CD": "Chưa đạt",
    "HTXS": "Hoàn thành xuất sắc", "HTT": "Hoàn thành tốt", "HT": "Hoàn thành", "CHT": "Chưa hoàn thành",
    "CCG": "Cần cố gắng",
}
# Comment-assessed subjects of lower secondary are written Đ / CĐ in the subject table.
SUBJECT_LEVELS = {"D": "Đ", "CD": "CĐ"}
DECISIONS = {
    StudentResult.Decision.PROMOTED: "Được lên lớp",
    StudentResult.Decision.RETEST: "Rèn luyện, kiểm tra lại trong hè",
    StudentResult.Decision.REPEAT: "Ở lại lớp",
    StudentResult.Decision.COMPLETED: "Hoàn thành chương trình trung học cơ sở",
}
PERIODS_BY_LEVEL = {
    "secondary": [Period.SEM1, Period.SEM2, Period.YEAR],
    "primary": [Period.MID1, Period.SEM1, Period.MID2, Period.YEAR],
}
PERIOD_TITLES = {
    Period.MID1: "Giữa học kì I", Period.SEM1: "Học kì I", Period.MID2: "Giữa học kì II",
    Period.SEM2: "Học kì II", Period.YEAR: "Cả năm", Period.RETEST: "Sau kiểm tra lại",
}


# --- small formatting helpers ---------------------------------------------------------------------

def score_text(value) -> str:
    """A mark or an average with one decimal and the Vietnamese decimal comma: 8.5 → "8,5"."""
    if value is None or value == "":
        return ""
    return f"{Decimal(value).quantize(Decimal('0.1'))}".replace(".", ",")


def level_text(code: str) -> str:
    return FORM_LEVELS.get(code or "", code or "")


def long_date(day: datetime.date, place: str = "") -> str:
    """"Tú Lệ, ngày 07 tháng 12 năm 2026" (the form's date line)."""
    text = f"ngày {day:%d} tháng {day:%m} năm {day:%Y}"
    return f"{place}, {text}" if place else text.capitalize()


def is_primary(school_class) -> bool:
    return school_class.grade <= 5


def periods_for(school_class) -> list[str]:
    return list(PERIODS_BY_LEVEL["primary" if is_primary(school_class) else "secondary"])


def commune_name() -> str:
    from communes.permissions import current_commune

    commune = current_commune()
    return commune.name if commune else ""


# --- what a card holds ----------------------------------------------------------------------------

@dataclass
class SubjectLine:
    name: str
    kind: str
    values: dict = field(default_factory=dict)  # period -> text
    retest: str = ""
    test: str = ""
    comment: str = ""


@dataclass
class Card:
    enrolment: object
    name: str
    birth_date: str
    sex: str
    ethnicity: str
    place: str
    subjects: list
    results: dict  # period -> StudentResult
    aspects: list  # (group, name, level text, comment)
    decision: str = ""
    homeroom_comment: str = ""  # lower secondary: the homeroom teacher's words with the conduct level


def enrolments_of(school_class):
    return list(Enrolment.objects.filter(school_class=school_class, status__in=LISTED_STATUSES)
                .select_related("student__resident__household__village").order_by("number", "pk"))


def subjects_of(school_class):
    return list(Subject.objects.filter(grade=school_class.grade).order_by("order", "name"))


def recompute(school_class) -> bool:
    """Fresh results from the marks when the assessment services exist; False when they do not
    (the stored rows are drawn as they are)."""
    try:
        recompute_class = import_string("education.assessment.recompute_class")
    except ImportError:
        return False
    recompute_class(school_class)
    return True


def _ethnicity(resident) -> str:
    from population.ethnicities import NAMES

    return NAMES.get(resident.ethnicity or "", "")


def _place(resident, commune: str) -> str:
    household = resident.household
    parts = [getattr(household.village, "name", "") if household else "", f"xã {commune}" if commune else ""]
    return ", ".join(p for p in parts if p)


def cards_for(school_class, enrolments=None) -> list[Card]:
    """The cards of ``enrolments`` (default: the class's list), read in a few queries."""
    enrolments = enrolments_of(school_class) if enrolments is None else list(enrolments)
    ids = [e.pk for e in enrolments]
    subjects = subjects_of(school_class)
    primary = is_primary(school_class)
    commune = commune_name()
    sub_results = {}
    for row in SubjectResult.objects.filter(enrolment_id__in=ids):
        sub_results[(row.enrolment_id, row.subject_id, row.period)] = row
    marks = {}
    for row in Mark.objects.filter(enrolment_id__in=ids).only(
            "enrolment_id", "subject_id", "period", "column", "score", "level", "comment"):
        marks[(row.enrolment_id, row.subject_id, row.period, row.column)] = row
    results = {}
    for row in StudentResult.objects.filter(enrolment_id__in=ids):
        results.setdefault(row.enrolment_id, {})[row.period] = row
    evaluations = {}
    for row in Evaluation.objects.filter(enrolment_id__in=ids):
        evaluations[(row.enrolment_id, row.aspect, row.period)] = row

    cards = []
    for enrolment in enrolments:
        lines = []
        for subject in subjects:
            line = SubjectLine(name=subject.name, kind=subject.kind)
            for period in periods_for(school_class):
                line.values[period] = _subject_value(subject, sub_results.get((enrolment.pk, subject.pk, period)),
                                                     marks, enrolment.pk, period)
            retest = sub_results.get((enrolment.pk, subject.pk, Period.RETEST))
            if retest is not None:
                line.retest = _subject_value(subject, retest, marks, enrolment.pk, Period.RETEST)
            elif (enrolment.pk, subject.pk, Period.RETEST, "retest") in marks:
                line.retest = score_text(marks[(enrolment.pk, subject.pk, Period.RETEST, "retest")].score)
            if primary:
                for period in (Period.YEAR, Period.MID2, Period.SEM1, Period.MID1):
                    mark = marks.get((enrolment.pk, subject.pk, period, "test"))
                    if mark is not None and mark.score is not None:
                        line.test = str(int(mark.score))
                        break
            line.comment = _comment(marks, enrolment.pk, subject.pk)
            lines.append(line)
        student_results = results.get(enrolment.pk, {})
        aspects = _aspects(evaluations, enrolment.pk, primary)
        final = student_results.get(Period.RETEST) or student_results.get(Period.YEAR)
        resident = enrolment.student.resident
        cards.append(Card(
            enrolment=enrolment, name=resident.full_name, birth_date=resident.birth_date.strftime("%d/%m/%Y"),
            sex="Nam" if resident.sex == "male" else "Nữ", ethnicity=_ethnicity(resident),
            place=_place(resident, commune), subjects=lines, results=student_results, aspects=aspects,
            decision=DECISIONS.get(final.decision, "") if final is not None and final.decision else "",
            homeroom_comment="" if primary else next(
                (row.comment for row in (evaluations.get((enrolment.pk, "conduct", p))
                                         for p in (Period.YEAR, Period.SEM2, Period.SEM1)) if row and row.comment), ""),
        ))
    return cards


def _subject_value(subject, result, marks, enrolment_id, period) -> str:
    if result is not None:
        if result.average is not None:
            return score_text(result.average)
        if result.level:
            return SUBJECT_LEVELS.get(result.level, level_text(result.level)) if subject.kind == Subject.Kind.COMMENT \
                else level_text(result.level)
    mark = marks.get((enrolment_id, subject.pk, period, "level"))
    if mark is not None and mark.level:
        return SUBJECT_LEVELS.get(mark.level, level_text(mark.level)) if subject.kind == Subject.Kind.COMMENT \
            else level_text(mark.level)
    return ""


def _comment(marks, enrolment_id, subject_id) -> str:
    """The teacher's newest words on the subject: the year's, else the latest period's."""
    for period in (Period.YEAR, Period.SEM2, Period.MID2, Period.SEM1, Period.MID1):
        for column in ("level", "end", "comment", "test", "mid"):
            mark = marks.get((enrolment_id, subject_id, period, column))
            if mark is not None and mark.comment:
                return mark.comment
    return ""


def _aspects(evaluations, enrolment_id, primary) -> list:
    from education.curriculum import aspects

    if not primary:
        return []
    found = []
    for item in aspects()["primary"]:
        row = None
        for period in (Period.YEAR, Period.SEM2, Period.SEM1):
            row = evaluations.get((enrolment_id, item["code"], period))
            if row is not None:
                break
        found.append((item["group"], item["name"], level_text(row.level) if row else "", row.comment if row else ""))
    return found


# --- drawing ----------------------------------------------------------------------------------------

class _Styles:
    def __init__(self, size=10):
        from reportlab.lib.enums import TA_CENTER
        from reportlab.lib.styles import ParagraphStyle

        from documents.rendering import FONT, FONT_BOLD, FONT_ITALIC, register_fonts

        register_fonts()
        self.normal = ParagraphStyle("n", fontName=FONT, fontSize=size, leading=size + 2)
        self.small = ParagraphStyle("s", parent=self.normal, fontSize=size - 1, leading=size + 1)
        self.bold = ParagraphStyle("b", parent=self.normal, fontName=FONT_BOLD)
        self.centre = ParagraphStyle("c", parent=self.normal, alignment=TA_CENTER)
        self.centre_bold = ParagraphStyle("cb", parent=self.bold, alignment=TA_CENTER)
        self.italic_centre = ParagraphStyle("ic", parent=self.centre, fontName=FONT_ITALIC)
        self.title = ParagraphStyle("t", parent=self.centre_bold, fontSize=size + 5, leading=size + 8,
                                    spaceBefore=4, spaceAfter=4)
        self.heading = ParagraphStyle("h", parent=self.bold, fontSize=size + 1, leading=size + 3, spaceBefore=4,
                                      spaceAfter=2)


def _p(text, style, *, bold: str = ""):
    """A paragraph of plain ``text`` (escaped), followed by ``bold`` in bold when given."""
    from reportlab.platypus import Paragraph

    from documents.rendering import markup

    html = markup(str(text or "")).replace("\n", "<br/>")
    if bold:
        html += f"<b>{markup(bold)}</b>"
    return Paragraph(html, style)


class SignatureSlot:
    """Where the principal's digital signature goes: a flowable that draws nothing and records
    the page and the box it landed on (PDF points), so that the signing step knows it."""

    def __new__(cls, width, height, sink):
        from reportlab.platypus import Flowable

        class _Slot(Flowable):
            def __init__(self):
                super().__init__()
                self.width, self.height = width, height

            def wrap(self, avail_width, avail_height):
                return self.width, self.height

            def draw(self):
                x, y = self.canv.absolutePosition(0, 0)
                sink.append({"page": self.canv.getPageNumber() - 1,
                             "box": [round(x, 2), round(y, 2), round(x + self.width, 2), round(y + self.height, 2)]})

        return _Slot()


class Tick:
    """A flowable after each student's card: tells ``on_done(count)`` how many are drawn."""

    def __new__(cls, number, on_done):
        from reportlab.platypus import Flowable

        class _Tick(Flowable):
            def wrap(self, avail_width, avail_height):
                return 0, 0

            def draw(self):
                if on_done is not None:
                    on_done(number)

        return _Tick()


def _header(school, styles, width):
    from reportlab.platypus import Table

    left = [_p("BỘ GIÁO DỤC VÀ ĐÀO TẠO", styles.centre), _p(school.name.upper(), styles.centre_bold)]
    right = [_p("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", styles.centre_bold),
             _p("Độc lập - Tự do - Hạnh phúc", styles.centre_bold)]
    return Table([[left[0], right[0]], [left[1], right[1]]], colWidths=[width * 0.42, width * 0.58])


def _grid(data, widths, header_rows=1):
    from reportlab.platypus import Table, TableStyle

    table = Table(data, colWidths=widths, repeatRows=header_rows)
    table.setStyle(TableStyle([
        ("GRID", (0, 0), (-1, -1), 0.4, "#444444"), ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("BACKGROUND", (0, 0), (-1, header_rows - 1), "#EEEEEE"),
        ("TOPPADDING", (0, 0), (-1, -1), 1.5), ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5),
    ]))
    return table


def _signatures(school_class, principal_name, styles, width, slots, day):
    """The homeroom teacher's block (left) and the principal's (right), with the date line."""
    from reportlab.platypus import KeepTogether, Spacer, Table

    teacher = school_class.homeroom_teacher.full_name if school_class.homeroom_teacher else ""
    slot = SignatureSlot(width * 0.45, 52, slots)
    table = Table([
        [_p("", styles.centre), _p(long_date(day, commune_name()), styles.italic_centre)],
        [_p("GIÁO VIÊN CHỦ NHIỆM", styles.centre_bold), _p("HIỆU TRƯỞNG", styles.centre_bold)],
        [_p("(Ký và ghi rõ họ tên)", styles.italic_centre), _p("(Ký, ghi rõ họ tên và đóng dấu)", styles.italic_centre)],
        [Spacer(1, 52), slot],
        [_p(teacher, styles.centre_bold), _p(principal_name, styles.centre_bold)],
    ], colWidths=[width * 0.5, width * 0.5])
    return KeepTogether([Spacer(1, 6), table])


def principal_of(school) -> str:
    row = school.staff.filter(position=StaffPosition.PRINCIPAL, active=True).order_by("pk").first()
    return row.full_name if row else ""


def _identity(card, school_class, styles, width):
    from reportlab.platypus import Table

    rows = [
        [_p("Họ và tên học sinh: ", styles.normal, bold=card.name), _p(f"Giới tính: {card.sex}", styles.normal)],
        [_p(f"Ngày sinh: {card.birth_date}", styles.normal), _p(f"Dân tộc: {card.ethnicity}", styles.normal)],
        [_p(f"Nơi ở: {card.place}", styles.normal),
         _p(f"Lớp: {school_class.name} — Năm học: {school_class.year.name}", styles.normal)],
    ]
    return Table(rows, colWidths=[width * 0.6, width * 0.4])


def _secondary_card(card, school_class, styles, width):
    from reportlab.platypus import Spacer

    story = [_header(school_class.school, styles, width), Spacer(1, 4),
             _p("HỌC BẠ TRUNG HỌC CƠ SỞ", styles.title),
             _p(f"Năm học {school_class.year.name}", styles.centre), Spacer(1, 4),
             _identity(card, school_class, styles, width), Spacer(1, 4),
             _p("Kết quả học tập", styles.heading)]
    header = [_p(h, styles.centre_bold) for h in (
        "Môn học / Hoạt động giáo dục", "Học kì I", "Học kì II", "Cả năm", "Sau đánh giá lại (nếu có)",
        "Nhận xét của giáo viên môn học")]
    rows = [header]
    for line in card.subjects:
        rows.append([_p(line.name, styles.small)]
                    + [_p(line.values.get(p, ""), styles.centre) for p in (Period.SEM1, Period.SEM2, Period.YEAR)]
                    + [_p(line.retest, styles.centre), _p(line.comment, styles.small)])
    story.append(_grid(rows, [width * w for w in (0.27, 0.09, 0.09, 0.09, 0.12, 0.34)]))
    story.append(_p("Kết quả rèn luyện và học tập", styles.heading))
    res = card.results
    result_rows = [[_p("", styles.normal)] + [_p(t, styles.centre_bold) for t in ("Học kì I", "Học kì II", "Cả năm")]]
    result_rows.append([_p("Kết quả rèn luyện", styles.normal)]
                       + [_p(level_text(getattr(res.get(p), "conduct", "")), styles.centre)
                          for p in (Period.SEM1, Period.SEM2, Period.YEAR)])
    result_rows.append([_p("Kết quả học tập", styles.normal)]
                       + [_p(level_text(getattr(res.get(p), "learning", "")), styles.centre)
                          for p in (Period.SEM1, Period.SEM2, Period.YEAR)])
    result_rows.append([_p("Điểm trung bình các môn", styles.normal)]
                       + [_p(score_text(getattr(res.get(p), "average", None)), styles.centre)
                          for p in (Period.SEM1, Period.SEM2, Period.YEAR)])
    result_rows.append([_p("Số ngày nghỉ học", styles.normal)]
                       + [_p(str(res[p].absences) if p in res else "", styles.centre)
                          for p in (Period.SEM1, Period.SEM2, Period.YEAR)])
    story.append(_grid(result_rows, [width * w for w in (0.34, 0.22, 0.22, 0.22)]))
    retest = res.get(Period.RETEST)
    if retest is not None and retest.learning:
        story.append(_p(f"Kết quả học tập sau kiểm tra lại: {level_text(retest.learning)}", styles.normal))
    story.append(Spacer(1, 3))
    story.append(_p("Được lên lớp hoặc không được lên lớp: ", styles.normal, bold=card.decision))
    story.append(_p("Nhận xét của giáo viên chủ nhiệm: " + _homeroom_comment(card), styles.normal))
    return story


def _homeroom_comment(card) -> str:
    """The homeroom teacher's words: the comment given with the conduct level (the year's, else
    the latest semester's), then a commendation where one is recorded."""
    words = [card.homeroom_comment] if card.homeroom_comment else []
    for period in (Period.RETEST, Period.YEAR, Period.SEM2, Period.SEM1):
        result = card.results.get(period)
        if result is not None and result.commendation:
            words.append(result.commendation)
            break
    return " ".join(words)


def _primary_card(card, school_class, styles, width):
    from reportlab.platypus import Spacer

    year_result = card.results.get(Period.YEAR) or card.results.get(Period.SEM1)
    story = [_header(school_class.school, styles, width), Spacer(1, 4), _p("HỌC BẠ", styles.title),
             _p("Tiểu học", styles.centre), Spacer(1, 4), _identity(card, school_class, styles, width),
             _p("1. Các môn học và hoạt động giáo dục", styles.heading)]
    rows = [[_p(h, styles.centre_bold) for h in ("Môn học và hoạt động giáo dục", "Mức đạt được", "Điểm KTĐK",
                                                   "Nhận xét")]]
    for line in card.subjects:
        level = line.values.get(Period.YEAR) or line.values.get(Period.MID2) or line.values.get(Period.SEM1) \
            or line.values.get(Period.MID1) or ""
        rows.append([_p(line.name, styles.small), _p(level, styles.centre), _p(line.test, styles.centre),
                     _p(line.comment, styles.small)])
    story.append(_grid(rows, [width * w for w in (0.32, 0.2, 0.12, 0.36)]))
    groups = [("qualities", "2. Những phẩm chất chủ yếu", "Phẩm chất"),
              ("general_competencies", "3. Những năng lực cốt lõi — Năng lực chung", "Năng lực chung"),
              ("specific_competencies", "Năng lực đặc thù", "Năng lực đặc thù")]
    for group, title, column in groups:
        story.append(_p(title, styles.heading))
        rows = [[_p(h, styles.centre_bold) for h in (column, "Mức đạt được", "Nhận xét")]]
        for aspect_group, name, level, comment in card.aspects:
            if aspect_group == group:
                rows.append([_p(name, styles.small), _p(level, styles.centre), _p(comment, styles.small)])
        story.append(_grid(rows, [width * w for w in (0.32, 0.2, 0.48)]))
    outcome = level_text(getattr(year_result, "outcome", "")) if year_result else ""
    story.append(_p("4. Đánh giá kết quả giáo dục: ", styles.heading, bold=outcome))
    story.append(_p(f"5. Khen thưởng: {getattr(year_result, 'commendation', '') or ''}", styles.heading))
    completed = ""
    if year_result is not None and year_result.outcome:
        completed = "Hoàn thành chương trình lớp học" if year_result.outcome != "CHT" else "Chưa hoàn thành chương trình lớp học"
    story.append(_p(f"6. Hoàn thành chương trình lớp học/chương trình tiểu học: {completed}", styles.heading))
    if year_result is not None:
        story.append(_p(f"Số ngày nghỉ học: {year_result.absences}", styles.normal))
    return story


def render_cards(school_class, enrolments=None, *, on_student=None, day=None) -> tuple[bytes, list]:
    """The report cards of ``enrolments`` (default: the class's list) in one A4 PDF, a card
    starting on a new page. Returns (pdf, signature slots); ``on_student(n)`` is told after each
    card is drawn."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import cm
    from reportlab.platypus import PageBreak, SimpleDocTemplate

    school_class = SchoolClass.objects.select_related("school", "year", "homeroom_teacher").get(pk=school_class.pk)
    cards = cards_for(school_class, enrolments)
    if not cards:
        raise ValidationError(_("The class has no students."), code="empty")
    primary = is_primary(school_class)
    styles = _Styles(size=9 if primary else 10)  # a primary year fits one page
    width = A4[0] - 3 * cm
    principal = principal_of(school_class.school)
    day = day or timezone.localdate()
    slots: list = []
    story = []
    for number, card in enumerate(cards, start=1):
        if number > 1:
            story.append(PageBreak())
        story.extend(_primary_card(card, school_class, styles, width) if primary
                     else _secondary_card(card, school_class, styles, width))
        story.append(_signatures(school_class, principal, styles, width, slots, day))
        story.append(Tick(number, on_student))
    buffer = io.BytesIO()
    title = f"Học bạ lớp {school_class.name} – {school_class.school.name}"
    SimpleDocTemplate(buffer, pagesize=A4, leftMargin=1.5 * cm, rightMargin=1.5 * cm, topMargin=1.2 * cm,
                      bottomMargin=1.2 * cm, title=title, creator="Xã Số").build(story)
    return buffer.getvalue(), slots


def render_sheet(school_class, period, *, day=None) -> tuple[bytes, list]:
    """The class's term result sheet for ``period``, A4 landscape: a row per student."""
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.units import cm
    from reportlab.platypus import SimpleDocTemplate, Spacer

    school_class = SchoolClass.objects.select_related("school", "year", "homeroom_teacher").get(pk=school_class.pk)
    cards = cards_for(school_class)
    if not cards:
        raise ValidationError(_("The class has no students."), code="empty")
    primary = is_primary(school_class)
    subjects = subjects_of(school_class)
    page = landscape(A4)
    width = page[0] - 2 * cm
    styles = _Styles(size=8)
    tiny = styles.small
    day = day or timezone.localdate()
    slots: list = []
    story = [_header(school_class.school, _Styles(size=10), width), Spacer(1, 4),
             _p("BẢNG TỔNG HỢP KẾT QUẢ ĐÁNH GIÁ", _Styles(size=10).title),
             _p(f"Lớp {school_class.name} — {PERIOD_TITLES.get(period, period)} — Năm học {school_class.year.name}",
                _Styles(size=10).centre), Spacer(1, 6)]
    extra = ["Kết quả giáo dục", "Khen thưởng", "Nghỉ"] if primary else ["ĐTB", "Học tập", "Rèn luyện", "Nghỉ"]
    header = [_p(h, styles.centre_bold) for h in ["STT", "Họ và tên"] + [s.name for s in subjects] + extra]
    rows = [header]
    for number, card in enumerate(cards, start=1):
        cells = [_p(str(card.enrolment.number or number), tiny), _p(card.name, tiny)]
        for line in card.subjects:
            value = line.values.get(period, "")
            if primary and line.test and period in (Period.SEM1, Period.YEAR):
                value = f"{value} ({line.test})" if value else line.test
            cells.append(_p(value, styles.centre))
        result = card.results.get(period)
        if primary:
            cells += [_p(level_text(getattr(result, "outcome", "")), styles.centre),
                      _p(getattr(result, "commendation", "") or "", tiny)]
        else:
            cells += [_p(score_text(getattr(result, "average", None)), styles.centre),
                      _p(level_text(getattr(result, "learning", "")), styles.centre),
                      _p(level_text(getattr(result, "conduct", "")), styles.centre)]
        cells.append(_p(str(result.absences) if result is not None else "", styles.centre))
        rows.append(cells)
    fixed = 0.035 + 0.14 + (0.2 if primary else 0.16)
    subject_width = (1 - fixed) / max(len(subjects), 1)
    widths = [0.035, 0.14] + [subject_width] * len(subjects) + ([0.08, 0.08, 0.04] if primary
                                                                else [0.04, 0.04, 0.04, 0.04])
    story.append(_grid(rows, [width * w for w in widths]))
    story.append(_signatures(school_class, principal_of(school_class.school), _Styles(size=10), width, slots, day))
    buffer = io.BytesIO()
    SimpleDocTemplate(buffer, pagesize=page, leftMargin=1 * cm, rightMargin=1 * cm, topMargin=1 * cm,
                      bottomMargin=1 * cm, title=f"Bảng tổng hợp lớp {school_class.name}", creator="Xã Số").build(story)
    return buffer.getvalue(), slots


# --- the durable job --------------------------------------------------------------------------------

def valid_periods(school_class, kind: str) -> list[str]:
    periods = periods_for(school_class)
    if kind == ReportCardJob.Kind.REPORT_CARDS:
        return [Period.SEM1, Period.YEAR] if is_primary(school_class) else periods
    return periods


def request_job(user, school_class, kind: str, period: str, *, channel: str = "page") -> tuple[ReportCardJob, bool]:
    """Ask for a class's cards or result sheet as one PDF. Returns (job, created): a request for
    the same class, kind and period while one is queued or running returns that one."""
    from jobs.services import enqueue

    permissions.require(user, "reports.make", school_class.school)
    errors = {}
    if kind not in ReportCardJob.Kind.values:
        errors["kind"] = _("Choose report cards or the result sheet.")
    elif period not in valid_periods(school_class, kind):
        errors["period"] = _("Choose one of the periods offered for this class.")
    if errors:
        raise ValidationError(errors, code="invalid")
    if not Enrolment.objects.filter(school_class=school_class, status__in=LISTED_STATUSES).exists():
        raise ValidationError(_("The class has no students."), code="empty")
    with transaction.atomic():
        SchoolClass.objects.select_for_update().filter(pk=school_class.pk).first()  # one request at a time
        running = ReportCardJob.objects.filter(school_class=school_class, kind=kind, period=period,
                                               state__in=RUNNING_STATES).order_by("pk").first()
        if running is not None:
            return running, False
        job = ReportCardJob(school_class=school_class, kind=kind, period=period, requested_by_id=user.pk,
                            progress_message=_("Waiting for its turn")[:255])
        enqueue(job)
    return job, True


def file_name(job) -> str:
    """The PDF's storage name: the same on every run of the job (``core.storage.earlier_final``)."""
    return (f"education/reports/{job.school_class_id}/{job.kind}-{job.period}-{job.idempotency_key}.pdf")


def page_count(data: bytes) -> int:
    from pyhanko.pdf_utils.reader import PdfFileReader

    return int(PdfFileReader(io.BytesIO(data)).root["/Pages"]["/Count"])


def _sound_pdf(data: bytes):
    return data.startswith(b"%PDF") and page_count(data) > 0


def run_job(job, ctx) -> dict:
    """``ReportCardJob.run``: results fresh, the PDF drawn with progress ("12/35 học sinh"), written
    once as a final file, recorded on the job; the making logged as an export."""
    from django.contrib.auth import get_user_model

    from core.storage import earlier_final, save_final

    job = ReportCardJob.objects.select_related("school_class__school", "school_class__year").get(pk=job.pk)
    school_class = job.school_class
    if job.file:
        return {"file": job.file, **(job.result or {})}
    total = Enrolment.objects.filter(school_class=school_class, status__in=LISTED_STATUSES).count()
    ctx.progress(2, _("Computing the results"))
    try:
        recompute(school_class)
    except ValidationError:
        logger.info("The results of class %s could not be recomputed; drawing the stored ones", school_class.pk)
    name = file_name(job)
    earlier = earlier_final(name, _sound_pdf)
    slots: list = []
    if earlier is not None:
        saved, data = earlier.name, earlier.data
    else:
        def tick(done):
            ctx.progress(5 + int(85 * done / max(total, 1)),
                         _("%(done)s/%(total)s students") % {"done": done, "total": total})

        if job.kind == ReportCardJob.Kind.REPORT_CARDS:
            data, slots = render_cards(school_class, on_student=tick)
        else:
            ctx.progress(30, _("Drawing the result sheet"))
            data, slots = render_sheet(school_class, job.period)
        ctx.progress(95, _("Saving the file"))
        saved = save_final(name, data)
    pages = page_count(data)
    result = {"file": saved, "pages": pages, "students": total,
              "signature_box": slots[0] if slots else {"page": 0, "box": [330.0, 60.0, 530.0, 120.0]}}
    user = get_user_model().objects.filter(pk=job.requested_by_id).first() if job.requested_by_id else None
    with transaction.atomic():
        ReportCardJob.objects.filter(pk=job.pk, file="").update(file=saved)
        access.log_export(user, channel="job", what=f"{LOG_WORDS[job.kind]} {school_class.name} "
                                                    f"({school_class.school.name}, {job.period}) made",
                          count=total)
    return result


def job_for(user, pk, action: str = "reports.make"):
    """The job ``pk`` when ``user`` may ``action`` in its school; None otherwise (a 404 for the caller)."""
    job = ReportCardJob.objects.select_related("school_class__school", "school_class__year").filter(pk=pk).first()
    if job is None or not permissions.can(user, action, job.school_class.school):
        return None
    return job


def jobs_of_class(school_class, limit: int = 20):
    return list(ReportCardJob.objects.filter(school_class=school_class).order_by("-created_at", "-pk")[:limit])


# --- downloads ---------------------------------------------------------------------------------------

def signing_jobs(job) -> list:
    from signatures.models import SigningJob

    return list(SigningJob.objects.filter(subject=f"{SUBJECT_PREFIX}{job.pk}").order_by("-created_at", "-pk"))


def signed_name(job) -> str:
    """The storage name of the signed PDF (a new file beside the unsigned one), or ""."""
    for signing in signing_jobs(job):
        if signing.state == JobState.SUCCEEDED and signing.output_name:
            return signing.output_name
    return ""


def download(user, job, *, signed: bool = False, channel: str = "page") -> tuple[bytes, str]:
    """(bytes, file name) of the job's PDF, logged as an export; refusals as ValidationError."""
    from core.storage import exists, read

    permissions.require(user, "reports.make", job.school_class.school)
    name = signed_name(job) if signed else job.file
    if not name or not exists(name):
        raise ValidationError(_("The signed file is not ready.") if signed else _("The file is not ready yet."),
                              code="not_ready")
    data = read(name)
    access.log_export(user, channel=channel, what=f"{LOG_WORDS[job.kind]} {job.school_class.name} "
                                                  f"({job.school_class.school.name}, {job.period})"
                                                  + (" signed" if signed else ""),
                      count=(job.result or {}).get("students"))
    kind = "hoc-ba" if job.kind == ReportCardJob.Kind.REPORT_CARDS else "bang-tong-hop"
    return data, f"{kind}-{job.school_class.name}-{job.period}{'-da-ky' if signed else ''}.pdf"


def student_card(user, enrolment, *, channel: str = "page") -> tuple[bytes, str]:
    """One student's report card, drawn in the request (a single card is quick), logged."""
    school_class = enrolment.school_class
    permissions.require(user, "reports.make", school_class.school)
    recompute(school_class)
    data, _slots = render_cards(school_class, [enrolment])
    access.log_read(user, enrolment.student, channel=channel, what="report card PDF")
    access.log_export(user, channel=channel, what=f"report card {school_class.name}", count=1)
    return data, f"hoc-ba-{school_class.name}-{enrolment.number or enrolment.pk}.pdf"


# --- the principal's signature ---------------------------------------------------------------------

def certificate_of(user):
    """The principal's usable personal certificate, or None."""
    from signatures import services

    try:
        return services.certificate_for(user, "personal")
    except services.SigningRefused:
        return None


def can_sign(user, job) -> bool:
    return (permissions.can(user, "reports.sign", job.school_class.school) and job.state == JobState.SUCCEEDED
            and bool(job.file) and not job.signed)


def sign(user, job, pin):
    """The principal signs the job's PDF (PAdES, with the PIN of their certificate); the signed
    PDF is a new file, made by the signatures app's job. Refusals are ValidationErrors with the
    signatures app's code ("no_certificate", "wrong_pin" …)."""
    from signatures import services
    from signatures.pdf.pades import SignatureFieldSpec

    permissions.require(user, "reports.sign", job.school_class.school)
    if job.state != JobState.SUCCEEDED or not job.file:
        raise ValidationError(_("The PDF is not made yet."), code="not_ready")
    if job.signed or signed_name(job):
        raise ValidationError(_("These report cards are already signed."), code="already_signed")
    if any(s.state in RUNNING_STATES for s in signing_jobs(job)):
        raise ValidationError(_("The signature is already being made."), code="already_signed")
    if not str(pin or "").strip():
        raise ValidationError({"pin": [_("Type the PIN of your certificate.")]}, code="invalid")
    certificate = certificate_of(user)
    if certificate is None:
        raise ValidationError(_("You hold no digital signature certificate: print the PDF and sign it by hand."),
                              code="no_certificate")
    slot = (job.result or {}).get("signature_box") or {"page": 0, "box": [330.0, 60.0, 530.0, 120.0]}
    try:
        return services.request_signature(
            user=user, certificate=certificate, pin=str(pin), source_name=job.file,
            field=SignatureFieldSpec(name=SIGNATURE_FIELD, page=int(slot["page"]), box=tuple(slot["box"])),
            appearance=services.default_appearance(user, certificate), purpose="other",
            subject=f"{SUBJECT_PREFIX}{job.pk}", on_done=ON_SIGNED,
            reason="Phê duyệt của Hiệu trưởng", location=commune_name(),
        )
    except services.SigningRefused as exc:
        raise ValidationError(str(exc.message or exc), code=exc.code) from exc
    except IntegrityError:
        raise ValidationError(_("The signature is already being made."), code="already_signed") from None


def on_signed(signing_job) -> None:
    """The signatures app's callback, in its final transaction: the job's PDF is signed."""
    subject = signing_job.subject or ""
    if subject.startswith(SUBJECT_PREFIX):
        ReportCardJob.objects.filter(pk=int(subject[len(SUBJECT_PREFIX):])).update(signed=True)


# --- inbox -------------------------------------------------------------------------------------------

def inbox_lines(request, user, roles) -> list:
    """For a principal: the class PDFs made in the last 60 days that wait for their signature."""
    from django.urls import reverse

    from communes.modules import InboxLine, Severity

    if permissions.SCHOOL_STAFF not in roles:
        return []
    schools = [s for s in permissions.schools_for(user) if permissions.can(user, "reports.sign", s)]
    if not schools:
        return []
    since = timezone.now() - datetime.timedelta(days=60)
    count = ReportCardJob.objects.filter(school_class__school__in=schools, state=JobState.SUCCEEDED, signed=False,
                                         created_at__gte=since).exclude(file="").count()
    if not count:
        return []
    return [InboxLine("education.reports.unsigned", _("Report cards and result sheets waiting for your signature"),
                      count, reverse("education:reports_index") + "?unsigned=1", Severity.NORMAL)]
