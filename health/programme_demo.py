"""The programmes' demo data (for seed_demo), in each demo commune's schema, on the records the
records' demo opened:

* hypertension (I10) and diabetes (E11): the conditions the records' demo coded, or, where it
  coded none, a few people over 45 put under follow-up here; a year of monthly readings each
  (drawn around realistic values, a few people left unchecked for over a month);
* antenatal care: a few women aged 20–38 with an ongoing pregnancy (one due this month) and their
  antenatal visits;
* growth: each child under 5 with a record measured once in the last two months, the measures
  drawn so that a realistic few are stunted, underweight or wasted.

Everything goes through ``health.programmes`` (the same checks as the pages). Deterministic (a
seeded generator) and idempotent: a commune with readings already is left as it is.
"""
from __future__ import annotations

import datetime
import random

from django.core.exceptions import ValidationError
from django_tenants.utils import tenant_context

from health import growth, programmes
from health.models import ChronicCondition, HealthRecord, Reading

FOLLOW_UP_CODES = {"I10": ChronicCondition.Programme.HYPERTENSION, "E11": ChronicCondition.Programme.DIABETES}


def _age(birth: datetime.date, on: datetime.date) -> int:
    return programmes.age_on(birth, on)


def _conditions(records: list, today: datetime.date, rng: random.Random) -> list:
    found = list(ChronicCondition.objects.filter(icd10__in=list(FOLLOW_UP_CODES), active=True))
    for condition in found:
        if not condition.programme:
            condition.programme = FOLLOW_UP_CODES[condition.icd10]
            condition.save(update_fields=["programme"])
    if found:
        return found
    older = [r for r in records if _age(r.resident.birth_date, today) >= 45]
    rng.shuffle(older)
    made = []
    for index, record in enumerate(older[:24]):
        code = "E11" if index % 4 == 0 else "I10"
        made.append(ChronicCondition.objects.create(
            record=record, icd10=code, programme=FOLLOW_UP_CODES[code], active=True,
            diagnosed_on=today - datetime.timedelta(days=rng.randint(400, 3000))))
    return made


def _readings(conditions: list, today: datetime.date, rng: random.Random) -> int:
    count = 0
    by_record: dict[int, set] = {}
    for condition in conditions:
        by_record.setdefault(condition.record_id, set()).add(condition.programme)
    records = {r.pk: r for r in HealthRecord.objects.filter(pk__in=by_record).select_related("resident")}
    for record_id, kinds in sorted(by_record.items()):
        record = records[record_id]
        lapsed = rng.random() < 0.2  # not seen for over a month
        base_systolic, base_glucose = rng.randint(132, 165), rng.uniform(6.5, 9.5)
        for month in range(12, 0 if not lapsed else 1, -1):
            day = today - datetime.timedelta(days=30 * month + rng.randint(-5, 5) - (0 if lapsed else 25))
            if day > today or day < record.resident.birth_date:
                continue
            systolic = diastolic = glucose = None
            if ChronicCondition.Programme.HYPERTENSION in kinds:
                systolic = max(95, min(220, int(rng.gauss(base_systolic - (12 - month), 8))))
                diastolic = max(60, min(systolic - 20, int(systolic * rng.uniform(0.58, 0.66))))
            if ChronicCondition.Programme.DIABETES in kinds:
                glucose = round(max(4.0, min(20.0, rng.gauss(base_glucose - 0.1 * (12 - month), 0.8))), 1)
            programmes.add_reading(record, taken_on=day, systolic=systolic, diastolic=diastolic,
                                   glucose_mmol=glucose, fasting=True if glucose is not None else None)
            count += 1
    return count


def _pregnancies(records: list, today: datetime.date, rng: random.Random) -> int:
    women = [r for r in records if r.resident.sex == "female" and 20 <= _age(r.resident.birth_date, today) <= 38
             and programmes.ongoing(r) is None]
    rng.shuffle(women)
    made = 0
    first, last = programmes.month_bounds(today)
    for index, record in enumerate(women[:5]):
        if index == 0:  # one due this month
            expected = first + datetime.timedelta(days=min(20, (last - first).days))
            last_period = expected - datetime.timedelta(days=280)
        else:
            last_period = today - datetime.timedelta(days=rng.randint(60, 230))
            expected = None
        registered = min(today, last_period + datetime.timedelta(days=rng.randint(42, 70)))
        pregnancy = programmes.register_pregnancy(
            record, registered_on=registered, last_period=last_period, expected_delivery=expected,
            gravida=1 + index % 3, para=index % 3)
        day, weight = registered, rng.uniform(45, 55)
        while day <= today:
            weeks = (day - last_period).days // 7
            programmes.add_antenatal_visit(
                pregnancy, visited_on=day, weight_kg=round(weight + 0.4 * max(0, weeks - 12), 1),
                systolic=rng.randint(100, 125), diastolic=rng.randint(60, 80),
                fundal_height_cm=weeks if 20 <= weeks <= 42 else None,
                tetanus_dose=1 if day == registered else (2 if weeks < 30 and rng.random() < 0.3 else None))
            day += datetime.timedelta(days=rng.randint(35, 50))
        made += 1
    return made


def _growth(records: list, today: datetime.date, rng: random.Random) -> int:
    made = 0
    for record in records:
        resident = record.resident
        on = today - datetime.timedelta(days=rng.randint(3, 60))
        if on < resident.birth_date + datetime.timedelta(days=14) or not growth.is_under_five(resident.birth_date, on):
            continue
        months = growth.age_in_months(resident.birth_date, on)
        sex = "boys" if resident.sex == "male" else "girls"
        # A mountain commune: length or height drawn around −1 SD (about one child in six
        # stunted), then the weight for that length around −0.3 SD (a few wasted).
        height_lms = growth.lms_at(f"{'lfa' if months < 24 else 'hfa'}_{sex}", months)
        height = height_lms.value_at(rng.gauss(-1.0, 1.0))
        for_height = growth.lms_at(f"{'wfl' if months < 24 else 'wfh'}_{sex}", round(height, 1))
        if for_height is not None:
            weight = for_height.value_at(rng.gauss(-0.3, 0.8))
        else:
            weight = growth.lms_at(f"wfa_{sex}", months).value_at(rng.gauss(-0.8, 0.8))
        try:
            programmes.record_growth(record, measured_on=on, weight_kg=round(weight, 1),
                                     height_cm=round(height, 1) if height >= 45 else None)
        except ValidationError:  # a draw the WHO's limits call implausible: that child is left unweighed
            continue
        made += 1
    return made


def populate(commune) -> dict | None:
    with tenant_context(commune):
        if Reading.objects.exists():
            return None
        records = list(HealthRecord.objects.select_related("resident").order_by("pk"))
        if not records:
            return None
        today = programmes.today()
        rng = random.Random(f"programmes-{commune.schema_name}")
        conditions = _conditions(records, today, rng)
        return {"readings": _readings(conditions, today, rng), "people": len({c.record_id for c in conditions}),
                "pregnancies": _pregnancies(records, today, rng), "children": _growth(records, today, rng)}


def seed(context) -> None:
    for _spec, commune in context.communes:
        made = populate(commune)
        if made:
            context.out(f"  {commune}: {made['people']} people followed for hypertension or diabetes "
                        f"({made['readings']} readings), {made['pregnancies']} pregnancies, "
                        f"{made['children']} children weighed")
