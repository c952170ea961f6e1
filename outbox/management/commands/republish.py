"""Rebuild communes' public rows from their current state, topic by topic.

    python manage.py republish [--commune 04630 …] [--topic facts.monthly …] [--force]

For each commune (all by default) and each topic that has a snapshot (all by default), the
snapshot's (key, payload) pairs are compared with what the public side holds: the pairs that
differ are published, the keys the snapshot no longer has are withdrawn, and the commune's writer
delivers them before the next commune (waiting for a writer that is already running). Running it
twice changes nothing the second time. ``--force`` publishes every pair again (to rebuild a
topic's table that was emptied by hand; the ledger still keeps an older entry from winning).
"""
from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django_tenants.utils import get_public_schema_name, schema_context

from communes.models import Commune
from outbox.services import SyncResult, sync
from outbox.writer import deliver
from published.topics import TOPICS, topics


class Command(BaseCommand):
    help = "Publish again what differs between communes' current state and the public side."

    def add_arguments(self, parser):
        parser.add_argument("--commune", action="append", default=[], help="Official commune code (repeatable).")
        parser.add_argument("--topic", action="append", default=[], help="Topic name (repeatable).")
        parser.add_argument("--force", action="store_true", help="Publish every row, changed or not.")

    def handle(self, *args, **options):
        chosen = options["topic"]
        unknown = sorted(set(chosen) - set(TOPICS))
        if unknown:
            raise CommandError(f"No topic named {', '.join(unknown)} (topics: {', '.join(sorted(TOPICS))}).")
        selected = [t for t in topics() if (not chosen or t.name in chosen) and t.snapshot is not None]
        if chosen and len(selected) < len(set(chosen)):
            missing = sorted(set(chosen) - {t.name for t in selected})
            raise CommandError(f"The topic {', '.join(missing)} has no snapshot: it cannot be republished.")
        communes = communes_named(options["commune"])
        total = SyncResult()
        for commune in communes:
            results = []
            with schema_context(commune.schema_name):
                for topic in selected:
                    with transaction.atomic():
                        result = sync(topic.name, topic.snapshotter()(), force=options["force"])
                    results.append((topic.name, result))
                    total += result
            counts = deliver(commune.schema_name, wait=True)
            for name, result in results:
                self.stdout.write(f"{commune.code} {name}: {result}")
            if counts.get("failed"):
                self.stderr.write(f"{commune.code}: {counts['failed']} entries failed; see outbox_status.")
        self.stdout.write(f"{len(communes)} communes: {total}")


def communes_named(codes: list[str]) -> list[Commune]:
    communes = Commune.objects.exclude(schema_name=get_public_schema_name()).order_by("code")
    if codes:
        communes = communes.filter(code__in=codes)
        missing = set(codes) - set(communes.values_list("code", flat=True))
        if missing:
            raise CommandError(f"No commune with the code {', '.join(sorted(missing))}.")
    return list(communes)
