"""The station's follow-up programmes: the services that write them (one transaction each) and the
selectors that read them.

* Hypertension and diabetes (quản lý tăng huyết áp, đái tháo đường): ``add_reading`` (blood
  pressure or blood glucose), ``chronic_rows`` (the people under follow-up, their last reading
  and who is overdue for a check: not seen for ``OVERDUE_DAYS`` days).
  The target lines drawn on a person's chart: blood pressure below 140/90 mmHg, after the
  Ministry of Health's guideline on hypertension (Decision 3192/QĐ-BYT of 31/08/2010, "Hướng dẫn
  chẩn đoán và điều trị tăng huyết áp", for every clinic in the country; hypertension from 140/90
  mmHg at the clinic); fasting plasma glucose 7.0 mmol/l, the diagnostic threshold of the
  Ministry of Health's guideline on type 2 diabetes (Decision 5481/QĐ-BYT of 30/12/2020, "Hướng
  dẫn chẩn đoán và điều trị đái tháo đường típ 2": fasting plasma glucose ≥ 7 mmol/l). Not
  confirmed against the guidelines' own text: the treatment targets' exact wording (140/90 mmHg
  for most patients in 3192; a fasting target range around 4.4–7.2 mmol/l in 5481), so the lines
  are drawn at the two thresholds above.
* Antenatal care (quản lý thai nghén): ``register_pregnancy`` (the expected delivery date by
  Naegele's rule, last period + 280 days, or typed from an ultrasound), ``add_antenatal_visit``
  (khám thai), ``end_pregnancy``; ``pregnancies_under_care``, ``deliveries_expected``,
  ``weeks_of_pregnancy``.
* Children under 5 (theo dõi tăng trưởng trẻ dưới 5 tuổi): ``record_growth`` computes the WHO
  z-scores and flags (``health.growth``) and stores them on the measurement;
  ``growth_overview``.

Refusals are ``ValidationError``s with a code and a field, so that the pages and the API say the
same thing in Vietnamese and nothing is half-written.
"""
from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max, OuterRef, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from core.text import clean_text
from health import growth
from health.models import AntenatalVisit, ChronicCondition, GrowthMeasurement, HealthRecord, Pregnancy, Reading

OVERDUE_DAYS = 30
PROGRAMMES = (ChronicCondition.Programme.HYPERTENSION, ChronicCondition.Programme.DIABETES)

SYSTOLIC = (60, 260)
DIASTOLIC = (30, 160)
GLUCOSE = (Decimal("1.0"), Decimal("40.0"))
BP_TARGET = (140, 90)
GLUCOSE_TARGET = Decimal("7.0")

PREGNANCY_AGE = (10, 55)
PREGNANCY_DAYS = 280
MAX_PREGNANCY_DAYS = 44 * 7  # a last period further back than 44 weeks is not this pregnancy
MOTHER_WEIGHT = (Decimal("25"), Decimal("200"))
FUNDAL_HEIGHT = (5, 50)
TETANUS_DOSES = (1, 5)

CHILD_WEIGHT = (Decimal("1"), Decimal("40"))
CHILD_HEIGHT = (Decimal("40"), Decimal("130"))


def today() -> datetime.date:
    return timezone.localdate()


def _add(errors: dict, field_name: str, message, code: str) -> None:
    errors.setdefault(field_name, []).append(ValidationError(message, code=code))


def _raise(errors: dict) -> None:
    if errors:
        raise ValidationError(errors)


def _decimal(value, field_name: str, errors: dict) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        number = Decimal(str(value).replace(",", "."))
    except (InvalidOperation, ValueError):
        _add(errors, field_name, _("Enter a number."), "invalid")
        return None
    if not number.is_finite():
        _add(errors, field_name, _("Enter a number."), "invalid")
        return None
    return number


def _check_day(day, *, birth: datetime.date, errors: dict, field_name: str, not_before=None,
               not_before_message=None) -> None:
    if day is None:
        _add(errors, field_name, _("Enter the date."), "required")
        return
    if day > today():
        _add(errors, field_name, _("The date cannot be in the future."), "future_date")
    elif day < birth:
        _add(errors, field_name, _("The date cannot be before the person's birth date."), "before_birth")
    elif not_before is not None and day < not_before:
        _add(errors, field_name, not_before_message, "too_early")


