"""Saving cells of the marks grid and of the evaluations (education.assessment): values checked
and refused in Vietnamese, versions and conflicts, history kept, locks with their log, and the
results stored equal to the rules' table."""
from __future__ import annotations

import datetime
from decimal import Decimal as D

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import translation
from django.utils.translation import gettext

from education import assessment

pytestmark = pytest.mark.django_db(transaction=False)


def _cell(enrolment, column, value, version=0):
    return {"enrolment": enrolment.pk, "column": column, "value": value, "version": version}


def _enrolments(school_class):
    from education.models import Enrolment

    return list(Enrolment.objects.filter(school_class=school_class).order_by("number"))


def test_marks_are_saved_with_versions_and_history_and_the_average_computed(tule, in_commune, schoolyard,
                                                                           school_people):
    from education.models import Mark, SubjectResult

    y = schoolyard
    math = y["subjects6"]["toan"]  # 140 periods: 4 regular marks
    with in_commune(tule):
        first = _enrolments(y["class6a"])[0]
        cells = [_cell(first, "tx1", "5"), _cell(first, "tx2", "6"), _cell(first, "tx3", "7"),
                 _cell(first, "tx4", "8"), _cell(first, "mid", "5,5"), _cell(first, "end", "6.5")]
        results = assessment.save_cells(school_people["math"], y["class6a"], math, "sem1", cells)
        assert [r["status"] for r in results] == ["saved"] * 6
        assert results[4]["value"] == "5,5" and results[4]["version"] == 1
        # (5 + 6 + 7 + 8 + 2·5.5 + 3·6.5) / 9 = 56.5 / 9 = 6.277… → 6.3
        assert SubjectResult.objects.get(enrolment=first, subject=math, period="sem1").average == D("6.3")
        # a second save with the version seen updates and keeps the history
        [again] = assessment.save_cells(school_people["math"], y["class6a"], math, "sem1",
                                        [_cell(first, "end", "9", version=1)])
        assert again["status"] == "saved" and again["version"] == 2
        mark = Mark.objects.get(enrolment=first, subject=math, period="sem1", column="end")
        assert mark.score == D("9.0") and mark.history.count() == 2
        # (26 + 11 + 27) / 9 = 64/9 = 7.11 → 7.1
        assert SubjectResult.objects.get(enrolment=first, subject=math, period="sem1").average == D("7.1")
        # empty clears the cell
        [cleared] = assessment.save_cells(school_people["math"], y["class6a"], math, "sem1",
                                          [_cell(first, "end", "", version=2)])
        assert cleared["status"] == "saved"
        mark.refresh_from_db()
        assert mark.score is None
        assert SubjectResult.objects.get(enrolment=first, subject=math, period="sem1").average is None


def test_two_teachers_saving_one_cell_see_a_conflict(tule, in_commune, schoolyard, school_people):
    from education.models import Mark

    y = schoolyard
    math = y["subjects6"]["toan"]
    with in_commune(tule):
        first = _enrolments(y["class6a"])[0]
        assessment.save_cells(school_people["math"], y["class6a"], math, "sem1", [_cell(first, "mid", "7")])
        # the vice-principal saw the empty cell (version 0) and saves over it
        [result] = assessment.save_cells(school_people["vice"], y["class6a"], math, "sem1",
                                         [_cell(first, "mid", "4")])
        assert result["status"] == "conflict"
        assert result["other_value"] == "7,0" and result["version"] == 1
        assert result["other_by"] == "Lường Văn Toán"
        assert Mark.objects.get(enrolment=first, column="mid").score == D("7.0")
        # overwriting with the version now seen is saved
        [result] = assessment.save_cells(school_people["vice"], y["class6a"], math, "sem1",
                                         [_cell(first, "mid", "4", version=1)])
        assert result["status"] == "saved"
        assert Mark.objects.get(enrolment=first, column="mid").score == D("4.0")


@pytest.mark.parametrize("value,message", [
    ("10,5", "A mark is between 0 and 10."),
    ("-1", "A mark is a number from 0 to 10, with at most one decimal (8,5)."),
    ("8,25", "A mark has at most one decimal: 8,5, not 8,25."),
    ("tám", "A mark is a number from 0 to 10, with at most one decimal (8,5)."),
])
def test_bad_marks_are_refused_in_vietnamese_and_not_written(tule, in_commune, schoolyard, school_people, value,
                                                            message):
    from education.models import Mark

    y = schoolyard
    with in_commune(tule), translation.override("vi"):
        first = _enrolments(y["class6a"])[0]
        results = assessment.save_cells(school_people["math"], y["class6a"], y["subjects6"]["toan"], "sem1",
                                        [_cell(first, "tx1", value), _cell(first, "tx2", "8")])
        assert results[0]["status"] == "error"
        assert results[0]["message"] == gettext(message)
        assert results[1]["status"] == "saved"
        assert list(Mark.objects.values_list("column", flat=True)) == ["tx2"]


