"""The commune's schools: kindergartens (mầm non), primary (tiểu học), lower-secondary (trung học
cơ sở, THCS) and inter-level schools; their years, classes, subjects, staff and students; marks
and evaluations by Circular 22/2021/TT-BGDĐT (lower secondary) and Circular 27/2020/TT-BGDĐT
(primary); report cards; attendance and timetables; the parents' contact book; online first- and
sixth-grade enrolment; school fees.

Tenant models: each commune's schema holds its own schools. Users (public schema) are kept as
foreign keys without a database constraint. A student is a child of the registry
(``population.Resident``); guardians carry the phone numbers that the contact book writes to and
that a citizen account proves at sign-up (the parent's pages).

Staff of one school see only that school: a ``school_staff`` membership of the commune opens the
app, and ``StaffMember`` rows say in which school(s) and as what (principal, teacher …).

The national curriculum (subjects per grade, periods a week, how each is assessed) and the
primary qualities and competencies are data files under ``education/data/`` (``education.
curriculum``); ``Subject`` rows are made from them per commune when a school year is opened.

Cells of the marks grid are one row each (``Mark``, ``Evaluation``), with a version that the grid
sends back so that two teachers saving one cell see a conflict instead of losing a mark. Computed
results (``SubjectResult``, ``YearResult``) are derived from the cells by ``education.rules`` and
kept so that report cards and lists read them without recomputing.
"""
from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from core.history import tenant_history
from population.models import Sex
from jobs.models import Job
from jobs.registry import register as register_job

USER = settings.AUTH_USER_MODEL


def _user_field(verbose_name, related_name="+", **kwargs):
    """A reference to a (public, global) user from a commune's table: no database constraint."""
    kwargs.setdefault("null", True)
    kwargs.setdefault("blank", True)
    return models.ForeignKey(USER, verbose_name=verbose_name, on_delete=models.DO_NOTHING,
                             related_name=related_name, db_constraint=False, **kwargs)


# --- schools, years, classes ------------------------------------------------------------------

class SchoolLevel(models.TextChoices):
    PRESCHOOL = "preschool", _("Preschool (mầm non)")
    PRIMARY = "primary", _("Primary school (tiểu học)")
    LOWER_SECONDARY = "lower_secondary", _("Lower-secondary school (THCS)")
    INTER_LEVEL = "inter_level", _("Inter-level primary and lower-secondary school")


