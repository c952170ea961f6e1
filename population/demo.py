"""Generated demo households and residents with realistic Vietnamese names (for seed_demo).

Every ID number generated here passes the registry's own check (province of birth registration,
century and sex digit, year of birth). The data are invented; no real person is described.
"""
from __future__ import annotations

import datetime
import math
import random
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django_tenants.utils import tenant_context

from population import validators
from population.models import Household, Relation, Resident, Sex, Village
from core.text import fold

# Pre-2025 province codes of birth registration for the demo communes' areas.
BIRTH_PROVINCE = {"04630": "015", "14701": "037", "15316": "038", "16144": "038", "16264": "038"}
THAI_AREAS = {"04630"}

KINH_SURNAMES = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô", "Dương", "Lý", "Mai", "Đinh", "Trịnh"]
THAI_SURNAMES = ["Lò", "Lường", "Hà", "Cầm", "Điêu", "Quàng", "Vì", "Lù", "Tòng", "Hoàng"]
MALE_MIDDLE = ["Văn", "Đức", "Minh", "Quang", "Hữu", "Công", "Thanh"]
FEMALE_MIDDLE = ["Thị", "Thị", "Thị", "Ngọc", "Thu", "Thanh", "Minh"]
MALE_GIVEN = ["An", "Bình", "Cường", "Dũng", "Đức", "Hải", "Hùng", "Khánh", "Long", "Mạnh", "Nam", "Phúc", "Quân", "Sơn", "Tâm", "Thắng", "Toàn", "Tuấn", "Việt", "Vinh"]
FEMALE_GIVEN = ["Anh", "Chi", "Dung", "Giang", "Hà", "Hạnh", "Hoa", "Hương", "Lan", "Liên", "Linh", "Mai", "Nga", "Ngọc", "Nhung", "Phương", "Thảo", "Trang", "Vân", "Yến"]


def _name(rng: random.Random, sex: str, surname: str) -> str:
    if sex == Sex.MALE:
        return f"{surname} {rng.choice(MALE_MIDDLE)} {rng.choice(MALE_GIVEN)}"
    return f"{surname} {rng.choice(FEMALE_MIDDLE)} {rng.choice(FEMALE_GIVEN)}"


def _birth(rng: random.Random, min_age: int, max_age: int, today: datetime.date) -> datetime.date:
    """A birth date between min_age and max_age years before today, never in the future."""
    year = today.year - rng.randint(min_age, max_age)
    born = datetime.date(year, rng.randint(1, 12), rng.randint(1, 28))
    return born if born <= today else born.replace(year=born.year - 1)


