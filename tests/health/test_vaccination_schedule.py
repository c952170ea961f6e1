"""The EPI schedule file: it holds every vaccine of the programme with its doses, marks what was
not confirmed with a note, and a broken copy is refused with a message naming the place."""
from __future__ import annotations

import datetime
import shutil

import pytest
import yaml

from health.schedule import DEFAULT_FILE, ScheduleError, Span, add_months, get_schedule, load_schedule


def test_the_file_holds_the_programme():
    schedule = load_schedule(DEFAULT_FILE)
    codes = [v.code for v in schedule.vaccines]
    assert codes == ["VGB_SS", "BCG", "DPT_VGB_HIB", "OPV", "IPV", "SOI", "MR", "DPT4", "VNNB"]
    ages = {(d.vaccine, d.number): str(d.age) for d in schedule.doses}
    assert ages == {
        ("VGB_SS", 1): "0d", ("BCG", 1): "0d",
        ("DPT_VGB_HIB", 1): "2m", ("DPT_VGB_HIB", 2): "3m", ("DPT_VGB_HIB", 3): "4m",
        ("OPV", 1): "2m", ("OPV", 2): "3m", ("OPV", 3): "4m", ("IPV", 1): "5m", ("SOI", 1): "9m",
        ("MR", 1): "18m", ("DPT4", 1): "18m", ("VNNB", 1): "12m", ("VNNB", 2): "12m", ("VNNB", 3): "24m",
    }
    assert schedule.vaccine("DPT_VGB_HIB").antigens == ("D", "T", "P", "HepB", "Hib")
    birth_dose = schedule.dose("VGB_SS", 1)
    assert str(birth_dose.before_age) == "2d"  # within 24 hours, counted by dates
    je3 = schedule.dose("VNNB", 3)
    assert je3.reference == 1 and str(je3.interval) == "1y"  # a year after dose 1
    je2 = schedule.dose("VNNB", 2)
    assert (str(je2.min_interval), str(je2.interval)) == ("1w", "2w")
    assert str(schedule.vaccine("BCG").doses[0].before_age) == "12m"
    assert all(d.note for d in schedule.doses if not d.confirmed)


def test_months_are_added_as_calendar_months():
    assert add_months(datetime.date(2026, 1, 31), 1) == datetime.date(2026, 2, 28)
    assert add_months(datetime.date(2024, 1, 31), 1) == datetime.date(2024, 2, 29)
    assert Span.parse("18m").after(datetime.date(2025, 6, 30)) == datetime.date(2026, 12, 30)
    assert Span.parse("6w").after(datetime.date(2026, 5, 4)) == datetime.date(2026, 6, 15)
    with pytest.raises(ValueError):
        Span.parse("2 months")


def _broken(tmp_path, change) -> str:
    data = yaml.safe_load(DEFAULT_FILE.read_text(encoding="utf-8"))
    change(data)
    path = tmp_path / "epi_schedule.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return str(path)


def _dose(data, code, number):
    vaccine = next(v for v in data["vaccines"] if v["code"] == code)
    return vaccine["doses"][number - 1]


@pytest.mark.parametrize("change, message", [
    (lambda d: _dose(d, "OPV", 2).update(age="3 months"), "vaccine OPV, dose 2: 'age'"),
    (lambda d: _dose(d, "DPT_VGB_HIB", 2).update(dose=3), "vaccine DPT_VGB_HIB, dose #2: doses must be numbered"),
    (lambda d: _dose(d, "SOI", 1).update(min_age="10m"), "vaccine SOI, dose 1: 'min_age' is above"),
    (lambda d: _dose(d, "BCG", 1).update(before_age="0d"), "vaccine BCG, dose 1: 'before_age' must be above"),
    (lambda d: _dose(d, "MR", 1).update(after={"vaccine": "RUBELLA", "dose": 1, "min_interval": "1m"}),
     "vaccine MR, dose 1: 'after' names RUBELLA"),
    (lambda d: _dose(d, "IPV", 1).pop("confirmed"), "vaccine IPV, dose 1: 'confirmed' must be true or false"),
    (lambda d: _dose(d, "IPV", 1).update(note=""), "an unconfirmed value needs a 'note'"),
    (lambda d: d["vaccines"].append(dict(d["vaccines"][0])), "vaccine VGB_SS: the code appears twice"),
    (lambda d: _dose(d, "VNNB", 3).update(interval_from=3), "'interval_from' must name an earlier dose"),
    (lambda d: d.pop("vaccines"), "'vaccines' is missing"),
])
def test_a_broken_copy_is_refused_with_its_place(tmp_path, change, message):
    with pytest.raises(ScheduleError) as caught:
        load_schedule(_broken(tmp_path, change))
    assert message in str(caught.value)
    assert "epi_schedule.yaml" in str(caught.value)


def test_a_file_that_is_not_yaml_or_missing_is_refused(tmp_path):
    path = tmp_path / "epi_schedule.yaml"
    path.write_text("vaccines: [\n  - code: BCG\n", encoding="utf-8")
    with pytest.raises(ScheduleError, match="not valid YAML"):
        load_schedule(path)
    with pytest.raises(ScheduleError, match="cannot be read"):
        load_schedule(tmp_path / "nothing.yaml")


def test_the_portal_refuses_to_start_on_a_broken_setting(tmp_path, settings):
    """``get_schedule`` is what the URLs call when they load: a broken configured copy raises."""
    copy = tmp_path / "copy.yaml"
    shutil.copy(DEFAULT_FILE, copy)
    text = copy.read_text(encoding="utf-8").replace("before_age: 12m", "before_age: 12 months", 1)
    copy.write_text(text, encoding="utf-8")
    settings.XASO_EPI_SCHEDULE_FILE = str(copy)
    get_schedule.cache_clear()
    try:
        with pytest.raises(ScheduleError, match="vaccine BCG, dose 1: 'before_age'"):
            get_schedule()
    finally:
        settings.XASO_EPI_SCHEDULE_FILE = ""
        get_schedule.cache_clear()
    assert get_schedule().version == "2024.1"