def test_wrong_students_columns_and_levels_are_refused(tule, in_commune, schoolyard, school_people):
    from education.models import Mark

    y = schoolyard
    with in_commune(tule), translation.override("vi"):
        first = _enrolments(y["class6a"])[0]
        outsider = _enrolments(y["class1a"])[0]
        gdcd = y["subjects6"]["giao_duc_cong_dan"]  # 35 periods: 2 regular marks
        results = assessment.save_cells(school_people["principal"], y["class6a"], gdcd, "sem1", [
            _cell(outsider, "tx1", "8"), _cell(first, "tx3", "8"), _cell(first, "level", "D"),
            {"enrolment": "x", "column": "tx1", "value": "8", "version": 0}])
        assert [r["status"] for r in results] == ["error"] * 4
        assert results[0]["message"] == gettext("This student is not in the class.")
        assert results[1]["message"] == gettext("This column is not assessed for this subject and period.")
        # a comment-assessed subject takes Đ / CĐ only
        arts = next(s for s in y["subjects6"].values() if s.kind == "comment")
        results = assessment.save_cells(school_people["principal"], y["class6a"], arts, "sem1", [
            _cell(first, "level", "Đ"), _cell(_enrolments(y["class6a"])[1], "level", "T")])
        assert [r["status"] for r in results] == ["saved", "error"]
        assert Mark.objects.get(subject=arts).level == "D"
        # primary: a whole test score 1–10 on a tested subject at the end of a semester only
        pupil = _enrolments(y["class1a"])[0]
        maths1 = y["subjects1"]["toan"]
        teacher = school_people["primary_teacher"]
        results = assessment.save_cells(teacher, y["class1a"], maths1, "sem1", [
            _cell(pupil, "test", "8,5"), _cell(pupil, "level", "HTT")])
        assert results[0]["message"] == gettext("A test score is a whole number from 1 to 10.")
        assert results[1]["status"] == "saved"
        results = assessment.save_cells(teacher, y["class1a"], maths1, "mid1", [_cell(pupil, "test", "9")])
        assert results[0]["status"] == "error"  # grade 1 has no mid-term test
        ethics = y["subjects1"]["dao_duc"]
        results = assessment.save_cells(teacher, y["class1a"], ethics, "sem1", [_cell(pupil, "test", "9")])
        assert results[0]["status"] == "error"  # not a tested subject


def test_teachers_of_another_subject_or_school_may_not_write(tule, in_commune, schoolyard, school_people):
    y = schoolyard
    with in_commune(tule):
        first = _enrolments(y["class6a"])[0]
        for user, subject in ((school_people["literature"], y["subjects6"]["toan"]),
                              (school_people["primary_teacher"], y["subjects6"]["toan"]),
                              (school_people["accountant"], y["subjects6"]["toan"]),
                              (school_people["chairman"], y["subjects6"]["toan"])):
            with pytest.raises(PermissionDenied):
                assessment.save_cells(user, y["class6a"], subject, "sem1", [_cell(first, "tx1", "8")])
        # conduct: the homeroom teacher (literature) may, the maths teacher may not
        with pytest.raises(PermissionDenied):
            assessment.save_evaluations(school_people["math"], y["class6a"], "sem1",
                                        [_cell(first, "conduct", "T")])
        [result] = assessment.save_evaluations(school_people["literature"], y["class6a"], "sem1",
                                               [_cell(first, "conduct", "T")])
        assert result["status"] == "saved"


def test_a_locked_semester_refuses_every_write_and_unlock_is_logged(tule, in_commune, schoolyard, school_people):
    from education.models import AssessmentLock, LockEvent, Mark

    y = schoolyard
    with in_commune(tule), translation.override("vi"):
        first = _enrolments(y["class6a"])[0]
        with pytest.raises(PermissionDenied):
            assessment.lock(school_people["vice"], y["thcs"], y["sem1"])
        assessment.lock(school_people["principal"], y["thcs"], y["sem1"])
        with pytest.raises(ValidationError) as caught:
            assessment.lock(school_people["principal"], y["thcs"], y["sem1"])
        assert caught.value.code == "already_locked"
        with pytest.raises(ValidationError) as caught:
            assessment.save_cells(school_people["math"], y["class6a"], y["subjects6"]["toan"], "sem1",
                                  [_cell(first, "tx1", "8")])
        assert caught.value.code == "locked"
        assert caught.value.messages[0] == assessment.locked_message(y["sem1"])
        with pytest.raises(ValidationError):
            assessment.save_evaluations(school_people["literature"], y["class6a"], "sem1",
                                        [_cell(first, "conduct", "T")])
        # the other semester and the other school stay open
        assessment.save_cells(school_people["math"], y["class6a"], y["subjects6"]["toan"], "sem2",
                              [_cell(first, "tx1", "8")])
        assert Mark.objects.count() == 1
        with pytest.raises(ValidationError) as caught:
            assessment.unlock(school_people["principal"], y["thcs"], y["sem1"], "  ")
        assert caught.value.code == "reason_required"
        assessment.unlock(school_people["principal"], y["thcs"], y["sem1"], "Sửa điểm nhập nhầm của lớp 6A")
        assert not AssessmentLock.objects.exists()
        events = list(LockEvent.objects.order_by("at", "pk").values_list("action", "username", "reason"))
        assert events == [("lock", "edu_principal", ""), ("unlock", "edu_principal", "Sửa điểm nhập nhầm của lớp 6A")]


