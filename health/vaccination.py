"""Vaccinations of the Expanded Programme on Immunization (tiêm chủng mở rộng): a child's card,
the doses recorded, the list of children due or overdue in a month, and the SMS reminders to
their households.

The rules come from the schedule file (``health.schedule``). The card and the due list are pure
functions of (a child's birth date, the doses given, the schedule, a date), so that a list printed
for a vaccination day can be checked by hand; the selectors below only read the rows they need
and hand them over.

A dose is due in month M when

* the previous dose of the same vaccine was given (doses go in order), and this one was not;
* its recommended date (the recommended age, or the recommended interval after the reference
  dose when that comes later) falls in M, or earlier (then it is overdue);
* some day of M is on or after its earliest valid date (the minimum age, the minimum interval
  after the reference dose, and after a dose of another vaccine it must follow) and before the
  age at which the dose is no longer given.

Writes (``record_dose``, ``send_reminders``) run inside a transaction: a refused dose writes
nothing, a reminder is written once per (record, vaccine, dose, month) by the database's unique
constraint, so two officials pressing "Send" together send each SMS once.
"""
from __future__ import annotations

import calendar
import datetime
import logging
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Iterable, Mapping

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from core.text import clean_text
from health.schedule import Dose, Schedule, Span, add_months, get_schedule

logger = logging.getLogger(__name__)

Given = Mapping[tuple[str, int], datetime.date]


# --- dates of a dose ------------------------------------------------------------------------

def month_bounds(month: datetime.date) -> tuple[datetime.date, datetime.date]:
    start = month.replace(day=1)
    return start, start.replace(day=calendar.monthrange(start.year, start.month)[1])


def recommended_on(dose: Dose, birth: datetime.date, given: Given) -> datetime.date:
    day = dose.age.after(birth)
    ref = dose.reference
    if ref and dose.interval and (dose.vaccine, ref) in given:
        day = max(day, dose.interval.after(given[(dose.vaccine, ref)]))
    return day


def earliest_on(dose: Dose, birth: datetime.date, given: Given) -> datetime.date:
    """The first day on which the dose counts (minimum age and intervals)."""
    day = max(birth, dose.min_age.after(birth))
    ref = dose.reference
    if ref and (dose.vaccine, ref) in given:
        day = max(day, given[(dose.vaccine, ref)])
        if dose.min_interval:
            day = max(day, dose.min_interval.after(given[(dose.vaccine, ref)]))
    if dose.after and (dose.after.vaccine, dose.after.dose) in given:
        day = max(day, dose.after.min_interval.after(given[(dose.after.vaccine, dose.after.dose)]))
    return day


def last_on(dose: Dose, birth: datetime.date) -> datetime.date:
    """The last day on which the dose is still given."""
    return dose.before_age.after(birth) - datetime.timedelta(days=1)


def span_text(span: Span) -> str:
    n = span.number
    if span.unit == "d":
        return ngettext("%(n)d day", "%(n)d days", n) % {"n": n}
    if span.unit == "w":
        return ngettext("%(n)d week", "%(n)d weeks", n) % {"n": n}
    if span.unit == "m":
        return ngettext("%(n)d month", "%(n)d months", n) % {"n": n}
    return ngettext("%(n)d year", "%(n)d years", n) % {"n": n}


def dmy(day: datetime.date) -> str:
    return day.strftime("%d/%m/%Y")


# --- the card -------------------------------------------------------------------------------

class Status:
    ON_TIME = "on_time"
    LATE = "late"
    DUE = "due"
    OVERDUE = "overdue"
    MISSED = "missed"
    PLANNED = "planned"

    LABELS = {
        ON_TIME: gettext_lazy("Given on time"),
        LATE: gettext_lazy("Given late"),
        DUE: gettext_lazy("Due this month"),
        OVERDUE: gettext_lazy("Overdue, not given"),
        MISSED: gettext_lazy("Missing: the age limit has passed"),
        PLANNED: gettext_lazy("Planned"),
    }


@dataclass
class CardLine:
    dose: Dose
    label: str
    due_on: datetime.date
    given_on: datetime.date | None
    status: str
    vaccination: object = None

    @property
    def status_label(self) -> str:
        return str(Status.LABELS[self.status])


