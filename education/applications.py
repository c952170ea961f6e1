"""Online enrolment in grade 1 and grade 6 (tuyển sinh lớp 1, lớp 6): the rules and every change
of an ``Application``, each in one function inside a transaction.

* Which schools take applications: every active school teaching the grade (primary or
  inter-level for grade 1, lower-secondary or inter-level for grade 6), for the current school year
  or the next one once it is opened. An enrolment window per school and year is not modelled.
* The age: the school year starting in calendar year Y takes children born in Y-6 into grade 1 and
  in Y-11 into grade 6. A younger child is refused; an older one is accepted with a note for the
  school (``age_note``). Grade 6 asks for the primary school the child completed.
* The residence: the child is looked up in the registry by name (without accents) and birth date;
  among several namesakes, the one in the household of the citizen's phone wins. A child not found
  there is placed in the citizen's own household when the citizen is a resident (or a household)
  with the same phone. The household's village is then checked against the school's catchment
  villages: inside, ``in_catchment``; outside or not found, the application is still taken and the
  school checks it (the citizen is told so).
* Papers: a birth certificate, the primary school completion for grade 6, other papers if wanted;
  PDF, JPEG or PNG by content, at most 5 MB each and 5 files, written once under the commune's
  prefix (``core.storage``).
* One application per child, school and year (a withdrawn one aside), checked under a
  transaction-level advisory lock; one application per submission key (a second click finds the
  first one).
* The school: start checking, ask for papers (the parent sends them from their page), admit (a
  ``Student`` for a child of the registry and, when a class is chosen, its ``Enrolment``), refuse
  with a reason. ``decided_at`` and ``decided_by`` say who acted last and when. Every change tells
  the parent by SMS and e-mail (notification jobs) with a link from the commune's configured address.
"""
from __future__ import annotations

import datetime
import hashlib
import logging
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy

from core.phones import normalize_mobile
from core.text import fold
from education import permissions, sequences
from education.models import (
    Application, ApplicationDocument, Enrolment, Guardian, School, SchoolClass, SchoolLevel, SchoolYear, Student,
)

logger = logging.getLogger(__name__)

S = Application.State
OPEN_STATES = (S.SUBMITTED, S.CHECKING, S.NEEDS_PAPERS)
WITHDRAWABLE = (S.SUBMITTED, S.CHECKING)
GRADE_LEVELS = {
    1: (SchoolLevel.PRIMARY, SchoolLevel.INTER_LEVEL),
    6: (SchoolLevel.LOWER_SECONDARY, SchoolLevel.INTER_LEVEL),
}
AGE_AT_ENTRY = {1: 6, 6: 11}  # years of age in the calendar year the school year starts
ANSWER_WORKING_DAYS = 10  # the school answers within this many working days
CHECK_WORKING_DAYS = 5  # an application not looked at after this many working days is overdue
MAX_FILES = 5
MAX_BYTES = 5 * 1024 * 1024
BIRTH_CERTIFICATE = "birth_certificate"
PRIMARY_COMPLETION = "primary_completion"
OTHER = "other"
KINDS = (BIRTH_CERTIFICATE, PRIMARY_COMPLETION, OTHER)
PAPERS_REASON = "papers: "  # the history's reason when the parent sends papers, then their names


STATE_LABELS = {
    S.SUBMITTED: pgettext_lazy("enrolment application", "Submitted"),
    S.CHECKING: pgettext_lazy("enrolment application", "Being checked"),
    S.NEEDS_PAPERS: pgettext_lazy("enrolment application", "Papers asked for"),
    S.ACCEPTED: pgettext_lazy("enrolment application", "Admitted"),
    S.REFUSED: pgettext_lazy("enrolment application", "Not admitted"),
    S.WITHDRAWN: pgettext_lazy("enrolment application", "Withdrawn"),
}


def state_label(state: str) -> str:
    """The state as parents and staff read it (the words of enrolment, apart from other apps'
    "Submitted" or "Withdrawn")."""
    return str(STATE_LABELS.get(state, state))


