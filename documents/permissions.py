"""Who may do what with documents: the one place for the app's role and object checks.

Roles (Membership.role in the commune of the current host):

* clerk (văn thư): registers incoming documents, presents them, returns invalid electronic
  ones, issues (numbers and applies the agency's signature), dispatches and files outgoing ones;
* chairman and vice-chairman: present and assign incoming documents, review, approve and sign
  outgoing ones, withdraw;
* specialist: drafts outgoing documents and handles the incoming documents assigned to them;
* commune administrator: the numbering policy and the signing authorities;
* every other role: nothing.

Object rules: a specialist sees the incoming documents they handle, and the outgoing documents
they drafted plus those already numbered; only the lead handler starts, forwards and completes
an incoming document; only the drafter submits a draft. Supervising-unit staff reach documents
only through the exchange endpoints of the national host (and read the registers there).
"""
from __future__ import annotations


from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from rest_framework.permissions import BasePermission

from communes.models import Role
from communes.permissions import page_guard, roles_for

CLERK = Role.CLERK.value
CHAIRMAN = Role.CHAIRMAN.value
VICE_CHAIRMAN = Role.VICE_CHAIRMAN.value
SPECIALIST = Role.SPECIALIST.value
COMMUNE_ADMIN = Role.COMMUNE_ADMIN.value

LEADERS = frozenset({CHAIRMAN, VICE_CHAIRMAN})
DOCUMENT_ROLES = frozenset({CLERK, CHAIRMAN, VICE_CHAIRMAN, SPECIALIST})
SEE_ALL_ROLES = frozenset({CLERK}) | LEADERS
MODULE_ROLES = DOCUMENT_ROLES | {COMMUNE_ADMIN}

# action -> roles that may do it (object rules come on top, see ``can``).
ACTION_ROLES: dict[str, frozenset] = {
    "module.open": MODULE_ROLES,
    "incoming.read": DOCUMENT_ROLES,
    "incoming.register": frozenset({CLERK}),
    "incoming.edit": frozenset({CLERK}),
    "incoming.return": frozenset({CLERK}),
    "incoming.present": frozenset({CLERK}) | LEADERS,
    "incoming.assign": LEADERS,
    "incoming.handle": DOCUMENT_ROLES,  # start, forward, complete: the lead handler
    "incoming.note": DOCUMENT_ROLES,
    "outgoing.read": DOCUMENT_ROLES,
    "outgoing.draft": frozenset({SPECIALIST, CLERK}),
    "outgoing.review": LEADERS,
    "outgoing.sign": LEADERS,
    "outgoing.issue": frozenset({CLERK}),
    "outgoing.dispatch": frozenset({CLERK}),
    "outgoing.file": frozenset({CLERK}),
    "outgoing.withdraw": frozenset({CLERK}) | LEADERS,
    "registers.read": SEE_ALL_ROLES,
    "statistics.read": SEE_ALL_ROLES,  # counts of the whole office, as the registers
    "settings.manage": frozenset({COMMUNE_ADMIN}),
    "notices.read": DOCUMENT_ROLES,
}
PUBLIC_OUTGOING_STATES = ("numbered", "issued", "dispatched", "filed", "withdrawn")


def user_roles(user) -> set[str]:
    return roles_for(user)


def has_role_for(user, action: str) -> bool:
    return bool(user_roles(user) & ACTION_ROLES[action])


def sees_all(user) -> bool:
    return bool(user_roles(user) & SEE_ALL_ROLES)


def _is_handler(user, doc) -> bool:
    return bool(user.pk) and user.pk in doc.handler_ids()


def can_see_incoming(user, doc) -> bool:
    if not has_role_for(user, "incoming.read"):
        return False
    return sees_all(user) or _is_handler(user, doc)


def can_see_outgoing(user, doc) -> bool:
    if not has_role_for(user, "outgoing.read"):
        return False
    return sees_all(user) or doc.created_by_id == user.pk or doc.state in PUBLIC_OUTGOING_STATES


def can(user, action: str, doc=None) -> bool:
    """May ``user`` do ``action`` (on ``doc``)? Role first, then the object rule."""
    if user is None or not getattr(user, "is_authenticated", False) or not has_role_for(user, action):
        return False
    if doc is None:
        return True
    if action.startswith("incoming."):
        if not can_see_incoming(user, doc):
            return False
        if action == "incoming.handle":
            return doc.lead_handler_id == user.pk
        return True
    if action.startswith("outgoing."):
        if not can_see_outgoing(user, doc):
            return False
        if action == "outgoing.draft":
            return doc.created_by_id == user.pk or bool(user_roles(user) & {CLERK})
        return True
    return True


