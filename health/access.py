"""Every read and export of health data is logged (Decree 13/2023/NĐ-CP): who, when, what.

The lines go to the registry's access log (``population.AccessLog``) with the object type
``health_record`` (and the record's id), so that the commune's administrator reads one log for
all residents' data. Call ``log_read`` from every page, API view and file that shows a record or
part of it (its visits, vaccinations, programmes, its PDF), ``log_export`` from every export of
several records, ``log_search`` from a search of records.
"""
from __future__ import annotations

from population.models import AccessLog
from population.services import log_access

OBJECT_TYPE = "health_record"


def log_read(user, record, *, channel: str = "page", what: str = "") -> AccessLog:
    """``what``: the part read, in plain English for the log ("record", "visits", "record PDF")."""
    return log_access(user, action=AccessLog.Action.VIEW, channel=channel, object_type=OBJECT_TYPE,
                      object_id=getattr(record, "pk", record), description=what or "record")


def log_export(user, *, channel: str = "page", what: str, count: int | None = None) -> AccessLog:
    text = what if count is None else f"{what} ({count} records)"
    return log_access(user, action=AccessLog.Action.EXPORT, channel=channel, object_type=OBJECT_TYPE,
                      description=text)


def log_search(user, *, channel: str = "page", query: str = "") -> AccessLog:
    return log_access(user, action=AccessLog.Action.SEARCH, channel=channel, object_type=OBJECT_TYPE,
                      description=query)
