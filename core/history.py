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


class ChangeReasons:
    """The reasons an app writes into its history, shown in the reader's language.

    A reason is stored as a stable English key ("approved", "numbered 02/TB-UBND"), never as a
    translated sentence: the rows written before a translation existed, or in another language,
    are shown translated too. ``labels`` maps each key to its lazy label; ``patterns`` maps a
    regular expression with named groups (for reasons that carry a value) to a lazy label with
    the same ``%(name)s`` placeholders. An unknown reason is shown as it was stored.
    """

    def __init__(self, labels: dict, patterns: list | tuple = ()):
        import re

        self.labels = labels
        self.patterns = [(re.compile(regex), label) for regex, label in patterns]

    def __contains__(self, reason: str) -> bool:
        return reason in self.labels or any(regex.fullmatch(reason) for regex, _label in self.patterns)

    def label(self, reason: str | None) -> str:
        if not reason:
            return ""
        if reason in self.labels:
            return str(self.labels[reason])
        for regex, label in self.patterns:
            match = regex.fullmatch(reason)
            if match:
                return str(label) % match.groupdict()
        return reason