def _check_blood_pressure(systolic, diastolic, errors: dict, *, required: bool = False) -> None:
    if systolic is None and diastolic is None:
        if required:
            _add(errors, "systolic", _("Enter the blood pressure."), "required")
        return
    if systolic is None or diastolic is None:
        _add(errors, "systolic" if systolic is None else "diastolic",
             _("Enter both the systolic and the diastolic pressure."), "incomplete")
        return
    if not SYSTOLIC[0] <= systolic <= SYSTOLIC[1]:
        _add(errors, "systolic", _("The systolic pressure must be between %(low)s and %(high)s mmHg.")
             % {"low": SYSTOLIC[0], "high": SYSTOLIC[1]}, "out_of_range")
    if not DIASTOLIC[0] <= diastolic <= DIASTOLIC[1]:
        _add(errors, "diastolic", _("The diastolic pressure must be between %(low)s and %(high)s mmHg.")
             % {"low": DIASTOLIC[0], "high": DIASTOLIC[1]}, "out_of_range")
    if "systolic" not in errors and "diastolic" not in errors and systolic <= diastolic:
        _add(errors, "diastolic", _("The diastolic pressure must be lower than the systolic pressure."),
             "out_of_range")


# --- hypertension and diabetes --------------------------------------------------------------------

@transaction.atomic
def add_reading(record: HealthRecord, *, taken_on, systolic=None, diastolic=None, glucose_mmol=None,
                fasting=None, note: str = "", user=None) -> Reading:
    """A blood pressure reading (both pressures), a glucose reading, or both, taken on a day
    between the person's birth and today."""
    errors: dict = {}
    _check_day(taken_on, birth=record.resident.birth_date, errors=errors, field_name="taken_on")
    _check_blood_pressure(systolic, diastolic, errors)
    glucose = _decimal(glucose_mmol, "glucose_mmol", errors)
    if glucose is not None and not GLUCOSE[0] <= glucose <= GLUCOSE[1]:
        _add(errors, "glucose_mmol", _("The blood glucose must be between 1,0 and 40,0 mmol/l."), "out_of_range")
    if systolic is None and diastolic is None and glucose is None and "glucose_mmol" not in errors:
        _add(errors, "systolic", _("Enter a blood pressure or a blood glucose."), "required")
    if glucose is None and fasting is not None:
        fasting = None
    _raise(errors)
    reading = Reading(record=record, taken_on=taken_on, systolic=systolic, diastolic=diastolic,
                      glucose_mmol=glucose.quantize(Decimal("0.1")) if glucose is not None else None,
                      fasting=fasting, note=clean_text(note)[:300],
                      staff=user if getattr(user, "pk", None) else None)
    reading.save()
    return reading


def programmes_of(record: HealthRecord) -> list[str]:
    """The programmes the record is followed in (its active conditions)."""
    return sorted(set(record.conditions.filter(active=True, programme__in=PROGRAMMES)
                      .values_list("programme", flat=True)))


@dataclass
class ChronicRow:
    record: HealthRecord
    programme: str
    programme_label: str
    conditions: list[str]
    last_reading: Reading | None
    overdue: bool
    days_since: int | None