def _personal_id(rng: random.Random, province: str, birth: datetime.date, sex: str, used: set) -> str:
    century = (birth.year // 100) - 19  # 1900s → 0, 2000s → 1
    digit = {0: 0, 1: 2}[century] + (1 if sex == Sex.FEMALE else 0)
    while True:
        candidate = f"{province}{digit}{birth.year % 100:02d}{rng.randint(0, 999999):06d}"
        if candidate not in used:
            used.add(candidate)
            assert not validators.check_personal_id(candidate, birth, sex)
            return candidate


def _phone(rng: random.Random) -> str:
    return f"0{rng.choice('35789')}{rng.randint(0, 99999999):08d}"


def populate(commune, *, villages, households: int, seed: int) -> dict | None:
    """Fill one commune's registry. Does nothing (returns None) when it already has households."""
    with tenant_context(commune), transaction.atomic():
        if Household.objects.exists():
            return None
        rng = random.Random(seed)
        today = timezone.localdate()
        province = BIRTH_PROVINCE.get(commune.code, "001")
        thai = commune.code in THAI_AREAS
        village_objs = []
        for name in villages:
            kind = Village.Kind.BAN if name.startswith(("Bản", "Khau", "Nà", "Tà", "Sài", "Nậm")) else Village.Kind.THON
            village_objs.append(Village.objects.get_or_create(name=name, defaults={"kind": kind})[0])
        used_ids: set[str] = set(Resident.objects.exclude(personal_id=None).values_list("personal_id", flat=True))
        resident_count = 0
        for number in range(1, households + 1):
            village = village_objs[(number - 1) % len(village_objs)]
            surname = rng.choice(THAI_SURNAMES if thai and rng.random() < 0.93 else KINH_SURNAMES)
            ethnicity = "03" if thai and surname in THAI_SURNAMES else "01"
            household = Household.objects.create(
                code=f"{commune.code}-{number:04d}", village=village,
                address=f"{village.name}, {commune}", phone=_phone(rng) if rng.random() < 0.8 else "",
            )
            members = []
            head_sex = Sex.MALE if rng.random() < 0.8 else Sex.FEMALE
            head_birth = _birth(rng, 25, 70, today)
            members.append((Relation.HEAD, head_sex, head_birth, _name(rng, head_sex, surname)))
            if rng.random() < 0.85:
                spouse_sex = Sex.FEMALE if head_sex == Sex.MALE else Sex.MALE
                spouse_surname = rng.choice(THAI_SURNAMES if thai else KINH_SURNAMES)
                members.append((
                    Relation.WIFE if spouse_sex == Sex.FEMALE else Relation.HUSBAND, spouse_sex,
                    _birth(rng, max(20, today.year - head_birth.year - 6), today.year - head_birth.year + 4, today),
                    _name(rng, spouse_sex, spouse_surname),
                ))
            for _child in range(rng.randint(0, 4)):
                sex = rng.choice([Sex.MALE, Sex.FEMALE])
                oldest = max(0, min(today.year - head_birth.year - 20, 40))
                members.append((Relation.CHILD, sex, _birth(rng, 0, oldest, today), _name(rng, sex, surname)))
            rows = []
            for relation, sex, birth, full_name in members:
                age = today.year - birth.year
                rows.append(Resident(
                    household=household, full_name=full_name, search_name=fold(full_name), birth_date=birth,
                    sex=sex, ethnicity=ethnicity, relation=relation,
                    personal_id=_personal_id(rng, province, birth, sex, used_ids) if age >= 6 else None,
                    phone=_phone(rng) if age >= 16 and rng.random() < 0.6 else "",
                ))
            created = Resident.objects.bulk_create(rows)
            household.head = created[0]
            household.save(update_fields=["head"])
            resident_count += len(created)
        return {"households": households, "residents": resident_count}


# The approximate centre of each demo commune (WGS 84): its villages are placed around it, for
# the map of the commune's products. Plausible positions, not surveyed ones.
COMMUNE_CENTRES = {
    "04630": (Decimal("21.7930"), Decimal("104.3050")),  # Tú Lệ, in the valley below the Khau Phạ pass
    "14701": (Decimal("20.1310"), Decimal("105.9720")),  # Yên Hòa (Yên Mô)
    "16144": (Decimal("19.9960"), Decimal("105.9690")),  # Nga An
    "15316": (Decimal("20.0480"), Decimal("105.8210")),  # Hà Sơn
    "16264": (Decimal("19.6210"), Decimal("105.5790")),  # Yên Thọ
}


def place_villages(commune) -> int:
    """Give the commune's villages without coordinates a position around the commune's centre
    (a ring, about 1–3 km out); villages that have one keep it. Returns how many were placed."""
    centre = COMMUNE_CENTRES.get(commune.code)
    if centre is None:
        return 0
    placed = 0
    with tenant_context(commune), transaction.atomic():
        villages = list(Village.objects.order_by("pk"))
        for index, village in enumerate(villages):
            if village.latitude is not None:
                continue
            angle = 2 * math.pi * index / max(len(villages), 1)
            radius = Decimal("0.010") + Decimal("0.004") * (index % 4)
            village.latitude = (centre[0] + radius * Decimal(str(round(math.sin(angle), 4)))).quantize(Decimal("0.000001"))
            village.longitude = (centre[1] + radius * Decimal(str(round(math.cos(angle), 4)))).quantize(Decimal("0.000001"))
            village.save(update_fields=["latitude", "longitude"])
            placed += 1
    return placed


def seed_demo(context) -> None:
    """The demo step (``communes.modules.DemoStep``): households and residents of each commune,
    and positions of its villages."""
    for spec, commune in context.communes:
        made = populate(commune, villages=spec.villages, households=context.households or spec.households,
                        seed=int(spec.code))
        if made:
            context.out(f"  {commune}: {made['households']} households, {made['residents']} residents")
        place_villages(commune)
