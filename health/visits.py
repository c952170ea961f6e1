"""Visits to the station (lượt khám): the rules of writing one, and the reads of the pages and the
API.

A visit is written whole or not at all (one transaction): its date and time, reason, examination
notes, vital signs (each within its sane range, ``health.vitals``), its ICD-10 diagnoses (known
codes, exactly one main), its prescription lines (a drug of ``health.drugs`` or a medicine written
out), treatment, referral upward (where to and why, both required when referred) and how it is
paid (health insurance needs a card valid on the visit's day: ``HealthRecord.insurance_valid_until``).

Every refusal is a ``ValidationError`` whose messages are keyed by the field they belong to, in
Vietnamese once translated, so that the page shows each next to what was typed and the API
returns them in its error body. A visit may be corrected on its own day only (the day's register
is closed at midnight): ``edit_refusal`` says why not otherwise.
"""
from __future__ import annotations

import datetime
import re
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from core.text import clean_text
from health import drugs, icd10, vitals
from health.models import HealthRecord, Payment, Prescription, Visit, VisitDiagnosis

MAX_DIAGNOSES = 10
MAX_LINES = 20
# A clock a minute or two fast on the desk's computer is not a visit "in the future".
FUTURE_TOLERANCE = datetime.timedelta(minutes=5)
# Dates outside these years are typing slips (and beyond what the database's instants hold).
EARLIEST_YEAR, LATEST_YEAR = 1900, 2200


@dataclass
class DiagnosisLine:
    code: str
    primary: bool = False


@dataclass
class PrescriptionLine:
    drug_code: str = ""
    text: str = ""
    dose: str = ""
    days: int | None = None
    quantity: int | None = None


@dataclass
class VisitData:
    """What a visit is written from, whoever typed it (the desk's form, the API)."""

    record: HealthRecord | None
    visited_at: datetime.datetime | None
    reason: str = ""
    examination: str = ""
    vitals: dict = field(default_factory=dict)  # {field of health.vitals: Decimal or int or None}
    diagnoses: list[DiagnosisLine] = field(default_factory=list)
    prescriptions: list[PrescriptionLine] = field(default_factory=list)
    treatment: str = ""
    referred: bool = False
    referred_to: str = ""
    referral_reason: str = ""
    payment: str = Payment.INSURANCE


def local_date(moment: datetime.datetime) -> datetime.date:
    return timezone.localtime(moment).date()