def chronic_rows(*, village_id=None, programme: str = "", on: datetime.date | None = None) -> list[ChronicRow]:
    """The people with an active hypertension or diabetes condition, one row per programme, with
    their last reading of that programme (blood pressure or glucose) and whether they are overdue:
    not checked for ``OVERDUE_DAYS`` days (or never)."""
    on = on or today()
    conditions = (ChronicCondition.objects.filter(active=True, programme__in=PROGRAMMES)
                  .select_related("record__resident__household__village")
                  .order_by("record__resident__search_name", "record_id", "programme"))
    if village_id:
        conditions = conditions.filter(record__resident__household__village_id=village_id)
    if programme:
        conditions = conditions.filter(programme=programme)
    grouped: dict[tuple[int, str], dict] = {}
    for condition in conditions:
        key = (condition.record_id, condition.programme)
        entry = grouped.setdefault(key, {"record": condition.record, "codes": []})
        entry["codes"].append(condition.icd10)
    record_ids = {record_id for record_id, _p in grouped}
    last: dict[tuple[int, str], Reading] = {}
    readings = Reading.objects.filter(record_id__in=record_ids, taken_on__lte=on).order_by("record_id", "taken_on", "pk")
    for reading in readings:
        if reading.systolic is not None:
            last[(reading.record_id, ChronicCondition.Programme.HYPERTENSION)] = reading
        if reading.glucose_mmol is not None:
            last[(reading.record_id, ChronicCondition.Programme.DIABETES)] = reading
    labels = dict(ChronicCondition.Programme.choices)
    rows = []
    for (record_id, prog), entry in grouped.items():
        reading = last.get((record_id, prog))
        days = (on - reading.taken_on).days if reading else None
        rows.append(ChronicRow(record=entry["record"], programme=prog, programme_label=str(labels[prog]),
                               conditions=entry["codes"], last_reading=reading,
                               overdue=reading is None or days >= OVERDUE_DAYS, days_since=days))
    return rows


def overdue_count(on: datetime.date | None = None) -> int:
    """The people (not rows) under follow-up who are overdue for a check in some programme."""
    return len({row.record.pk for row in chronic_rows(on=on) if row.overdue})


# --- antenatal care -------------------------------------------------------------------------------

def naegele(last_period: datetime.date) -> datetime.date:
    return Pregnancy.naegele(last_period)


def conception_start(pregnancy: Pregnancy) -> datetime.date:
    """The first day of the last period, or the day an ultrasound's date implies."""
    return pregnancy.last_period or pregnancy.expected_delivery - datetime.timedelta(days=PREGNANCY_DAYS)


def weeks_of_pregnancy(pregnancy: Pregnancy, on: datetime.date | None = None) -> tuple[int, int]:
    """(weeks, days) of amenorrhoea on ``on``, counted from the last period (or from the expected
    delivery date less 280 days when only an ultrasound's date is known)."""
    on = on or today()
    days = max(0, (on - conception_start(pregnancy)).days)
    return days // 7, days % 7


def age_on(birth: datetime.date, on: datetime.date) -> int:
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def ongoing(record: HealthRecord) -> Pregnancy | None:
    return record.pregnancies.filter(outcome="").first()


