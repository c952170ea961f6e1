"""Demo visits: a year of the station's visits for each demo commune whose residents have records
(Tú Lệ about 80 a month, the pilot's figure; other communes in proportion to their records).

The visits are the common ones of a mountain commune's station: colds and sore throats, coughs,
diarrhoea in small children, the monthly check of hypertension and diabetes patients, back pain,
stomach aches, small wounds from the fields, itching, antenatal checks, the check before a
vaccination; a few children with pneumonia are referred upward. Vital signs are drawn within
plausible values for the age; payment is the health insurance when the record's card is valid that
day, the patient otherwise, and free for the programmes. Written with ``bulk_create`` (a demo year
in a few queries; the history of these rows starts at their first change). Idempotent: a commune
that already has visits is left as it is.
"""
from __future__ import annotations

import datetime
import random
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django_tenants.utils import tenant_context

from communes.models import Role
from health import drugs
from health.models import HealthRecord, Payment, Prescription, Visit, VisitDiagnosis
from health.visits import age_years, insurance_valid

TULE_PER_MONTH = 80  # "~80 patient visits a month" (the Tú Lệ pilot)
DAYS = 365


@dataclass(frozen=True)
class Scenario:
    reason: str
    codes: tuple[str, ...]  # one is drawn as the main diagnosis
    lines: tuple[tuple[str, str, int, int], ...]  # (drug code, dose, days, quantity)
    ages: tuple[int, int]
    weight: int
    fever: bool = False
    pressure: tuple[int, int] = (105, 135)
    payment: str = ""  # "" = insurance when valid, else paid
    sex: str = ""
    examination: str = ""
    treatment: str = ""
    refer: float = 0.0
    referral_reason: str = "Cần điều trị nội trú, theo dõi suy hô hấp"


SCENARIOS = (
    Scenario("Sốt, ho, sổ mũi 2 ngày", ("J06.9", "J00"), (("PARA500", "1 viên x 3 lần/ngày khi sốt", 3, 9),),
             (1, 80), 16, fever=True, examination="Họng đỏ, phổi không ran.", treatment="Hạ sốt, uống nhiều nước."),
    Scenario("Đau họng, nuốt đau", ("J02.9", "J03.9"), (("AMOX500", "1 viên x 2 lần/ngày", 7, 14),
                                                        ("PARA500", "1 viên khi đau", 3, 6)),
             (5, 70), 8, fever=True, examination="Amidan sưng đỏ."),
    Scenario("Ho kéo dài, khạc đờm", ("J20.9", "J40"), (("AMOX500", "1 viên x 2 lần/ngày", 7, 14),
                                                       ("DEXTRO15", "1 viên x 2 lần/ngày", 5, 10)),
             (15, 85), 7, examination="Phổi ran ngáy hai bên."),
    Scenario("Tiêu chảy 3 lần/ngày", ("A09", "K52.9"), (("ORS", "1 gói pha 1 lít nước, uống dần", 3, 3),
                                                       ("ZINC10", "1 viên/ngày", 10, 10)),
             (0, 5), 8, examination="Không mất nước.", treatment="Bù nước, tiếp tục cho ăn."),
    Scenario("Khám tăng huyết áp định kỳ", ("I10",), (("AMLO5", "1 viên buổi sáng", 30, 30),),
             (45, 90), 12, pressure=(135, 170), treatment="Tiếp tục thuốc, ăn nhạt.", refer=0.04,
             referral_reason="Huyết áp không kiểm soát dù đã dùng thuốc"),
    Scenario("Khám đái tháo đường định kỳ", ("E11.9",), (("MET500", "1 viên x 2 lần/ngày sau ăn", 30, 60),),
             (40, 85), 5, pressure=(115, 145), treatment="Tiếp tục thuốc, chế độ ăn."),
    Scenario("Đau lưng sau khi gặt lúa", ("M54.5", "M54.4"), (("PARA500", "1 viên x 3 lần/ngày", 5, 15),),
             (25, 80), 8),
    Scenario("Đau thượng vị, ợ chua", ("K29.7", "K30", "K21.9"), (("OMEP20", "1 viên trước ăn sáng", 14, 14),
                                                                 ("ALUMAG", "1 viên nhai khi đau", 7, 14)),
             (18, 75), 6),
    Scenario("Vết thương ở tay khi làm nương", ("S61.9", "T14.1"), (("POVID10", "Sát khuẩn, thay băng hằng ngày", 5, 1),),
             (12, 70), 5, treatment="Rửa vết thương, khâu 2 mũi, tiêm phòng uốn ván.", refer=0.05,
             referral_reason="Vết thương sâu, nghi tổn thương gân"),
    Scenario("Ngứa, nổi mẩn đỏ", ("L30.9", "L50.9", "B86"), (("CHLOR4", "1 viên buổi tối", 5, 5),),
             (2, 80), 5),
    Scenario("Khám thai định kỳ", ("Z34.9", "Z34.8"), (("FEFOL", "1 viên/ngày", 30, 30),),
             (18, 40), 6, payment=Payment.FREE, sex="female", examination="Tim thai đều, phù không."),
    Scenario("Khám trước tiêm chủng", ("Z27.1", "Z24.0", "Z23.2"), (), (0, 2), 7, payment=Payment.FREE,
             examination="Đủ điều kiện tiêm chủng."),
    Scenario("Sốt cao, thở nhanh", ("J18.9", "J18.0"), (("AMOX250S", "1 gói x 2 lần/ngày", 5, 10),),
             (0, 5), 2, fever=True, examination="Thở nhanh, rút lõm lồng ngực.", refer=0.6),
    Scenario("Đau đầu, chóng mặt", ("R51", "R42", "G44.2"), (("PARA500", "1 viên khi đau", 3, 6),), (18, 85), 4),
)
REFERRED_TO = "Trung tâm Y tế khu vực"


