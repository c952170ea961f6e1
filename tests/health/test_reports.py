"""The monthly report of November 2026 against a fixture computed by hand, written out in each
test: visits by age group, sex, payment and referral (the month's bounds in Vietnam time, an age
on a birthday), doses, full immunisation before the first birthday and its cohorts, new chronic
cases by programme and chapter letter, births, deaths, pregnant women under care, children
weighed and malnourished. Then the figures sent upward: published through the outbox and read by
a supervising unit's staff on the national host, numbers only."""
from __future__ import annotations

import datetime
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command

pytestmark = pytest.mark.django_db

VN = ZoneInfo("Asia/Ho_Chi_Minh")
NOV = datetime.date(2026, 11, 1)
REQUIRED = frozenset({("BCG", 1), ("SOI", 1)})  # the test's schedule: two doses before 12 months


def at(day: str, time: str = "09:00") -> datetime.datetime:
    return datetime.datetime.fromisoformat(f"{day}T{time}").replace(tzinfo=VN)


@pytest.fixture
def month_data(station, tule, in_commune, monkeypatch):
    """Rows in and around November 2026 (see each test for what counts)."""
    from health import reports
    from health.models import (
        AntenatalVisit, ChronicCondition, Death, GrowthMeasurement, HealthRecord, Pregnancy, Vaccination, Visit,
    )
    from population import services
    from population.models import Resident

    monkeypatch.setattr(reports, "full_immunisation_doses", lambda: REQUIRED)
    with in_commune(tule):
        def person(name, born, sex, record=True):
            resident = services.save_resident(Resident(household=station["household"], full_name=name,
                                                       birth_date=datetime.date.fromisoformat(born), sex=sex,
                                                       relation="other", ethnicity="01"))
            if record:
                HealthRecord.objects.create(resident=resident, opened_on=datetime.date(2026, 6, 1))
            return resident

        rec = dict(station["records"])
        for name, born, sex in (("child10", "2016-06-01", "female"), ("child5", "2021-11-15", "male"),
                                ("x", "2025-11-10", "male"), ("y", "2026-01-20", "female"),
                                ("z", "2025-10-01", "female"), ("woman2", "2000-02-02", "female"),
                                ("woman3", "1998-04-04", "female"), ("woman4", "1999-05-05", "female")):
            rec[name] = person(f"Thử {name}", born, sex).health_record
        twin1 = person("Sinh Đôi Một", "2026-11-18", "male", record=False)
        person("Sinh Đôi Hai", "2026-11-18", "female", record=False)
        infant = person("Bé Mất", "2026-10-01", "male", record=False)

        def visit(who, when, payment="insurance", referred=False):
            Visit.objects.create(record=rec[who], visited_at=when, reason="Khám", payment=payment, referred=referred)

        visit("grandfather", at("2026-11-03"), referred=True)
        visit("grandfather", at("2026-11-20"), "paid")
        visit("mother", at("2026-11-19", "10:00"))
        visit("baby", at("2026-11-05"), "free")
        visit("child10", at("2026-11-10"))
        visit("mother", at("2026-11-30", "23:30"), "free")
        visit("child5", at("2026-11-15"))
        visit("grandfather", at("2026-12-01", "00:10"))  # December in Vietnam (30/11 17:10 UTC)
        visit("grandfather", at("2026-10-31", "23:59"))

        def dose(who, vaccine, number, day):
            Vaccination.objects.create(record=rec[who], vaccine=vaccine, dose=number,
                                       given_on=datetime.date.fromisoformat(day))

        dose("x", "BCG", 1, "2025-11-10")
        dose("x", "SOI", 1, "2026-08-15")
        dose("y", "BCG", 1, "2026-01-20")
        dose("y", "SOI", 1, "2026-11-05")
        dose("z", "BCG", 1, "2025-10-02")
        dose("z", "SOI", 1, "2026-11-03")  # after z's first birthday (01/10/2026)
        dose("baby", "BCG", 1, "2026-05-05")
        dose("baby", "DPT_VGB_HIB", 1, "2026-11-04")
        dose("baby", "OPV", 1, "2026-11-04")

        def condition(who, code, day, programme=""):
            ChronicCondition.objects.create(record=rec[who], icd10=code, programme=programme,
                                            diagnosed_on=datetime.date.fromisoformat(day))

        condition("grandfather", "I10", "2026-11-03", "hypertension")
        condition("mother", "E11", "2026-11-19", "diabetes")
        condition("child10", "J45", "2026-11-10")
        condition("grandfather", "E78", "2026-10-30")

        def pregnancy(who, registered, outcome="", ended=None, children=0):
            return Pregnancy.objects.create(
                record=rec[who], expected_delivery=datetime.date(2027, 1, 1), outcome=outcome,
                registered_on=datetime.date.fromisoformat(registered), children=children,
                ended_on=datetime.date.fromisoformat(ended) if ended else None)

        mother = pregnancy("mother", "2026-04-01", "live_birth", "2026-11-18", 2)
        woman2 = pregnancy("woman2", "2026-09-01")
        pregnancy("woman3", "2026-06-01", "stillbirth", "2026-11-25")
        pregnancy("woman3", "2026-12-02")
        pregnancy("woman4", "2026-08-01", "miscarriage", "2026-12-03")
        for preg, day in ((mother, "2026-11-02"), (mother, "2026-11-16"), (woman2, "2026-11-10"),
                          (woman2, "2026-10-30")):
            AntenatalVisit.objects.create(pregnancy=preg, visited_on=datetime.date.fromisoformat(day))

        Death.objects.create(resident=station["father"], died_on=datetime.date(2026, 11, 12), cause_icd10="I21")
        Death.objects.create(resident=station["toddler"], died_on=datetime.date(2026, 11, 25))
        Death.objects.create(resident=infant, died_on=datetime.date(2026, 11, 2))
        Death.objects.create(resident=twin1, died_on=datetime.date(2026, 12, 2))

        def weighed(who, day, **flags):
            GrowthMeasurement.objects.create(record=rec[who], measured_on=datetime.date.fromisoformat(day),
                                             weight_kg=8, **flags)

        weighed("baby", "2026-11-05", underweight=True)
        weighed("baby", "2026-11-20")
        weighed("y", "2026-11-05", stunted=True, wasted=True)
        weighed("child5", "2026-11-16", underweight=True)  # 5 years old that day
        weighed("x", "2026-10-30", underweight=True)
        yield rec


