"""Personal health records: the services that write them (one transaction each) and the selectors
that read them.

* ``save_record``: create or update a resident's record (one per resident: a second one is
  refused with a clear message, also when two officers save at the same moment);
* ``add_condition`` / ``close_condition``: a chronic condition coded in ICD-10;
* ``delete_record``: deletion on the person's request (Decree 13/2023/NĐ-CP), refused while the
  medical record must be kept (see ``deletion_refusal``);
* ``link_by_id`` / ``link_by_station``: a citizen account allowed to read a resident's record;
* ``records_for`` (the staff's list and search), ``residents_without_record``, ``coverage``.

Refusals are ``ValidationError``s with a code, so that the pages and the API say the same thing.
"""
from __future__ import annotations

import datetime
import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from core.text import clean_text, fold
from health import icd10
from health.models import ChronicCondition, CitizenLink, HealthRecord, Visit
from population.models import Resident, Village

# Medical records of outpatient visits are kept at least ten years: the Law on Medical Examination
# and Treatment (Luật Khám bệnh, chữa bệnh) No. 15/2023/QH15 sets that medical records are kept,
# and Circular 32/2023/TT-BYT, which details it, sets the periods. The ten years are those the
# earlier rules set for outpatient records; the exact article and period of the 2023 texts could
# not be confirmed against their published text. The station counts ten years from the last visit
# before it erases a record at the person's request (Decree 13/2023/NĐ-CP on personal data).
RETENTION_YEARS = 10

# The health insurance card's code (mã thẻ BHYT): two letters of the beneficiary group, one digit
# of the benefit level (1–5), two digits of the province, then the ten-digit social insurance
# number (mã số BHXH). Cards issued since 2021 may print the ten-digit number alone.
INSURANCE_RE = re.compile(r"^[A-Z]{2}[1-5][0-9]{12}$")
INSURANCE_SHORT_RE = re.compile(r"^[0-9]{10}$")

TEXT_FIELDS = ("birth_notes", "exposures", "latrine", "other_risks", "disabilities", "allergy_drugs",
               "allergy_chemicals", "allergy_food", "allergy_other", "personal_history", "family_history",
               "insurance_clinic", "occupation", "note")


def today() -> datetime.date:
    return timezone.localdate()


def normalize_insurance(value) -> str:
    return re.sub(r"[\s.\-]", "", str(value or "")).upper()


def check_record(data: dict, *, resident=None) -> list[tuple[str, str]]:
    """The checks that tie a record's fields together or to the resident: (field, message)."""
    problems = []
    now = today()
    opened = data.get("opened_on")
    if opened:
        if opened > now:
            problems.append(("opened_on", _("The record cannot be opened on a date in the future.")))
        elif resident is not None and opened < resident.birth_date:
            problems.append(("opened_on", _("The record cannot be opened before the resident's birth date.")))
    number = normalize_insurance(data.get("insurance_number"))
    if number and not (INSURANCE_RE.match(number) or INSURANCE_SHORT_RE.match(number)):
        problems.append(("insurance_number", _(
            "A health insurance card number has 15 characters: 2 letters, the benefit level 1–5 and 12 digits "
            "(e.g. GD4151234567890), or the 10-digit social insurance number.")))
    start, end = data.get("insurance_valid_from"), data.get("insurance_valid_until")
    if start and end and end < start:
        problems.append(("insurance_valid_until", _("The card's end of validity comes before its start.")))
    return problems


def _prepare(record: HealthRecord) -> None:
    for name in TEXT_FIELDS:
        setattr(record, name, clean_text(getattr(record, name)))
    record.insurance_number = normalize_insurance(record.insurance_number)


def duplicate_error() -> ValidationError:
    return ValidationError({"resident": [ValidationError(_("This resident already has a health record."),
                                                         code="duplicate")]})


@transaction.atomic
def save_record(record: HealthRecord) -> HealthRecord:
    """Create or update ``record`` after every check (a duplicate is refused, code "duplicate")."""
    _prepare(record)
    if record.pk is None and HealthRecord.objects.filter(resident_id=record.resident_id).exists():
        raise duplicate_error()
    errors: dict[str, list] = {}
    try:
        record.full_clean(exclude=["resident"], validate_unique=False)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    resident = Resident.objects.get(pk=record.resident_id)
    for field, message in check_record(vars(record), resident=resident):
        errors.setdefault(field, []).append(message)
    if errors:
        raise ValidationError(errors, code="invalid")
    try:
        with transaction.atomic():
            record.save()
    except IntegrityError as exc:  # another officer created it a moment ago
        raise duplicate_error() from exc
    return record


