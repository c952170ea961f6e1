"""Lunar conversion and the Labour Code computation, checked against the shipped schedule file."""
import datetime

import pytest

from workcalendar.holidays import computed_days_off, statutory_holidays
from workcalendar.loading import read_file
from workcalendar.lunar import lunar_new_year, lunar_to_solar
from workcalendar.models import StatutoryHoliday

D = datetime.date


@pytest.mark.parametrize("args, expected", [
    ((2025, 1, 1), D(2025, 1, 29)),   # Tết Ất Tỵ
    ((2025, 3, 10), D(2025, 4, 7)),   # Giỗ Tổ 2025
    ((2026, 1, 1), D(2026, 2, 17)),   # Tết Bính Ngọ
    ((2026, 3, 10), D(2026, 4, 26)),  # Giỗ Tổ 2026 (a Sunday)
    ((2027, 1, 1), D(2027, 2, 6)),
])
def test_lunar_to_solar(args, expected):
    assert lunar_to_solar(*args) == expected


def test_a_lunar_date_that_does_not_exist_is_refused():
    # Tháng Chạp Ất Tỵ has 29 days (16/02/2026 is its last day): day 30 does not exist.
    assert lunar_to_solar(2025, 12, 29) == D(2026, 2, 16)
    with pytest.raises(ValueError):
        lunar_to_solar(2025, 12, 30)
    with pytest.raises(ValueError):
        lunar_to_solar(2026, 3, 10, leap=True)  # 2026 has no leap third month


def _entries(year):
    body = read_file()["years"][year]
    return body["items"] if isinstance(body, dict) else body


def _dates(values):
    out = set()
    for value in values or ():
        try:
            out.add(D.fromisoformat(str(value)))
        except ValueError:
            pass
    return out


@pytest.mark.parametrize("year", [2025, 2026, 2027])
def test_computed_law_days_match_the_file(db, year):
    extra = list(StatutoryHoliday.objects.all())
    law = {h.date for h in statutory_holidays(year, extra)}
    for entry in _entries(year):
        assert _dates(entry.get("legal_days")) <= law, entry["holiday"]
        if entry.get("lunar_new_year_day"):
            assert lunar_new_year(year) == D.fromisoformat(entry["lunar_new_year_day"])


def test_computed_2025_confirmed_statutory_days():
    days = {h.date for h in computed_days_off(2025)}
    for entry in _entries(2025):
        if entry["confidence"] == "confirmed" and entry.get("legal_days"):
            assert _dates(entry["legal_days"]) <= days
    # Tết: the last day of Giáp Thìn and mùng 1–4 Ất Tỵ; mùng 4 is Saturday 1/2, made up Monday 3/2.
    tet = sorted(h.date for h in computed_days_off(2025) if D(2025, 1, 20) < h.date < D(2025, 2, 10))
    assert tet == [D(2025, 1, 28), D(2025, 1, 29), D(2025, 1, 30), D(2025, 1, 31), D(2025, 2, 1), D(2025, 2, 3)]
    confirmed_tet = _dates(next(e for e in _entries(2025) if "Nguyên đán" in e["holiday"])["weekdays_off"])
    assert {D(2025, 1, 29), D(2025, 1, 30), D(2025, 1, 31)} <= confirmed_tet


def test_computed_2026_matches_the_confirmed_tet_and_gio_to():
    weekdays = {h.date for h in computed_days_off(2026) if h.date.weekday() < 5}
    for entry in _entries(2026):
        if "Nguyên đán" in entry["holiday"] or "Giỗ Tổ" in entry["holiday"]:
            assert _dates(entry["weekdays_off"]) <= weekdays
    make_up = [h for h in computed_days_off(2026) if h.compensation_for]
    assert [(h.date, h.compensation_for) for h in make_up] == [(D(2026, 4, 27), D(2026, 4, 26))]


def test_computed_2027_matches_the_files_unconfirmed_days(db):
    days = {h.date for h in computed_days_off(2027, StatutoryHoliday.objects.all())}
    for entry in _entries(2027):
        assert _dates(entry.get("weekdays_off")) <= days
    assert D(2027, 5, 3) in days  # 1/5 on a Saturday is made up on Monday 3/5 (Art. 111(3))
    assert D(2027, 11, 24) in days  # Ngày Văn hóa Việt Nam, from the statutory table


def test_extra_holiday_starts_on_its_valid_from_date_and_is_not_made_up(db):
    extra = list(StatutoryHoliday.objects.all())
    assert D(2025, 11, 24) not in {h.date for h in computed_days_off(2025, extra)}
    days_2030 = computed_days_off(2030, extra)  # 24/11/2030 is a Sunday
    assert D(2030, 11, 24) in {h.date for h in days_2030}
    assert D(2030, 11, 25) not in {h.date for h in days_2030}