def card(birth: datetime.date, given: Given, schedule: Schedule, today: datetime.date) -> list[CardLine]:
    """Each dose of the schedule for a child born on ``birth``: its recommended date, the date it
    was given and its state on ``today``."""
    start, _end = month_bounds(today)
    lines = []
    for vaccine in schedule.vaccines:
        for dose in vaccine.doses:
            due_on = recommended_on(dose, birth, given)
            given_on = given.get(dose.key)
            if given_on is not None:
                late = given_on > due_on + datetime.timedelta(days=schedule.on_time_days)
                status = Status.LATE if late else Status.ON_TIME
            elif last_on(dose, birth) < today:
                status = Status.MISSED
            elif due_on > today:
                status = Status.PLANNED
            elif due_on < start:
                status = Status.OVERDUE
            else:
                status = Status.DUE
            lines.append(CardLine(dose, vaccine.dose_label(dose.number), due_on, given_on, status))
    return lines


def next_due(lines: list[CardLine]) -> CardLine | None:
    """The dose to give next: the earliest overdue or due, else the earliest planned."""
    waiting = [line for line in lines if line.status in (Status.OVERDUE, Status.DUE, Status.PLANNED)]
    return min(waiting, key=lambda line: (line.due_on, line.dose.vaccine, line.dose.number), default=None)


# --- the due list (pure) --------------------------------------------------------------------

@dataclass(frozen=True)
class Child:
    record_id: int
    name: str
    birth_date: datetime.date
    village_id: int | None = None
    village: str = ""
    household_id: int | None = None
    head: str = ""
    phone: str = ""


@dataclass(frozen=True)
class DueDose:
    vaccine: str
    dose: int
    label: str
    due_on: datetime.date
    overdue: bool


@dataclass
class DueChild:
    child: Child
    doses: list[DueDose] = field(default_factory=list)

    @property
    def overdue(self) -> bool:
        return any(d.overdue for d in self.doses)


def due_doses(birth: datetime.date, given: Given, schedule: Schedule, month: datetime.date) -> list[DueDose]:
    """The doses due (or overdue) in ``month`` for one child."""
    start, end = month_bounds(month)
    if birth > end:
        return []
    found = []
    for vaccine in schedule.vaccines:
        for dose in vaccine.doses:
            if dose.key in given:
                continue
            # Only the first dose not given can be due: the doses go in order.
            due_on = recommended_on(dose, birth, given)
            earliest = max(start, earliest_on(dose, birth, given))
            if due_on <= end and earliest <= end and earliest <= last_on(dose, birth):
                found.append(DueDose(vaccine.code, dose.number, vaccine.dose_label(dose.number), due_on, due_on < start))
            break
    return found


def due_list(children: Iterable[Child], given: Mapping[int, Given], schedule: Schedule,
             month: datetime.date) -> list[DueChild]:
    """Every child with a dose due or overdue in ``month``, in the order given."""
    result = []
    for child in children:
        doses = due_doses(child.birth_date, given.get(child.record_id, {}), schedule, month)
        if doses:
            result.append(DueChild(child, doses))
    return result


def by_village(rows: list[DueChild]) -> list[tuple[str, list[DueChild]]]:
    groups: dict[str, list[DueChild]] = defaultdict(list)
    for row in rows:
        groups[row.child.village].append(row)
    from core.text import vi_sort_key

    return [(name, groups[name]) for name in sorted(groups, key=vi_sort_key)]


# --- selectors ------------------------------------------------------------------------------

def given_for(record_ids) -> dict[int, dict[tuple[str, int], datetime.date]]:
    from health.models import Vaccination

    given: dict[int, dict] = defaultdict(dict)
    for record_id, vaccine, dose, day in Vaccination.objects.filter(record_id__in=record_ids).values_list(
            "record_id", "vaccine", "dose", "given_on"):
        given[record_id][(vaccine, dose)] = day
    return given


