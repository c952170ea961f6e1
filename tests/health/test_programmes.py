"""The programmes' services (``health.programmes``) in Tú Lệ's schema: readings and who is overdue,
antenatal care (Naegele's date, weeks on a fixed date, one ongoing pregnancy per record even
against the database), children's growth with the WHO flags stored, and every bad input refused
with a Vietnamese message and nothing written."""
from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import translation

from health import growth, programmes

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2026, 12, 7)


@pytest.fixture
def fixed_today(monkeypatch):
    monkeypatch.setattr(programmes, "today", lambda: TODAY)
    return TODAY


@pytest.fixture(autouse=True)
def vietnamese():
    with translation.override("vi"):
        yield


def refusal(call) -> dict:
    with pytest.raises(ValidationError) as caught:
        call()
    exc = caught.value
    return exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}


def test_naegele_and_weeks_of_pregnancy_on_a_fixed_date():
    from health.models import Pregnancy

    assert programmes.naegele(datetime.date(2026, 3, 1)) == datetime.date(2026, 12, 6)
    assert programmes.naegele(datetime.date(2025, 12, 25)) == datetime.date(2026, 10, 1)
    pregnancy = Pregnancy(last_period=datetime.date(2026, 6, 1), expected_delivery=datetime.date(2027, 3, 8))
    assert programmes.weeks_of_pregnancy(pregnancy, datetime.date(2026, 12, 7)) == (27, 0)  # 189 days: 30+31+31+30+31+30+6
    by_ultrasound = Pregnancy(last_period=None, expected_delivery=datetime.date(2027, 3, 8))
    assert programmes.weeks_of_pregnancy(by_ultrasound, datetime.date(2026, 12, 7)) == (27, 0)


def test_a_reading_and_every_bad_reading(station, tule, in_commune, fixed_today):
    from health.models import Reading

    with in_commune(tule):
        record = station["records"]["grandfather"]
        reading = programmes.add_reading(record, taken_on=TODAY, systolic=150, diastolic=95,
                                         glucose_mmol="7,4", fasting=True, note="  sáng  ")
        assert (reading.systolic, reading.diastolic, reading.glucose_mmol, reading.note) == (150, 95, Decimal("7.4"), "sáng")
        bad = [
            ({"taken_on": TODAY + datetime.timedelta(days=1), "systolic": 120, "diastolic": 80}, "taken_on", "tương lai"),
            ({"taken_on": datetime.date(1958, 3, 1), "systolic": 120, "diastolic": 80}, "taken_on", "ngày sinh"),
            ({"taken_on": TODAY, "systolic": 59, "diastolic": 40}, "systolic", "60"),
            ({"taken_on": TODAY, "systolic": 261, "diastolic": 90}, "systolic", "260"),
            ({"taken_on": TODAY, "systolic": 120, "diastolic": 29}, "diastolic", "30"),
            ({"taken_on": TODAY, "systolic": 200, "diastolic": 161}, "diastolic", "160"),
            ({"taken_on": TODAY, "systolic": 90, "diastolic": 90}, "diastolic", "thấp hơn"),
            ({"taken_on": TODAY, "systolic": 120}, "diastolic", "tâm trương"),
            ({"taken_on": TODAY, "glucose_mmol": "0,9"}, "glucose_mmol", "40,0"),
            ({"taken_on": TODAY, "glucose_mmol": "40.1"}, "glucose_mmol", "40,0"),
            ({"taken_on": TODAY, "glucose_mmol": "abc"}, "glucose_mmol", "số"),
            ({"taken_on": TODAY}, "systolic", "huyết áp"),
            ({"taken_on": None, "systolic": 120, "diastolic": 80}, "taken_on", "ngày"),
        ]
        for kwargs, field, words in bad:
            errors = refusal(lambda: programmes.add_reading(record, **kwargs))
            assert field in errors, (kwargs, errors)
            assert words in " ".join(errors[field]).lower() or words in " ".join(errors[field]), (kwargs, errors)
        assert Reading.objects.count() == 1


