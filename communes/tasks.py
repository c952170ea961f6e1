"""Beat tasks of the shared app."""
from __future__ import annotations

from celery import shared_task
from django.conf import settings


@shared_task(name="communes.prune_login_records", ignore_result=True)
def prune_login_records() -> dict:
    """Keep records of logins (who, from which address, with which browser: personal data) only
    ``XASO_LOGIN_RECORDS_DAYS`` days, and drop throttle counts whose window closed a day ago."""
    return prune(int(settings.XASO_LOGIN_RECORDS_DAYS))


def prune(days: int) -> dict:
    from axes.handlers.proxy import AxesProxyHandler

    from core.throttle import prune_closed

    return {
        "logs": AxesProxyHandler.reset_logs(age_days=days),
        "failure_logs": AxesProxyHandler.reset_failure_logs(age_days=days),
        "throttle_counters": prune_closed(),
    }
