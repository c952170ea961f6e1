"""Fixtures of the residents' registry tests: a small registry in Tú Lệ and officials."""
from __future__ import annotations

import datetime

import pytest

# Valid personal ID numbers: province 015 (Yên Bái before 2025) and 001 (Hà Nội).
AN_ID = "015090123456"  # male, 1990
BINH_ID = "015192654321"  # female, 1992
CHILD_ID = "001318000111"  # female, 2018


@pytest.fixture
def registry(tule, in_commune):
    """Tú Lệ: household TL-001 in Bản Lướt (An the head, Bình his wife, their daughter) and
    household TL-002 in Bản Pá (a baby head without an ID number yet)."""
    from population import services
    from population.models import Household, Resident, Village

    with in_commune(tule):
        luot = services.save_village(Village(name="Bản Lướt", kind=Village.Kind.BAN))
        pa = services.save_village(Village(name="Bản Pá", kind=Village.Kind.BAN))
        h1 = services.save_household(Household(code="TL-001", village=luot, address="Bản Lướt, xã Tú Lệ", phone="+84 912 345 678"))
        h2 = services.save_household(Household(code="TL-002", village=pa, address="Bản Pá"))
        an = services.save_resident(Resident(
            household=h1, full_name="Nguyễn Văn An", birth_date=datetime.date(1990, 5, 1), sex="male",
            ethnicity="03", personal_id=AN_ID, relation="head", phone="0987654321",
        ))
        binh = services.save_resident(Resident(
            household=h1, full_name="Lò Thị Bình", birth_date=datetime.date(1992, 7, 9), sex="female",
            ethnicity="03", personal_id=BINH_ID, relation="wife",
        ))
        child = services.save_resident(Resident(
            household=h1, full_name="Nguyễn Thị Hoa", birth_date=datetime.date(2018, 1, 2), sex="female",
            ethnicity="03", personal_id=CHILD_ID, relation="child",
        ))
        baby = services.save_resident(Resident(
            household=h2, full_name="Hà Văn Đức", birth_date=datetime.date(2024, 3, 4), sex="male",
            ethnicity="01", personal_id=None, relation="head",
        ))
    return {"villages": [luot, pa], "households": [h1, h2], "an": an, "binh": binh, "child": child, "baby": baby}


@pytest.fixture
def official(make_user, tule):
    """official(role) → a user with that role in Tú Lệ (role None: no membership)."""
    counter = {"n": 0}

    def factory(role=None, commune=None):
        counter["n"] += 1
        roles = {commune or tule: [role]} if role else {}
        return make_user(f"user{counter['n']}_{role or 'none'}", roles=roles)

    return factory


@pytest.fixture
def unit_staff(make_user):
    from communes.models import SupervisingUnit

    def factory(unit_code: str):
        return make_user(f"staff_{unit_code}", units=[SupervisingUnit.objects.get(code=unit_code)])

    return factory


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings):
    """Users are created in almost every test here: a fast hasher keeps the folder quick."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def vi(message: str) -> str:
    """The Vietnamese text a user sees for an English source string."""
    from django.utils import translation

    with translation.override("vi"):
        return translation.gettext(message)