def test_chronic_rows_last_reading_and_overdue(station, tule, in_commune, fixed_today):
    from health.models import ChronicCondition, Reading

    with in_commune(tule):
        grandfather = station["records"]["grandfather"]
        mother = station["records"]["mother"]
        ChronicCondition.objects.create(record=grandfather, icd10="I10", diagnosed_on=datetime.date(2020, 1, 1),
                                        programme="hypertension")
        ChronicCondition.objects.create(record=grandfather, icd10="E11", diagnosed_on=datetime.date(2022, 1, 1),
                                        programme="diabetes")
        ChronicCondition.objects.create(record=mother, icd10="I10", diagnosed_on=datetime.date(2025, 1, 1),
                                        programme="hypertension")
        ChronicCondition.objects.create(record=mother, icd10="J45", diagnosed_on=datetime.date(2025, 1, 1))
        Reading.objects.create(record=grandfather, taken_on=TODAY - datetime.timedelta(days=29), systolic=150, diastolic=90)
        Reading.objects.create(record=grandfather, taken_on=TODAY - datetime.timedelta(days=45), glucose_mmol=Decimal("8.1"))
        Reading.objects.create(record=grandfather, taken_on=TODAY - datetime.timedelta(days=60), systolic=170, diastolic=100)
        Reading.objects.create(record=mother, taken_on=TODAY - datetime.timedelta(days=30), systolic=135, diastolic=85)
        rows = {(row.record.pk, row.programme): row for row in programmes.chronic_rows(on=TODAY)}
        assert set(rows) == {(grandfather.pk, "hypertension"), (grandfather.pk, "diabetes"), (mother.pk, "hypertension")}
        hypertension = rows[(grandfather.pk, "hypertension")]
        assert hypertension.last_reading.systolic == 150 and hypertension.days_since == 29 and not hypertension.overdue
        diabetes = rows[(grandfather.pk, "diabetes")]
        assert diabetes.last_reading.glucose_mmol == Decimal("8.1") and diabetes.overdue
        assert rows[(mother.pk, "hypertension")].overdue  # 30 days: due again
        assert programmes.overdue_count(TODAY) == 2
        village = station["village"].pk
        assert len(programmes.chronic_rows(village_id=village, programme="diabetes", on=TODAY)) == 1
        assert programmes.chronic_rows(village_id=village + 1000, on=TODAY) == []


def test_register_a_pregnancy_by_naegele_or_ultrasound_and_one_ongoing(station, tule, in_commune, fixed_today):
    from health.models import Pregnancy

    with in_commune(tule):
        mother = station["records"]["mother"]
        pregnancy = programmes.register_pregnancy(mother, registered_on=TODAY, last_period=datetime.date(2026, 9, 1),
                                                  gravida=2, para=1)
        assert pregnancy.expected_delivery == datetime.date(2027, 6, 8)
        errors = refusal(lambda: programmes.register_pregnancy(mother, registered_on=TODAY,
                                                               expected_delivery=datetime.date(2027, 5, 1)))
        assert "đang mang thai" in errors["__all__"][0]
        # Even past the service's check, the database refuses a second ongoing pregnancy.
        with pytest.raises(IntegrityError), transaction.atomic():
            Pregnancy.objects.create(record=mother, expected_delivery=datetime.date(2027, 5, 1), registered_on=TODAY)
        programmes.end_pregnancy(pregnancy, outcome="miscarriage", ended_on=TODAY, children=0)
        second = programmes.register_pregnancy(mother, registered_on=TODAY, expected_delivery=datetime.date(2027, 8, 1))
        assert second.last_period is None and second.expected_delivery == datetime.date(2027, 8, 1)
        assert Pregnancy.objects.filter(record=mother).count() == 2