def kind_label(kind: str) -> str:
    return {BIRTH_CERTIFICATE: _("Birth certificate"),
            PRIMARY_COMPLETION: _("Primary school completion certificate"),
            OTHER: _("Other paper")}.get(kind, kind)


def _refuse(field, message, code="invalid"):
    raise ValidationError({field: [ValidationError(message, code=code)]} if field else ValidationError(message, code=code))


# --- what is open -------------------------------------------------------------------------------

def open_years() -> list[SchoolYear]:
    """The current school year and the next one (when opened): the years applications are for."""
    current = SchoolYear.objects.filter(current=True).first()
    if current is None:
        return []
    following = SchoolYear.objects.filter(starts_on__gt=current.starts_on).order_by("starts_on").first()
    return [current] + ([following] if following else [])


def schools_for_grade(grade: int):
    return School.objects.filter(active=True, level__in=GRADE_LEVELS.get(grade, ())).order_by("name")


def open_schools():
    """[(school, [grades])] of the schools taking applications."""
    out = []
    for school in School.objects.filter(active=True).prefetch_related("catchment_villages").order_by("name"):
        grades = [g for g, levels in GRADE_LEVELS.items() if school.level in levels]
        if grades:
            out.append((school, grades))
    return out


# --- the rules ------------------------------------------------------------------------------------

def expected_birth_year(grade: int, year: SchoolYear) -> int:
    return year.starts_on.year - AGE_AT_ENTRY[grade]


def check_age(grade: int, birth_date: datetime.date, year: SchoolYear) -> None:
    """Refuse a child too young for the grade (or a birth date that cannot be right)."""
    expected = expected_birth_year(grade, year)
    if birth_date > timezone.localdate():
        _refuse("child_birth_date", _("The birth date is in the future."))
    if birth_date.year < expected - 10:
        _refuse("child_birth_date", _("Check the birth date: the child would be %(age)d years old.")
                % {"age": year.starts_on.year - birth_date.year})
    if birth_date.year > expected:
        if grade == 1:
            message = _("A child enters grade 1 in the year they turn 6: for the school year %(year)s, children "
                        "born in %(born)d or earlier.")
        else:
            message = _("A child enters grade 6 in the year they turn 11: for the school year %(year)s, children "
                        "born in %(born)d or earlier.")
        _refuse("child_birth_date", message % {"year": year.name, "born": expected}, code="too_young")


def age_note(application) -> str:
    """The note for the school when the child is older than the grade's usual age."""
    expected = expected_birth_year(application.grade, application.year)
    if application.child_birth_date.year < expected:
        return _("Older than usual for grade %(grade)d (born in %(born)d, usually %(expected)d): the school checks "
                 "the reason (a late start, a repeated year).") % {
            "grade": application.grade, "born": application.child_birth_date.year, "expected": expected}
    return ""


@dataclass
class Residence:
    resident: object = None
    household: object = None
    village: object = None
    in_catchment: bool = False


def find_residence(school: School, child_name: str, birth_date: datetime.date, phone: str) -> Residence:
    """The child in the registry (by name without accents and birth date), else the household of
    the citizen's phone; and whether its village is in the school's catchment."""
    from population.models import Household, Resident

    phone = normalize_mobile(phone or "") or ""
    found = list(Resident.objects.filter(search_name=fold(child_name)[:150], birth_date=birth_date)
                 .select_related("household__village")[:20])
    resident = None
    if len(found) == 1:
        resident = found[0]
    elif found and phone:
        mine = [r for r in found if r.household.phone == phone
                or r.household.members.filter(phone=phone).exists()]
        resident = mine[0] if len(mine) == 1 else None
    household = resident.household if resident else None
    if household is None and phone:
        own = Resident.objects.filter(phone=phone).select_related("household__village").first()
        household = own.household if own else Household.objects.filter(phone=phone).select_related("village").first()
    if household is None:
        return Residence()
    village = household.village
    inside = school.catchment_villages.filter(pk=village.pk).exists()
    return Residence(resident=resident, household=household, village=village, in_catchment=inside)