def _fill_year(principal, literature, school_class, subjects, enrolment, score, conduct="T", comment="D"):
    """Every subject of the year at one mark ``score`` (each average = score), conduct of both
    semesters."""
    for subject in subjects.values():
        for period in ("sem1", "sem2"):
            columns = assessment.columns_for(school_class, subject, period)
            value = comment if subject.kind == "comment" else score(subject)
            results = assessment.save_cells(principal, school_class, subject, period,
                                            [_cell(enrolment, c, value) for c in columns])
            assert {r["status"] for r in results} == {"saved"}, results
    for period in ("sem1", "sem2"):
        assessment.save_evaluations(literature, school_class, period, [_cell(enrolment, "conduct", conduct)])


def test_results_stored_follow_the_rules(tule, in_commune, schoolyard, school_people):
    from education.models import Absence, StudentResult, SubjectResult

    y = schoolyard
    subjects = y["subjects6"]
    scored = [s for s in subjects.values() if s.kind == "scored"]
    with in_commune(tule):
        good, weak = _enrolments(y["class6a"])[:2]
        # good: six scored subjects at 8.0, the others 6.5 → Tốt; conduct Tốt → promoted
        high = {s.pk for s in scored[:6]}
        _fill_year(school_people["principal"], school_people["literature"], y["class6a"], subjects, good,
                   lambda s: "8" if s.pk in high else "6,5")
        # weak: every scored subject 5 except one at 3.4 → Chưa đạt → retest
        low = scored[0].pk
        _fill_year(school_people["principal"], school_people["literature"], y["class6a"], subjects, weak,
                   lambda s: "3,4" if s.pk == low else "5", conduct="K")
        Absence.objects.create(enrolment=weak, date=datetime.date(2026, 10, 5), kind="excused")
        Absence.objects.create(enrolment=weak, date=datetime.date(2027, 3, 5), kind="unexcused")
        Absence.objects.create(enrolment=weak, date=datetime.date(2027, 3, 6), kind="late")
        assessment.recompute_class(y["class6a"])
        year_good = StudentResult.objects.get(enrolment=good, period="year")
        assert (year_good.learning, year_good.conduct, year_good.decision, year_good.complete) == \
            ("T", "T", "promoted", True)
        year_weak = StudentResult.objects.get(enrolment=weak, period="year")
        assert (year_weak.learning, year_weak.conduct, year_weak.decision) == ("CD", "K", "retest")
        assert year_weak.absences == 2
        assert StudentResult.objects.get(enrolment=weak, period="sem1").absences == 1
        assert SubjectResult.objects.get(enrolment=weak, subject_id=low, period="year").average == D("3.4")
        # the others have no marks: not complete, no learning result
        third = _enrolments(y["class6a"])[2]
        assert StudentResult.objects.get(enrolment=third, period="year").complete is False
        # the retest of the failed subject at 5.0 makes the learning Đạt; the principal confirms
        assessment.save_cells(school_people["principal"], y["class6a"], scored[0], "retest",
                              [_cell(weak, "retest", "5")])
        retest = StudentResult.objects.get(enrolment=weak, period="retest")
        assert retest.learning == "D" and retest.decision == ""
        assert assessment.proposed_after_retest(year_weak, retest, 6) == "promoted"
        assessment.confirm_decision(school_people["principal"], weak, "promoted")
        assessment.recompute_class(y["class6a"])
        assert StudentResult.objects.get(enrolment=weak, period="retest").decision == "promoted"


def test_primary_results(tule, in_commune, schoolyard, school_people):
    from education.curriculum import primary_aspect_codes
    from education.models import StudentResult

    y = schoolyard
    teacher = school_people["primary_teacher"]
    with in_commune(tule):
        pupil = _enrolments(y["class1a"])[0]
        for subject in y["subjects1"].values():
            values = {"level": "HTT", "test": "9"}
            assessment.save_cells(teacher, y["class1a"], subject, "year",
                                  [_cell(pupil, c, values[c])
                                   for c in assessment.columns_for(y["class1a"], subject, "year")])
        assessment.save_evaluations(teacher, y["class1a"], "year",
                                    [_cell(pupil, code, "T") for code in primary_aspect_codes()])
        result = StudentResult.objects.get(enrolment=pupil, period="year")
        assert (result.outcome, result.commendation, result.decision) == ("HTXS", "Học sinh Xuất sắc", "promoted")
        [saved] = assessment.save_cells(teacher, y["class1a"], y["subjects1"]["toan"], "year",
                                        [_cell(pupil, "test", "8", version=1)])
        assert saved["status"] == "saved"
        result.refresh_from_db()
        assert (result.outcome, result.commendation) == ("HTT", "")