def test_the_database_constraint_is_answered_in_vietnamese(station, tule, in_commune, fixed_today, monkeypatch):
    """Two officers at once: both pass the check, the second save meets the constraint."""
    from health.models import Pregnancy

    with in_commune(tule):
        mother = station["records"]["mother"]
        Pregnancy.objects.create(record=mother, expected_delivery=datetime.date(2027, 5, 1), registered_on=TODAY)
        monkeypatch.setattr(programmes, "ongoing", lambda record: None)
        errors = refusal(lambda: programmes.register_pregnancy(mother, registered_on=TODAY,
                                                               last_period=datetime.date(2026, 10, 1)))
        assert "đang mang thai" in errors["__all__"][0]
        assert Pregnancy.objects.filter(record=mother).count() == 1


def test_every_bad_pregnancy(station, tule, in_commune, fixed_today):
    from health.models import HealthRecord, Pregnancy
    from population import services
    from population.models import Resident

    with in_commune(tule):
        mother = station["records"]["mother"]
        girl = services.save_resident(Resident(household=station["household"], full_name="Lò Thị Em",
                                               birth_date=datetime.date(2018, 1, 1), sex="female", relation="grandchild"))
        girl_record = HealthRecord.objects.create(resident=girl, opened_on=TODAY)
        cases = [
            (station["records"]["grandfather"], {"last_period": datetime.date(2026, 10, 1)}, "__all__", "phụ nữ"),
            (girl_record, {"last_period": datetime.date(2026, 10, 1)}, "__all__", "10"),
            (mother, {"last_period": TODAY + datetime.timedelta(days=1)}, "last_period", "tương lai"),
            (mother, {"last_period": datetime.date(2025, 10, 1)}, "last_period", "44"),
            (mother, {}, "last_period", "siêu âm"),
            (mother, {"expected_delivery": datetime.date(2026, 10, 1)}, "expected_delivery", "đã qua"),
            (mother, {"expected_delivery": datetime.date(2028, 1, 1)}, "expected_delivery", "42"),
            (mother, {"last_period": datetime.date(2026, 10, 1), "gravida": 0}, "gravida", "1"),
            (mother, {"last_period": datetime.date(2026, 10, 1), "gravida": 2, "para": 2}, "para", "ít hơn"),
            (mother, {"registered_on": TODAY + datetime.timedelta(days=2), "last_period": datetime.date(2026, 10, 1)},
             "registered_on", "tương lai"),
        ]
        for record, kwargs, field, words in cases:
            kwargs = {"registered_on": TODAY, **kwargs}
            errors = refusal(lambda: programmes.register_pregnancy(record, **kwargs))
            assert field in errors, (kwargs, errors)
            assert words in " ".join(errors[field]), (kwargs, errors)
        assert Pregnancy.objects.count() == 0


def test_antenatal_visits_and_their_bad_inputs(station, tule, in_commune, fixed_today):
    from health.models import AntenatalVisit

    with in_commune(tule):
        mother = station["records"]["mother"]
        pregnancy = programmes.register_pregnancy(mother, registered_on=datetime.date(2026, 11, 1),
                                                  last_period=datetime.date(2026, 9, 1))
        visit = programmes.add_antenatal_visit(pregnancy, visited_on=TODAY, weight_kg="52,5", systolic=110,
                                               diastolic=70, fundal_height_cm=12, tetanus_dose=1)
        assert visit.weight_kg == Decimal("52.50")
        cases = [
            ({"visited_on": datetime.date(2026, 10, 31)}, "visited_on", "01/11/2026"),
            ({"visited_on": TODAY + datetime.timedelta(days=1)}, "visited_on", "tương lai"),
            ({"visited_on": TODAY, "weight_kg": "20"}, "weight_kg", "25"),
            ({"visited_on": TODAY, "systolic": 100, "diastolic": 120}, "diastolic", "thấp hơn"),
            ({"visited_on": TODAY, "fundal_height_cm": 60}, "fundal_height_cm", "50"),
            ({"visited_on": TODAY, "tetanus_dose": 6}, "tetanus_dose", "5"),
        ]
        for kwargs, field, words in cases:
            errors = refusal(lambda: programmes.add_antenatal_visit(pregnancy, **kwargs))
            assert field in errors and words in " ".join(errors[field]), (kwargs, errors)
        programmes.end_pregnancy(pregnancy, outcome="live_birth", ended_on=TODAY, children=1)
        errors = refusal(lambda: programmes.add_antenatal_visit(pregnancy, visited_on=TODAY))
        assert "kết thúc" in errors["__all__"][0]
        assert AntenatalVisit.objects.count() == 1


