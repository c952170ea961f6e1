"""The Expanded Programme on Immunization schedule (Tiêm chủng mở rộng, TCMR) as data.

The schedule is a file, ``health/data/epi_schedule.yaml``, because the Ministry of Health changes
it by circular (Circular 10/2024/TT-BYT at the time of writing) and because several of its
values could not be read in the circular itself: each value carries ``confirmed`` and a note,
and an administrator corrects the file, not the code.

The file is read and checked once per process (``get_schedule``). A file that breaks a rule
(an unknown unit, a dose out of order, a minimum age above the recommended one, a reference to
a vaccine that does not exist…) raises ``ScheduleError`` naming the file, the vaccine and the
dose: the URLs of the health app load it, so the portal refuses to start rather than print a
wrong due list. ``XASO_EPI_SCHEDULE_FILE`` points at another file (a province's own copy).
"""
from __future__ import annotations

import calendar
import datetime
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

DEFAULT_FILE = Path(__file__).resolve().parent / "data" / "epi_schedule.yaml"
_SPAN = re.compile(r"^\s*(\d{1,3})\s*([dwmy])\s*$")


class ScheduleError(ImproperlyConfigured):
    pass


def add_months(day: datetime.date, months: int) -> datetime.date:
    """The same day of the month ``months`` later; the month's last day when it is shorter
    (31/01 + 1 month = 28/02 or 29/02)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return datetime.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


@dataclass(frozen=True)
class Span:
    """An age or an interval: a number of days, weeks, months or years."""

    number: int
    unit: str  # "d", "w", "m", "y"

    @classmethod
    def parse(cls, value) -> Span:
        match = _SPAN.match(str(value))
        if not match:
            raise ValueError(f"{value!r} is not an age or interval such as 0d, 6w, 2m or 1y")
        return cls(int(match.group(1)), match.group(2))

    def after(self, day: datetime.date) -> datetime.date:
        if self.unit == "d":
            return day + datetime.timedelta(days=self.number)
        if self.unit == "w":
            return day + datetime.timedelta(weeks=self.number)
        if self.unit == "m":
            return add_months(day, self.number)
        return add_months(day, 12 * self.number)

    @property
    def approx_days(self) -> float:
        return self.number * {"d": 1, "w": 7, "m": 30.44, "y": 365.25}[self.unit]

    def __str__(self) -> str:
        return f"{self.number}{self.unit}"


@dataclass(frozen=True)
class After:
    vaccine: str
    dose: int
    min_interval: Span


@dataclass(frozen=True)
class Dose:
    vaccine: str
    number: int
    age: Span
    min_age: Span
    before_age: Span
    interval: Span | None = None
    min_interval: Span | None = None
    interval_from: int | None = None
    after: After | None = None
    confirmed: bool = False
    note: str = ""

    @property
    def key(self) -> tuple[str, int]:
        return (self.vaccine, self.number)

    @property
    def reference(self) -> int | None:
        """The dose of the same vaccine the intervals count from (None for a first dose)."""
        if self.number == 1:
            return None
        return self.interval_from or self.number - 1


@dataclass(frozen=True)
class Vaccine:
    code: str
    name: str
    name_en: str
    antigens: tuple[str, ...]
    doses: tuple[Dose, ...]

    def dose(self, number: int) -> Dose | None:
        for dose in self.doses:
            if dose.number == number:
                return dose
        return None

    def dose_label(self, number: int) -> str:
        from django.utils.translation import gettext as _

        if len(self.doses) == 1:
            return self.name
        return _("%(vaccine)s, dose %(dose)d") % {"vaccine": self.name, "dose": number}


@dataclass(frozen=True)
class Schedule:
    version: str
    source: str
    valid_from: datetime.date | None
    on_time_days: int
    follow_until: Span
    vaccines: tuple[Vaccine, ...]
    by_code: dict = field(default_factory=dict, compare=False, hash=False)

    def vaccine(self, code: str) -> Vaccine | None:
        return self.by_code.get(code)

    def dose(self, code: str, number: int) -> Dose | None:
        vaccine = self.vaccine(code)
        return vaccine.dose(number) if vaccine else None

    @property
    def doses(self) -> list[Dose]:
        return [dose for vaccine in self.vaccines for dose in vaccine.doses]

    def label(self, code: str, number: int) -> str:
        vaccine = self.vaccine(code)
        return vaccine.dose_label(number) if vaccine else f"{code} {number}"


def _fail(path, where: str, message: str):
    raise ScheduleError(f"EPI schedule {path}: {where}: {message}")


def _span(path, where: str, entry: dict, key: str, *, required: bool = True) -> Span | None:
    if key not in entry or entry[key] is None:
        if required:
            _fail(path, where, f"'{key}' is missing")
        return None
    try:
        return Span.parse(entry[key])
    except ValueError as exc:
        _fail(path, where, f"'{key}': {exc}")


def parse_schedule(data, path="<data>") -> Schedule:
    """Check ``data`` (the YAML document) and build the schedule; ``ScheduleError`` otherwise."""
    if not isinstance(data, dict):
        _fail(path, "file", "the file must hold a mapping with 'version' and 'vaccines'")
    for key in ("version", "vaccines"):
        if key not in data:
            _fail(path, "file", f"'{key}' is missing")
    raw_vaccines = data["vaccines"]
    if not isinstance(raw_vaccines, list) or not raw_vaccines:
        _fail(path, "file", "'vaccines' must be a non-empty list")
    valid_from = data.get("valid_from")
    if valid_from is not None and not isinstance(valid_from, datetime.date):
        _fail(path, "file", "'valid_from' must be a date such as 2024-01-01")
    on_time = data.get("on_time_days", 30)
    if not isinstance(on_time, int) or isinstance(on_time, bool) or not 0 <= on_time <= 365:
        _fail(path, "file", "'on_time_days' must be a whole number of days between 0 and 365")
    follow_until = _span(path, "file", {"follow_until": data.get("follow_until", "6y")}, "follow_until")

    vaccines: list[Vaccine] = []
    seen: set[str] = set()
    for index, raw in enumerate(raw_vaccines, start=1):
        where = f"vaccine #{index}"
        if not isinstance(raw, dict):
            _fail(path, where, "each vaccine must be a mapping")
        code = str(raw.get("code") or "").strip()
        if not re.fullmatch(r"[A-Z0-9_]{2,20}", code):
            _fail(path, where, "'code' must be 2 to 20 capital letters, digits or underscores")
        where = f"vaccine {code}"
        if code in seen:
            _fail(path, where, "the code appears twice")
        seen.add(code)
        name = str(raw.get("name") or "").strip()
        if not name:
            _fail(path, where, "'name' (Vietnamese) is missing")
        antigens = raw.get("antigens")
        if not isinstance(antigens, list) or not antigens or not all(isinstance(a, str) and a for a in antigens):
            _fail(path, where, "'antigens' must be a non-empty list of names")
        raw_doses = raw.get("doses")
        if not isinstance(raw_doses, list) or not raw_doses:
            _fail(path, where, "'doses' must be a non-empty list")
        doses: list[Dose] = []
        for position, entry in enumerate(raw_doses, start=1):
            dwhere = f"{where}, dose #{position}"
            if not isinstance(entry, dict):
                _fail(path, dwhere, "each dose must be a mapping")
            number = entry.get("dose")
            if number != position:
                _fail(path, dwhere, f"doses must be numbered 1, 2, 3… in order (found {number!r})")
            dwhere = f"{where}, dose {number}"
            age = _span(path, dwhere, entry, "age")
            min_age = _span(path, dwhere, entry, "min_age")
            before_age = _span(path, dwhere, entry, "before_age")
            interval = _span(path, dwhere, entry, "interval", required=False)
            min_interval = _span(path, dwhere, entry, "min_interval", required=False)
            if min_age.approx_days > age.approx_days:
                _fail(path, dwhere, "'min_age' is above the recommended 'age'")
            if before_age.approx_days <= age.approx_days:
                _fail(path, dwhere, "'before_age' must be above the recommended 'age'")
            if interval and min_interval and min_interval.approx_days > interval.approx_days:
                _fail(path, dwhere, "'min_interval' is above the recommended 'interval'")
            if number == 1 and (interval or min_interval or entry.get("interval_from")):
                _fail(path, dwhere, "a first dose has no interval from a previous dose")
            interval_from = entry.get("interval_from")
            if interval_from is not None and (not isinstance(interval_from, int) or not 1 <= interval_from < number):
                _fail(path, dwhere, "'interval_from' must name an earlier dose of the same vaccine")
            after = None
            if entry.get("after") is not None:
                raw_after = entry["after"]
                if not isinstance(raw_after, dict) or not {"vaccine", "dose", "min_interval"} <= set(raw_after):
                    _fail(path, dwhere, "'after' needs 'vaccine', 'dose' and 'min_interval'")
                after = After(str(raw_after["vaccine"]), raw_after["dose"],
                              _span(path, dwhere + " (after)", raw_after, "min_interval"))
            confirmed = entry.get("confirmed")
            if not isinstance(confirmed, bool):
                _fail(path, dwhere, "'confirmed' must be true or false")
            note = str(entry.get("note") or "").strip()
            if not confirmed and not note:
                _fail(path, dwhere, "an unconfirmed value needs a 'note' saying where it comes from")
            doses.append(Dose(code, number, age, min_age, before_age, interval, min_interval, interval_from, after,
                              confirmed, note))
        vaccines.append(Vaccine(code, name, str(raw.get("name_en") or name), tuple(antigens), tuple(doses)))

    by_code = {v.code: v for v in vaccines}
    for vaccine in vaccines:
        for dose in vaccine.doses:
            if dose.after is not None:
                other = by_code.get(dose.after.vaccine)
                if other is None or other.dose(dose.after.dose) is None:
                    _fail(path, f"vaccine {vaccine.code}, dose {dose.number}",
                          f"'after' names {dose.after.vaccine} dose {dose.after.dose}, which the schedule does not have")
                if dose.after.vaccine == vaccine.code:
                    _fail(path, f"vaccine {vaccine.code}, dose {dose.number}", "'after' must name another vaccine")
            if dose.before_age.approx_days > follow_until.approx_days:
                _fail(path, f"vaccine {vaccine.code}, dose {dose.number}", "'before_age' is above 'follow_until'")
    return Schedule(str(data["version"]), str(data.get("source") or ""), valid_from, on_time, follow_until,
                    tuple(vaccines), by_code)


def load_schedule(path: str | Path) -> Schedule:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ScheduleError(f"EPI schedule {path}: cannot be read ({exc.strerror})") from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ScheduleError(f"EPI schedule {path}: not valid YAML ({exc})") from exc
    return parse_schedule(data, path)


def schedule_file() -> Path:
    return Path(getattr(settings, "XASO_EPI_SCHEDULE_FILE", "") or DEFAULT_FILE)


@lru_cache(maxsize=1)
def get_schedule() -> Schedule:
    return load_schedule(schedule_file())
