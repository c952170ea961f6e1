"""The demo's personal health records: for about 83% of each demo commune's residents (Tú Lệ:
the pilots' 82.86%), with plausible blood groups (group O the most common in Việt Nam, then B,
A, AB; Rh negative rare), health insurance cards, and hypertension (I10) or type 2 diabetes
(E11.9) for some of the older residents. Written with ``bulk_create``: a few queries per commune.
"""
from __future__ import annotations

import datetime
import random

from django.db import transaction
from django_tenants.utils import tenant_context

from health.models import ChronicCondition, HealthRecord
from population.models import Resident

SHARE = {"04630": 0.8286}  # the pilots' coverage in Tú Lệ; other communes about 83%
BLOOD = [("O", 42), ("B", 30), ("A", 21), ("AB", 7)]


def _insurance(rng: random.Random, resident: Resident, province: str, today: datetime.date) -> str:
    """A card code in the 15-character layout: beneficiary group, benefit level, province, then a
    ten-digit social insurance number."""
    age = (today - resident.birth_date).days // 365
    if age < 6:
        group, level = "TE", "1"
    elif age >= 60:
        group, level = "HT", "3"
    elif resident.ethnicity != "01":
        group, level = "DT", "2"
    else:
        group, level = rng.choice([("GD", "4"), ("DN", "4"), ("HS", "4"), ("CN", "2")])
    return f"{group}{level}{province[:2]:0>2}{rng.randrange(10**9, 10**10)}"


def populate(commune, *, share: float, province: str, seed: int) -> dict | None:
    with tenant_context(commune), transaction.atomic():
        if HealthRecord.objects.exists():
            return None
        rng = random.Random(seed)
        today = datetime.date.today()
        residents = list(Resident.objects.order_by("pk"))
        if not residents:
            return None
        chosen = rng.sample(residents, round(len(residents) * share))
        groups, weights = zip(*BLOOD)
        records = []
        for resident in chosen:
            opened = max(resident.birth_date, today - datetime.timedelta(days=rng.randrange(30, 1500)))
            start = datetime.date(today.year, 1, 1)
            records.append(HealthRecord(
                resident=resident, opened_on=opened,
                blood_group=rng.choices(groups, weights)[0] if rng.random() < 0.8 else "",
                rh="-" if rng.random() < 0.003 else "+",
                insurance_number=_insurance(rng, resident, province, today) if rng.random() < 0.92 else "",
                insurance_valid_from=start, insurance_valid_until=start.replace(month=12, day=31),
                insurance_clinic="Trạm Y tế xã",
                smoking=rng.choice(["never", "never", "current", "former", ""]) if opened.year - resident.birth_date.year >= 15 else "",
            ))
        HealthRecord.objects.bulk_create(records, batch_size=1000)
        conditions = []
        for record in HealthRecord.objects.select_related("resident"):
            age = (today - record.resident.birth_date).days // 365
            if age < 45:
                continue
            since = max(record.resident.birth_date + datetime.timedelta(days=365 * 40),
                        today - datetime.timedelta(days=rng.randrange(60, 3650)))
            if rng.random() < 0.22:
                conditions.append(ChronicCondition(record=record, icd10="I10", diagnosed_on=since,
                                                   programme=ChronicCondition.Programme.HYPERTENSION))
            if rng.random() < 0.07:
                conditions.append(ChronicCondition(record=record, icd10="E11.9", diagnosed_on=since,
                                                   programme=ChronicCondition.Programme.DIABETES))
        ChronicCondition.objects.bulk_create(conditions, batch_size=1000)
        return {"records": len(records), "residents": len(residents), "conditions": len(conditions)}


def seed_demo(context) -> None:
    for spec, commune in context.communes:
        made = populate(commune, share=SHARE.get(spec.code, 0.83), province=spec.province, seed=int(spec.code) + 831)
        if made:
            pct = f"{made['records'] * 100 / made['residents']:.2f}".replace(".", ",")
            context.out(f"  {commune}: {made['records']} health records for {made['residents']} residents "
                        f"({pct} %), {made['conditions']} chronic conditions")