def test_end_of_a_pregnancy_and_its_bad_inputs(station, tule, in_commune, fixed_today):
    with in_commune(tule):
        mother = station["records"]["mother"]
        pregnancy = programmes.register_pregnancy(mother, registered_on=datetime.date(2026, 11, 1),
                                                  last_period=datetime.date(2026, 3, 10))
        programmes.add_antenatal_visit(pregnancy, visited_on=datetime.date(2026, 11, 20))
        cases = [
            ({"outcome": "", "ended_on": TODAY, "children": 0}, "outcome", "kết quả"),
            ({"outcome": "bogus", "ended_on": TODAY, "children": 0}, "outcome", "kết quả"),
            ({"outcome": "live_birth", "ended_on": TODAY + datetime.timedelta(days=1), "children": 1}, "ended_on", "tương lai"),
            ({"outcome": "live_birth", "ended_on": datetime.date(2026, 10, 30), "children": 1}, "ended_on", "đăng ký"),
            ({"outcome": "live_birth", "ended_on": datetime.date(2026, 11, 10), "children": 1}, "ended_on", "20/11/2026"),
            ({"outcome": "live_birth", "ended_on": TODAY, "children": 0}, "children", "ít nhất"),
            ({"outcome": "stillbirth", "ended_on": TODAY, "children": 1}, "children", "sinh sống"),
            ({"outcome": "live_birth", "ended_on": TODAY, "children": 7}, "children", "6"),
        ]
        for kwargs, field, words in cases:
            errors = refusal(lambda: programmes.end_pregnancy(pregnancy, **kwargs))
            assert field in errors and words in " ".join(errors[field]).lower(), (kwargs, errors)
        pregnancy.refresh_from_db()
        assert pregnancy.outcome == "" and pregnancy.ended_on is None
        programmes.end_pregnancy(pregnancy, outcome="live_birth", ended_on=TODAY, children=2)
        pregnancy.refresh_from_db()
        assert (pregnancy.outcome, pregnancy.ended_on, pregnancy.children) == ("live_birth", TODAY, 2)
        errors = refusal(lambda: programmes.end_pregnancy(pregnancy, outcome="live_birth", ended_on=TODAY, children=1))
        assert "đã kết thúc" in errors["__all__"][0]


def test_deliveries_expected_and_under_care(station, tule, in_commune, fixed_today):
    with in_commune(tule):
        mother = station["records"]["mother"]
        pregnancy = programmes.register_pregnancy(mother, registered_on=datetime.date(2026, 5, 1),
                                                  last_period=datetime.date(2026, 3, 10))  # due 15/12/2026
        assert pregnancy.expected_delivery == datetime.date(2026, 12, 15)
        first, last = programmes.month_bounds(TODAY)
        assert (first, last) == (datetime.date(2026, 12, 1), datetime.date(2026, 12, 31))
        assert list(programmes.deliveries_expected(first, last)) == [pregnancy]
        assert list(programmes.deliveries_expected(datetime.date(2027, 1, 1), datetime.date(2027, 1, 31))) == []
        assert list(programmes.pregnancies_under_care(village_id=station["village"].pk)) == [pregnancy]