@transaction.atomic
def register_pregnancy(record: HealthRecord, *, registered_on, last_period=None, expected_delivery=None,
                       gravida: int = 1, para: int = 0, risk_notes: str = "") -> Pregnancy:
    """A pregnancy of a female resident aged 10 to 55: the expected delivery date is typed (from an
    ultrasound) or computed by Naegele's rule from the last period. One ongoing pregnancy per
    record (the database's constraint holds it even when two officers save at once)."""
    resident = record.resident
    errors: dict = {}
    if resident.sex != "female":
        _add(errors, "__all__", _("A pregnancy can only be registered for a woman."), "not_female")
    _check_day(registered_on, birth=resident.birth_date, errors=errors, field_name="registered_on")
    if registered_on is not None and "registered_on" not in errors and resident.sex == "female":
        age = age_on(resident.birth_date, registered_on)
        if not PREGNANCY_AGE[0] <= age <= PREGNANCY_AGE[1]:
            _add(errors, "__all__", _("A pregnancy is registered for a woman aged %(low)s to %(high)s; she is %(age)s.")
                 % {"low": PREGNANCY_AGE[0], "high": PREGNANCY_AGE[1], "age": age}, "age")
    if last_period is None and expected_delivery is None:
        _add(errors, "last_period", _("Enter the first day of the last period or the expected delivery date "
                                      "from an ultrasound."), "required")
    if last_period is not None:
        if last_period > today():
            _add(errors, "last_period", _("The date cannot be in the future."), "future_date")
        elif last_period < resident.birth_date:
            _add(errors, "last_period", _("The date cannot be before the person's birth date."), "before_birth")
        elif registered_on is not None and last_period > registered_on:
            _add(errors, "last_period", _("The last period cannot be after the registration date."), "after_registration")
        elif registered_on is not None and (registered_on - last_period).days > MAX_PREGNANCY_DAYS:
            _add(errors, "last_period", _("The last period is more than 44 weeks before the registration: check "
                                          "the date."), "too_early")
    if expected_delivery is None and last_period is not None and "last_period" not in errors:
        expected_delivery = naegele(last_period)
    # Date arithmetic only on a registration date already found sound (a date typed as 9999 would
    # overflow it).
    if expected_delivery is not None and registered_on is not None and "registered_on" not in errors:
        if expected_delivery < registered_on - datetime.timedelta(days=MAX_PREGNANCY_DAYS - PREGNANCY_DAYS):
            _add(errors, "expected_delivery", _("The expected delivery date is already past: check the date."),
                 "past_delivery")
        elif expected_delivery > registered_on + datetime.timedelta(days=PREGNANCY_DAYS + 14):
            _add(errors, "expected_delivery", _("The expected delivery date is more than 42 weeks away: check the "
                                                "date."), "too_late")
        elif last_period is not None and expected_delivery <= last_period:
            _add(errors, "expected_delivery", _("The expected delivery date must be after the last period."),
                 "invalid")
    if gravida is None or not 1 <= gravida <= 20:
        _add(errors, "gravida", _("Enter a number from 1 to 20."), "out_of_range")
    if para is None or not 0 <= para <= 20:
        _add(errors, "para", _("Enter a number from 0 to 20."), "out_of_range")
    elif gravida is not None and para >= gravida:
        _add(errors, "para", _("The births so far must be fewer than the pregnancies (this one included)."),
             "out_of_range")
    if not errors and ongoing(record) is not None:
        _add(errors, "__all__", _("This person already has an ongoing pregnancy: end it before registering a new "
                                  "one."), "ongoing")
    _raise(errors)
    pregnancy = Pregnancy(record=record, last_period=last_period, expected_delivery=expected_delivery,
                          gravida=gravida, para=para, risk_notes=clean_text(risk_notes)[:300],
                          registered_on=registered_on)
    try:
        with transaction.atomic():
            pregnancy.save()
    except IntegrityError as exc:
        if "health_one_ongoing_pregnancy" in str(exc):
            raise ValidationError(_("This person already has an ongoing pregnancy: end it before registering a new "
                                    "one."), code="ongoing") from exc
        raise
    return pregnancy


@transaction.atomic
def add_antenatal_visit(pregnancy: Pregnancy, *, visited_on, weight_kg=None, systolic=None, diastolic=None,
                        fundal_height_cm=None, tetanus_dose=None, notes: str = "", user=None) -> AntenatalVisit:
    """An antenatal check (khám thai) of an ongoing pregnancy, dated between the registration and
    today."""
    pregnancy = Pregnancy.objects.select_for_update().select_related("record__resident").get(pk=pregnancy.pk)
    errors: dict = {}
    if pregnancy.outcome:
        _add(errors, "__all__", _("This pregnancy has ended: no more antenatal visits."), "ended")
    _check_day(visited_on, birth=pregnancy.record.resident.birth_date, errors=errors, field_name="visited_on",
               not_before=pregnancy.registered_on,
               not_before_message=_("The visit cannot be before the pregnancy's registration (%(date)s).")
               % {"date": pregnancy.registered_on.strftime("%d/%m/%Y")})
    weight = _decimal(weight_kg, "weight_kg", errors)
    if weight is not None and not MOTHER_WEIGHT[0] <= weight <= MOTHER_WEIGHT[1]:
        _add(errors, "weight_kg", _("The weight must be between 25 and 200 kg."), "out_of_range")
    _check_blood_pressure(systolic, diastolic, errors)
    if fundal_height_cm is not None and not FUNDAL_HEIGHT[0] <= fundal_height_cm <= FUNDAL_HEIGHT[1]:
        _add(errors, "fundal_height_cm", _("The fundal height must be between 5 and 50 cm."), "out_of_range")
    if tetanus_dose is not None and not TETANUS_DOSES[0] <= tetanus_dose <= TETANUS_DOSES[1]:
        _add(errors, "tetanus_dose", _("The tetanus dose must be between 1 and 5."), "out_of_range")
    _raise(errors)
    visit = AntenatalVisit(pregnancy=pregnancy, visited_on=visited_on,
                           weight_kg=weight.quantize(Decimal("0.01")) if weight is not None else None,
                           systolic=systolic, diastolic=diastolic, fundal_height_cm=fundal_height_cm,
                           tetanus_dose=tetanus_dose, notes=clean_text(notes),
                           staff=user if getattr(user, "pk", None) else None)
    visit.save()
    return visit


