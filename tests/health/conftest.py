"""Fixtures of the health station's tests: in Tú Lệ, a health staff member, the officials who must
read nothing personal here, a citizen; a village of residents (an old man with hypertension, a
young woman, two small children, their household's phone) with health records for some of them."""
from __future__ import annotations

import datetime

import pytest

from communes.models import Role


@pytest.fixture
def people(tule, make_user):
    return {
        "nurse": make_user("health_nurse", roles={tule: [Role.HEALTH_STAFF]}, full_name="Lò Thị Y"),
        "chairman": make_user("health_chairman", roles={tule: [Role.CHAIRMAN]}, full_name="Hà Văn Chủ"),
        "radio": make_user("health_radio", roles={tule: [Role.RADIO_OPERATOR]}, full_name="Vì Văn Loa"),
        "onestop": make_user("health_onestop", roles={tule: [Role.ONESTOP_OFFICER]}, full_name="Đinh Thị Cửa"),
        "citizen": make_user("health_citizen", full_name="Lò Văn Dân", phone="0912345670"),
    }


@pytest.fixture
def station(tule, in_commune, people):
    """Inside Tú Lệ's schema: the village Bản Thử Y with one household (phone 0912000111) of five
    residents; records for the grandfather, the mother and the baby, none for the father and the
    toddler. Yields the rows by name."""
    from health.models import HealthRecord
    from population import services
    from population.models import Household, Resident, Village

    with in_commune(tule):
        village = services.save_village(Village(name="Bản Thử Y"))
        household = services.save_household(Household(code="TY-001", village=village, phone="0912000111",
                                                       address="Bản Thử Y"))

        def resident(name, born, sex, relation, personal_id=None):
            return services.save_resident(Resident(
                household=household, full_name=name, birth_date=born, sex=sex, relation=relation,
                ethnicity="01", personal_id=personal_id))

        grandfather = resident("Lò Văn Ông", datetime.date(1958, 3, 2), "male", "head", "015058001234")
        father = resident("Lò Văn Bố", datetime.date(1990, 7, 9), "male", "child", "015090002345")
        mother = resident("Lường Thị Mẹ", datetime.date(1995, 11, 20), "female", "other", "015195004321")
        baby = resident("Lò Văn Bé", datetime.date(2026, 5, 4), "male", "grandchild")
        toddler = resident("Lò Thị Nhỏ", datetime.date(2024, 9, 15), "female", "grandchild")
        opened = datetime.date(2026, 5, 10)
        records = {
            name: HealthRecord.objects.create(resident=who, opened_on=opened)
            for name, who in (("grandfather", grandfather), ("mother", mother), ("baby", baby))
        }
        yield {"village": village, "household": household, "grandfather": grandfather, "father": father,
               "mother": mother, "baby": baby, "toddler": toddler, "records": records}
