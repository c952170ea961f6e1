"""Report cards and result sheets as PDF, read back by poppler's pdftotext: each student's name
with its diacritics (NFC), their averages with one decimal and the decimal comma ("8,5"), the
levels in Vietnamese, the school's name; one page per lower-secondary card; the result sheet in A4
landscape; a primary card with its levels, test scores, qualities and competencies; no personal
ID number on a card."""
from __future__ import annotations

import datetime
import io
import subprocess
import unicodedata
from decimal import Decimal

import pytest


def pdftotext(data: bytes, *, layout: bool = False) -> str:
    args = ["pdftotext", "-enc", "UTF-8"] + (["-layout"] if layout else []) + ["-", "-"]
    return subprocess.run(args, input=data, capture_output=True, check=True).stdout.decode("utf-8")


def flat(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text).split())


def pages(data: bytes) -> list:
    """The pages' media boxes [x1, y1, x2, y2], read by pyHanko's parser."""
    from pyhanko.pdf_utils.reader import PdfFileReader

    reader = PdfFileReader(io.BytesIO(data))
    return [[float(v) for v in reader.find_page_for_modification(i)[0].get_object()["/MediaBox"]]
            for i in range(int(reader.root["/Pages"]["/Count"]))]


def seed_results(yard):
    """Stored results of class 6A: every subject of grade 6 for each student, by period."""
    from education.models import Period, StudentResult, Subject, SubjectResult

    rows, results = [], []
    for index, student in enumerate(yard["students6"]):
        enrolment = student.enrolments.get()
        for subject in Subject.objects.filter(grade=6):
            for period, base in ((Period.SEM1, Decimal("8.5")), (Period.SEM2, Decimal("7.0")),
                                 (Period.YEAR, Decimal("7.5"))):
                if subject.kind == Subject.Kind.COMMENT:
                    rows.append(SubjectResult(enrolment=enrolment, subject=subject, period=period,
                                              level="CD" if index == 4 else "D"))
                else:
                    rows.append(SubjectResult(enrolment=enrolment, subject=subject, period=period,
                                              average=base - Decimal(index) / 10))
        for period, learning, conduct in ((Period.SEM1, "T", "T"), (Period.SEM2, "K", "T"), (Period.YEAR, "K", "K")):
            results.append(StudentResult(enrolment=enrolment, period=period, learning=learning if index < 4 else "CD",
                                         conduct="D" if index == 3 else conduct, average=Decimal("7.9") - Decimal(index) / 10,
                                         absences=index, decision="promoted" if index < 4 else "retest"))
    SubjectResult.objects.bulk_create(rows)
    StudentResult.objects.bulk_create(results)


@pytest.fixture
def six_a(schoolyard):
    from education.models import Evaluation

    seed_results(schoolyard)
    Evaluation.objects.create(enrolment=schoolyard["students6"][0].enrolments.get(), period="year", aspect="conduct",
                              level="T", comment="Chăm ngoan, giúp đỡ bạn bè.")
    return schoolyard


def test_a_class_s_cards_name_every_student_with_their_marks_levels_and_school(six_a):
    from education import report_cards

    data, slots = report_cards.render_cards(six_a["class6a"], day=datetime.date(2027, 5, 28))
    text = flat(pdftotext(data))
    rows = flat(pdftotext(data, layout=True))
    assert len(pages(data)) == 5  # one page per student
    for student in six_a["students6"]:
        assert unicodedata.normalize("NFC", student.resident.full_name) in text
    assert "Trường THCS Tú Lệ".upper() in text
    assert "HỌC BẠ TRUNG HỌC CƠ SỞ" in text and "BỘ GIÁO DỤC VÀ ĐÀO TẠO" in text
    # Lò Văn An (index 0): 8,5 / 7,0 / 7,5; Cầm Văn Em (index 4): 8,1 / 6,6 / 7,1
    assert "Toán 8,5 7,0 7,5" in rows and "Toán 8,1 6,6 7,1" in rows
    assert "Họ và tên học sinh: Lò Văn An" in text
    assert "8.5" not in text  # the decimal comma throughout
    assert "Tốt" in text and "Khá" in text and "Chưa đạt" in text
    assert "Kết quả rèn luyện Đạt Đạt Đạt" in rows  # Vì Thị Dung's conduct
    assert " Đ " in f" {text} " and " CĐ " in f" {text} "  # comment-assessed subjects
    assert "Nhận xét của giáo viên chủ nhiệm: Chăm ngoan, giúp đỡ bạn bè." in text
    assert "Được lên lớp" in text and "Rèn luyện, kiểm tra lại trong hè" in text
    assert "Tú Lệ, ngày 28 tháng 05 năm 2027" in text
    assert "HIỆU TRƯỞNG" in text and "Hà Văn Hiệu" in text  # the principal's block and name
    assert "GIÁO VIÊN CHỦ NHIỆM" in text and "Đinh Thị Văn" in text
    assert "Dân tộc: Thái" in text and "Ngày sinh: 10/01/2015" in text
    # A signature slot per card, on its own page, inside the page.
    assert [slot["page"] for slot in slots] == [0, 1, 2, 3, 4]
    x1, y1, x2, y2 = slots[0]["box"]
    assert 0 < x1 < x2 <= 595.3 and 0 < y1 < y2 <= 841.9