@transaction.atomic
def end_pregnancy(pregnancy: Pregnancy, *, outcome: str, ended_on, children: int = 0) -> Pregnancy:
    """The end of a pregnancy: its outcome, its date (between the registration and today) and the
    children born alive (at least one for a live birth, none otherwise)."""
    pregnancy = Pregnancy.objects.select_for_update().select_related("record__resident").get(pk=pregnancy.pk)
    errors: dict = {}
    if pregnancy.outcome:
        _add(errors, "__all__", _("This pregnancy has already ended."), "ended")
    valid = {value for value, _label in Pregnancy.Outcome.choices if value}
    if outcome not in valid:
        _add(errors, "outcome", _("Choose the outcome."), "required")
    _check_day(ended_on, birth=pregnancy.record.resident.birth_date, errors=errors, field_name="ended_on",
               not_before=max(pregnancy.registered_on, pregnancy.last_period or pregnancy.registered_on),
               not_before_message=_("The end cannot be before the pregnancy's registration."))
    last_visit = pregnancy.antenatal_visits.aggregate(last=Max("visited_on"))["last"]
    if ended_on is not None and last_visit is not None and ended_on < last_visit and "ended_on" not in errors:
        _add(errors, "ended_on", _("The end cannot be before the last antenatal visit (%(date)s).")
             % {"date": last_visit.strftime("%d/%m/%Y")}, "too_early")
    if children is None or not 0 <= children <= 6:
        _add(errors, "children", _("Enter a number from 0 to 6."), "out_of_range")
    elif outcome == Pregnancy.Outcome.LIVE_BIRTH and children < 1:
        _add(errors, "children", _("A live birth has at least one child born alive."), "out_of_range")
    elif outcome in valid and outcome != Pregnancy.Outcome.LIVE_BIRTH and children:
        _add(errors, "children", _("Only a live birth has children born alive."), "out_of_range")
    _raise(errors)
    pregnancy.outcome = outcome
    pregnancy.ended_on = ended_on
    pregnancy.children = children
    pregnancy.save(update_fields=["outcome", "ended_on", "children"])
    return pregnancy


def pregnancies_under_care(*, village_id=None):
    qs = (Pregnancy.objects.filter(outcome="").select_related("record__resident__household__village")
          .order_by("expected_delivery", "pk"))
    if village_id:
        qs = qs.filter(record__resident__household__village_id=village_id)
    return qs


def deliveries_expected(start: datetime.date, end: datetime.date, *, village_id=None):
    """Ongoing pregnancies expected to deliver between ``start`` and ``end`` (both included)."""
    return pregnancies_under_care(village_id=village_id).filter(expected_delivery__gte=start,
                                                                expected_delivery__lte=end)


def month_bounds(on: datetime.date) -> tuple[datetime.date, datetime.date]:
    first = on.replace(day=1)
    following = (first + datetime.timedelta(days=32)).replace(day=1)
    return first, following - datetime.timedelta(days=1)


# --- children under 5 -----------------------------------------------------------------------------