def test_the_month_s_figures_match_the_hand_computation(month_data, tule, in_commune):
    from health.reports import monthly_report

    with in_commune(tule):
        report = monthly_report("2026-11")
    visits = report["visits"]
    # In November (Vietnam time): grandfather 03/11 (68, referred) and 20/11 (paid); mother 19/11
    # (30: 31 only on 20/11) and 30/11 23:30 (free); baby 05/11 (free); child10 10/11 (10);
    # child5 15/11 (5 on that very day). 01/12 00:10 and 31/10 23:59 are outside.
    assert visits["total"] == 2 + 2 + 1 + 1 + 1
    assert visits["by_age"] == {"under_5": 1, "5_14": 1 + 1, "15_59": 2, "60_plus": 2}
    assert visits["by_sex"] == {"male": 2 + 1 + 1, "female": 2 + 1}
    assert visits["by_payment"] == {"insurance": 1 + 1 + 1 + 1, "paid": 1, "free": 1 + 1}
    assert visits["referred"] == 1

    vaccination = report["vaccination"]
    assert vaccination["doses"] == [{"vaccine": "DPT_VGB_HIB", "dose": 1, "count": 1},
                                    {"vaccine": "OPV", "dose": 1, "count": 1},
                                    {"vaccine": "SOI", "dose": 1, "count": 2}]
    assert vaccination["doses_total"] == 4
    # y completed on 05/11 before turning 1; x on 15/08 (this year, before 10/11/2026); z after
    # turning 1; the baby lacks SOI. Turning 1 in November: x; in 2026: x and z (born in 2025).
    assert (vaccination["fully_immunised"], vaccination["turning_one"]) == (1, 1)
    assert vaccination["coverage"] == 1.0
    assert (vaccination["fully_immunised_year"], vaccination["turning_one_year"]) == (2, 2)

    chronic = report["chronic"]
    assert chronic["total"] == 3
    assert chronic["by_programme"] == {"hypertension": 1, "diabetes": 1, "none": 1}
    assert chronic["by_letter"] == {"E": 1, "I": 1, "J": 1}

    # The mother's twins (a live birth on 18/11); the stillbirth does not count; two residents
    # of the registry born on 18/11.
    assert report["births"] == {"deliveries": 1, "born_alive": 2, "residents_born": 2, "residents_born_male": 1,
                                "residents_born_female": 1}
    # father 36 (male), toddler 2 (female), infant 1 month (male); the twin's death is in December.
    assert report["deaths"] == {"total": 3, "under_1": 1, "by_age": {"under_5": 2, "5_14": 0, "15_59": 1,
                                                                     "60_plus": 0},
                                "by_sex": {"male": 2, "female": 1}}
    # Under care on 30/11: woman2 (ongoing) and woman4 (ended 03/12); not the mother (18/11),
    # not woman3 (ended 25/11, registered again on 02/12).
    assert report["maternal"] == {"under_care": 2, "antenatal_visits": 3, "women_seen": 2}
    # The baby (twice, underweight once) and y (stunted, wasted); child5 is 5; x was in October.
    growth = report["growth"]
    assert (growth["weighed"], growth["underweight"], growth["stunted"], growth["wasted"]) == (2, 1, 1, 1)
    assert growth["underweight_share"] == 0.5