class School(models.Model):
    name = models.CharField(_("name"), max_length=200, unique=True)
    short_name = models.CharField(_("short name"), max_length=50, blank=True)
    level = models.CharField(_("level"), max_length=20, choices=SchoolLevel.choices)
    code = models.CharField(_("school code"), max_length=20, blank=True,
                            help_text=_("The code of the Ministry of Education's database, where known."))
    village = models.ForeignKey("population.Village", verbose_name=_("village"), null=True, blank=True,
                                on_delete=models.PROTECT, related_name="+")
    address = models.CharField(_("address"), max_length=300, blank=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    catchment_villages = models.ManyToManyField(
        "population.Village", verbose_name=_("catchment villages"), blank=True, related_name="catchment_schools",
        help_text=_("Children living in these villages have a place in this school's first (or sixth) grade."))
    bank_bin = models.CharField(_("bank BIN"), max_length=6, blank=True)
    bank_account = models.CharField(_("bank account number"), max_length=19, blank=True)
    bank_account_name = models.CharField(_("bank account name"), max_length=200, blank=True)
    absence_threshold = models.PositiveSmallIntegerField(
        _("absences flagged from"), default=3, validators=[MinValueValidator(1), MaxValueValidator(60)],
        help_text=_("A student with this many days of absence in a month is flagged to the homeroom teacher."))
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    history = tenant_history()

    class Meta:
        verbose_name = _("school")
        verbose_name_plural = _("schools")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def grades(self) -> list[int]:
        """The grades this school teaches (0 for preschool classes)."""
        return {
            SchoolLevel.PRESCHOOL: [0],
            SchoolLevel.PRIMARY: [1, 2, 3, 4, 5],
            SchoolLevel.LOWER_SECONDARY: [6, 7, 8, 9],
            SchoolLevel.INTER_LEVEL: [1, 2, 3, 4, 5, 6, 7, 8, 9],
        }[self.level]


class StaffPosition(models.TextChoices):
    PRINCIPAL = "principal", _("Principal")
    VICE_PRINCIPAL = "vice_principal", _("Vice-principal")
    TEACHER = "teacher", _("Teacher")
    ACCOUNTANT = "accountant", _("Accountant")
    CLERK = "clerk", _("School clerk")


class StaffMember(models.Model):
    """A person working at a school. ``user`` is the official's account (with the commune's
    ``school_staff`` membership) when they use the portal; a teacher without an account can still
    be named as homeroom teacher or in the timetable."""

    school = models.ForeignKey(School, verbose_name=_("school"), on_delete=models.PROTECT, related_name="staff")
    user = _user_field(_("account"))
    full_name = models.CharField(_("full name"), max_length=150)
    position = models.CharField(_("position"), max_length=20, choices=StaffPosition.choices,
                                default=StaffPosition.TEACHER)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    active = models.BooleanField(_("active"), default=True)
    history = tenant_history()

    class Meta:
        verbose_name = _("staff member")
        verbose_name_plural = _("staff members")
        ordering = ["school", "full_name"]
        constraints = [
            models.UniqueConstraint(fields=["school", "user"], condition=Q(user__isnull=False),
                                    name="education_staff_user_once"),
        ]

    def __str__(self) -> str:
        return self.full_name


class SchoolYear(models.Model):
    """A school year of the commune's schools ("2026-2027"): two semesters (18 + 17 weeks),
    ``Semester`` rows with their dates."""

    name = models.CharField(_("name"), max_length=9, unique=True, help_text=_("For example 2026-2027."))
    starts_on = models.DateField(_("starts on"))
    ends_on = models.DateField(_("ends on"))
    current = models.BooleanField(_("current year"), default=False)

    class Meta:
        verbose_name = _("school year")
        verbose_name_plural = _("school years")
        ordering = ["-starts_on"]
        constraints = [
            models.UniqueConstraint(fields=["current"], condition=Q(current=True), name="education_one_current_year"),
            models.CheckConstraint(condition=Q(ends_on__gt=models.F("starts_on")), name="education_year_dates"),
        ]

    def __str__(self) -> str:
        return self.name


class Semester(models.Model):
    year = models.ForeignKey(SchoolYear, verbose_name=_("school year"), on_delete=models.CASCADE,
                             related_name="semesters")
    number = models.PositiveSmallIntegerField(_("semester"), choices=[(1, _("Semester 1")), (2, _("Semester 2"))])
    starts_on = models.DateField(_("starts on"))
    ends_on = models.DateField(_("ends on"))
    weeks = models.PositiveSmallIntegerField(_("weeks"), default=18)

    class Meta:
        verbose_name = _("semester")
        verbose_name_plural = _("semesters")
        ordering = ["year", "number"]
        constraints = [
            models.UniqueConstraint(fields=["year", "number"], name="education_semester_once"),
            models.CheckConstraint(condition=Q(ends_on__gt=models.F("starts_on")), name="education_semester_dates"),
        ]

    def __str__(self) -> str:
        return f"{self.get_number_display()} {self.year}"


class Subject(models.Model):
    """A subject or educational activity of a grade, from the national curriculum
    (``education/data/curriculum.yaml``). ``kind`` says how it is assessed: by scores (điểm
    số), by comments (nhận xét: Đạt / Chưa đạt in lower secondary), or, in primary, by levels
    with an end-of-term test where ``tested``."""

    class Kind(models.TextChoices):
        SCORED = "scored", _("Assessed by scores")
        COMMENT = "comment", _("Assessed by comments")
        PRIMARY = "primary", _("Primary: levels, with a test where set")

    grade = models.PositiveSmallIntegerField(_("grade"), validators=[MaxValueValidator(9)])
    code = models.CharField(_("code"), max_length=40)
    name = models.CharField(_("name"), max_length=150)
    kind = models.CharField(_("assessed"), max_length=10, choices=Kind.choices)
    periods_per_year = models.PositiveSmallIntegerField(_("periods a year"), default=0)
    tested = models.BooleanField(_("end-of-term test"), default=False,
                                 help_text=_("Primary: the subject has periodic tests with a score."))
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    confirmed = models.BooleanField(_("confirmed against the curriculum"), default=True)

    class Meta:
        verbose_name = _("subject")
        verbose_name_plural = _("subjects")
        ordering = ["grade", "order", "name"]
        constraints = [models.UniqueConstraint(fields=["grade", "code"], name="education_subject_once")]

    def __str__(self) -> str:
        return self.name

    @property
    def regular_marks(self) -> int:
        """Circular 22/2021, Art. 7: the number of regular marks (ĐĐGtx) a semester: 2 for a
        subject of up to 35 periods a year, 3 for more than 35 and up to 70, 4 above 70."""
        if self.periods_per_year <= 35:
            return 2
        if self.periods_per_year <= 70:
            return 3
        return 4


class SchoolClass(models.Model):
    school = models.ForeignKey(School, verbose_name=_("school"), on_delete=models.PROTECT, related_name="classes")
    year = models.ForeignKey(SchoolYear, verbose_name=_("school year"), on_delete=models.PROTECT,
                             related_name="classes")
    grade = models.PositiveSmallIntegerField(_("grade"), validators=[MaxValueValidator(9)],
                                             help_text=_("0 for a preschool group."))
    name = models.CharField(_("name"), max_length=20, help_text=_("For example 6A or 1B."))
    homeroom_teacher = models.ForeignKey(StaffMember, verbose_name=_("homeroom teacher"), null=True, blank=True,
                                         on_delete=models.SET_NULL, related_name="homeroom_classes")
    room = models.CharField(_("room"), max_length=30, blank=True)
    history = tenant_history()

    class Meta:
        verbose_name = _("class")
        verbose_name_plural = _("classes")
        ordering = ["school", "year", "grade", "name"]
        constraints = [models.UniqueConstraint(fields=["school", "year", "name"], name="education_class_once")]

    def __str__(self) -> str:
        return self.name


class TeachingAssignment(models.Model):
    """Who teaches a subject to a class (phân công chuyên môn)."""

    school_class = models.ForeignKey(SchoolClass, verbose_name=_("class"), on_delete=models.CASCADE,
                                     related_name="assignments")
    subject = models.ForeignKey(Subject, verbose_name=_("subject"), on_delete=models.PROTECT, related_name="+")
    teacher = models.ForeignKey(StaffMember, verbose_name=_("teacher"), null=True, blank=True,
                                on_delete=models.SET_NULL, related_name="assignments")

    class Meta:
        verbose_name = _("teaching assignment")
        verbose_name_plural = _("teaching assignments")
        constraints = [models.UniqueConstraint(fields=["school_class", "subject"], name="education_assignment_once")]


# --- students ----------------------------------------------------------------------------------

class Student(models.Model):
    """A child of the registry at one of the commune's schools."""

    resident = models.OneToOneField("population.Resident", verbose_name=_("resident"), on_delete=models.PROTECT,
                                    related_name="student")
    student_code = models.CharField(_("student code"), max_length=20, blank=True,
                                    help_text=_("The code of the Ministry of Education's database, where known."))
    note = models.TextField(_("note"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    history = tenant_history()

    class Meta:
        verbose_name = _("student")
        verbose_name_plural = _("students")

    def __str__(self) -> str:
        return self.resident.full_name


class Guardian(models.Model):
    class Relation(models.TextChoices):
        MOTHER = "mother", _("Mother")
        FATHER = "father", _("Father")
        GRANDPARENT = "grandparent", _("Grandparent")
        OTHER = "other", _("Other guardian")

    student = models.ForeignKey(Student, verbose_name=_("student"), on_delete=models.CASCADE, related_name="guardians")
    resident = models.ForeignKey("population.Resident", verbose_name=_("resident"), null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="+")
    full_name = models.CharField(_("full name"), max_length=150)
    relation = models.CharField(_("relation"), max_length=12, choices=Relation.choices)
    phone = models.CharField(_("mobile phone"), max_length=10, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    receives_messages = models.BooleanField(_("receives the contact book's messages"), default=True)
    history = tenant_history()

    class Meta:
        verbose_name = _("guardian")
        verbose_name_plural = _("guardians")
        ordering = ["student", "pk"]
        indexes = [models.Index(fields=["phone"])]

    def __str__(self) -> str:
        return self.full_name


class Enrolment(models.Model):
    """A student in a class for a school year. A transfer or a repeated year ends one enrolment
    and, where the student stays, starts another; only one enrolment of a student is open in a
    year."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("Studying")
        TRANSFERRED_OUT = "transferred_out", _("Transferred out")
        MOVED_CLASS = "moved_class", _("Moved to another class")
        DROPPED_OUT = "dropped_out", _("Left school")
        COMPLETED = "completed", _("Completed the year")

    class Entry(models.TextChoices):
        NEW = "new", pgettext_lazy("enrolment entry", "Enrolled")
        PROMOTED = "promoted", _("Promoted from the grade below")
        REPEATING = "repeating", _("Repeating the grade")
        TRANSFERRED_IN = "transferred_in", _("Transferred in")
        MOVED_CLASS = "moved_class", _("Moved from another class")

    student = models.ForeignKey(Student, verbose_name=_("student"), on_delete=models.PROTECT, related_name="enrolments")
    school_class = models.ForeignKey(SchoolClass, verbose_name=_("class"), on_delete=models.PROTECT,
                                     related_name="enrolments")
    year = models.ForeignKey(SchoolYear, verbose_name=_("school year"), on_delete=models.PROTECT, related_name="+")
    number = models.PositiveSmallIntegerField(_("number in the class list"), null=True, blank=True)
    entry = models.CharField(_("entry"), max_length=16, choices=Entry.choices, default=Entry.NEW)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.ACTIVE)
    starts_on = models.DateField(_("from"))
    ends_on = models.DateField(_("until"), null=True, blank=True)
    came_from = models.CharField(_("previous school"), max_length=200, blank=True)
    went_to = models.CharField(_("next school"), max_length=200, blank=True)
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    history = tenant_history()

    class Meta:
        verbose_name = _("enrolment")
        verbose_name_plural = _("enrolments")
        ordering = ["school_class", "number", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["student", "year"], condition=Q(status="active"),
                                    name="education_one_open_enrolment"),
        ]
        indexes = [models.Index(fields=["school_class", "status"])]


class StudentImport(models.Model):
    """A class list imported from an .xlsx file: the rows, their errors, what was written."""

    class State(models.TextChoices):
        CHECKED = "checked", _("Checked, waiting for confirmation")
        APPLIED = "applied", _("Imported")
        REFUSED = "refused", _("Refused")

    school_class = models.ForeignKey(SchoolClass, verbose_name=_("class"), on_delete=models.CASCADE,
                                     related_name="imports")
    file_name = models.CharField(_("file"), max_length=200)
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.CHECKED)
    rows = models.JSONField(_("rows"), default=list)
    errors = models.JSONField(_("errors"), default=list)
    created = models.PositiveIntegerField(_("students created"), default=0)
    uploaded_by = _user_field(_("uploaded by"))
    uploaded_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)
    applied_at = models.DateTimeField(_("imported at"), null=True, blank=True)

    class Meta:
        verbose_name = _("import of a class list")
        verbose_name_plural = _("imports of class lists")
        ordering = ["-uploaded_at"]


# --- assessment ----------------------------------------------------------------------------------

class Period(models.TextChoices):
    """Assessment periods. Lower secondary: semester 1 and 2 and the year (Circular 22/2021).
    Primary: mid- and end-of-semester 1, mid-semester 2 and the end of the year (Circular
    27/2020, periodic assessment)."""

    MID1 = "mid1", _("Mid-semester 1")
    SEM1 = "sem1", _("Semester 1")
    MID2 = "mid2", _("Mid-semester 2")
    SEM2 = "sem2", _("Semester 2")
    YEAR = "year", _("Whole year")
    RETEST = "retest", _("Summer retest")


class Mark(models.Model):
    """One cell of the marks grid: a student's mark in a subject for a period.

    ``column`` is ``tx1`` … ``tx4`` (regular marks), ``mid`` (giữa kỳ), ``end`` (cuối kỳ) and
    ``retest`` for scored subjects of lower secondary (``score``, 0–10 with one decimal);
    ``level`` for comment-assessed subjects (Đạt / Chưa đạt) and for primary subjects (Hoàn thành
    tốt / Hoàn thành / Chưa hoàn thành), where ``test`` holds the end-of-term test's score
    (a whole number, 1–10) and ``comment`` the teacher's words. ``version`` grows at each save:
    the grid sends the version it showed, and a save over a newer one is a conflict."""

    enrolment = models.ForeignKey(Enrolment, verbose_name=_("enrolment"), on_delete=models.CASCADE, related_name="marks")
    subject = models.ForeignKey(Subject, verbose_name=_("subject"), on_delete=models.PROTECT, related_name="+")
    period = models.CharField(_("period"), max_length=6, choices=Period.choices)
    column = models.CharField(_("column"), max_length=10)
    score = models.DecimalField(_("score"), max_digits=3, decimal_places=1, null=True, blank=True,
                                validators=[MinValueValidator(0), MaxValueValidator(10)])
    level = models.CharField(_("level"), max_length=4, blank=True)
    comment = models.TextField(_("comment"), blank=True)
    version = models.PositiveIntegerField(_("version"), default=1)
    updated_by = _user_field(_("updated by"))
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    history = tenant_history()

    class Meta:
        verbose_name = _("mark")
        verbose_name_plural = _("marks")
        constraints = [
            models.UniqueConstraint(fields=["enrolment", "subject", "period", "column"], name="education_mark_once"),
            models.CheckConstraint(condition=Q(score__isnull=True) | (Q(score__gte=0) & Q(score__lte=10)),
                                   name="education_mark_range"),
        ]
        indexes = [models.Index(fields=["subject", "period"])]


class Evaluation(models.Model):
    """A student's level in an aspect that is not a subject: for primary, the qualities and
    competencies (phẩm chất, năng lực: Tốt / Đạt / Cần cố gắng); for lower secondary, conduct
    (rèn luyện: Tốt / Khá / Đạt / Chưa đạt). ``aspect`` is a code of ``education/data/
    aspects.yaml`` (``conduct`` for conduct)."""

    enrolment = models.ForeignKey(Enrolment, verbose_name=_("enrolment"), on_delete=models.CASCADE,
                                  related_name="evaluations")
    period = models.CharField(_("period"), max_length=6, choices=Period.choices)
    aspect = models.CharField(_("aspect"), max_length=40)
    level = models.CharField(_("level"), max_length=4, blank=True)
    comment = models.TextField(_("comment"), blank=True)
    version = models.PositiveIntegerField(_("version"), default=1)
    updated_by = _user_field(_("updated by"))
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    history = tenant_history()

    class Meta:
        verbose_name = _("evaluation")
        verbose_name_plural = _("evaluations")
        constraints = [
            models.UniqueConstraint(fields=["enrolment", "period", "aspect"], name="education_evaluation_once"),
        ]


class SubjectResult(models.Model):
    """A student's computed result in a subject for a period (``sem1``, ``sem2``, ``year``,
    and for primary the periodic ones): the average of a scored subject to one decimal, the
    level of a comment-assessed or primary subject. Written by ``education.rules`` only."""

    enrolment = models.ForeignKey(Enrolment, verbose_name=_("enrolment"), on_delete=models.CASCADE,
                                  related_name="subject_results")
    subject = models.ForeignKey(Subject, verbose_name=_("subject"), on_delete=models.PROTECT, related_name="+")
    period = models.CharField(_("period"), max_length=6, choices=Period.choices)
    average = models.DecimalField(_("average"), max_digits=3, decimal_places=1, null=True, blank=True)
    level = models.CharField(_("level"), max_length=4, blank=True)
    computed_at = models.DateTimeField(_("computed at"), auto_now=True)

    class Meta:
        verbose_name = _("subject result")
        verbose_name_plural = _("subject results")
        constraints = [
            models.UniqueConstraint(fields=["enrolment", "subject", "period"], name="education_subject_result_once"),
        ]


class StudentResult(models.Model):
    """A student's computed result for a period: lower secondary's learning result (kết quả học
    tập: Tốt / Khá / Đạt / Chưa đạt) and conduct; primary's education result (Hoàn thành xuất
    sắc / Hoàn thành tốt / Hoàn thành / Chưa hoàn thành) and commendation; the decision at the
    end of the year (promoted, retest, repeat). Written by ``education.rules`` only, except
    ``decision`` after a retest, which the principal confirms."""

    class Decision(models.TextChoices):
        NONE = "", _("Not decided")
        PROMOTED = "promoted", _("Promoted (lên lớp)")
        RETEST = "retest", _("Summer retest or training")
        REPEAT = "repeat", _("Repeats the grade")
        COMPLETED = "completed", _("Completed the level")

    enrolment = models.ForeignKey(Enrolment, verbose_name=_("enrolment"), on_delete=models.CASCADE,
                                  related_name="results")
    period = models.CharField(_("period"), max_length=6, choices=Period.choices)
    average = models.DecimalField(_("average of the scored subjects"), max_digits=3, decimal_places=1,
                                  null=True, blank=True)
    learning = models.CharField(_("learning result"), max_length=4, blank=True)
    conduct = models.CharField(_("conduct"), max_length=4, blank=True)
    outcome = models.CharField(_("education result"), max_length=4, blank=True)
    commendation = models.CharField(_("commendation"), max_length=200, blank=True)
    absences = models.PositiveSmallIntegerField(_("days absent"), default=0)
    decision = models.CharField(_("decision"), max_length=10, choices=Decision.choices, blank=True)
    complete = models.BooleanField(_("all marks entered"), default=False)
    computed_at = models.DateTimeField(_("computed at"), auto_now=True)

    class Meta:
        verbose_name = _("student result")
        verbose_name_plural = _("student results")
        constraints = [models.UniqueConstraint(fields=["enrolment", "period"], name="education_result_once")]
        indexes = [models.Index(fields=["period", "learning"])]


class AssessmentLock(models.Model):
    """A school's marks of a semester locked by the principal at the end of the term: nothing in
    the period changes until it is unlocked. Locks and unlocks are written to ``LockEvent``."""

    school = models.ForeignKey(School, verbose_name=_("school"), on_delete=models.CASCADE, related_name="locks")
    semester = models.ForeignKey(Semester, verbose_name=_("semester"), on_delete=models.CASCADE, related_name="locks")
    locked_by = _user_field(_("locked by"))
    locked_at = models.DateTimeField(_("locked at"), auto_now_add=True)

    class Meta:
        verbose_name = _("lock of a term's marks")
        verbose_name_plural = _("locks of terms' marks")
        constraints = [models.UniqueConstraint(fields=["school", "semester"], name="education_lock_once")]


class LockEvent(models.Model):
    class Action(models.TextChoices):
        LOCK = "lock", _("Locked")
        UNLOCK = "unlock", _("Unlocked")

    school = models.ForeignKey(School, verbose_name=_("school"), on_delete=models.CASCADE, related_name="+")
    semester = models.ForeignKey(Semester, verbose_name=_("semester"), on_delete=models.CASCADE, related_name="+")
    action = models.CharField(_("action"), max_length=6, choices=Action.choices)
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    user = _user_field(_("by"))
    username = models.CharField(_("user name"), max_length=150, blank=True)
    at = models.DateTimeField(_("time"), auto_now_add=True)

    class Meta:
        verbose_name = _("lock or unlock of marks")
        verbose_name_plural = _("locks and unlocks of marks")
        ordering = ["-at", "-pk"]


@register_job
class ReportCardJob(Job):
    """A class's report cards (học bạ) or term result sheet rendered into one PDF by a durable job
    (``jobs/``: the row is the truth), with its progress; signed by the principal where a
    certificate exists. ``file`` is the storage name of the PDF once made (written once)."""

    class Kind(models.TextChoices):
        REPORT_CARDS = "cards", _("Report cards of the class")
        RESULT_SHEET = "sheet", _("Term result sheet")

    school_class = models.ForeignKey(SchoolClass, verbose_name=_("class"), on_delete=models.CASCADE,
                                     related_name="report_jobs")
    kind = models.CharField(_("kind"), max_length=6, choices=Kind.choices)
    period = models.CharField(_("period"), max_length=6, choices=Period.choices)
    file = models.CharField(_("file"), max_length=300, blank=True)
    signed = models.BooleanField(_("signed by the principal"), default=False)
    requested_by = _user_field(_("requested by"))

    class Meta(Job.Meta):
        verbose_name = _("report cards to make")
        verbose_name_plural = _("report cards to make")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.school_class}"

    def run(self, ctx):
        from education.report_cards import run_job

        return run_job(self, ctx)


# --- attendance and timetable ------------------------------------------------------------------

class AttendanceDay(models.Model):
    """Attendance taken for a class on a day: every enrolled student not in ``Absence`` was
    present."""

    school_class = models.ForeignKey(SchoolClass, verbose_name=_("class"), on_delete=models.CASCADE,
                                     related_name="attendance_days")
    date = models.DateField(_("date"))
    taken_by = _user_field(_("taken by"))
    taken_at = models.DateTimeField(_("taken at"), auto_now=True)

    class Meta:
        verbose_name = _("attendance of a day")
        verbose_name_plural = _("attendance of days")
        ordering = ["-date"]
        constraints = [models.UniqueConstraint(fields=["school_class", "date"], name="education_attendance_day_once")]


class Absence(models.Model):
    class Kind(models.TextChoices):
        EXCUSED = "excused", _("Absent with leave (có phép)")
        UNEXCUSED = "unexcused", _("Absent without leave (không phép)")
        LATE = "late", pgettext_lazy("attendance", "Late")

    enrolment = models.ForeignKey(Enrolment, verbose_name=_("enrolment"), on_delete=models.CASCADE,
                                  related_name="absences")
    date = models.DateField(_("date"))
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    recorded_by = _user_field(_("recorded by"))

    class Meta:
        verbose_name = _("absence")
        verbose_name_plural = _("absences")
        ordering = ["-date"]
        constraints = [models.UniqueConstraint(fields=["enrolment", "date"], name="education_absence_once")]
        indexes = [models.Index(fields=["date"])]


class TimetableSlot(models.Model):
    """One period (tiết) of a class's weekly timetable in a semester. A teacher or a room is never
    in two places at once (database constraints, checked first with a clear message)."""

    school = models.ForeignKey(School, verbose_name=_("school"), on_delete=models.CASCADE, related_name="+")
    semester = models.ForeignKey(Semester, verbose_name=_("semester"), on_delete=models.CASCADE, related_name="+")
    school_class = models.ForeignKey(SchoolClass, verbose_name=_("class"), on_delete=models.CASCADE,
                                     related_name="timetable")
    weekday = models.PositiveSmallIntegerField(_("day"), choices=[
        (1, _("Monday")), (2, _("Tuesday")), (3, _("Wednesday")), (4, _("Thursday")), (5, _("Friday")),
        (6, _("Saturday"))])
    lesson = models.PositiveSmallIntegerField(_("period"), validators=[MinValueValidator(1), MaxValueValidator(10)])
    subject = models.ForeignKey(Subject, verbose_name=_("subject"), on_delete=models.PROTECT, related_name="+")
    teacher = models.ForeignKey(StaffMember, verbose_name=_("teacher"), null=True, blank=True,
                                on_delete=models.SET_NULL, related_name="timetable")
    room = models.CharField(_("room"), max_length=30, blank=True)

    class Meta:
        verbose_name = _("timetable period")
        verbose_name_plural = _("timetable periods")
        ordering = ["school_class", "weekday", "lesson"]
        constraints = [
            models.UniqueConstraint(fields=["school_class", "semester", "weekday", "lesson"],
                                    name="education_slot_class_once"),
            models.UniqueConstraint(fields=["teacher", "semester", "weekday", "lesson"],
                                    condition=Q(teacher__isnull=False), name="education_slot_teacher_once"),
            models.UniqueConstraint(fields=["school", "room", "semester", "weekday", "lesson"],
                                    condition=~Q(room=""), name="education_slot_room_once"),
        ]


# --- contact book --------------------------------------------------------------------------------

class Message(models.Model):
    """A message of the contact book (sổ liên lạc) from a teacher to the guardians of a class or of
    one student, sent by SMS and/or e-mail through the notification jobs and shown on the
    parent's pages."""

    school = models.ForeignKey(School, verbose_name=_("school"), on_delete=models.CASCADE, related_name="+")
    school_class = models.ForeignKey(SchoolClass, verbose_name=_("class"), null=True, blank=True,
                                     on_delete=models.CASCADE, related_name="messages")
    student = models.ForeignKey(Student, verbose_name=_("student"), null=True, blank=True, on_delete=models.CASCADE,
                                related_name="messages")
    sender = models.ForeignKey(StaffMember, verbose_name=_("sender"), null=True, on_delete=models.SET_NULL,
                               related_name="+")
    body = models.TextField(_("message"))
    by_sms = models.BooleanField(_("by SMS"), default=True)
    by_email = models.BooleanField(_("by e-mail"), default=False)
    recipients = models.PositiveIntegerField(_("guardians written to"), default=0)
    notification_ids = models.JSONField(_("notifications"), default=list, blank=True)
    created_at = models.DateTimeField(_("sent at"), auto_now_add=True)

    class Meta:
        verbose_name = _("contact book message")
        verbose_name_plural = _("contact book messages")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(school_class__isnull=False) | Q(student__isnull=False),
                                   name="education_message_has_addressee"),
        ]