@transaction.atomic
def record_growth(record: HealthRecord, *, measured_on, weight_kg, height_cm=None, position: str | None = None,
                  user=None) -> GrowthMeasurement:
    """A child's weight and length or height, with the WHO z-scores and flags of that day
    (``health.growth``). The child is under 60 months on the day; one measurement a day."""
    resident = record.resident
    errors: dict = {}
    _check_day(measured_on, birth=resident.birth_date, errors=errors, field_name="measured_on")
    if measured_on is not None and "measured_on" not in errors and not growth.is_under_five(resident.birth_date,
                                                                                             measured_on):
        _add(errors, "measured_on", _("Growth is followed for children under 5 (under 60 months on the day "
                                      "measured)."), "not_under_five")
    weight = _decimal(weight_kg, "weight_kg", errors)
    if weight is None and "weight_kg" not in errors:
        _add(errors, "weight_kg", _("Enter the weight."), "required")
    elif weight is not None and not CHILD_WEIGHT[0] <= weight <= CHILD_WEIGHT[1]:
        _add(errors, "weight_kg", _("The weight must be between 1 and 40 kg."), "out_of_range")
    height = _decimal(height_cm, "height_cm", errors)
    if height is not None and not CHILD_HEIGHT[0] <= height <= CHILD_HEIGHT[1]:
        _add(errors, "height_cm", _("The length or height must be between 40 and 130 cm."), "out_of_range")
    if position not in (None, "", growth.LYING, growth.STANDING):
        _add(errors, "position", _("Choose how the child was measured."), "invalid")
    if not errors and record.growth.filter(measured_on=measured_on).exists():
        _add(errors, "measured_on", _("This child was already measured on that day."), "duplicate")
    _raise(errors)
    result = growth.assess(sex=resident.sex, birth=resident.birth_date, on=measured_on, weight_kg=weight,
                           height_cm=height, position=position or None)
    implausible = result.implausible()
    if implausible:
        field_name = "height_cm" if implausible == ["lhfa"] else "weight_kg"
        raise ValidationError({field_name: [ValidationError(
            _("These measures are far outside the WHO standards for the child's age: check the weight, the "
              "length or height and the birth date."), code="implausible")]})
    stored_height = Decimal(str(round(result.height_cm, 1))) if result.height_cm is not None else None
    measurement = GrowthMeasurement(
        record=record, measured_on=measured_on, weight_kg=weight.quantize(Decimal("0.01")), height_cm=stored_height,
        weight_for_age_z=growth.to_decimal(result.weight_for_age),
        height_for_age_z=growth.to_decimal(result.height_for_age),
        weight_for_height_z=growth.to_decimal(result.weight_for_height),
        underweight=result.underweight, stunted=result.stunted, wasted=result.wasted,
        staff=user if getattr(user, "pk", None) else None,
    )
    try:
        with transaction.atomic():
            measurement.save()
    except IntegrityError as exc:
        if "health_growth_once_a_day" in str(exc):
            raise ValidationError({"measured_on": [ValidationError(
                _("This child was already measured on that day."), code="duplicate")]}) from exc
        raise
    return measurement


@dataclass
class GrowthOverview:
    latest: list = field(default_factory=list)  # the last measurement of each child under 5 today
    malnourished: list = field(default_factory=list)
    underweight: int = 0
    stunted: int = 0
    wasted: int = 0


def growth_overview(*, village_id=None, on: datetime.date | None = None) -> GrowthOverview:
    """The children under 5 today who were measured, by their last measurement, and those
    malnourished at it (underweight, stunted or wasted)."""
    on = on or today()
    try:
        fifth_birthday_today = on.replace(year=on.year - 5)
    except ValueError:  # 29 February
        fifth_birthday_today = on.replace(year=on.year - 5, day=28)
    oldest_birth = fifth_birthday_today  # born on that day or before: 5 years old today
    last_day = (GrowthMeasurement.objects.filter(record=OuterRef("record")).order_by("-measured_on", "-pk")
                .values("pk")[:1])
    qs = (GrowthMeasurement.objects.filter(pk=Subquery(last_day),
                                           record__resident__birth_date__gt=oldest_birth, measured_on__lte=on)
          .select_related("record__resident__household__village")
          .order_by("record__resident__search_name", "pk"))
    if village_id:
        qs = qs.filter(record__resident__household__village_id=village_id)
    overview = GrowthOverview(latest=list(qs))
    for measurement in overview.latest:
        if measurement.underweight or measurement.stunted or measurement.wasted:
            overview.malnourished.append(measurement)
        overview.underweight += measurement.underweight
        overview.stunted += measurement.stunted
        overview.wasted += measurement.wasted
    return overview
