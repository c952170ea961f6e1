"""Clear the in-process schedule cache whenever the calendar tables change."""
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from workcalendar.models import CalendarYear, DayOverride, StatutoryHoliday
from workcalendar.selectors import clear_cache


@receiver([post_save, post_delete], sender=CalendarYear)
@receiver([post_save, post_delete], sender=DayOverride)
@receiver([post_save, post_delete], sender=StatutoryHoliday)
def calendar_changed(sender, **kwargs):
    clear_cache()
    # Once more after the commit: a schedule read inside the transaction must not outlive it.
    transaction.on_commit(clear_cache)
