"""Demo vaccinations: for the demo's children under 6 with a health record, the doses of the
schedule given on the station's monthly vaccination days over the past year and before, most on
time, some a month or two late, a few missing. Doses go through the schedule's checks
(``health.vaccination.check_dose``), so the demo never holds a dose the register would refuse.
A commune whose children already have doses is left alone (the seed can run again)."""
from __future__ import annotations

import datetime
import random

from django.utils import timezone

VACCINATION_DAY = 15  # the station's vaccination day of each month


def vaccination_day_on_or_after(day: datetime.date) -> datetime.date:
    candidate = day.replace(day=VACCINATION_DAY)
    if candidate < day:
        candidate = (day.replace(day=1) + datetime.timedelta(days=32)).replace(day=VACCINATION_DAY)
    return candidate


def doses_for(birth: datetime.date, today: datetime.date, rng: random.Random, schedule) -> list[tuple[str, int, datetime.date]]:
    from health.vaccination import check_dose, earliest_on, recommended_on

    given: dict[tuple[str, int], datetime.date] = {}
    out = []
    for vaccine in schedule.vaccines:
        for dose in vaccine.doses:
            roll = rng.random()
            if roll < 0.06:  # missing: this vaccine stops here
                break
            start = max(recommended_on(dose, birth, given), earliest_on(dose, birth, given))
            if vaccine.code == "VGB_SS":
                day = birth
            elif dose.age.number == 0:  # BCG: the first vaccination day after birth
                day = vaccination_day_on_or_after(birth)
            else:
                day = vaccination_day_on_or_after(start)
                if roll > 0.85:  # late by one or two months
                    day = vaccination_day_on_or_after(day + datetime.timedelta(days=rng.choice((20, 50))))
            if day > today:
                break
            try:
                check_dose(birth=birth, given=given, vaccine=vaccine.code, dose=dose.number, given_on=day,
                           today=today, schedule=schedule)
            except Exception:  # outside the dose's ages: not given
                break
            given[dose.key] = day
            out.append((vaccine.code, dose.number, day))
    return out


def seed(context) -> None:
    from django_tenants.utils import tenant_context

    from health.models import HealthRecord, Vaccination
    from health.schedule import add_months, get_schedule

    schedule = get_schedule()
    today = timezone.localdate()
    for _spec, commune in context.communes:
        with tenant_context(commune):
            if Vaccination.objects.exists():
                continue
            rng = random.Random(f"vaccination-{commune.schema_name}")
            records = HealthRecord.objects.filter(resident__birth_date__gt=add_months(today, -72)).select_related(
                "resident").order_by("pk")
            rows = []
            for record in records:
                for code, number, day in doses_for(record.resident.birth_date, today, rng, schedule):
                    rows.append(Vaccination(record=record, vaccine=code, dose=number, given_on=day,
                                            lot_number=f"L{day:%y%m}", place="" if code != "VGB_SS" else "Nơi sinh"))
            Vaccination.objects.bulk_create(rows, batch_size=1000)
            context.out(f"  {commune.name}: {len(rows)} vaccination doses for {records.count()} children under 6")
