"""Every read and export of students' personal data is logged (Decree 13/2023/NĐ-CP): who,
when, what. The lines go to the registry's access log (``population.AccessLog``) with the object
type ``student`` (and the student's id) or ``school_class`` for a class's list, so that the
commune's administrator reads one log for all residents' data."""
from __future__ import annotations

from population.models import AccessLog
from population.services import log_access

STUDENT = "student"
CLASS = "school_class"


def log_read(user, student, *, channel: str = "page", what: str = "") -> AccessLog:
    """``what``: the part read, in plain English for the log ("marks", "attendance")."""
    return log_access(user, action=AccessLog.Action.VIEW, channel=channel, object_type=STUDENT,
                      object_id=getattr(student, "pk", student), description=what or "student")


def log_class_read(user, school_class, *, channel: str = "page", what: str = "") -> AccessLog:
    return log_access(user, action=AccessLog.Action.VIEW, channel=channel, object_type=CLASS,
                      object_id=getattr(school_class, "pk", school_class), description=what or "class list")


def log_export(user, *, channel: str = "page", what: str, count: int | None = None) -> AccessLog:
    text = what if count is None else f"{what} ({count} students)"
    return log_access(user, action=AccessLog.Action.EXPORT, channel=channel, object_type=STUDENT, description=text)


def log_search(user, *, channel: str = "page", query: str = "") -> AccessLog:
    return log_access(user, action=AccessLog.Action.SEARCH, channel=channel, object_type=STUDENT, description=query)
