"""What waits for each official at the one-stop desk: the app's lines of the to-do inbox.

Who acts on what (see ``onestop.permissions``):

* the one-stop officer receives the dossiers sent online (the online queue) and returns the
  results that are ready;
* whoever holds the current step of a dossier (handed to them, or to anyone with their role)
  does it and hands the dossier on; a leader's sign or approve step is "to sign";
* the chairman and vice-chairmen sign results (their own or anyone's not handed to another);
* the clerk adds the commune's signature to results the leader signed;
* dossiers due today and overdue: every one in processing for the officer and the leaders, who
  answer for the desk's deadlines; the others see those of their own steps.

Each line is one ``Q`` over the dossiers, counted together in one query; the dossier list takes
``?view=<key>`` to show exactly the counted dossiers (``narrow``).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from communes.modules import InboxLine, Severity, line_url, tally
from onestop import permissions
from onestop.models import Dossier, DossierState, StepKind
from workcalendar.services import day_bounds

PROCESSING = (DossierState.RECEIVED, DossierState.IN_PROGRESS)
DESK_WATCH_ROLES = frozenset({permissions.OFFICER}) | permissions.LEADERS


def _my_steps(user, roles) -> Q:
    step_roles = set(roles)
    if roles & permissions.LEADERS:
        step_roles.add(permissions.LEADER_STEP_ROLE)
    return Q(state__in=PROCESSING) & (
        Q(current_handler_id=user.pk) | Q(current_handler_id__isnull=True, current_step__role__in=step_roles))


def _to_sign(user, roles) -> Q:
    return Q(state=DossierState.IN_PROGRESS, current_step__kind__in=[StepKind.SIGN, StepKind.APPROVE],
             leader_signed_pdf="") & (Q(current_handler_id=user.pk) | Q(current_handler_id__isnull=True))


def _to_hand_on(user, roles) -> Q:
    """The user's steps; a leader's sign and approve steps are "to sign" (or, once signed, wait
    for the clerk's seal), not steps to hand on."""
    mine = _my_steps(user, roles)
    if roles & permissions.LEADERS:
        return mine & ~Q(current_step__kind__in=[StepKind.SIGN, StepKind.APPROVE])
    return mine


def _watched(user, roles) -> Q:
    """The dossiers whose deadlines this person answers for."""
    return Q(state__in=PROCESSING) if roles & DESK_WATCH_ROLES else _my_steps(user, roles)


def _overdue(user, roles) -> Q:
    return _watched(user, roles) & Q(due_at__lt=timezone.now())


def _due_today(user, roles) -> Q:
    now = timezone.now()
    _start, end = day_bounds(timezone.localdate(now), timezone.localdate(now))
    return _watched(user, roles) & Q(due_at__gte=now, due_at__lt=end)


@dataclass(frozen=True)
class Line:
    key: str
    label: str
    roles: frozenset
    filter: Callable  # (user, roles) -> Q
    severity: str = Severity.NORMAL
    listing: str = ""  # a page that lists exactly these dossiers, else the dossier list's view


LINES = [
    Line("overdue", _("Dossiers past their appointment"), permissions.STAFF_ROLES, _overdue, Severity.OVERDUE),
    Line("due_today", _("Dossiers due today"), permissions.STAFF_ROLES, _due_today, Severity.DUE_SOON),
    Line("online_queue", _("Dossiers sent online, to receive"), frozenset({permissions.OFFICER}),
         lambda user, roles: Q(state=DossierState.SUBMITTED), listing="onestop:online"),
    Line("to_sign", _("Results waiting for your signature"), permissions.LEADERS, _to_sign),
    Line("to_seal", _("Results waiting for the commune's digital signature"), frozenset({permissions.CLERK}),
         lambda user, roles: Q(state=DossierState.IN_PROGRESS, signed_result="") & ~Q(leader_signed_pdf="")),
    Line("to_hand_on", _("Dossiers at your step, to process and hand on"), permissions.STAFF_ROLES, _to_hand_on),
    Line("to_return", _("Results to return to the applicant"), frozenset({permissions.OFFICER}),
         lambda user, roles: Q(state=DossierState.RESULT_READY)),
]
VIEWS = [(line.key, line.label) for line in LINES]


def lines(request, user, roles) -> list[InboxLine]:
    roles = set(roles)
    mine = [line for line in LINES if roles & line.roles]
    if not mine:
        return []
    counts = tally(Dossier.objects.all(), {line.key: line.filter(user, roles) for line in mine})
    result = []
    for line in mine:
        count, pk = counts[line.key]
        listing = reverse(line.listing) if line.listing else f"{reverse('onestop:dossiers')}?view={line.key}"
        url = line_url(count, pk, lambda pk: reverse("onestop:dossier", args=[pk]), listing)
        result.append(InboxLine(f"onestop.{line.key}", str(line.label), count, url, line.severity))
    return result


def narrow(queryset, user, view: str):
    """The dossier list kept to the dossiers of the inbox line ``view`` (unchanged for none)."""
    line = next((line for line in LINES if line.key == view), None)
    if line is None:
        return queryset
    roles = permissions.user_roles(user)
    if not roles & line.roles:
        return queryset.none()
    return queryset.filter(line.filter(user, roles))
