"""What waits for each official at the commune radio: the app's lines of the to-do inbox.

* the chairman and vice-chairmen approve (or send back) the bulletins submitted to them;
* the radio operator rewrites the bulletins sent back;
* the operator and the commune administrator, who keep the slots, see the broadcast windows of
  the coming week whose playlists have a warning: a bulletin that does not fit, or audio that is
  not ready. The link opens the week's calendar at the first of them (and at its cluster when
  only one cluster is concerned).
"""
from __future__ import annotations

import datetime

from django.db.models import Count, Max, Min, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from broadcasting import permissions
from broadcasting.models import Bulletin, BulletinState, Playlist
from communes.modules import InboxLine, Severity, line_url, tally

WARNING_DAYS = 7
SLOT_ROLES = frozenset({permissions.OPERATOR, permissions.COMMUNE_ADMIN})


def _bulletin_lines(user, roles) -> list[InboxLine]:
    wanted = {}
    if roles & permissions.LEADERS:
        wanted["to_approve"] = (Q(state=BulletinState.SUBMITTED), _("Bulletins waiting for your approval"), "submitted")
    if permissions.OPERATOR in roles:
        wanted["sent_back"] = (Q(state=BulletinState.REJECTED), _("Bulletins sent back, to rewrite"), "rejected")
    if not wanted:
        return []
    counts = tally(Bulletin.objects.all(), {key: spec[0] for key, spec in wanted.items()})
    listing = reverse("broadcasting:bulletins")
    result = []
    for key, (_q, label, state) in wanted.items():
        count, pk = counts[key]
        url = line_url(count, pk, lambda pk: reverse("broadcasting:bulletin", args=[pk]), f"{listing}?state={state}")
        result.append(InboxLine(f"broadcasting.{key}", str(label), count, url))
    return result


def warning_playlists(now: datetime.datetime | None = None):
    now = now or timezone.now()
    return Playlist.objects.filter(ends_at__gt=now, starts_at__lt=now + datetime.timedelta(days=WARNING_DAYS)).filter(
        ~Q(overflow=[]) | ~Q(missing_audio=[]))


def _slot_line() -> InboxLine:
    row = warning_playlists().aggregate(
        n=Count("pk"), first=Min("starts_at"), clusters=Count("cluster", distinct=True), cluster=Max("cluster_id"),
    )
    url = reverse("broadcasting:week")
    if row["n"]:
        url += "?day=" + timezone.localtime(row["first"]).strftime("%d/%m/%Y")
        if row["clusters"] == 1:
            url += f"&cluster={row['cluster']}"
    return InboxLine("broadcasting.slot_warnings", str(_("Broadcasts of the coming week with a warning")),
                     row["n"] or 0, url, Severity.DUE_SOON)


def lines(request, user, roles) -> list[InboxLine]:
    roles = set(roles)
    result = _bulletin_lines(user, roles)
    if roles & SLOT_ROLES:
        result.append(_slot_line())
    return result