def test_the_schedule_says_which_doses_make_a_child_fully_immunised():
    from health.reports import full_immunisation_doses
    from health.schedule import get_schedule

    doses = full_immunisation_doses()
    expected = {(v.code, d.number) for v in get_schedule().vaccines for d in v.doses
                if d.age.unit in ("d", "w") or (d.age.unit == "m" and d.age.number < 12)}
    assert doses == expected
    assert {("BCG", 1), ("SOI", 1)} <= doses and not any(code in ("MR", "DPT4") for code, _n in doses)


def test_the_report_runs_a_few_queries_whatever_the_number_of_people(month_data, tule, in_commune,
                                                                    django_assert_max_num_queries):
    from health.reports import monthly_report

    with in_commune(tule), django_assert_max_num_queries(15):
        monthly_report(NOV)


def test_the_figures_reach_the_supervising_unit_as_numbers_only(month_data, tule, client_for, make_user):
    from rest_framework.authtoken.models import Token

    from communes.models import SupervisingUnit

    call_command("publish_facts", "--commune", tule.code, "--month", "2026-11")
    staff = make_user("health_facts_laocai", units=[SupervisingUnit.objects.get(code="15")])
    token, _created = Token.objects.get_or_create(user=staff)
    body = client_for("localhost").get("/api/v1/facts/monthly/", {"source": "health", "from": "2026-11",
                                                                   "to": "2026-11"},
                                       HTTP_AUTHORIZATION=f"Token {token.key}").json()
    assert [(row["commune_code"], row["source"], row["month"]) for row in body["results"]] == [
        ("04630", "health", "2026-11")]
    figures = body["results"][0]["figures"]
    # 3 records of the station's fixture and 8 of this one, all opened before the month's end.
    assert figures["records"] == 3 + 8 and figures["visits"] == 7
    assert figures["visits_age_60_plus"] == 2 and figures["visits_referred"] == 1
    assert figures["fully_immunised"] == 1 and figures["doses_soi_1"] == 2
    assert figures["deaths"] == 3 and figures["born_alive"] == 2 and figures["pregnant_under_care"] == 2
    assert figures["chronic_new_hypertension"] == 1 and figures["children_stunted"] == 1
    # Nothing personal: every key is a figure's name, every value a number.
    assert all(isinstance(value, (int, float)) and not isinstance(value, bool) or value is None
               for value in figures.values())
    text = str(figures)
    for personal in ("Lò", "Thử", "015058001234", "0912000111", "I21", "Bản Thử Y"):
        assert personal not in text
    forbidden = ("name", "personal_id", "phone", "birth_date", "address", "resident", "icd10")
    assert not [key for key in figures if any(word in key for word in forbidden)]
