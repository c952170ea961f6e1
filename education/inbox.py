"""The schools' lines of the officials' to-do inbox. Each part of the app gives its own lines
through a callable ``(request, user, roles) -> list[InboxLine]`` named in ``PARTS``."""
from __future__ import annotations

from django.utils.module_loading import import_string

PARTS: list[str] = [
    # structure:
    "education.structure.inbox_lines",
    # assessment:
    "education.assessment.inbox_lines",
    # report cards:
    "education.report_cards.inbox_lines",
    # attendance and timetable:
    "education.attendance.inbox_lines",
    "education.timetable.inbox_lines",
    # contact book:
    "education.contact.inbox_lines",
    # applications:
    "education.applications.inbox_lines",
    # fees:
    "education.fees.inbox_lines",
]


def lines(request, user, roles) -> list:
    found = []
    for path in PARTS:
        found.extend(import_string(path)(request, user, roles))
    return found