def children(month: datetime.date, *, village_id=None, schedule: Schedule | None = None) -> list[Child]:
    """Records of living children young enough to have a dose of the schedule in ``month``."""
    from health.models import HealthRecord

    schedule = schedule or get_schedule()
    start, end = month_bounds(month)
    span = schedule.follow_until
    if span.unit in ("m", "y"):
        oldest = add_months(start, -span.number * (12 if span.unit == "y" else 1))
    else:
        oldest = start - datetime.timedelta(days=span.number * (7 if span.unit == "w" else 1))
    queryset = (HealthRecord.objects
                .filter(resident__birth_date__gt=oldest, resident__birth_date__lte=end, resident__death__isnull=True)
                .select_related("resident__household__village", "resident__household__head")
                .order_by("resident__household__village__name", "resident__search_name", "pk"))
    if village_id:
        queryset = queryset.filter(resident__household__village_id=village_id)
    found = []
    for record in queryset:
        resident = record.resident
        household = resident.household
        head = household.head if household.head_id else None
        if head is None:
            head = next((m for m in household.members.all() if m.relation == "head"), None)
        found.append(Child(
            record_id=record.pk, name=resident.full_name, birth_date=resident.birth_date,
            village_id=household.village_id, village=household.village.name, household_id=household.pk,
            head=head.full_name if head else "", phone=household.phone or "",
        ))
    return found


def due_for_month(month: datetime.date, *, village_id=None) -> list[DueChild]:
    schedule = get_schedule()
    kids = children(month, village_id=village_id, schedule=schedule)
    return due_list(kids, given_for([c.record_id for c in kids]), schedule, month)


def record_card(record, today: datetime.date | None = None) -> list[CardLine]:
    schedule = get_schedule()
    today = today or timezone.localdate()
    rows = list(record.vaccinations.all())
    given = {(v.vaccine, v.dose): v.given_on for v in rows}
    lines = card(record.resident.birth_date, given, schedule, today)
    by_key = {(v.vaccine, v.dose): v for v in rows}
    for line in lines:
        line.vaccination = by_key.get(line.dose.key)
    return lines


# --- recording a dose -----------------------------------------------------------------------

def refusal(errors: dict, *, code: str) -> ValidationError:
    """A refusal by field that keeps its machine-readable code (the API's error body)."""
    return ValidationError({name: ValidationError(message, code=code) for name, message in errors.items()})


def check_dose(*, birth: datetime.date, given: Given, vaccine: str, dose: int, given_on: datetime.date,
               today: datetime.date, schedule: Schedule) -> None:
    """Refuse a dose that the schedule does not allow; ``ValidationError`` by field."""
    item = schedule.vaccine(vaccine)
    if item is None:
        raise refusal({"vaccine": _("Choose a vaccine of the schedule.")}, code="unknown_vaccine")
    step = item.dose(dose) if isinstance(dose, int) else None
    if step is None:
        raise refusal({"dose": _("The schedule has no dose %(dose)s of %(vaccine)s.") % {
            "dose": dose, "vaccine": item.name}}, code="unknown_dose")
    if (vaccine, dose) in given:
        raise refusal({"dose": _("Dose %(dose)d of %(vaccine)s is already recorded for this child "
                                         "(given on %(date)s).") % {
            "dose": dose, "vaccine": item.name, "date": dmy(given[(vaccine, dose)])}}, code="duplicate")
    if given_on > today:
        raise refusal({"given_on": _("The date given cannot be in the future.")}, code="future")
    if given_on < birth:
        raise refusal({"given_on": _("The date given cannot be before the child's birth (%(date)s).") % {
            "date": dmy(birth)}}, code="before_birth")
    if step.reference and (vaccine, step.number - 1) not in given:
        raise refusal({"dose": _("Record dose %(previous)d of %(vaccine)s first: the doses are recorded "
                                         "in order.") % {"previous": step.number - 1, "vaccine": item.name}},
                              code="out_of_order")
    min_day = step.min_age.after(birth)
    if given_on < min_day:
        raise refusal({"given_on": _("This dose counts only from the age of %(age)s, that is from "
                                             "%(date)s.") % {"age": span_text(step.min_age), "date": dmy(min_day)}},
                              code="before_min_age")
    last = last_on(step, birth)
    if given_on > last:
        raise refusal({"given_on": _("This dose is given only before the age of %(age)s (until %(date)s); "
                                             "given later it does not count as this dose.") % {
            "age": span_text(step.before_age), "date": dmy(last)}}, code="after_max_age")
    if step.reference:
        previous_on = given[(vaccine, step.reference)]
        if given_on < previous_on:
            raise refusal({"given_on": _("Dose %(dose)d cannot be before dose %(previous)d (given on "
                                                 "%(date)s).") % {"dose": dose, "previous": step.reference,
                                                                  "date": dmy(previous_on)}},
                                  code="before_previous")
        if step.min_interval:
            earliest = step.min_interval.after(previous_on)
            if given_on < earliest:
                raise refusal({"given_on": _(
                    "Dose %(dose)d must be at least %(interval)s after dose %(previous)d (given on %(given)s), that "
                    "is from %(date)s.") % {"dose": dose, "interval": span_text(step.min_interval),
                                            "previous": step.reference, "given": dmy(previous_on),
                                            "date": dmy(earliest)}}, code="before_min_interval")
    if step.after and (step.after.vaccine, step.after.dose) in given:
        other_on = given[(step.after.vaccine, step.after.dose)]
        earliest = step.after.min_interval.after(other_on)
        if given_on < earliest:
            raise refusal({"given_on": _(
                "This dose must be at least %(interval)s after %(other)s (given on %(given)s), that is from "
                "%(date)s.") % {"interval": span_text(step.after.min_interval),
                                "other": schedule.label(step.after.vaccine, step.after.dose),
                                "given": dmy(other_on), "date": dmy(earliest)}}, code="before_other_vaccine")


