"""The one way to read a personal ID number in full (Decree 13/2023/NĐ-CP: log who read what).

Pages, the admin, API answers, exports and the one-stop desk show masked numbers
(``Resident.masked_id``, ``Dossier.masked_id_number``). Wherever a full number leaves the
server, it comes from ``reveal_id`` (one record) or ``reveal_ids`` (an export), and each call
writes one access-log line (action ``reveal``) naming the reader, the record and the purpose.
Templates, forms and serializers never read the stored field themselves.
"""
from __future__ import annotations

import re

from population.models import AccessLog

# The stored field that holds the ID number, per model (``app_label.model_name``).
_ID_FIELDS = {
    "population.resident": "personal_id",
    "onestop.dossier": "applicant_id_number",
}


def _field_of(model) -> str:
    label = model._meta.label_lower
    try:
        return _ID_FIELDS[label]
    except KeyError:
        raise TypeError(f"{label} holds no personal ID number") from None


def reveal_id(obj, user, *, purpose: str, channel: str) -> str:
    """The full ID number of a resident or a dossier's applicant, for ``user``; logged.

    An empty number is returned as "" and not logged (nothing was revealed)."""
    value = getattr(obj, _field_of(type(obj))) or ""
    if value:
        from population.services import log_access

        log_access(user, action=AccessLog.Action.REVEAL, channel=channel,
                   object_type=type(obj)._meta.label_lower, object_id=obj.pk, description=purpose)
    return value


def reveal_ids(queryset, user, *, purpose: str, channel: str) -> dict[int, str]:
    """The full ID numbers of the records of ``queryset`` ({pk: number}) for an export; one
    access-log line with their count."""
    field = _field_of(queryset.model)
    numbers = {pk: value for pk, value in queryset.order_by().values_list("pk", field) if value}
    if numbers:
        from population.services import log_access

        log_access(user, action=AccessLog.Action.REVEAL, channel=channel,
                   object_type=queryset.model._meta.label_lower,
                   description=f"{purpose} ({len(numbers)})")
    return numbers



def log_id_search(residents, term: str, user, *, channel: str) -> None:
    """A search by a full ID number tells whose number it is: each resident it found is a
    reveal of that number (one line each), whatever the page then shows."""
    if not re.fullmatch(r"[0-9]{12}", (term or "").strip()):
        return
    from django.utils.translation import gettext

    for resident in residents:
        reveal_id(resident, user, purpose=gettext("search by ID number"), channel=channel)
