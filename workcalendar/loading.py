"""Load the shipped schedule (``workcalendar/data/holidays.yaml``) into the tables.

The functions take the model classes as arguments so that the data migration can pass its
historical models and the ``load_holidays`` command the real ones (which also records history).

How a year of the file becomes rows:

* ``CalendarYear.status``: ``confirmed`` when at least one entry is confirmed (an official notice
  is known); ``secondary`` when every entry lists its weekdays off and none is unconfirmed;
  otherwise ``unconfirmed``. The notice reference is the first "…/TB-…" number in the sources.
* Confirmed and secondary years: every ``weekdays_off`` date becomes a ``day_off`` override and
  every ``make_up_workdays`` date a ``working_day`` override, with the entry's name, source and
  confidence. Unconfirmed years get no overrides: their days come from the computation, which
  the file's own unconfirmed entries only repeat.
* ``EXTRA_STATUTORY``: holidays added by law after the Labour Code, as ``StatutoryHoliday`` rows.

Loading is idempotent: rows are matched by year, by date and by (month, day, valid_from); the
file wins for what it lists. With ``prune`` the overrides of a loaded year that the file does not
list are deleted.
"""
from __future__ import annotations

import datetime
import re
from pathlib import Path

import yaml

DATA_FILE = Path(__file__).resolve().parent / "data" / "holidays.yaml"
NOTICE_RE = re.compile(r"\b\d+/TB-[^\s,;()]+")

EXTRA_STATUTORY = [
    {
        "name": "Ngày Văn hóa Việt Nam",
        "month": 11,
        "day": 24,
        "valid_from": datetime.date(2026, 7, 1),
        "compensated": False,
        "confidence": "secondary",
        "source": (
            "Nghị quyết 28/2026/QH16 về phát triển văn hóa Việt Nam, Điều 2, in force 01/7/2026 "
            "(reported through third-party compilations; the official text was not seen). The day is "
            "read as outside Bộ luật Lao động Điều 112(1), so no nghỉ bù (unconfirmed)."
        ),
    },
]


def read_file(path: Path | str | None = None) -> dict:
    with open(path or DATA_FILE, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def _dates(values) -> list[datetime.date]:
    result = []
    for value in values or ():
        if isinstance(value, datetime.date):
            result.append(value)
        else:
            try:
                result.append(datetime.date.fromisoformat(str(value)))
            except ValueError:
                continue  # free text such as "1/9 or 3/9 to be decided"
    return result


def _year_status(entries: list[dict]) -> str:
    levels = [entry.get("confidence", "unconfirmed") for entry in entries]
    if "confirmed" in levels:
        return "confirmed"
    if entries and "unconfirmed" not in levels and all(entry.get("weekdays_off") is not None for entry in entries):
        return "secondary"
    return "unconfirmed"


def _clean(text) -> str:
    return " ".join(str(text or "").split())


def load_schedule(data: dict, *, CalendarYear, DayOverride, StatutoryHoliday, prune: bool = False) -> dict:
    counts = {"years": 0, "overrides": 0, "statutory": 0, "pruned": 0}
    for spec in EXTRA_STATUTORY:
        StatutoryHoliday.objects.update_or_create(
            month=spec["month"], day=spec["day"], valid_from=spec["valid_from"],
            defaults={key: spec[key] for key in ("name", "compensated", "confidence", "source")},
        )
        counts["statutory"] += 1
    for year, body in sorted((data.get("years") or {}).items()):
        year = int(year)
        if isinstance(body, dict):
            entries, note = body.get("items") or [], _clean(body.get("note"))
        else:
            entries, note = body or [], ""
        status = _year_status(entries)
        sources = []
        for entry in entries:
            source = _clean(entry.get("source"))
            if source and source not in sources:
                sources.append(source)
        notice = next((m.group(0) for s in sources for m in [NOTICE_RE.search(s)] if m), "")
        calendar_year, _created = CalendarYear.objects.update_or_create(
            year=year,
            defaults={"status": status, "notice": notice, "source": "\n".join(sources), "note": note},
        )
        counts["years"] += 1
        listed = set()
        if status != "unconfirmed":
            for entry in entries:
                name = _clean(entry.get("holiday"))
                common = {
                    "calendar_year": calendar_year,
                    "source": _clean(entry.get("source")),
                    "confidence": entry.get("confidence", "unconfirmed"),
                }
                for date in _dates(entry.get("weekdays_off")):
                    DayOverride.objects.update_or_create(date=date, defaults={**common, "kind": "day_off", "name": name})
                    listed.add(date)
                for date in _dates(entry.get("make_up_workdays")):
                    DayOverride.objects.update_or_create(
                        date=date, defaults={**common, "kind": "working_day", "name": f"{name} (làm bù)"},
                    )
                    listed.add(date)
        counts["overrides"] += len(listed)
        if prune:
            deleted, _detail = calendar_year.overrides.exclude(date__in=listed).delete()
            counts["pruned"] += deleted
    return counts
