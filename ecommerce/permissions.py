"""Who may do what in the OCOP marketplace: the one place for the app's role checks.

Roles (Membership.role in the commune of the current host):

* economy officer (cán bộ kinh tế, phụ trách OCOP): registers producers and approves or
  suspends them, approves or rejects products and their changes, records OCOP certificates;
  may also write a producer's products, lots and trace events for them (a producer without a
  phone); reads every producer, product and order, and the figures. Approving needs a session
  confirmed by the second factor (``communes.second_factor``).
* chairman and vice-chairman: read everything, and the figures.
* producer (role ``producer``): acts only on the rows of the producers they are a member of
  (``ProducerMember``): their products and versions, stock, lots, trace events and orders.
* buyers (any logged-in user, no role needed): their own orders only (``is_buyer``).

``can(user, action, producer)``: ``producer`` is the row acted on (a Producer, or its id);
without it, the question is "may act on some rows" (a producer's lists then hold their own
producers' rows only: ``selectors``).
"""
from __future__ import annotations

from django.core.exceptions import PermissionDenied

from communes.models import Role
from communes.permissions import roles_for

ECONOMY_OFFICER = Role.ECONOMY_OFFICER.value
PRODUCER = Role.PRODUCER.value
CHAIRMAN = Role.CHAIRMAN.value
VICE_CHAIRMAN = Role.VICE_CHAIRMAN.value

LEADERS = frozenset({CHAIRMAN, VICE_CHAIRMAN})
OFFICER = frozenset({ECONOMY_OFFICER})
READERS = OFFICER | LEADERS
MODULE_ROLES = READERS | {PRODUCER}
# Roles whose rights cover every producer of the commune (a producer's cover their own only).
COMMUNE_WIDE = READERS

ACTION_ROLES: dict[str, frozenset] = {
    "module.open": MODULE_ROLES,
    "producer.read": MODULE_ROLES,
    "producer.register": OFFICER | {PRODUCER},
    "producer.edit": OFFICER | {PRODUCER},
    "producer.approve": OFFICER,  # approve, suspend, take back, add members
    "product.read": MODULE_ROLES,
    "product.write": OFFICER | {PRODUCER},  # create, write a version, submit it, stock, hide, photos
    "product.review": OFFICER,  # approve or reject a version
    "certificate.write": OFFICER,
    "lot.write": OFFICER | {PRODUCER},  # lots, trace codes, trace events
    "order.read": MODULE_ROLES,
    "order.manage": frozenset({PRODUCER}),  # confirm, mark paid, ship, deliver, cancel
    "report.read": READERS,
}
# The actions that approve: their roles act only in a session confirmed by the second factor.
APPROVE_ACTIONS = ("producer.approve", "product.review", "certificate.write")
APPROVER_ROLES = frozenset().union(*(ACTION_ROLES[action] for action in APPROVE_ACTIONS))


def user_roles(user) -> set[str]:
    return roles_for(user)


def member_producer_ids(user) -> set[int]:
    """The producers ``user`` is a member of, in the current commune (cached on the user)."""
    from ecommerce.models import ProducerMember

    if not getattr(user, "is_authenticated", False) or not getattr(user, "pk", None):
        return set()
    from django.db import connection

    cache = user.__dict__.setdefault("_ocop_producers", {})
    key = connection.schema_name
    if key not in cache:
        cache[key] = set(ProducerMember.objects.filter(user_id=user.pk).values_list("producer_id", flat=True))
    return cache[key]


def forget(user) -> None:
    """Drop the cached producers of ``user`` (after a membership changed)."""
    if user is not None:
        user.__dict__.pop("_ocop_producers", None)


def _producer_id(producer) -> int | None:
    if producer is None:
        return None
    return getattr(producer, "pk", producer)


def can(user, action: str, producer=None) -> bool:
    roles = user_roles(user)
    allowed = ACTION_ROLES[action]
    if roles & (allowed - {PRODUCER}):
        return True
    if PRODUCER in allowed and PRODUCER in roles:
        producer_id = _producer_id(producer)
        return producer_id is None or producer_id in member_producer_ids(user)
    return False


def require(user, action: str, producer=None) -> None:
    if not can(user, action, producer):
        raise PermissionDenied


def sees_every_producer(user) -> bool:
    return bool(user_roles(user) & COMMUNE_WIDE)


def is_buyer(user, order) -> bool:
    return bool(getattr(user, "is_authenticated", False) and order.buyer_id and order.buyer_id == user.pk)


def may_read_order(user, order) -> bool:
    return is_buyer(user, order) or can(user, "order.read", order.producer_id)
