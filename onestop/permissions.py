"""Who may do what at the one-stop desk: the one place for the app's role checks.

Roles (Membership.role in the commune of the current host):

* one-stop officer: takes dossiers in at the desk and from the online queue (receive, ask to
  complete, refuse), requests supplements, records supplements and payments, issues form 4 and
  form 5, returns results, reads the register and the statistics;
* specialist: processes the dossiers handed to them (the "process" steps), asks for a
  supplement, prepares the result;
* chairman and vice-chairman ("leader" steps): approve, sign the result with their personal
  certificate; read everything;
* clerk (văn thư): applies the agency's signature (the seal) to a result;
* commune administrator: the procedure catalogue;
* citizens (any logged-in user, no role needed): their own dossiers only.
"""
from __future__ import annotations

from django.core.exceptions import PermissionDenied

from communes.models import Role
from communes.permissions import roles_for

OFFICER = Role.ONESTOP_OFFICER.value
SPECIALIST = Role.SPECIALIST.value
CHAIRMAN = Role.CHAIRMAN.value
VICE_CHAIRMAN = Role.VICE_CHAIRMAN.value
CLERK = Role.CLERK.value
COMMUNE_ADMIN = Role.COMMUNE_ADMIN.value

LEADERS = frozenset({CHAIRMAN, VICE_CHAIRMAN})
STAFF_ROLES = frozenset({OFFICER, SPECIALIST, CLERK}) | LEADERS
MODULE_ROLES = STAFF_ROLES | {COMMUNE_ADMIN}
# A step's role as stored on ProcedureStep.role: a Role value, or "leader".
LEADER_STEP_ROLE = "leader"

ACTION_ROLES: dict[str, frozenset] = {
    "module.open": MODULE_ROLES,
    "dossier.read": STAFF_ROLES,
    "dossier.intake": frozenset({OFFICER}),  # counter intake, receive, form 2, form 3 (online queue too)
    "dossier.supplement": frozenset({OFFICER, SPECIALIST}),  # request a supplement
    "dossier.supplement_receive": frozenset({OFFICER}),
    "dossier.extend": frozenset({OFFICER}) | LEADERS,  # form 4
    "dossier.stop": frozenset({OFFICER}) | LEADERS,  # form 5
    "dossier.payment": frozenset({OFFICER}),
    "dossier.return": frozenset({OFFICER}),
    "result.sign_leader": LEADERS,
    "result.sign_agency": frozenset({CLERK}),
    "register.read": frozenset({OFFICER}) | LEADERS,
    "statistics.read": frozenset({OFFICER, COMMUNE_ADMIN}) | LEADERS,
    "catalogue.manage": frozenset({COMMUNE_ADMIN}),
}


def user_roles(user) -> set[str]:
    return roles_for(user)


def can(user, action: str) -> bool:
    return bool(user_roles(user) & ACTION_ROLES[action])


def require(user, action: str) -> None:
    if not can(user, action):
        raise PermissionDenied


def step_roles(step_role: str) -> frozenset:
    """The membership roles that may do a step whose ``role`` is ``step_role``."""
    if step_role == LEADER_STEP_ROLE:
        return LEADERS
    return frozenset({step_role})


def may_do_step(user, step) -> bool:
    return step is not None and bool(user_roles(user) & step_roles(step.role))


def is_staff(user) -> bool:
    return bool(user_roles(user) & STAFF_ROLES)
