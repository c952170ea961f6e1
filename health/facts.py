"""The health station's figures of a period for the reporting facts (``communes.modules``):
aggregate numbers only, never a person."""
from __future__ import annotations


def for_period(date_from, date_to) -> dict:
    from health.models import HealthRecord, Visit

    from django.utils import timezone
    import datetime

    start = timezone.make_aware(datetime.datetime.combine(date_from, datetime.time()))
    end = timezone.make_aware(datetime.datetime.combine(date_to + datetime.timedelta(days=1), datetime.time()))
    return {
        "records": HealthRecord.objects.count(),
        "visits": Visit.objects.filter(visited_at__gte=start, visited_at__lt=end).count(),
    }