# --- papers ----------------------------------------------------------------------------------------

def read_upload(upload) -> tuple[bytes, str]:
    """The bytes and real type of an uploaded paper, within the limits; ValidationError else."""
    from django.template.defaultfilters import filesizeformat
    from onestop.files import TYPE_NAMES, sniff

    size = getattr(upload, "size", None)
    too_large = _("The file is too large: at most %(max)s.") % {"max": filesizeformat(MAX_BYTES)}
    if size is not None and size > MAX_BYTES:
        raise ValidationError(too_large, code="too_large")
    try:
        upload.seek(0)
    except (AttributeError, OSError):
        pass
    data = upload.read(MAX_BYTES + 1)
    if not data:
        raise ValidationError(_("The file is empty."), code="empty")
    if len(data) > MAX_BYTES:
        raise ValidationError(too_large, code="too_large")
    content_type = sniff(data)
    if content_type not in TYPE_NAMES:
        raise ValidationError(_("This file is not accepted: send a PDF, JPEG or PNG file (the content is checked, "
                                "not the name)."), code="file_type")
    return data, content_type


def check_papers(papers: list[tuple[str, object]], *, grade: int | None, existing: int = 0,
                 required: bool = True) -> list[tuple[str, object, bytes, str]]:
    """[(kind, upload)] checked: the type and size of each, their count, the required ones.
    Returns [(kind, upload, data, content type)]; raises ValidationError keyed by the kind."""
    errors: dict[str, list] = {}
    checked = []
    for kind, upload in papers:
        if kind not in KINDS:
            errors.setdefault("documents", []).append(_("Unknown kind of paper."))
            continue
        try:
            data, content_type = read_upload(upload)
        except ValidationError as error:
            name = getattr(upload, "name", "") or ""
            errors.setdefault(kind, []).extend(f"{name}: {m}" if name else m for m in error.messages)
            continue
        checked.append((kind, upload, data, content_type))
    if len(papers) + existing > MAX_FILES:
        errors.setdefault("documents", []).append(
            _("At most %(max)d files can be attached to an application.") % {"max": MAX_FILES})
    if required and not errors:
        kinds = {k for k, *_rest in checked}
        if BIRTH_CERTIFICATE not in kinds:
            errors[BIRTH_CERTIFICATE] = [_("Attach the child's birth certificate.")]
        if grade == 6 and PRIMARY_COMPLETION not in kinds:
            errors[PRIMARY_COMPLETION] = [_("Attach the certificate of completion of primary school.")]
    if errors:
        raise ValidationError(errors)
    return checked


def _store_papers(application, checked) -> list[ApplicationDocument]:
    from core.storage import save_final
    from onestop.files import EXTENSIONS, clean_filename

    rows = []
    for kind, upload, data, content_type in checked:
        name = clean_filename(getattr(upload, "name", "") or kind, content_type)
        stored = save_final(f"education/applications/{application.code}/{uuid.uuid4().hex}.{EXTENSIONS[content_type]}",
                            data)
        rows.append(ApplicationDocument(application=application, kind=kind, file=stored, name=name[:200],
                                        size=len(data)))
    return ApplicationDocument.objects.bulk_create(rows)


# --- submitting --------------------------------------------------------------------------------------

def reference(year: SchoolYear, number: int) -> str:
    """``TS26-000123``: tuyển sinh, the two digits of the year the school year starts, a number."""
    return f"TS{year.starts_on.year % 100:02d}-{number:06d}"


def expected_answer(application) -> datetime.date:
    from workcalendar.services import add_working_days

    return add_working_days(timezone.localdate(application.submitted_at), ANSWER_WORKING_DAYS)