# --- online enrolment ----------------------------------------------------------------------------

class Application(models.Model):
    """An application for a child's place in first grade (primary) or sixth grade (lower
    secondary), sent online by a citizen: the child's household is checked against the school's
    catchment villages."""

    class State(models.TextChoices):
        SUBMITTED = "submitted", pgettext_lazy("enrolment application", "Submitted")
        CHECKING = "checking", pgettext_lazy("enrolment application", "Being checked")
        NEEDS_PAPERS = "needs_papers", pgettext_lazy("enrolment application", "Papers asked for")
        ACCEPTED = "accepted", pgettext_lazy("enrolment application", "Admitted")
        REFUSED = "refused", pgettext_lazy("enrolment application", "Not admitted")
        WITHDRAWN = "withdrawn", pgettext_lazy("enrolment application", "Withdrawn")

    code = models.CharField(_("reference"), max_length=20, unique=True)
    school = models.ForeignKey(School, verbose_name=_("school"), on_delete=models.PROTECT, related_name="applications")
    year = models.ForeignKey(SchoolYear, verbose_name=_("school year"), on_delete=models.PROTECT, related_name="+")
    grade = models.PositiveSmallIntegerField(_("grade"), choices=[(1, _("Grade 1")), (6, _("Grade 6"))])
    child_name = models.CharField(_("child's full name"), max_length=150)
    child_birth_date = models.DateField(_("child's birth date"))
    child_sex = models.CharField(_("child's sex"), max_length=10, choices=Sex.choices)
    resident = models.ForeignKey("population.Resident", verbose_name=_("child in the registry"), null=True,
                                 blank=True, on_delete=models.SET_NULL, related_name="+")
    household = models.ForeignKey("population.Household", verbose_name=_("household"), null=True, blank=True,
                                  on_delete=models.SET_NULL, related_name="+")
    village = models.ForeignKey("population.Village", verbose_name=_("village of residence"), null=True,
                                blank=True, on_delete=models.SET_NULL, related_name="+")
    in_catchment = models.BooleanField(_("lives in the catchment area"), default=False)
    previous_school = models.CharField(_("previous school"), max_length=200, blank=True)
    applicant = _user_field(_("citizen account"))
    applicant_name = models.CharField(_("parent's full name"), max_length=150)
    applicant_phone = models.CharField(_("parent's mobile phone"), max_length=10)
    applicant_email = models.EmailField(_("parent's e-mail"), blank=True)
    state = models.CharField(_("state"), max_length=14, choices=State.choices, default=State.SUBMITTED)
    decision_note = models.TextField(_("note to the parent"), blank=True)
    submission_key = models.CharField(_("submission key"), max_length=64, unique=True)
    submitted_at = models.DateTimeField(_("submitted at"), auto_now_add=True)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decided_by = _user_field(_("decided by"))
    enrolment = models.ForeignKey(Enrolment, verbose_name=_("enrolment"), null=True, blank=True,
                                  on_delete=models.SET_NULL, related_name="+")
    history = tenant_history()

    class Meta:
        verbose_name = _("enrolment application")
        verbose_name_plural = _("enrolment applications")
        ordering = ["-submitted_at"]
        indexes = [models.Index(fields=["school", "state"])]


