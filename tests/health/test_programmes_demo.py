"""The programmes' demo step on the station's village: people put under follow-up with a year of
readings, a pregnancy with its antenatal visits, the baby weighed; run twice, it adds nothing."""
from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_the_demo_seeds_the_programmes_once(station, tule, in_commune):
    from health import programme_demo
    from health.models import AntenatalVisit, ChronicCondition, GrowthMeasurement, Pregnancy, Reading

    made = programme_demo.populate(tule)
    assert made["people"] == 1 and made["pregnancies"] == 1 and made["children"] == 1
    with in_commune(tule):
        condition = ChronicCondition.objects.get()
        assert condition.record == station["records"]["grandfather"] and condition.icd10 in ("I10", "E11")
        assert Reading.objects.filter(record=condition.record).count() == made["readings"] >= 10
        pregnancy = Pregnancy.objects.get()
        assert pregnancy.record == station["records"]["mother"] and pregnancy.outcome == ""
        assert AntenatalVisit.objects.filter(pregnancy=pregnancy).count() >= 1
        measurement = GrowthMeasurement.objects.get()
        assert measurement.record == station["records"]["baby"] and measurement.weight_for_age_z is not None
    assert programme_demo.populate(tule) is None
