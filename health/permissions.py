"""Who may do what at the commune health station: the one place for the app's role checks.

Health data is sensitive (Decree 13/2023/NĐ-CP): a record is read only by

* the commune's health staff (role ``health_staff``, in the commune of the current host, in a
  session confirmed by the second factor like every official role that exports data:
  ``communes.second_factor``), who keep the register;
* the person: a citizen account linked to the resident (``CitizenLink``: by the personal ID
  number and birth date, or by the station), for their own record only (``may_read_record``).

No other role reads anything personal here: not the chairman, not the radio operator nor the
one-stop officer, not a supervising unit (they read the monthly aggregates that each commune
publishes through the outbox, never a record). The chairman and vice-chairman read the
station's aggregate figures (``report.read``).
"""
from __future__ import annotations

from django.core.exceptions import PermissionDenied

from communes.models import Role
from communes.permissions import roles_for

HEALTH_STAFF = Role.HEALTH_STAFF.value
STAFF = frozenset({HEALTH_STAFF})
LEADERS = frozenset({Role.CHAIRMAN.value, Role.VICE_CHAIRMAN.value})
MODULE_ROLES = STAFF | LEADERS

ACTION_ROLES: dict[str, frozenset] = {
    "module.open": MODULE_ROLES,  # the module's home: the inbox, and aggregate figures only for leaders
    "record.read": STAFF,  # records, visits, vaccinations, programmes: personal data
    "record.write": STAFF,
    "record.export": STAFF,  # .xlsx and PDF of personal data, imports
    "report.read": MODULE_ROLES,  # the monthly report: aggregate figures, no personal data
    "question.answer": STAFF,
}


def user_roles(user) -> set[str]:
    return roles_for(user)


def can(user, action: str) -> bool:
    return bool(user_roles(user) & ACTION_ROLES[action])


def require(user, action: str) -> None:
    if not can(user, action):
        raise PermissionDenied


def linked_resident_ids(user) -> set[int]:
    """The residents whose record ``user`` may read as the person (their ``CitizenLink``s in the
    current commune)."""
    from health.models import CitizenLink

    if not getattr(user, "is_authenticated", False) or not getattr(user, "pk", None) or not user.is_active:
        return set()
    return set(CitizenLink.objects.filter(user_id=user.pk).values_list("resident_id", flat=True))


def may_read_record(user, record) -> bool:
    """Health staff of the commune, or the person linked to the record's resident."""
    return can(user, "record.read") or record.resident_id in linked_resident_ids(user)


def require_record(user, record) -> None:
    if not may_read_record(user, record):
        raise PermissionDenied