MAX_TEXT = {"lot_number": 50, "place": 200, "reaction": 300}


@transaction.atomic
def record_dose(user, record, *, vaccine: str, dose: int, given_on: datetime.date, lot_number: str = "",
                place: str = "", reaction: str = "", today: datetime.date | None = None):
    """Record a dose given to the child of ``record`` (at the station, or elsewhere with its
    place). The record's row is locked so that two doses of one child are checked one after
    the other."""
    from health.models import HealthRecord, Vaccination

    record = HealthRecord.objects.select_for_update().select_related("resident").get(pk=record.pk)
    today = today or timezone.localdate()
    texts = {"lot_number": clean_text(lot_number), "place": clean_text(place), "reaction": clean_text(reaction)}
    for key, limit in MAX_TEXT.items():
        if len(texts[key]) > limit:
            raise refusal({key: _("At most %(max)d characters.") % {"max": limit}}, code="too_long")
    given = {(v, d): day for v, d, day in record.vaccinations.values_list("vaccine", "dose", "given_on")}
    check_dose(birth=record.resident.birth_date, given=given, vaccine=vaccine, dose=dose, given_on=given_on,
               today=today, schedule=get_schedule())
    try:
        with transaction.atomic():
            return Vaccination.objects.create(
                record=record, vaccine=vaccine, dose=dose, given_on=given_on,
                staff=user if getattr(user, "is_authenticated", False) else None, **texts)
    except IntegrityError:
        schedule = get_schedule()
        raise refusal({"dose": _("Dose %(dose)d of %(vaccine)s is already recorded for this child.") % {
            "dose": dose, "vaccine": schedule.vaccine(vaccine).name}}, code="duplicate")


# --- reminders ------------------------------------------------------------------------------

@dataclass
class ReminderResult:
    households: int = 0  # SMS sent (one per household)
    doses: int = 0  # reminders written
    already: int = 0  # doses whose reminder was sent before for this month
    no_phone: int = 0  # households without a mobile phone
    notifications: list = field(default_factory=list)


def month_label(month: datetime.date) -> str:
    return month.strftime("%m/%Y")


def compose_reminder(rows: list[tuple[DueChild, list[DueDose]]], month: datetime.date) -> str:
    """The household's SMS, in the portal's language, NFC, short enough for the gateway."""
    from communes.permissions import current_commune
    from core.links import commune_base_url
    from notifications.services import MAX_SMS_LENGTH

    commune = current_commune()
    with translation.override(settings.LANGUAGE_CODE):
        parts = []
        for row, doses in rows:
            schedule = get_schedule()
            names = ", ".join(schedule.label(d.vaccine, d.dose) for d in doses)
            parts.append(f"{row.child.name}: {names}")
        text = _("Health station of %(commune)s: vaccinations due in %(month)s for %(children)s. Please bring the "
                 "child and the vaccination card to the station on the vaccination day.") % {
            "commune": commune.name if commune else "", "month": month_label(month), "children": "; ".join(parts)}
        url = commune_base_url()
        if url:
            text += " " + _("More: %(url)s") % {"url": url + "/"}
    text = clean_text(text)
    if len(text) > MAX_SMS_LENGTH:
        text = text[: MAX_SMS_LENGTH - 1].rstrip() + "…"
    return text


