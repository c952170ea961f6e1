"""History (django-simple-history) for tenant models.

Tenant tables never reference public tables: the user who made a change is kept as a plain id
(``history_user_id``), not as a foreign key into ``public.communes_user``. That keeps a commune's
schema movable to another database server on its own, and lets a user be removed from the
public schema without touching any commune's tables.
"""
from django.db import models
from simple_history.models import HistoricalRecords


def tenant_history(**kwargs) -> HistoricalRecords:
    kwargs.setdefault("history_user_id_field", models.BigIntegerField(null=True, blank=True, db_index=True))
    return HistoricalRecords(**kwargs)
