"""The schools' demo base for Tú Lệ seeded from a registry of the population demo: the checks of
tests/education/demo_checks.py hold, a second run changes nothing, the principals open their
schools, and the demo citizen reads the children they are a guardian of."""
from __future__ import annotations

import time

import pytest

from tests.education.demo_checks import check, structure_counts

pytestmark = pytest.mark.django_db(transaction=False)


def test_the_demo_base_for_tule(tule, in_commune, make_user, client_for):
    from communes.demo import DEMO_COMMUNES, DemoContext
    from communes.models import Membership, Role, User
    from education import permissions, structure_demo
    from population.demo import populate

    spec = next(s for s in DEMO_COMMUNES if s.slug == "tule")
    populate(tule, villages=spec.villages, households=120, seed=4630)
    staff = make_user("tule.school_staff", roles={tule: [Role.SCHOOL_STAFF]}, full_name="Lò Văn Thành")
    citizen = make_user("congdan", full_name="Hoàng Văn Nam", phone="0912345678")
    printed = []
    context = DemoContext(communes=[(spec, tule)], citizen=citizen, households=120, pin="000000", out=printed.append)
    started = time.perf_counter()
    structure_demo.seed(context)
    seconds = time.perf_counter() - started
    print(f"structure demo for Tú Lệ: {seconds:.2f} s")
    assert seconds < 5, seconds
    assert printed and "Tú Lệ" in printed[0]
    check(tule)
    first = structure_counts(tule)
    assert first[4] > 50  # students of nine grades from 120 households
    users = User.objects.count()
    structure_demo.seed(context)
    assert structure_counts(tule) == first and User.objects.count() == users
    check(tule)

    primary_principal = User.objects.get(username="tule.school_primary")
    assert Membership.objects.filter(user=primary_principal, commune=tule, role=Role.SCHOOL_STAFF).exists()
    with in_commune(tule):
        thcs = permissions.schools_for(staff).get()
        primary = permissions.schools_for(primary_principal).get()
        assert thcs.name == "Trường THCS Tú Lệ" and primary.name == "Trường Tiểu học Tú Lệ"
        children = list(permissions.children_of(citizen))
        assert len(children) == 2
    page = client_for("tule.localhost", staff).get(f"/schools/{thcs.pk}/").content.decode()
    assert "6A" in page and "9A" in page
    assert client_for("tule.localhost", primary_principal).get(f"/schools/{thcs.pk}/").status_code == 403
    assert client_for("tule.localhost", primary_principal).get(f"/schools/{primary.pk}/").status_code == 200