def _lock(*parts) -> None:
    digest = hashlib.sha256(":".join(str(p) for p in ("education.application", connection.schema_name, *parts))
                            .encode()).digest()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [int.from_bytes(digest[:8], "big", signed=True)])


def duplicate_of(school, year, child_name, birth_date, resident=None):
    """An application (not withdrawn) for the same child to ``school`` for ``year``: the same
    resident of the registry, or the same name without accents and birth date."""
    same = Q(child_birth_date=birth_date)
    if resident is not None:
        same |= Q(resident=resident)
    folded = fold(child_name)
    for found in Application.objects.filter(school=school, year=year).exclude(state=S.WITHDRAWN).filter(same):
        if (resident is not None and found.resident_id == resident.pk) or (
                found.child_birth_date == birth_date and fold(found.child_name) == folded):
            return found
    return None


def submit(user, *, school: School, year: SchoolYear, grade: int, child_name: str, child_birth_date: datetime.date,
           child_sex: str, previous_school: str = "", applicant_name: str, applicant_phone: str,
           applicant_email: str = "", papers: list | None = None, submission_key: str,
           papers_later: bool = False) -> tuple[Application, bool]:
    """Send an application. Returns ``(application, created)``: a second send with the same
    submission key gives the first application back. Raises ValidationError (keyed by field).

    ``papers_later``: the application is sent without its papers (the API's JSON form), which
    the parent sends afterwards from the application's page; ``missing_papers`` lists them."""
    key = str(submission_key or "").strip()[:64]
    if not key:
        _refuse(None, _("The form has expired: open it again."))
    earlier = Application.objects.filter(submission_key=key).first()
    if earlier is not None:
        if earlier.applicant_id != user.pk:
            _refuse(None, _("The form has expired: open it again."))
        return earlier, False
    child_name = " ".join(str(child_name or "").split())
    errors = {}
    if grade not in GRADE_LEVELS:
        errors["grade"] = _("Choose grade 1 or grade 6.")
    elif school is None or not school.active or school.level not in GRADE_LEVELS[grade]:
        errors["school"] = _("This school does not take applications for this grade.")
    if year is None or year.pk not in {y.pk for y in open_years()}:
        errors["year"] = _("Applications are taken for the current or the next school year only.")
    if len(child_name) < 2:
        errors["child_name"] = _("Write the child's full name.")
    if child_sex not in ("male", "female"):
        errors["child_sex"] = _("Choose the child's sex.")
    phone = normalize_mobile(applicant_phone or "")
    if not phone:
        errors["applicant_phone"] = _("Write a mobile phone number of 10 digits starting with 0.")
    if not " ".join(str(applicant_name or "").split()):
        errors["applicant_name"] = _("Write your full name.")
    previous_school = " ".join(str(previous_school or "").split())[:200]
    if grade == 6 and not previous_school:
        errors["previous_school"] = _("Write the primary school the child completed.")
    if errors:
        raise ValidationError(errors)
    check_age(grade, child_birth_date, year)
    checked = check_papers(list(papers or []), grade=grade, required=not (papers_later and not papers))
    residence = find_residence(school, child_name, child_birth_date, phone)
    try:
        with transaction.atomic():
            _lock("child", school.pk, year.pk, fold(child_name), child_birth_date.isoformat())
            if Application.objects.filter(submission_key=key).exists():
                raise IntegrityError("submission key")
            if duplicate_of(school, year, child_name, child_birth_date, residence.resident) is not None:
                _refuse("child_name", _("An application for this child to this school for the school year %(year)s "
                                        "has already been sent.") % {"year": year.name}, code="duplicate")
            number = sequences.next_number(f"education.applications.{year.pk}")
            application = Application.objects.create(
                code=reference(year, number), school=school, year=year, grade=grade, child_name=child_name[:150],
                child_birth_date=child_birth_date, child_sex=child_sex, resident=residence.resident,
                household=residence.household, village=residence.village, in_catchment=residence.in_catchment,
                previous_school=previous_school, applicant=user,
                applicant_name=" ".join(applicant_name.split())[:150], applicant_phone=phone,
                applicant_email=(applicant_email or "").strip()[:254], submission_key=key)
            _store_papers(application, checked)
            notify(application, "submitted")
    except IntegrityError:
        earlier = Application.objects.filter(submission_key=key, applicant_id=user.pk).first()
        if earlier is not None:
            return earlier, False
        _refuse(None, _("The application could not be saved. Try again."))
    return application, True