def test_growth_stores_the_who_z_scores_and_flags(station, tule, in_commune, fixed_today):
    from health.models import GrowthMeasurement

    with in_commune(tule):
        baby = station["records"]["baby"]  # a boy born 04/05/2026: 7 months on 07/12/2026
        months = growth.age_in_months(datetime.date(2026, 5, 4), TODAY)
        cut = growth.lms_at("wfa_boys", months).value_at(-2)
        thin = programmes.record_growth(baby, measured_on=TODAY, weight_kg=round(cut - 0.05, 2), height_cm="67,5")
        assert thin.underweight and thin.weight_for_age_z < Decimal("-2")
        assert thin.height_cm == Decimal("67.5") and thin.height_for_age_z is not None
        assert thin.weight_for_height_z is not None
        fine = programmes.record_growth(baby, measured_on=TODAY - datetime.timedelta(days=30),
                                        weight_kg=round(cut + 0.3, 2), height_cm=66, position="standing")
        assert not fine.underweight and fine.height_cm == Decimal("66.7")  # 0.7 cm added: stood under 2 years
        assert GrowthMeasurement.objects.filter(record=baby).count() == 2
        overview = programmes.growth_overview(on=TODAY)
        assert [m.pk for m in overview.latest] == [thin.pk]
        assert [m.pk for m in overview.malnourished] == [thin.pk] and overview.underweight == 1


def test_every_bad_growth_measurement(station, tule, in_commune, fixed_today):
    from health.models import GrowthMeasurement

    with in_commune(tule):
        baby = station["records"]["baby"]
        grandfather = station["records"]["grandfather"]
        programmes.record_growth(baby, measured_on=TODAY, weight_kg="7,9", height_cm="68")
        cases = [
            (baby, {"measured_on": TODAY, "weight_kg": "8"}, "measured_on", "đã được đo"),
            (baby, {"measured_on": TODAY + datetime.timedelta(days=1), "weight_kg": "8"}, "measured_on", "tương lai"),
            (baby, {"measured_on": datetime.date(2026, 5, 3), "weight_kg": "3"}, "measured_on", "ngày sinh"),
            (grandfather, {"measured_on": TODAY, "weight_kg": "60"}, "measured_on", "dưới 5 tuổi"),
            (baby, {"measured_on": datetime.date(2026, 12, 1), "weight_kg": "0,5"}, "weight_kg", "40"),
            (baby, {"measured_on": datetime.date(2026, 12, 1), "weight_kg": "41"}, "weight_kg", "40"),
            (baby, {"measured_on": datetime.date(2026, 12, 1), "weight_kg": ""}, "weight_kg", "cân nặng"),
            (baby, {"measured_on": datetime.date(2026, 12, 1), "weight_kg": "8", "height_cm": "39"}, "height_cm", "130"),
            (baby, {"measured_on": datetime.date(2026, 12, 1), "weight_kg": "8", "position": "sideways"}, "position", "đo"),
            (baby, {"measured_on": datetime.date(2026, 12, 1), "weight_kg": "25", "height_cm": "68"}, "weight_kg", "WHO"),
        ]
        for record, kwargs, field, words in cases:
            errors = refusal(lambda: programmes.record_growth(record, **kwargs))
            assert field in errors and words in " ".join(errors[field]), (kwargs, errors)
        assert GrowthMeasurement.objects.count() == 1


def test_girl_of_24_months_flags_stunting_when_stored(station, tule, in_commune, fixed_today):
    """The toddler (a girl born 15/09/2024) measured standing at 26 months, just under −2 SD."""
    from health.models import HealthRecord

    with in_commune(tule):
        toddler = HealthRecord.objects.create(resident=station["toddler"], opened_on=TODAY)
        on = datetime.date(2026, 11, 20)
        months = growth.age_in_months(datetime.date(2024, 9, 15), on)
        cut = growth.lms_at("hfa_girls", months).value_at(-2)
        short = programmes.record_growth(toddler, measured_on=on, weight_kg="10,5", height_cm=round(cut - 0.1, 1))
        assert short.stunted and Decimal("-2.1") < short.height_for_age_z < Decimal("-2")
        taller = programmes.record_growth(toddler, measured_on=on - datetime.timedelta(days=1), weight_kg="10,5",
                                          height_cm=round(cut + 0.2, 1))
        assert not taller.stunted
