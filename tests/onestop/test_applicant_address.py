"""The address of an applicant picked from the registry names the village and the commune once
each, whatever shape the household's address has in the registry: the demo's 'Bản Đồng, Xã Tú
Lệ', an import's bare village 'Bản Lướt', a house and street, lower case, or nothing."""
from __future__ import annotations

import datetime

import pytest
from django_tenants.utils import tenant_context

HOST = "tule.localhost"
PROCEDURE_CODE = "HT-02"

SHAPES = [
    # (household address, village, printed address)
    ("Bản Đồng, Xã Tú Lệ", "Bản Đồng", "Bản Đồng, Xã Tú Lệ"),  # the demo's
    ("Bản Đồng, xã Tú Lệ, tỉnh Lào Cai", "Bản Đồng", "Bản Đồng, xã Tú Lệ, tỉnh Lào Cai"),
    ("bản đồng, xã tú lệ", "Bản Đồng", "bản đồng, xã tú lệ"),
    ("Bản Lướt", "Bản Lướt", "Bản Lướt, xã Tú Lệ"),  # an import's: the village alone
    ("", "Bản Pá", "Bản Pá, xã Tú Lệ"),
    ("Số 5, đường bản", "Bản Khe Căm", "Số 5, đường bản, Bản Khe Căm, xã Tú Lệ"),
    ("Số nhà 12 Bản Đồng", "Bản Đồng", "Số nhà 12 Bản Đồng, xã Tú Lệ"),
    ("Số nhà 12, Xã Tú Lệ, tỉnh Lào Cai", "Bản Đồng", "Số nhà 12, Bản Đồng, Xã Tú Lệ, tỉnh Lào Cai"),
    ("Tổ 3, Bản Tú Lệ", "Bản Tú Lệ", "Tổ 3, Bản Tú Lệ, xã Tú Lệ"),  # a village named like the commune
    ("  Bản Đồng ,  Xã Tú Lệ ,  ", "Bản Đồng", "Bản Đồng, Xã Tú Lệ"),
]


@pytest.mark.parametrize("address, village, printed", SHAPES)
def test_postal_address_names_the_village_and_the_commune_once(tule, in_commune, address, village, printed):
    from population.models import Household, Village
    from population.selectors import postal_address

    with in_commune(tule):
        place = Village.objects.create(name=village)
        household = Household.objects.create(code="HK-ADDR", village=place, address=address)
        assert postal_address(household) == printed


def test_the_intake_form_takes_the_address_with_the_village_once(tule, people, client_for):
    from population.models import Household, Resident, Village

    with tenant_context(tule):
        village = Village.objects.create(name="Bản Đồng", kind=Village.Kind.BAN)
        household = Household.objects.create(code="04630-0007", village=village, address=f"Bản Đồng, {tule}")
        resident = Resident.objects.create(household=household, full_name="Lò Văn Pằn", birth_date=datetime.date(1980, 2, 3),
                                           sex="male", personal_id="015080004567", relation="head")
    officer = client_for(HOST, people["onestop_officer"])
    form = officer.get(f"/onestop/intake/{PROCEDURE_CODE}/", {"resident": resident.pk}).context["form"]
    assert form["applicant_address"].value() == "Bản Đồng, Xã Tú Lệ"