def check_condition(record: HealthRecord, code: str, diagnosed_on: datetime.date | None) -> dict[str, str]:
    errors = {}
    if not icd10.lookup(code):
        errors["icd10"] = _("The ICD-10 code %(code)s is not known.") % {"code": clean_text(code)[:10]}
    if diagnosed_on is None:
        errors["diagnosed_on"] = _("Enter the date of the diagnosis.")
    elif diagnosed_on > today():
        errors["diagnosed_on"] = _("The diagnosis cannot be dated in the future.")
    elif diagnosed_on < record.resident.birth_date:
        errors["diagnosed_on"] = _("The diagnosis cannot be dated before the resident's birth date.")
    return errors


@transaction.atomic
def add_condition(record: HealthRecord, *, icd10_code: str, diagnosed_on, programme: str = "",
                  note: str = "") -> ChronicCondition:
    errors = check_condition(record, icd10_code, diagnosed_on)
    if programme not in ChronicCondition.Programme.values:
        errors["programme"] = _("Choose a programme of the list.")
    code = icd10.normalize(icd10_code)
    if not errors and record.conditions.filter(icd10=code).exists():
        errors["icd10"] = _("This condition is already in the record.")
    if errors:
        raise ValidationError(errors, code="invalid")
    return ChronicCondition.objects.create(record=record, icd10=code, diagnosed_on=diagnosed_on,
                                           programme=programme, note=clean_text(note)[:300])


@transaction.atomic
def close_condition(condition: ChronicCondition) -> ChronicCondition:
    ChronicCondition.objects.filter(pk=condition.pk).update(active=False)
    condition.active = False
    return condition


def conditions_of(record: HealthRecord) -> list[ChronicCondition]:
    """The record's conditions, each with ``title`` (the ICD-10 title in Vietnamese)."""
    found = list(record.conditions.all())
    for condition in found:
        code = icd10.lookup(condition.icd10)
        condition.title = code.title_vi if code else ""
    return found


# --- deletion on the person's request ----------------------------------------------------------

def retention_limit(on: datetime.date | None = None) -> datetime.datetime:
    on = on or today()
    try:
        start = on.replace(year=on.year - RETENTION_YEARS)
    except ValueError:  # 29 February
        start = on.replace(year=on.year - RETENTION_YEARS, day=28)
    return timezone.make_aware(datetime.datetime.combine(start, datetime.time()))


def deletion_refusal(record: HealthRecord) -> str:
    """Why ``record`` must be kept, or "" when it may be deleted."""
    last = record.visits.order_by("-visited_at").values_list("visited_at", flat=True).first()
    if last and last >= retention_limit():
        kept_until = timezone.localtime(last).date()
        kept_until = kept_until.replace(year=kept_until.year + RETENTION_YEARS) if not (
            kept_until.month == 2 and kept_until.day == 29) else kept_until.replace(
            year=kept_until.year + RETENTION_YEARS, day=28)
        return _(
            "The record cannot be deleted: its last visit was on %(visit)s, and medical records of visits are "
            "kept at least %(years)s years (Law on Medical Examination and Treatment 15/2023/QH15, Circular "
            "32/2023/TT-BYT). It may be deleted from %(date)s."
        ) % {"visit": timezone.localtime(last).strftime("%d/%m/%Y"), "years": RETENTION_YEARS,
             "date": kept_until.strftime("%d/%m/%Y")}
    return ""


@transaction.atomic
def delete_record(record: HealthRecord) -> None:
    """Delete the record and every row of it (visits, doses, pregnancies, readings, growth,
    conditions), or refuse (code "retention") while it must be kept."""
    record = HealthRecord.objects.select_for_update().get(pk=record.pk)
    reason = deletion_refusal(record)
    if reason:
        raise ValidationError(reason, code="retention")
    from health.models import Pregnancy, Vaccination

    Visit.objects.filter(record=record).delete()
    Vaccination.objects.filter(record=record).delete()
    Pregnancy.objects.filter(record=record).delete()
    record.delete()


# --- citizen links -------------------------------------------------------------------------------

LINK_SCOPE = "health.link"
LINK_RATE = "5/15min"


def link_mismatch() -> ValidationError:
    return ValidationError(_("These details do not match a resident of the commune's registry. Check the personal "
                             "ID number and the birth date on your ID card."), code="mismatch")


@transaction.atomic
def link_by_id(user, personal_id: str, birth_date: datetime.date) -> CitizenLink:
    """Link ``user`` to the resident with this ID number and birth date; one message for every
    mismatch (an unknown number, a wrong date), so that nobody learns whether a number exists."""
    number = re.sub(r"\s", "", str(personal_id or ""))
    resident = None
    if re.fullmatch(r"[0-9]{12}", number) and birth_date:
        resident = Resident.objects.filter(personal_id=number, birth_date=birth_date).first()
    if resident is None:
        raise link_mismatch()
    link, _created = CitizenLink.objects.get_or_create(
        user_id=user.pk, resident=resident, defaults={"method": CitizenLink.Method.ID_AND_BIRTH_DATE})
    return link


