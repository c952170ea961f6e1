"""What waits for each official in the documents app: the app's lines of the to-do inbox.

Who acts on what (see ``documents.permissions``):

* outgoing: the chairman and vice-chairmen review and approve submitted drafts, and sign those
  whose signing authority is theirs; the clerk issues (numbers) signed documents (a secret one
  as soon as it is approved), adds the commune's signature to numbered ones and dispatches
  issued ones; the drafter revises the drafts sent back to them;
* incoming: the clerk registers electronic documents that arrived and presents registered ones
  to a leader; the leader it was presented to assigns it; the lead handler handles it by its
  deadline. Documents past their deadline or due within the commune's "due soon" days are
  counted over every open document the person may see (the clerk and the leaders see all).

Each line is one ``FILTER`` over a model: the inbox counts them in one query per model, and the
lists take ``?view=<key>`` to show exactly the counted documents (``narrow``).
"""
from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Callable

from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from communes.modules import InboxLine, Severity, line_url, tally
from documents import permissions
from documents.models import (
    OPEN_INCOMING_STATES, Confidentiality, IncomingDocument, IncomingState, OutgoingDocument, OutgoingState,
)


@dataclass(frozen=True)
class Line:
    key: str
    label: str
    roles: frozenset
    filter: Callable  # (user, moment, due_soon_days) -> Q
    severity: str = Severity.NORMAL


def _due_soon(user, moment, days):
    return Q(state__in=OPEN_INCOMING_STATES, deadline__gte=moment, deadline__lte=moment + datetime.timedelta(days=days))


OUTGOING_LINES = [
    Line("to_review", _("Drafts waiting for your review and approval"), permissions.LEADERS,
         lambda user, moment, days: Q(state=OutgoingState.IN_REVIEW)),
    Line("to_sign", _("Documents waiting for your signature"), permissions.LEADERS,
         lambda user, moment, days: Q(state=OutgoingState.APPROVED, authority__user_id=user.pk,
                                      confidentiality=Confidentiality.NONE)),
    Line("to_issue", _("Documents to number and issue"), frozenset({permissions.CLERK}),
         lambda user, moment, days: Q(state=OutgoingState.SIGNED) | (
             Q(state=OutgoingState.APPROVED) & ~Q(confidentiality=Confidentiality.NONE))),
    Line("to_seal", _("Documents waiting for the commune's digital signature"), frozenset({permissions.CLERK}),
         lambda user, moment, days: Q(state=OutgoingState.NUMBERED)),
    Line("to_dispatch", _("Issued documents to dispatch"), frozenset({permissions.CLERK}),
         lambda user, moment, days: Q(state=OutgoingState.ISSUED)),
    Line("returned", _("Drafts sent back to you"), frozenset({permissions.SPECIALIST, permissions.CLERK}),
         lambda user, moment, days: Q(state=OutgoingState.DRAFT, created_by_id=user.pk) & ~Q(review_note="")),
]

INCOMING_LINES = [
    Line("overdue", _("Incoming documents past their deadline"), permissions.DOCUMENT_ROLES,
         lambda user, moment, days: Q(state__in=OPEN_INCOMING_STATES, deadline__lt=moment), Severity.OVERDUE),
    Line("due_soon", _("Incoming documents due soon"), permissions.DOCUMENT_ROLES, _due_soon, Severity.DUE_SOON),
    Line("to_register", _("Electronic documents to register"), frozenset({permissions.CLERK}),
         lambda user, moment, days: Q(state=IncomingState.RECEIVED)),
    Line("to_present", _("Incoming documents to present to a leader"), frozenset({permissions.CLERK}),
         lambda user, moment, days: Q(state=IncomingState.REGISTERED)),
    Line("to_assign", _("Incoming documents presented to you, to assign"), permissions.LEADERS,
         lambda user, moment, days: Q(state=IncomingState.PRESENTED, presented_to_id=user.pk)),
    Line("to_handle", _("Incoming documents you handle"), permissions.DOCUMENT_ROLES,
         lambda user, moment, days: Q(state__in=OPEN_INCOMING_STATES, lead_handler_id=user.pk)),
]

INCOMING_VIEWS = [(line.key, line.label) for line in INCOMING_LINES]
OUTGOING_VIEWS = [(line.key, line.label) for line in OUTGOING_LINES]


def _due_soon_days() -> int:
    from documents.numbering import get_policy

    return get_policy().due_soon_days


def _mine(lines, roles) -> list[Line]:
    return [line for line in lines if roles & line.roles]


def _visible(queryset, user, roles, kind: str):
    """What ``user`` may see (as ``permissions.*_visible_to``, from the roles already known)."""
    if roles & permissions.SEE_ALL_ROLES:
        return queryset
    if kind == "incoming":
        return queryset.filter(Q(lead_handler_id=user.pk) | Q(co_handler_ids__contains=[user.pk]))
    return queryset.filter(Q(created_by_id=user.pk) | Q(state__in=permissions.PUBLIC_OUTGOING_STATES))


def lines(request, user, roles) -> list[InboxLine]:
    roles = set(roles)
    moment = timezone.now()
    result: list[InboxLine] = []
    outgoing = _mine(OUTGOING_LINES, roles)
    if outgoing:
        visible = _visible(OutgoingDocument.objects.all(), user, roles, "outgoing")
        counts = tally(visible, {line.key: line.filter(user, moment, 0) for line in outgoing})
        listing = reverse("documents:outgoing-list")
        for line in outgoing:
            count, pk = counts[line.key]
            url = line_url(count, pk, lambda pk: reverse("documents:outgoing-detail", args=[pk]),
                           f"{listing}?view={line.key}")
            result.append(InboxLine(f"documents.outgoing.{line.key}", str(line.label), count, url, line.severity))
    incoming = _mine(INCOMING_LINES, roles)
    if incoming:
        days = _due_soon_days() if any(line.key == "due_soon" for line in incoming) else 0
        visible = _visible(IncomingDocument.objects.all(), user, roles, "incoming")
        counts = tally(visible, {line.key: line.filter(user, moment, days) for line in incoming})
        listing = reverse("documents:incoming-list")
        for line in incoming:
            count, pk = counts[line.key]
            url = line_url(count, pk, lambda pk: reverse("documents:incoming-detail", args=[pk]),
                           f"{listing}?view={line.key}")
            result.append(InboxLine(f"documents.incoming.{line.key}", str(line.label), count, url, line.severity))
    return result


def narrow(queryset, user, kind: str, view: str):
    """``queryset`` (the list's, already limited to what ``user`` sees) kept to the documents of
    the inbox line ``view`` ("incoming" or "outgoing" ``kind``); unchanged for another view."""
    table = INCOMING_LINES if kind == "incoming" else OUTGOING_LINES
    line = next((line for line in table if line.key == view), None)
    if line is None:
        return queryset
    if not (permissions.user_roles(user) & line.roles):
        return queryset.none()
    days = _due_soon_days() if line.key == "due_soon" else 0
    return queryset.filter(line.filter(user, timezone.now(), days))