def test_a_card_prints_no_personal_id_number(six_a, in_commune, tule):
    from education import report_cards
    from population import services

    resident = six_a["students6"][0].resident
    resident.personal_id = "015215001234"
    services.save_resident(resident)
    text = flat(pdftotext(report_cards.render_cards(six_a["class6a"])[0]))
    assert "015215001234" not in text and "1234" not in text.replace("2015", "")


def test_the_term_result_sheet_is_landscape_with_a_row_per_student(six_a):
    from education import report_cards

    data, _slots = report_cards.render_sheet(six_a["class6a"], "sem1")
    sheet_pages = pages(data)
    x1, y1, x2, y2 = sheet_pages[0]
    assert x2 - x1 > y2 - y1  # A4 landscape
    text = flat(pdftotext(data))
    assert "BẢNG TỔNG HỢP KẾT QUẢ ĐÁNH GIÁ" in text and "Lớp 6A — Học kì I — Năm học 2026-2027" in text
    for student in six_a["students6"]:
        assert student.resident.full_name in text
    assert "8,5" in text and "8,1" in text and "7,9" in text  # subject and overall averages
    assert "Tốt" in text


def test_a_primary_card_has_levels_test_scores_qualities_and_result(schoolyard):
    from education import report_cards
    from education.curriculum import aspects
    from education.models import Evaluation, Mark, StudentResult, SubjectResult

    enrolment = schoolyard["students1"][0].enrolments.get()
    subjects = schoolyard["subjects1"]
    tested = [s for s in subjects.values() if s.tested]
    assert tested, "the curriculum names tested primary subjects"
    for subject in subjects.values():
        SubjectResult.objects.create(enrolment=enrolment, subject=subject, period="year", level="HTT")
    Mark.objects.create(enrolment=enrolment, subject=tested[0], period="year", column="test", score=Decimal("9"),
                        comment="Đọc to, rõ ràng.")
    for item in aspects()["primary"]:
        Evaluation.objects.create(enrolment=enrolment, period="year", aspect=item["code"], level="T")
    StudentResult.objects.create(enrolment=enrolment, period="year", outcome="HTXS", commendation="Học sinh Xuất sắc",
                                 absences=2)
    data, slots = report_cards.render_cards(schoolyard["class1a"], [enrolment])
    text = flat(pdftotext(data))
    assert len(pages(data)) in (1, 2)
    assert "Lò Thị Gấm" in text and "TRƯỜNG TIỂU HỌC TÚ LỆ" in text
    assert "Hoàn thành tốt" in text and "Hoàn thành xuất sắc" in text and "Học sinh Xuất sắc" in text
    assert "Yêu nước" in text and "Giao tiếp và hợp tác" in text and "Tính toán" in text
    rows = flat(pdftotext(data, layout=True))
    assert f"{tested[0].name} Hoàn thành tốt 9 Đọc to, rõ ràng." in rows
    assert "Hoàn thành chương trình lớp học" in text
    assert slots and slots[0]["page"] in (0, 1)


def test_cards_of_a_class_without_students_are_refused_in_vietnamese_words(schoolyard):
    from django.core.exceptions import ValidationError

    from education import report_cards

    with pytest.raises(ValidationError) as refused:
        report_cards.render_cards(schoolyard["class6b"])
    assert refused.value.code == "empty"


def test_score_text_uses_the_decimal_comma():
    from education.report_cards import score_text

    assert score_text(Decimal("8.5")) == "8,5"
    assert score_text(Decimal("10")) == "10,0"
    assert score_text(None) == ""