# --- the citizen's changes --------------------------------------------------------------------------

def mine(user):
    return Application.objects.filter(applicant_id=user.pk).select_related("school", "year")


def _locked(application) -> Application:
    return Application.objects.select_for_update().select_related("school", "year").get(pk=application.pk)


def withdraw(user, application) -> Application:
    with transaction.atomic():
        app = _locked(application)
        if app.applicant_id != user.pk:
            raise PermissionDenied
        if app.state not in WITHDRAWABLE:
            _refuse(None, _("This application can no longer be withdrawn."), code="state")
        app.state = S.WITHDRAWN
        app.save(update_fields=["state"])
    return app


def missing_papers(application) -> list[str]:
    """The required papers the application has not got (sent without papers, through the API)."""
    kinds = set(application.documents.values_list("kind", flat=True))
    wanted = [BIRTH_CERTIFICATE] + ([PRIMARY_COMPLETION] if application.grade == 6 else [])
    return [kind for kind in wanted if kind not in kinds]


def send_papers(user, application, papers: list) -> list[ApplicationDocument]:
    """The parent sends papers while the application waits for the school's decision: those the
    school asked for, or those missing."""
    with transaction.atomic():
        app = _locked(application)
        if app.applicant_id != user.pk:
            raise PermissionDenied
        if app.state not in OPEN_STATES:
            _refuse(None, _("The school has decided: papers can no longer be sent."), code="state")
        if not papers:
            _refuse("documents", _("Choose at least one file."))
        checked = check_papers(papers, grade=app.grade, existing=app.documents.count(), required=False)
        rows = _store_papers(app, checked)
        # A line of the history (the state stays): "papers: name.pdf, …" (``PAPERS_REASON``)
        app._change_reason = (PAPERS_REASON + ", ".join(row.name for row in rows))[:100]
        app.save(update_fields=["state"])
    return rows


# --- the school's decisions ----------------------------------------------------------------------------

def _staff_change(user, application, allowed, state, *, note=None) -> Application:
    app = _locked(application)
    if not permissions.can(user, "applications.decide", app.school):
        raise PermissionDenied
    if app.state not in allowed:
        _refuse(None, _("This application is “%(state)s”: this cannot be done now.")
                % {"state": state_label(app.state)}, code="state")
    app.state = state
    if note is not None:
        app.decision_note = note
    app.decided_at = timezone.now()
    app.decided_by = user
    return app


def start_checking(user, application) -> Application:
    with transaction.atomic():
        app = _staff_change(user, application, (S.SUBMITTED, S.NEEDS_PAPERS), S.CHECKING)
        app.save(update_fields=["state", "decided_at", "decided_by"])
        notify(app, "checking", user=user)
    return app


def _note(note: str, field: str, message: str) -> str:
    note = str(note or "").strip()
    if not note:
        _refuse(field, message)
    if len(note) > 1000:
        _refuse(field, _("At most 1000 characters."))
    return note


def ask_papers(user, application, note: str) -> Application:
    note = _note(note, "note", _("Write which papers are needed."))
    with transaction.atomic():
        app = _staff_change(user, application, (S.SUBMITTED, S.CHECKING, S.NEEDS_PAPERS), S.NEEDS_PAPERS, note=note)
        app.save(update_fields=["state", "decision_note", "decided_at", "decided_by"])
        notify(app, "needs_papers", user=user)
    return app


