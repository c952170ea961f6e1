"""Records of logins are personal data: the nightly task keeps them XASO_LOGIN_RECORDS_DAYS days."""
from __future__ import annotations

import datetime

from django.db import connection
from django.utils import timezone


def test_old_login_records_and_closed_throttle_windows_are_pruned(db, settings):
    from axes.models import AccessFailureLog, AccessLog

    from communes.tasks import prune_login_records
    from core import throttle

    settings.XASO_LOGIN_RECORDS_DAYS = 90
    old = AccessLog.objects.create(username="old", ip_address="192.0.2.1", user_agent="x")
    recent = AccessLog.objects.create(username="recent", ip_address="192.0.2.2", user_agent="x")
    failure = AccessFailureLog.objects.create(username="old", ip_address="192.0.2.1", user_agent="x")
    AccessLog.objects.filter(pk=old.pk).update(attempt_time=timezone.now() - datetime.timedelta(days=91))
    AccessFailureLog.objects.filter(pk=failure.pk).update(attempt_time=timezone.now() - datetime.timedelta(days=91))
    throttle.hit("prune-test", "closed", 5, 60)
    throttle.hit("prune-test", "open", 5, 3600)
    with connection.cursor() as cursor:
        cursor.execute("UPDATE public.core_throttlecounter SET window_start = now() - interval '2 days' "
                       "WHERE scope = 'prune-test' AND window_seconds = 60")

    result = prune_login_records()

    assert not AccessLog.objects.filter(pk=old.pk).exists() and AccessLog.objects.filter(pk=recent.pk).exists()
    assert not AccessFailureLog.objects.filter(pk=failure.pk).exists()
    assert result["throttle_counters"] >= 1
    assert throttle.peek("prune-test", "open", 5, 3600).count == 1
    assert throttle.peek("prune-test", "closed", 5, 60).count == 0
