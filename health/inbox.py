"""The health station's lines of the officials' to-do inbox. Each part of the app gives its own
lines through a callable ``(request, user, roles) -> list[InboxLine]`` named in ``PARTS``."""
from __future__ import annotations

from django.utils.module_loading import import_string

PARTS: list[str] = [
    # records:
    "health.records.inbox_lines",
    # visits:
    "health.visits.inbox_lines",
    # programmes:
    "health.programme_inbox.lines",
    # vaccination:
    "health.vaccination.inbox_lines",
    # questions:
    "health.questions.inbox_lines",
]


def lines(request, user, roles) -> list:
    found = []
    for path in PARTS:
        found.extend(import_string(path)(request, user, roles))
    return found