def send_reminders(month: datetime.date, *, user=None, village_id=None) -> ReminderResult:
    """One SMS per household for the doses due in ``month`` whose reminder was not sent yet.

    Each household's reminders and its notification job are written in one transaction; a
    reminder row another transaction wrote first (the unique constraint waits for it to commit)
    is skipped, so each dose is announced once per month, whoever clicks."""
    from core.phones import normalize_mobile
    from health.models import VaccinationReminder
    from notifications.models import Channel
    from notifications.services import create_notification

    month = month.replace(day=1)
    result = ReminderResult()
    households: dict[int, list[DueChild]] = defaultdict(list)
    for row in due_for_month(month, village_id=village_id):
        households[row.child.household_id].append(row)
    for rows in households.values():
        phone = normalize_mobile(rows[0].child.phone)
        if not phone:
            result.no_phone += 1
            continue
        try:
            with transaction.atomic():
                written: list[tuple[DueChild, list[DueDose]]] = []
                reminders = []
                for row in rows:
                    fresh = []
                    for due in row.doses:
                        try:
                            with transaction.atomic():
                                reminders.append(VaccinationReminder.objects.create(
                                    record_id=row.child.record_id, vaccine=due.vaccine, dose=due.dose, month=month,
                                    phone=phone))
                            fresh.append(due)
                        except IntegrityError:
                            result.already += 1
                    if fresh:
                        written.append((row, fresh))
                if not written:
                    continue
                notification = create_notification(
                    channel=Channel.SMS, message=compose_reminder(written, month), recipients=[phone],
                    user=user if getattr(user, "is_authenticated", False) else None)
                VaccinationReminder.objects.filter(pk__in=[r.pk for r in reminders]).update(
                    notification_id=notification.pk)
                result.households += 1
                result.doses += len(reminders)
                result.notifications.append(notification)
        except ValidationError as exc:  # the gateway would refuse the number: nothing written
            logger.warning("Vaccination reminder to household %s not sent: %s", rows[0].child.household_id, exc)
            result.no_phone += 1
    return result


def unsent_reminders(month: datetime.date) -> int:
    """Doses due in ``month`` whose household has a mobile phone and no reminder yet."""
    from core.phones import normalize_mobile
    from health.models import VaccinationReminder

    month = month.replace(day=1)
    rows = due_for_month(month)
    sent = set(VaccinationReminder.objects.filter(month=month).values_list("record_id", "vaccine", "dose"))
    return sum(1 for row in rows if normalize_mobile(row.child.phone)
               for d in row.doses if (row.child.record_id, d.vaccine, d.dose) not in sent)


def send_all_communes(month: datetime.date | None = None) -> dict:
    """The monthly beat: every commune's reminders of the month (a failing schema is logged)."""
    from django_tenants.utils import get_public_schema_name, tenant_context

    from communes.models import Commune

    totals = {"communes": 0, "households": 0, "doses": 0}
    for commune in Commune.objects.exclude(schema_name=get_public_schema_name()).order_by("pk"):
        try:
            with tenant_context(commune):
                result = send_reminders(month or timezone.localdate())
        except Exception:  # one broken schema must not stop the others
            logger.exception("Vaccination reminders in %s failed", commune.schema_name)
            continue
        totals["communes"] += 1
        totals["households"] += result.households
        totals["doses"] += result.doses
    return totals


# --- the inbox ------------------------------------------------------------------------------

def inbox_counts(today: datetime.date) -> dict:
    """{"overdue": children with an overdue dose this month, "unsent": doses due this month
    without their SMS reminder}."""
    rows = due_for_month(today)
    return {"overdue": sum(1 for row in rows if row.overdue), "unsent": unsent_reminders(today)}


def inbox_lines(request, user, roles) -> list:
    from django.urls import reverse

    from communes.modules import InboxLine, Severity
    from health import permissions

    if not permissions.can(user, "record.read"):
        return []
    counts = inbox_counts(timezone.localdate())
    url = reverse("health:vaccinations_due")
    return [
        InboxLine("health.vaccination_overdue", str(_("Children overdue for a vaccination")),
                  counts["overdue"], url + "?overdue=1", Severity.OVERDUE),
        InboxLine("health.vaccination_reminders", str(_("Vaccination reminders not yet sent for this month")),
                  counts["unsent"], url, Severity.DUE_SOON),
    ]
