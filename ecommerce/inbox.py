"""What waits in the OCOP marketplace: the app's lines of the to-do inbox.

* the economy officer: producers and product versions waiting for approval, certificates that
  end within 30 days (due soon) and within 90 days;
* a producer's members: their orders to confirm and their paid orders to ship (each line opens
  the order list of ``ecommerce.order_views`` filtered by that state).

Each person's lines are counted together, one query per table; a line opens the list of exactly
those items: the overview page's (``#<key>``), or for orders the producer's order list of that
state.
"""
from __future__ import annotations

import datetime

from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from communes.modules import InboxLine, Severity, tally
from ecommerce import permissions
from ecommerce.models import Certificate, Order, OrderState, Producer, ProducerStatus, ProductVersion, VersionState


def _url(key: str) -> str:
    return f"{reverse('ecommerce:home')}#{key}"


def officer_lines(today: datetime.date) -> list[InboxLine]:
    producers = tally(Producer.objects.all(), {"producers": Q(status=ProducerStatus.PENDING)})
    versions = tally(ProductVersion.objects.all(), {"versions": Q(state=VersionState.SUBMITTED)})
    valid = Q(revoked_at__isnull=True, issued_on__lte=today, expires_on__gt=today)
    certificates = tally(Certificate.objects.all(), {
        "expiring_30": valid & Q(expires_on__lte=today + datetime.timedelta(days=30)),
        "expiring_90": valid & Q(expires_on__gt=today + datetime.timedelta(days=30),
                                 expires_on__lte=today + datetime.timedelta(days=90)),
    })
    return [
        InboxLine("ecommerce.producers_waiting", str(_("OCOP producers waiting for approval")),
                  producers["producers"][0], _url("producers-waiting")),
        InboxLine("ecommerce.versions_waiting", str(_("OCOP products and changes waiting for approval")),
                  versions["versions"][0], _url("versions-waiting")),
        InboxLine("ecommerce.certificates_30", str(_("OCOP certificates ending within 30 days")),
                  certificates["expiring_30"][0], _url("certificates-expiring"), Severity.DUE_SOON),
        InboxLine("ecommerce.certificates_90", str(_("OCOP certificates ending within 90 days")),
                  certificates["expiring_90"][0], _url("certificates-expiring")),
    ]


def producer_lines(user) -> list[InboxLine]:
    mine = permissions.member_producer_ids(user)
    if not mine:
        return []
    counts = tally(Order.objects.filter(producer_id__in=mine), {
        "to_confirm": Q(state=OrderState.PLACED), "to_ship": Q(state=OrderState.PAID),
    })
    orders = reverse("ecommerce:orders")  # the producer's order list, filtered by state
    return [
        InboxLine("ecommerce.orders_to_confirm", str(_("Orders to confirm")), counts["to_confirm"][0],
                  f"{orders}?state={OrderState.PLACED}", Severity.DUE_SOON),
        InboxLine("ecommerce.orders_to_ship", str(_("Paid orders to ship")), counts["to_ship"][0],
                  f"{orders}?state={OrderState.PAID}", Severity.DUE_SOON),
    ]


def lines(request, user, roles) -> list[InboxLine]:
    result: list[InboxLine] = []
    if permissions.ECONOMY_OFFICER in roles:
        result += officer_lines(timezone.localdate())
    if permissions.PRODUCER in roles:
        result += producer_lines(user)
    return result