def require(user, action: str, doc=None) -> None:
    if not can(user, action, doc):
        raise PermissionDenied


def incoming_visible_to(user, queryset: QuerySet) -> QuerySet:
    if not has_role_for(user, "incoming.read"):
        return queryset.none()
    if sees_all(user):
        return queryset
    return queryset.filter(Q(lead_handler_id=user.pk) | Q(co_handler_ids__contains=[user.pk]))


def outgoing_visible_to(user, queryset: QuerySet) -> QuerySet:
    if not has_role_for(user, "outgoing.read"):
        return queryset.none()
    if sees_all(user):
        return queryset
    return queryset.filter(Q(created_by_id=user.pk) | Q(state__in=PUBLIC_OUTGOING_STATES))


# Page decorator: log in first, then the role for the action (objects are checked in views).
page_requires = page_guard(require)


def actions_for(user, doc) -> set[str]:
    """The actions this user may take on this document now (pages show these buttons)."""
    from documents.models import IncomingDocument, IncomingState, OutgoingDocument, OutgoingState

    allowed: set[str] = set()
    if isinstance(doc, OutgoingDocument):
        state = doc.state
        if state == OutgoingState.DRAFT and can(user, "outgoing.draft", doc):
            allowed |= {"edit", "submit"}
        if state == OutgoingState.IN_REVIEW and can(user, "outgoing.review", doc):
            allowed |= {"approve", "return"}
        if state == OutgoingState.APPROVED and can(user, "outgoing.review", doc):
            allowed.add("return")
        if state == OutgoingState.APPROVED and can(user, "outgoing.sign", doc) and not doc.is_secret \
                and doc.authority_id and doc.authority.user_id == user.pk:
            allowed.add("sign")
        if can(user, "outgoing.issue", doc):
            if state == OutgoingState.SIGNED or (doc.is_secret and state in (
                    OutgoingState.DRAFT, OutgoingState.IN_REVIEW, OutgoingState.APPROVED)):
                allowed.add("issue")
            if state == OutgoingState.NUMBERED:
                allowed.add("agency_sign")
        if state == OutgoingState.ISSUED and can(user, "outgoing.dispatch", doc):
            allowed.add("dispatch")
        if state in (OutgoingState.ISSUED, OutgoingState.DISPATCHED) and can(user, "outgoing.file", doc):
            allowed.add("file")
        if state != OutgoingState.WITHDRAWN and can(user, "outgoing.withdraw", doc):
            allowed.add("withdraw")
    elif isinstance(doc, IncomingDocument):
        state = doc.state
        if state == IncomingState.RECEIVED and can(user, "incoming.register", doc):
            allowed |= {"register", "return"}
        if state in (IncomingState.REGISTERED, IncomingState.PRESENTED) and can(user, "incoming.edit", doc):
            allowed.add("edit")
        if state == IncomingState.REGISTERED and can(user, "incoming.present", doc):
            allowed.add("present")
        if state in (IncomingState.REGISTERED, IncomingState.PRESENTED, IncomingState.ASSIGNED,
                     IncomingState.IN_PROGRESS) and can(user, "incoming.assign", doc):
            allowed.add("assign")
        if state == IncomingState.ASSIGNED and can(user, "incoming.handle", doc):
            allowed.add("start")
        if state in (IncomingState.ASSIGNED, IncomingState.IN_PROGRESS) and can(user, "incoming.handle", doc):
            allowed |= {"forward", "complete"}
        if state in (IncomingState.ASSIGNED, IncomingState.IN_PROGRESS) and can(user, "incoming.note", doc):
            allowed.add("note")
    return allowed


class ApiPermission(BasePermission):
    """DRF permission of the documents API. A view maps its actions to the app's actions
    (``action_permissions``); supervising-unit staff (the national host) reach only the actions
    the view lists in ``supervisor_actions``, and views marked ``units_only`` are closed on
    commune hosts."""

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not user or not user.is_authenticated:
            return False
        action = getattr(view, "action", None)
        if getattr(view, "national_scope", False):
            return action in getattr(view, "supervisor_actions", ())
        if getattr(view, "units_only", False):
            return False
        needed = getattr(view, "action_permissions", {}).get(action)
        return needed is not None and has_role_for(user, needed)

    def has_object_permission(self, request, view, obj) -> bool:
        return True  # visibility is the queryset's; object rules are the services'