def refuse(user, application, reason: str) -> Application:
    reason = _note(reason, "note", _("Write the reason for the refusal."))
    with transaction.atomic():
        app = _staff_change(user, application, OPEN_STATES, S.REFUSED, note=reason)
        app.save(update_fields=["state", "decision_note", "decided_at", "decided_by"])
        notify(app, "refused", user=user)
    return app


def classes_for(application):
    return SchoolClass.objects.filter(school_id=application.school_id, year_id=application.year_id,
                                      grade=application.grade).order_by("name")


def admit(user, application, *, school_class: SchoolClass | None = None, note: str = "") -> Application:
    """Admit the child: a ``Student`` when the child is in the registry and, with a class chosen,
    an ``Enrolment`` in it (the applicant is added as a guardian, so that the parent's pages show
    the child)."""
    note = str(note or "").strip()[:1000]
    with transaction.atomic():
        app = _staff_change(user, application, OPEN_STATES, S.ACCEPTED, note=note)
        if school_class is not None:
            if (school_class.school_id != app.school_id or school_class.year_id != app.year_id
                    or school_class.grade != app.grade):
                _refuse("school_class", _("Choose a class of grade %(grade)d of this school in the school year "
                                          "%(year)s.") % {"grade": app.grade, "year": app.year.name})
            if app.resident_id is None:
                _refuse("school_class", _("The child is not in the commune's registry: admit without a class, and "
                                          "place the child in a class once registered."))
        if app.resident_id is not None:
            student, _created = Student.objects.get_or_create(resident_id=app.resident_id)
            if not student.guardians.filter(phone=app.applicant_phone).exists():
                Guardian.objects.create(student=student, full_name=app.applicant_name,
                                        relation=Guardian.Relation.OTHER, phone=app.applicant_phone,
                                        email=app.applicant_email)
            if school_class is not None:
                if Enrolment.objects.filter(student=student, year=app.year, status=Enrolment.Status.ACTIVE).exists():
                    _refuse("school_class", _("This child already studies in a class this school year."))
                last = (Enrolment.objects.filter(school_class=school_class).order_by("-number")
                        .values_list("number", flat=True).first()) or 0
                app.enrolment = Enrolment.objects.create(
                    student=student, school_class=school_class, year=app.year, number=last + 1,
                    entry=Enrolment.Entry.NEW, starts_on=max(app.year.starts_on, timezone.localdate()))
        app.save(update_fields=["state", "decision_note", "decided_at", "decided_by", "enrolment"])
        notify(app, "accepted", user=user)
    return app


# --- the school's lists -------------------------------------------------------------------------------

def for_school(school, *, state: str = "", grade: str = "", catchment: str = "", query: str = ""):
    queryset = Application.objects.filter(school=school).select_related("village", "year")
    if state in S.values:
        queryset = queryset.filter(state=state)
    elif state == "open":
        queryset = queryset.filter(state__in=OPEN_STATES)
    if str(grade) in ("1", "6"):
        queryset = queryset.filter(grade=int(grade))
    if catchment == "in":
        queryset = queryset.filter(in_catchment=True)
    elif catchment == "out":
        queryset = queryset.filter(in_catchment=False)
    words = fold(query or "")[:100].split()
    if words:
        ids = [pk for pk, child, code, parent in queryset.values_list("pk", "child_name", "code", "applicant_name")
               if all(w in fold(f"{child} {code} {parent}") for w in words)]
        queryset = queryset.filter(pk__in=ids)
    return queryset.order_by("-submitted_at")


def counts(school) -> dict:
    from django.db.models import Count

    rows = Application.objects.filter(school=school).values("state").annotate(n=Count("pk"))
    return {row["state"]: row["n"] for row in rows}


def unchecked(school):
    return Application.objects.filter(school=school, state=S.SUBMITTED)


def overdue(school):
    from workcalendar.services import add_working_days

    today = timezone.localdate()
    ids = [a.pk for a in unchecked(school).only("pk", "submitted_at")
           if add_working_days(timezone.localdate(a.submitted_at), CHECK_WORKING_DAYS) < today]
    return Application.objects.filter(pk__in=ids)