def find_account(text: str):
    """A citizen account by its user name or its phone number."""
    from django.contrib.auth import get_user_model
    from population.validators import normalize_phone

    text = clean_text(text).strip()
    if not text:
        return None
    users = get_user_model().objects.filter(is_active=True)
    found = users.filter(username=text).first()
    if found is None:
        try:
            phone = normalize_phone(text)
        except Exception:  # not a phone number
            phone = ""
        if phone:
            found = users.filter(phone=phone).first()
    return found


@transaction.atomic
def link_by_station(record: HealthRecord, account_text: str, staff) -> CitizenLink:
    user = find_account(account_text)
    if user is None:
        raise ValidationError({"account": [_("No active account has this user name or phone number.")]},
                              code="not_found")
    link, created = CitizenLink.objects.get_or_create(
        user_id=user.pk, resident_id=record.resident_id,
        defaults={"method": CitizenLink.Method.STATION, "linked_by_id": staff.pk})
    if not created:
        raise ValidationError({"account": [_("This account is already linked to this resident.")]},
                              code="duplicate")
    return link


# --- selectors -----------------------------------------------------------------------------------

def records_for(*, query: str = "", village_id=None):
    """The staff's list: by accent-free name or household code, and village."""
    records = HealthRecord.objects.select_related("resident", "resident__household", "resident__household__village")
    if village_id:
        records = records.filter(resident__household__village_id=village_id)
    query = clean_text(query).strip()
    if query:
        folded = fold(query)
        records = records.filter(Q(resident__search_name__contains=folded)
                                 | Q(resident__household__code__iexact=query))
    return records.order_by("resident__search_name", "pk")


def residents_without_record(*, query: str = "", village_id=None):
    has = HealthRecord.objects.filter(resident_id=OuterRef("pk"))
    residents = Resident.objects.select_related("household", "household__village").filter(~Exists(has))
    if village_id:
        residents = residents.filter(household__village_id=village_id)
    query = clean_text(query).strip()
    if query:
        residents = residents.filter(Q(search_name__contains=fold(query)) | Q(household__code__iexact=query))
    return residents.order_by("search_name", "birth_date", "pk")


def percent(part: int, whole: int) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


@dataclass
class CoverageLine:
    name: str
    residents: int
    with_record: int
    village_id: int | None = None

    @property
    def percent(self) -> Decimal | None:
        return percent(self.with_record, self.residents)

    @property
    def without_record(self) -> int:
        return self.residents - self.with_record


def coverage() -> tuple[list[CoverageLine], CoverageLine]:
    """Residents with a record / residents, per village (in the village's order) and for the
    commune; counted in one query."""
    rows = Village.objects.annotate(
        n_residents=Count("households__members", distinct=True),
        n_records=Count("households__members__health_record", distinct=True),
    ).values_list("pk", "name", "n_residents", "n_records")
    lines = [CoverageLine(name, residents, records, pk) for pk, name, residents, records in rows]
    total = CoverageLine(_("The commune"), sum(x.residents for x in lines), sum(x.with_record for x in lines))
    return lines, total


def coverage_workbook(commune_name: str) -> bytes:
    from core import xlsx

    lines, total = coverage()
    workbook = xlsx.new_workbook()
    sheet = workbook.active
    sheet.title = pgettext("health records", "Coverage")[:31]
    xlsx.append(sheet, [commune_name])
    xlsx.append(sheet, [_("Coverage of personal health records").upper()])
    xlsx.append(sheet, [_("On"), today()])
    xlsx.append(sheet, [])
    xlsx.append(sheet, [_("Village"), _("Residents"), _("With a record"), _("Coverage (%)")])
    for line in [*lines, total]:
        value = line.percent
        xlsx.append(sheet, [str(line.name), line.residents, line.with_record,
                            float(value) if value is not None else None], number_formats={3: "0.00"})
    return xlsx.save(workbook)


# --- the inbox ---------------------------------------------------------------------------------------

def inbox_lines(request, user, roles) -> list:
    """For health staff: imports checked and waiting for the officer's choice, and the residents
    of the registry without a record (the list filtered to them)."""
    from django.urls import reverse

    from communes.modules import InboxLine, Severity
    from health.models import RecordImport
    from health.permissions import HEALTH_STAFF

    if HEALTH_STAFF not in roles:
        return []
    waiting = RecordImport.objects.filter(state=RecordImport.State.CHECKED).count()
    return [
        InboxLine("health.record_imports", _("Imports of health records checked and waiting for your choice"),
                  waiting, reverse("health:record_import"), Severity.DUE_SOON),
        InboxLine("health.without_record", _("Residents of the registry without a health record"),
                  residents_without_record().count(), f"{reverse('health:records')}?without_record=1"),
    ]