class ApplicationDocument(models.Model):
    application = models.ForeignKey(Application, verbose_name=_("application"), on_delete=models.CASCADE,
                                    related_name="documents")
    kind = models.CharField(_("paper"), max_length=40)
    file = models.CharField(_("file"), max_length=300)
    name = models.CharField(_("file name"), max_length=200)
    size = models.PositiveIntegerField(_("size"))
    uploaded_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("paper of an application")
        verbose_name_plural = _("papers of applications")


# --- fees ----------------------------------------------------------------------------------------

class FeeItem(models.Model):
    """A fee (khoản thu) of a school for a semester, charged to the chosen classes."""

    school = models.ForeignKey(School, verbose_name=_("school"), on_delete=models.PROTECT, related_name="fee_items")
    semester = models.ForeignKey(Semester, verbose_name=_("semester"), on_delete=models.PROTECT, related_name="+")
    name = models.CharField(_("name"), max_length=150)
    amount = models.PositiveIntegerField(_("amount (đ)"))
    classes = models.ManyToManyField(SchoolClass, verbose_name=_("classes"), related_name="fee_items")
    due_on = models.DateField(_("due on"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    history = tenant_history()

    class Meta:
        verbose_name = _("fee item")
        verbose_name_plural = _("fee items")
        ordering = ["school", "semester", "name"]
        constraints = [models.UniqueConstraint(fields=["school", "semester", "name"], name="education_fee_once")]


class Invoice(models.Model):
    """What a student owes for a semester (the fee items of the class), paid by VietQR to the
    school's account (reconciled by the bank's signed notification) or in cash at the school."""

    class State(models.TextChoices):
        UNPAID = "unpaid", _("Not paid")
        PAID = "paid", _("Paid")
        CANCELLED = "cancelled", _("Cancelled")

    code = models.CharField(_("invoice code"), max_length=20, unique=True)
    school = models.ForeignKey(School, verbose_name=_("school"), on_delete=models.PROTECT, related_name="invoices")
    semester = models.ForeignKey(Semester, verbose_name=_("semester"), on_delete=models.PROTECT, related_name="+")
    enrolment = models.ForeignKey(Enrolment, verbose_name=_("enrolment"), on_delete=models.PROTECT,
                                  related_name="invoices")
    total = models.PositiveIntegerField(_("total (đ)"))
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.UNPAID)
    due_on = models.DateField(_("due on"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    paid_at = models.DateTimeField(_("paid at"), null=True, blank=True)
    history = tenant_history()

    class Meta:
        verbose_name = _("invoice")
        verbose_name_plural = _("invoices")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["enrolment", "semester"], condition=~Q(state="cancelled"),
                                    name="education_invoice_once"),
        ]
        indexes = [models.Index(fields=["school", "state"])]


class InvoiceLine(models.Model):
    invoice = models.ForeignKey(Invoice, verbose_name=_("invoice"), on_delete=models.CASCADE, related_name="lines")
    fee_item = models.ForeignKey(FeeItem, verbose_name=_("fee item"), on_delete=models.PROTECT, related_name="+")
    name = models.CharField(_("name"), max_length=150)
    amount = models.PositiveIntegerField(_("amount (đ)"))

    class Meta:
        verbose_name = _("invoice line")
        verbose_name_plural = _("invoice lines")


class FeePayment(models.Model):
    """A payment of an invoice: by the bank's signed notification (its transaction id is unique,
    so a notification sent twice pays once) or in cash at the school; each has a receipt number
    of the school and year."""

    class Method(models.TextChoices):
        BANK = "bank", _("Bank transfer (VietQR)")
        CASH = "cash", _("Cash at the school")

    invoice = models.ForeignKey(Invoice, verbose_name=_("invoice"), on_delete=models.PROTECT, related_name="payments")
    amount = models.PositiveIntegerField(_("amount (đ)"))
    method = models.CharField(_("method"), max_length=6, choices=Method.choices)
    transaction_id = models.CharField(_("bank transaction"), max_length=100, null=True, blank=True, unique=True)
    receipt_number = models.CharField(_("receipt number"), max_length=30, unique=True)
    received_by = _user_field(_("received by"))
    received_at = models.DateTimeField(_("received at"))

    class Meta:
        verbose_name = _("fee payment")
        verbose_name_plural = _("fee payments")
        ordering = ["-received_at"]


class FeeNotification(models.Model):
    """A bank's signed notification of a school fee transfer, kept once per transaction (a replay
    answers what the first one did) with its outcome; a mismatch waits for the accountant."""

    transaction_id = models.CharField(_("bank transaction"), max_length=100, unique=True)
    received_at = models.DateTimeField(_("received at"), auto_now_add=True)
    payload = models.JSONField(_("payload"))
    outcome = models.CharField(_("outcome"), max_length=30)
    answer = models.JSONField(_("answer"), default=dict)
    school = models.ForeignKey(School, verbose_name=_("school"), null=True, blank=True, on_delete=models.PROTECT,
                               related_name="+")
    invoice = models.ForeignKey(Invoice, verbose_name=_("invoice"), null=True, blank=True,
                                on_delete=models.SET_NULL, related_name="notifications")
    resolved_at = models.DateTimeField(_("dealt with at"), null=True, blank=True)
    resolved_by = _user_field(_("dealt with by"))

    class Meta:
        verbose_name = _("bank notification of a fee")
        verbose_name_plural = _("bank notifications of fees")
        ordering = ["-received_at"]
        indexes = [models.Index(fields=["school", "outcome", "resolved_at"])]


class FeeReminder(models.Model):
    """An SMS reminder of an unpaid invoice sent to its student's guardians (at most one a week
    per invoice), with the notification that carried it."""

    invoice = models.ForeignKey(Invoice, verbose_name=_("invoice"), on_delete=models.CASCADE, related_name="reminders")
    notification_id = models.PositiveIntegerField(_("notification"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent at"), auto_now_add=True)
    sent_by = _user_field(_("reminder sent by"))

    class Meta:
        verbose_name = _("fee reminder")
        verbose_name_plural = _("fee reminders")
        ordering = ["-sent_at"]
        indexes = [models.Index(fields=["invoice", "sent_at"])]

class Sequence(models.Model):
    """The last number drawn of a series (application references, invoice codes, receipt
    numbers per school and year), drawn under a row lock so that concurrent writers get numbers
    without gaps or repeats (``education.sequences.next_number``)."""

    name = models.CharField(_("series"), max_length=60, unique=True)
    last = models.PositiveIntegerField(_("last number"), default=0)

    class Meta:
        verbose_name = _("number series")
        verbose_name_plural = _("number series")
