"""Who may do what with the commune radio: the one place for the app's role checks.

* radio operator: writes bulletins (text or audio), listens to them, submits them for approval,
  manages clusters (and their device tokens), slots and pronunciations, reads the reports;
* chairman and vice-chairman: approve or send back bulletins, send emergency broadcasts, read
  everything;
* commune administrator: clusters, device tokens, slots and pronunciations;
* devices: only the device API, with their own token (no user).
"""
from __future__ import annotations

from django.core.exceptions import PermissionDenied

from communes.models import Role
from communes.permissions import roles_for

OPERATOR = Role.RADIO_OPERATOR.value
CHAIRMAN = Role.CHAIRMAN.value
VICE_CHAIRMAN = Role.VICE_CHAIRMAN.value
COMMUNE_ADMIN = Role.COMMUNE_ADMIN.value

LEADERS = frozenset({CHAIRMAN, VICE_CHAIRMAN})
MODULE_ROLES = frozenset({OPERATOR, COMMUNE_ADMIN}) | LEADERS

ACTION_ROLES: dict[str, frozenset] = {
    "module.open": MODULE_ROLES,
    "bulletin.read": MODULE_ROLES,
    "bulletin.write": frozenset({OPERATOR}),
    "bulletin.approve": LEADERS,
    "emergency.send": LEADERS,
    "cluster.read": MODULE_ROLES,
    "cluster.manage": frozenset({OPERATOR, COMMUNE_ADMIN}),
    "slot.manage": frozenset({OPERATOR, COMMUNE_ADMIN}),
    "pronunciation.manage": frozenset({OPERATOR, COMMUNE_ADMIN}),
    "report.read": MODULE_ROLES,
}


def user_roles(user) -> set[str]:
    return roles_for(user)


def can(user, action: str) -> bool:
    return bool(user_roles(user) & ACTION_ROLES[action])


def require(user, action: str) -> None:
    if not can(user, action):
        raise PermissionDenied
