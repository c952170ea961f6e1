"""seed_demo: the pilot communes at fixed hosts, officials per role, a supervising-unit token."""
from django.core.management import call_command
from rest_framework.authtoken.models import Token

from communes.demo import DEMO_COMMUNES, DEMO_PASSWORD
from communes.models import Commune, Domain, Membership, Role, User
from population.models import Household, Resident
from tests.ecommerce.demo_checks import check_demo_marketplace, marketplace_counts
from tests.education import attendance_demo_checks
from tests.education import demo_checks as school_demo_checks
from tests.education import pastyear_demo_checks
from tests.health.demo_checks import check_demo_health, health_counts


def counts(in_commune):
    out = {}
    for commune in Commune.objects.all():
        with in_commune(commune):
            out[commune.code] = (Household.objects.count(), Resident.objects.count())
    return out


def test_seed_demo_is_idempotent_and_usable(db, client_for, in_commune, capsys):
    call_command("seed_demo", households=4)
    printed = capsys.readouterr().out
    assert "thanhhoa.staff" in printed and DEMO_PASSWORD in printed
    hosts = set(Domain.objects.values_list("domain", flat=True))
    assert {f"{spec.slug}.localhost" for spec in DEMO_COMMUNES} <= hosts
    assert Commune.objects.get(code="15316").note.startswith("Xã thí điểm Hà Sơn")
    # A merged pilot says so on its own site.
    assert "một phần của xã Tống Sơn" in client_for("hason.localhost").get("/accounts/login/").content.decode()
    first = counts(in_commune)
    assert first["16264"][0] == 4 and first["16264"][1] >= 4
    users, memberships = User.objects.count(), Membership.objects.count()
    market = marketplace_counts(in_commune)
    health = health_counts(in_commune)
    schools = {c.code: (school_demo_checks.structure_counts(c), attendance_demo_checks.attendance_counts(c),
                        pastyear_demo_checks.pastyear_counts(c))
               for c in Commune.objects.exclude(schema_name="public")}

    call_command("seed_demo", households=4)
    assert counts(in_commune) == first
    assert marketplace_counts(in_commune) == market
    assert health_counts(in_commune) == health
    check_demo_marketplace(in_commune, client_for, printed)
    check_demo_health(in_commune, client_for)
    for commune in Commune.objects.exclude(schema_name="public"):
        assert (school_demo_checks.structure_counts(commune), attendance_demo_checks.attendance_counts(commune),
                pastyear_demo_checks.pastyear_counts(commune)) == schools[commune.code]
        if commune.code in {spec.code for spec in DEMO_COMMUNES}:
            school_demo_checks.check(commune)
            attendance_demo_checks.check(commune)
            pastyear_demo_checks.check(commune)
    assert (User.objects.count(), Membership.objects.count()) == (users, memberships)

    # One official per role, and the logins work on their commune's host.
    # One per role, and the primary school's principal (the lower-secondary's is the school_staff login).
    assert Membership.objects.filter(commune__code="16264").count() == len(Role) + 1
    client = client_for("yentho.localhost")
    assert client.login(username="yentho.chairman", password=DEMO_PASSWORD)
    # The password alone is not enough for a chairman: the authenticator app comes next.
    assert client.get("/")["Location"].startswith("/accounts/2fa/")
    home = client_for("yentho.localhost", User.objects.get(username="yentho.chairman")).get("/")
    assert home.status_code == 200 and "Sổ hộ khẩu" not in home.content.decode()

    # The supervising unit's token reads the Thanh Hóa communes through the national API.
    token = Token.objects.get(user__username="thanhhoa.staff").key
    body = client_for("localhost").get("/api/v1/communes/", HTTP_AUTHORIZATION=f"Token {token}").json()
    assert {"15316", "16264"} <= {c["code"] for c in body["results"]}
    residents = client_for("localhost").get(
        "/api/v1/communes/16264/residents/", HTTP_AUTHORIZATION=f"Token {token}"
    ).json()
    assert residents["count"] == first["16264"][1]
    assert all("*" in (r.get("personal_id") or "*") for r in residents["results"])
    # And the figures its communes published through their outbox, without waiting for the beat.
    figures = client_for("localhost").get(
        "/api/v1/facts/monthly/", {"commune": "16264", "source": "onestop"}, HTTP_AUTHORIZATION=f"Token {token}").json()
    assert figures["count"] == 6 and {row["commune_code"] for row in figures["results"]} == {"16264"}


def test_generated_residents_pass_the_registry_checks(db, in_commune):
    from population import validators

    call_command("seed_demo", households=40)
    commune = Commune.objects.get(code="16264")
    with in_commune(commune):
        for resident in Resident.objects.all():
            assert not validators.check_resident(
                personal_id=resident.personal_id, birth_date=resident.birth_date, sex=resident.sex,
            )
            assert not validators.check_birth_date(resident.birth_date)
        assert Household.objects.filter(head__isnull=True).count() == 0


def test_generated_birth_dates_are_never_in_the_future():
    import datetime
    import random

    from population.demo import _birth

    rng = random.Random(1)
    today = datetime.date(2026, 11, 23)
    births = [_birth(rng, 0, 0, today) for _ in range(500)]
    assert max(births) <= today
    assert min(births) >= datetime.date(2025, 1, 1)  # newborns: within the last year or so