def _per_month(slug: str, records: int) -> int:
    if slug == "tule":
        return TULE_PER_MONTH
    return max(8, min(TULE_PER_MONTH, records // 6))


def _vitals(rng: random.Random, scenario: Scenario, age: int) -> dict:
    values: dict = {
        "temperature_c": Decimal(str(round(rng.uniform(37.8, 39.2) if scenario.fever else rng.uniform(36.3, 37.2), 1))),
        "pulse": rng.randint(100, 140) if age < 5 else rng.randint(64, 96),
    }
    if age < 1:
        values["weight_kg"] = Decimal(str(round(rng.uniform(4.5, 9.5), 1)))
    elif age < 5:
        values["weight_kg"] = Decimal(str(round(rng.uniform(9, 18), 1)))
        values["respiratory_rate"] = rng.randint(26, 50 if scenario.fever else 36)
    elif age < 15:
        values["weight_kg"] = Decimal(str(round(rng.uniform(15, 45), 1)))
    else:
        low, high = scenario.pressure
        systolic = rng.randint(low, high)
        values.update(systolic=systolic, diastolic=max(55, systolic - rng.randint(35, 55)),
                      weight_kg=Decimal(str(round(rng.uniform(40, 68), 1))), spo2=rng.randint(95, 99))
    return values


def seed_visits(context) -> None:
    for spec, commune in context.communes:
        with tenant_context(commune):
            if Visit.objects.exists():
                continue
            staff = context.officials(commune).get(Role.HEALTH_STAFF.value)
            made = _seed_commune(spec.slug, commune.code, staff)
            if made:
                context.out(f"  {spec.name}: {made} visits over a year")


@transaction.atomic
def _seed_commune(slug: str, code: str, staff, today: datetime.date | None = None) -> int:
    records = list(HealthRecord.objects.select_related("resident"))
    if not records:
        return 0
    rng = random.Random(f"visits-{code}")
    today = today or timezone.localdate()
    per_month = _per_month(slug, len(records))
    total = per_month * 12
    planned = []  # (visit, scenario, main code)
    weights = [s.weight for s in SCENARIOS]
    attempts = 0
    while len(planned) < total and attempts < total * 20:
        attempts += 1
        scenario = rng.choices(SCENARIOS, weights)[0]
        day = today - datetime.timedelta(days=rng.randrange(DAYS))
        if day.weekday() == 6:
            continue  # the station's Sunday: emergencies only
        record = rng.choice(records)
        resident = record.resident
        age = age_years(resident.birth_date, day)
        if not (scenario.ages[0] <= age <= scenario.ages[1]) or day < resident.birth_date:
            continue
        if scenario.sex and resident.sex != scenario.sex:
            continue
        moment = timezone.make_aware(datetime.datetime.combine(day, datetime.time(rng.choice((7, 8, 9, 10, 13, 14, 15)),
                                                                                  rng.randrange(0, 60, 5))))
        if moment > timezone.now():
            continue
        payment = scenario.payment or (Payment.INSURANCE if insurance_valid(record, day) else Payment.PAID)
        referred = rng.random() < scenario.refer
        visit = Visit(record=record, visited_at=moment, reason=scenario.reason, examination=scenario.examination,
                      treatment=scenario.treatment, payment=payment, referred=referred,
                      referred_to=REFERRED_TO if referred else "",
                      referral_reason=scenario.referral_reason if referred else "",
                      staff=staff, staff_name=(getattr(staff, "full_name", "") or "") if staff else "",
                      **_vitals(rng, scenario, age))
        planned.append((visit, scenario, rng.choice(scenario.codes)))
    created = Visit.objects.bulk_create([visit for visit, _s, _c in planned], batch_size=500)
    diagnoses, lines = [], []
    for visit, (_v, scenario, main) in zip(created, planned):
        diagnoses.append(VisitDiagnosis(visit=visit, icd10=main, primary=True))
        for drug_code, dose, days, quantity in scenario.lines:
            drug = drugs.lookup(drug_code)
            lines.append(Prescription(visit=visit, drug_code=drug_code, text=drug.label if drug else drug_code,
                                      dose=dose, days=days, quantity=quantity))
    VisitDiagnosis.objects.bulk_create(diagnoses, batch_size=1000)
    Prescription.objects.bulk_create(lines, batch_size=1000)
    return len(created)
