"""The shipped schedule (loaded by the data migration), the loader and cache invalidation."""
import datetime

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command

from workcalendar import services
from workcalendar.models import CalendarYear, DayOverride
from workcalendar.selectors import year_schedule

D = datetime.date


def test_2026_schedule_from_the_shipped_data(db):
    for day in range(16, 21):
        assert not services.is_working_day(D(2026, 2, day)), day
    assert not services.is_working_day(D(2026, 2, 14)) and not services.is_working_day(D(2026, 2, 15))
    assert services.is_working_day(D(2026, 2, 13)) and services.is_working_day(D(2026, 2, 23))
    assert services.is_working_day(D(2026, 1, 10))  # Saturday worked for Friday 2/1
    assert not services.is_working_day(D(2026, 1, 2))
    assert not services.is_working_day(D(2026, 4, 27))  # Giỗ Tổ on Sunday 26/4, made up
    for day in (D(2026, 8, 31), D(2026, 9, 1), D(2026, 9, 2)):
        assert not services.is_working_day(day)
    assert services.is_working_day(D(2026, 8, 22))
    assert not services.is_working_day(D(2026, 11, 24))
    assert services.is_working_day(D(2026, 11, 23))


def test_shipped_entries_keep_source_and_confidence(db):
    tet = DayOverride.objects.get(date=D(2026, 2, 16))
    assert tet.kind == "day_off" and tet.confidence == "confirmed" and "9441/TB-BNV" in tet.source
    culture = DayOverride.objects.get(date=D(2026, 11, 24))
    assert culture.confidence == "secondary"
    assert DayOverride.objects.get(date=D(2026, 1, 10)).kind == "working_day"
    year = CalendarYear.objects.get(year=2026)
    assert year.status == "confirmed" and year.notice == "9441/TB-BNV"
    assert CalendarYear.objects.get(year=2027).status == "unconfirmed"
    assert not DayOverride.objects.filter(calendar_year__year=2027).exists()


def test_load_holidays_is_idempotent_and_restores_the_file(db):
    before = set(DayOverride.objects.values_list("date", "kind", "confidence"))
    DayOverride.objects.filter(date=D(2026, 2, 16)).update(kind="working_day")
    call_command("load_holidays", skip_checks=True)
    call_command("load_holidays", skip_checks=True)
    assert set(DayOverride.objects.values_list("date", "kind", "confidence")) == before
    assert CalendarYear.objects.filter(year__in=[2025, 2026, 2027]).count() == 3


def test_load_holidays_prune_removes_unlisted_days(db):
    year = CalendarYear.objects.get(year=2026)
    DayOverride.objects.create(calendar_year=year, date=D(2026, 12, 31), kind="day_off", name="x")
    services.load_holidays()
    assert DayOverride.objects.filter(date=D(2026, 12, 31)).exists()
    counts = services.load_holidays(prune=True)
    assert counts["pruned"] == 1
    assert not DayOverride.objects.filter(date=D(2026, 12, 31)).exists()
    assert DayOverride.objects.filter(date=D(2026, 2, 16)).exists()


def test_editing_an_override_changes_the_answers_at_once(db):
    monday = D(2027, 1, 4)
    assert services.is_working_day(monday)
    assert year_schedule(2027) is year_schedule(2027)  # cached
    override = DayOverride.objects.create(
        calendar_year=CalendarYear.objects.get(year=2027), date=monday, kind="day_off", name="Tết Dương lịch",
    )
    assert not services.is_working_day(monday)
    assert services.next_working_day(D(2027, 1, 1)) == D(2027, 1, 5)
    override.kind = "working_day"
    override.save()
    assert services.is_working_day(monday)
    override.delete()
    assert services.is_working_day(monday)
    # A computed holiday can be cancelled by a working-day override, and a confirmed year's
    # days can be edited.
    DayOverride.objects.create(
        calendar_year=CalendarYear.objects.get(year=2027), date=D(2027, 4, 16), kind="working_day",
    )
    assert services.is_working_day(D(2027, 4, 16))
    DayOverride.objects.filter(date=D(2026, 1, 10)).get().delete()
    assert not services.is_working_day(D(2026, 1, 10))


def test_confirming_a_year_switches_from_computation_to_its_overrides(db):
    assert not services.is_working_day(D(2027, 2, 8))  # computed Tết
    year = CalendarYear.objects.get(year=2027)
    year.status = "confirmed"
    year.save()
    assert services.is_working_day(D(2027, 2, 8))  # no override lists it any more
    assert not year_schedule(2027).computed


def test_override_must_fall_in_its_year(db):
    override = DayOverride(
        calendar_year=CalendarYear.objects.get(year=2026), date=D(2027, 1, 4), kind="day_off", name="x",
    )
    with pytest.raises(ValidationError) as error:
        override.full_clean()
    assert "date" in error.value.message_dict
