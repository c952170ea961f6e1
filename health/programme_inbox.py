"""The programmes' lines of the health staff's to-do inbox: the people with hypertension or
diabetes not checked for 30 days, the deliveries expected within 30 days, and the children
malnourished at their last weighing. Each line opens the list of exactly those people."""
from __future__ import annotations

import datetime

from django.urls import reverse
from django.utils.translation import gettext as _

from communes.modules import InboxLine, Severity
from health import programmes
from health.permissions import HEALTH_STAFF

DELIVERY_DAYS = 30


def lines(request, user, roles) -> list[InboxLine]:
    if HEALTH_STAFF not in roles:  # the lines name no one, but they open personal lists
        return []
    today = programmes.today()
    overdue = programmes.overdue_count(today)
    deliveries = programmes.deliveries_expected(today, today + datetime.timedelta(days=DELIVERY_DAYS)).count()
    malnourished = len(programmes.growth_overview(on=today).malnourished)
    return [
        InboxLine("health.chronic_overdue", _("People with hypertension or diabetes not checked for 30 days"),
                  overdue, f"{reverse('health:chronic')}?overdue=1", Severity.OVERDUE),
        InboxLine("health.deliveries_soon", _("Deliveries expected within 30 days"), deliveries,
                  f"{reverse('health:pregnancies')}#under-care", Severity.DUE_SOON),
        InboxLine("health.children_malnourished", _("Children malnourished at their last weighing"), malnourished,
                  f"{reverse('health:growth')}#malnourished"),
    ]