def papers_received(school):
    newer = ApplicationDocument.objects.filter(application=OuterRef("pk"), uploaded_at__gt=OuterRef("decided_at"))
    return Application.objects.filter(school=school, state=S.NEEDS_PAPERS).filter(Exists(newer))


def inbox_lines(request, user, roles) -> list:
    from django.urls import reverse

    from communes.modules import InboxLine, Severity

    if permissions.SCHOOL_STAFF not in roles:
        return []
    lines = []
    for school in permissions.schools_for(user).order_by("name"):
        if not permissions.can(user, "applications.decide", school):
            continue
        name = school.short_name or school.name
        url = reverse("education:applications_school", args=[school.pk])
        late = overdue(school).count()
        waiting = unchecked(school).count()
        if waiting:
            lines.append(InboxLine(f"education.applications.unchecked.{school.pk}",
                                   _("Enrolment applications not yet checked (%(school)s)") % {"school": name},
                                   waiting, url + "?state=submitted",
                                   Severity.OVERDUE if late else Severity.DUE_SOON))
        papers = papers_received(school).count()
        if papers:
            lines.append(InboxLine(f"education.applications.papers.{school.pk}",
                                   _("Enrolment applications with the papers asked for received (%(school)s)")
                                   % {"school": name}, papers, url + "?state=needs_papers&papers=1",
                                   Severity.DUE_SOON))
    return lines


# --- telling the parent -------------------------------------------------------------------------------

def citizen_url(application) -> str:
    from core.links import commune_base_url

    return f"{commune_base_url()}/school-enrolment/applications/{int(application.pk)}/"


def compose(application, event: str) -> tuple[str, str]:
    values = {"code": application.code, "child": application.child_name,
              "school": application.school.short_name or application.school.name,
              "note": " ".join(application.decision_note.split())[:200], "url": citizen_url(application)}
    if event == "submitted":
        subject = _("Enrolment application %(code)s received") % values
        text = _("%(school)s received the enrolment application %(code)s for %(child)s.") % values
    elif event == "checking":
        subject = _("Enrolment application %(code)s: being checked") % values
        text = _("%(school)s is checking the enrolment application %(code)s for %(child)s.") % values
    elif event == "needs_papers":
        subject = _("Enrolment application %(code)s: papers needed") % values
        text = _("%(school)s asks for papers for application %(code)s: %(note)s") % values
    elif event == "accepted":
        subject = _("Enrolment application %(code)s: admitted") % values
        text = _("%(child)s is admitted to %(school)s (application %(code)s).") % values
    elif event == "refused":
        subject = _("Enrolment application %(code)s: not admitted") % values
        text = _("%(school)s did not admit %(child)s (application %(code)s). Reason: %(note)s") % values
    else:
        raise ValueError(event)
    return subject, text + " " + _("Details: %(url)s") % values


def notify(application, event: str, *, user=None) -> list:
    """The parent's SMS and e-mail of ``event`` (jobs sent once the transaction commits). An
    address the gateway would refuse is logged and skipped: the change stands."""
    from notifications.models import Channel
    from notifications.services import MAX_SMS_LENGTH, create_notification

    with translation.override(settings.LANGUAGE_CODE):
        subject, text = compose(application, event)
    made = []
    targets = [(Channel.SMS, application.applicant_phone, text[:MAX_SMS_LENGTH])]
    if application.applicant_email:
        targets.append((Channel.EMAIL, application.applicant_email, text))
    for channel, recipient, message in targets:
        if not recipient:
            continue
        try:
            made.append(create_notification(channel=channel, message=message, recipients=[recipient],
                                            subject=subject if channel == Channel.EMAIL else "",
                                            user=user if getattr(user, "is_authenticated", False) else None))
        except ValidationError as error:
            logger.warning("Application %s: %s not sent: %s", application.pk, channel, error)
    return made