def age_years(birth: datetime.date, day: datetime.date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def age_text(birth: datetime.date, day: datetime.date) -> str:
    """'3 tháng tuổi' for a baby, '67 tuổi' otherwise (after translation)."""
    years = age_years(birth, day)
    if years >= 2:
        return _("%(years)s years old") % {"years": years}
    months = (day.year - birth.year) * 12 + day.month - birth.month - (day.day < birth.day)
    if months >= 1:
        return _("%(months)s months old") % {"months": max(months, 0)}
    return _("%(days)s days old") % {"days": max((day - birth).days, 0)}


def insurance_valid(record: HealthRecord, day: datetime.date) -> bool:
    """A card number, valid from (when known) and until (required) around ``day``."""
    return bool(record.insurance_number and record.insurance_valid_until and record.insurance_valid_until >= day
                and (record.insurance_valid_from is None or record.insurance_valid_from <= day))


def _add(errors: dict, key: str, message: str, code: str) -> None:
    errors.setdefault(key, []).append(ValidationError(message, code=code))


def check(data: VisitData, *, now: datetime.datetime | None = None) -> VisitData:
    """The cleaned data, or a ValidationError {field: [messages]} naming every problem at once."""
    now = now or timezone.now()
    errors: dict[str, list] = {}
    data.reason = clean_text(data.reason)[:300]
    data.examination = str(data.examination or "").strip()
    data.treatment = str(data.treatment or "").strip()
    data.referred_to = clean_text(data.referred_to)[:200]
    data.referral_reason = clean_text(data.referral_reason)[:300]
    record = data.record
    if record is None:
        _add(errors, "record", _("Choose the resident's health record."), "record_required")
    if not data.reason:
        _add(errors, "reason", _("Give the reason for the visit."), "reason_required")
    moment = data.visited_at
    if moment is None:
        _add(errors, "visited_at", _("Enter the date and time of the visit."), "date_required")
    else:
        try:
            if timezone.is_naive(moment):
                moment = data.visited_at = timezone.make_aware(moment)
            local = timezone.localtime(moment)
            if not (EARLIEST_YEAR <= local.year <= LATEST_YEAR):
                raise OverflowError
        except (OverflowError, ValueError):
            local = None
            _add(errors, "visited_at", _("Enter a real date of the visit."), "date_invalid")
        if local is not None and moment > now + FUTURE_TOLERANCE:
            _add(errors, "visited_at", _("The visit cannot be in the future (%(when)s).") % {
                "when": local.strftime("%H:%M %d/%m/%Y")}, "visit_in_future")
        elif local is not None and record is not None and local.date() < record.resident.birth_date:
            _add(errors, "visited_at", _("The visit (%(visit)s) cannot be before the resident's birth (%(birth)s).") % {
                "visit": local.strftime("%d/%m/%Y"),
                "birth": record.resident.birth_date.strftime("%d/%m/%Y")}, "visit_before_birth")
        if local is None:
            moment = None
    for key, message in vitals.check(data.vitals).items():
        _add(errors, key, message, "vital_out_of_range")
    for key in vitals.FIELDS:
        value = data.vitals.get(key)
        if value is not None and key in vitals.DECIMALS:
            data.vitals[key] = Decimal(value).quantize(Decimal(1).scaleb(-vitals.DECIMALS[key]))
    _check_diagnoses(data, errors)
    _check_prescriptions(data, errors)
    if data.referred:
        if not data.referred_to:
            _add(errors, "referred_to", _("Say where the patient is referred to."), "referral_place_required")
        if not data.referral_reason:
            _add(errors, "referral_reason", _("Give the reason for the referral."), "referral_reason_required")
    else:
        data.referred_to = data.referral_reason = ""
    if data.payment not in Payment.values:
        _add(errors, "payment", _("Choose how the visit is paid."), "payment_invalid")
    elif data.payment == Payment.INSURANCE and record is not None and moment is not None and "visited_at" not in errors:
        day = local_date(moment)
        if not insurance_valid(record, day):
            if not record.insurance_number or not record.insurance_valid_until:
                message = _("The record has no health insurance card: record the card first, or choose "
                            "another way of paying.")
            else:
                message = _("The health insurance card is not valid on %(day)s (valid until %(until)s): choose "
                            "another way of paying, or update the card on the record.") % {
                    "day": day.strftime("%d/%m/%Y"), "until": record.insurance_valid_until.strftime("%d/%m/%Y")}
            _add(errors, "payment", message, "insurance_not_valid")
    if errors:
        raise ValidationError(errors)
    return data


def _check_diagnoses(data: VisitData, errors: dict) -> None:
    lines = [DiagnosisLine(icd10.normalize(line.code), bool(line.primary)) for line in data.diagnoses
             if str(line.code or "").strip()]
    seen: set[str] = set()
    kept = []
    for line in lines:
        if len(line.code) > 8 or not icd10.is_known(line.code):
            _add(errors, "diagnoses", _("Unknown ICD-10 code: %(code)s.") % {"code": line.code[:12]}, "unknown_icd10")
        elif line.code in seen:
            _add(errors, "diagnoses", _("The code %(code)s is given twice.") % {"code": line.code}, "duplicate_icd10")
        else:
            seen.add(line.code)
            kept.append(line)
    if len(lines) > MAX_DIAGNOSES:
        _add(errors, "diagnoses", _("At most %(n)s diagnoses.") % {"n": MAX_DIAGNOSES}, "too_many_diagnoses")
    if lines:
        mains = sum(1 for line in lines if line.primary)
        if mains > 1:
            _add(errors, "diagnoses", _("Only one diagnosis can be the main one."), "several_main_diagnoses")
        elif mains == 0 and len(lines) == 1:
            kept[0:1] = [DiagnosisLine(kept[0].code, True)] if kept else []
        elif mains == 0:
            _add(errors, "diagnoses", _("Mark which diagnosis is the main one."), "main_diagnosis_required")
    data.diagnoses = kept


def _check_prescriptions(data: VisitData, errors: dict) -> None:
    kept = []
    for number, line in enumerate(data.prescriptions, start=1):
        code = str(line.drug_code or "").strip().upper()
        text = clean_text(line.text)[:200]
        dose = clean_text(line.dose)[:200]
        if not (code or text or dose or line.days or line.quantity):
            continue  # an empty row of the form
        problems = []
        drug = drugs.lookup(code) if code else None
        if code and drug is None:
            problems.append(_("the drug %(code)s is not in the list") % {"code": code[:20]})
        if not code and not text:
            problems.append(_("choose a drug of the list or write the medicine"))
        for name, value, high in (("days", line.days, 365), ("quantity", line.quantity, 10000)):
            if value is not None and not (1 <= value <= high):
                label = _("days") if name == "days" else _("quantity")
                problems.append(_("%(what)s must be between 1 and %(high)s") % {"what": label, "high": high})
        if problems:
            _add(errors, "prescriptions", _("Prescription line %(n)s: %(problems)s.") % {
                "n": number, "problems": "; ".join(problems)}, "prescription_invalid")
            continue
        kept.append(PrescriptionLine(code if drug else "", text or drug.label, dose, line.days, line.quantity))
    if len(kept) > MAX_LINES:
        _add(errors, "prescriptions", _("At most %(n)s prescription lines.") % {"n": MAX_LINES}, "too_many_lines")
    data.prescriptions = kept


def _fill(visit: Visit, data: VisitData) -> None:
    visit.record = data.record
    visit.visited_at = data.visited_at
    visit.reason = data.reason
    visit.examination = data.examination
    for key in vitals.FIELDS:
        setattr(visit, key, data.vitals.get(key))
    visit.treatment = data.treatment
    visit.referred = bool(data.referred)
    visit.referred_to = data.referred_to
    visit.referral_reason = data.referral_reason
    visit.payment = data.payment


def _write_lines(visit: Visit, data: VisitData) -> None:
    VisitDiagnosis.objects.bulk_create(
        [VisitDiagnosis(visit=visit, icd10=line.code, primary=line.primary) for line in data.diagnoses])
    Prescription.objects.bulk_create([
        Prescription(visit=visit, drug_code=line.drug_code, text=line.text, dose=line.dose, days=line.days,
                     quantity=line.quantity) for line in data.prescriptions])


@transaction.atomic
def create_visit(user, data: VisitData, *, now: datetime.datetime | None = None) -> Visit:
    """Write a visit with its diagnoses and prescription lines, all or nothing."""
    data = check(data, now=now)
    visit = Visit(staff=user if getattr(user, "pk", None) else None,
                  staff_name=(getattr(user, "full_name", "") or getattr(user, "username", "") or "")[:150])
    _fill(visit, data)
    visit.save()
    _write_lines(visit, data)
    return visit


def edit_refusal(visit: Visit, *, now: datetime.datetime | None = None) -> str | None:
    """Why the visit may not be corrected any more (None: it may): the day's register closes at
    midnight, and what was given to the patient then stays as written."""
    today = local_date(now or timezone.now())
    if local_date(visit.visited_at) != today:
        return _("A visit can be corrected on its own day only (%(day)s). Write a note in a new visit "
                 "instead.") % {"day": local_date(visit.visited_at).strftime("%d/%m/%Y")}
    return None


@transaction.atomic
def update_visit(user, visit: Visit, data: VisitData, *, now: datetime.datetime | None = None) -> Visit:
    """Correct a visit of today: its fields, and its diagnoses and prescription lines replaced."""
    visit = Visit.objects.select_for_update().get(pk=visit.pk)
    refusal = edit_refusal(visit, now=now)
    if refusal:
        raise ValidationError(refusal, code="not_editable")
    data = check(data, now=now)
    if local_date(data.visited_at) != local_date(visit.visited_at):
        raise ValidationError({"visited_at": [ValidationError(
            _("A correction keeps the visit's day (%(day)s).") % {
                "day": local_date(visit.visited_at).strftime("%d/%m/%Y")},
            code="day_changed")]})
    _fill(visit, data)
    visit.save()
    visit.diagnoses.all().delete()
    visit.prescriptions.all().delete()
    _write_lines(visit, data)
    return visit


# --- reads ---------------------------------------------------------------------------------------

def day_bounds(first: datetime.date, last: datetime.date) -> tuple[datetime.datetime, datetime.datetime]:
    """The aware instants from the local midnight of ``first`` to the midnight after ``last``."""
    start = timezone.make_aware(datetime.datetime.combine(first, datetime.time()))
    end = timezone.make_aware(datetime.datetime.combine(last + datetime.timedelta(days=1), datetime.time()))
    return start, end


def visits_between(first: datetime.date, last: datetime.date, *, payment: str = "", code: str = "",
                   referred: bool | None = None):
    """The visits of the local days ``first``..``last``, with their record's resident; ``code``
    keeps the visits with a diagnosis whose code begins so ("J06" finds J06.9)."""
    first = max(first, datetime.date(EARLIEST_YEAR, 1, 1))
    last = min(last, datetime.date(LATEST_YEAR, 12, 31))
    start, end = day_bounds(first, last)
    visits = Visit.objects.filter(visited_at__gte=start, visited_at__lt=end)
    if payment in Payment.values:
        visits = visits.filter(payment=payment)
    code = re.sub(r"[^A-Z0-9.]", "", icd10.normalize(code))[:8]
    if code:
        visits = visits.filter(diagnoses__icd10__startswith=code).distinct()
    if referred is not None:
        visits = visits.filter(referred=referred)
    return visits.select_related("record__resident").prefetch_related("diagnoses")


def counts(visits) -> dict:
    """How many visits, and by payment, and referred: one query."""
    return visits.order_by().aggregate(
        total=Count("pk", distinct=True),
        insurance=Count("pk", filter=Q(payment=Payment.INSURANCE), distinct=True),
        paid=Count("pk", filter=Q(payment=Payment.PAID), distinct=True),
        free=Count("pk", filter=Q(payment=Payment.FREE), distinct=True),
        referred=Count("pk", filter=Q(referred=True), distinct=True),
    )


def visits_of(record: HealthRecord, limit: int = 5):
    return record.visits.prefetch_related("diagnoses").order_by("-visited_at", "-pk")[:limit]


def main_code(visit: Visit) -> str:
    """The main diagnosis's code (from the prefetched diagnoses)."""
    return next((d.icd10 for d in visit.diagnoses.all() if d.primary), "")


def find_records(text: str, limit: int = 20):
    """Records whose resident's name holds the words typed, accents ignored ('lo van ong')."""
    from core.text import fold

    words = fold(text).split()[:6]
    if not words:
        return HealthRecord.objects.none()
    records = HealthRecord.objects.select_related("resident", "resident__household__village")
    for word in words:
        records = records.filter(resident__search_name__contains=word)
    return records.order_by("resident__search_name", "pk")[:limit]


# --- the inbox -----------------------------------------------------------------------------------

REFERRAL_DAYS = 7


def inbox_lines(request, user, roles) -> list:
    """For health staff: the referrals of the last 7 days to follow up (did the patient go, what
    did the hospital find), and today's visits. Counts only; each line opens the visit list
    filtered to exactly those visits."""
    from django.urls import reverse
    from django.utils.http import urlencode

    from communes.modules import InboxLine, Severity
    from health import permissions

    if not permissions.can(user, "record.read"):
        return []
    today = timezone.localdate()
    since = today - datetime.timedelta(days=REFERRAL_DAYS - 1)
    start, end = day_bounds(since, today)
    today_start, _end = day_bounds(today, today)
    figures = Visit.objects.filter(visited_at__gte=start, visited_at__lt=end).aggregate(
        referred=Count("pk", filter=Q(referred=True)), today=Count("pk", filter=Q(visited_at__gte=today_start)))
    listing = reverse("health:visits")
    referred_url = "{}?{}".format(listing, urlencode({
        "date_from": since.strftime("%d/%m/%Y"), "date_to": today.strftime("%d/%m/%Y"), "referred": "on"}))
    return [
        InboxLine("health.visits.referrals", str(_("Referrals of the last 7 days to follow up")),
                  figures["referred"], referred_url, Severity.DUE_SOON if figures["referred"] else Severity.NORMAL,
                  module="health"),
        InboxLine("health.visits.today", str(_("Visits today")), figures["today"],
                  f"{listing}?{urlencode({'day': today.strftime('%d/%m/%Y')})}", module="health"),
    ]
