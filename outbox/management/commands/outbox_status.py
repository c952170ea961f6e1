"""What waits in the communes' outboxes, from the public index (one query, no schema visited):
per commune, the entries undelivered, the oldest, and those that failed with their last error.

    python manage.py outbox_status [--errors]
"""
from __future__ import annotations

from django.core.management.base import BaseCommand
from django.db.models import Count, Max, Min, Q
from django.utils import timezone

from communes.models import Commune
from published.models import Pending


class Command(BaseCommand):
    help = "Show the undelivered outbox entries per commune, and their errors."

    def add_arguments(self, parser):
        parser.add_argument("--errors", action="store_true", help="Print each failing entry's last error.")

    def handle(self, *args, **options):
        rows = (Pending.objects.values("schema_name")
                .annotate(waiting=Count("id"), failing=Count("id", filter=Q(attempts__gt=0)),
                          oldest=Min("created_at"), attempts=Max("attempts"))
                .order_by("schema_name"))
        codes = dict(Commune.objects.values_list("schema_name", "code"))
        now = timezone.now()
        if not rows:
            self.stdout.write("Nothing waits: every entry is delivered.")
        for row in rows:
            age = int((now - row["oldest"]).total_seconds())
            self.stdout.write(f"{codes.get(row['schema_name'], row['schema_name'])}: {row['waiting']} waiting "
                              f"(oldest {age} s), {row['failing']} failing (at most {row['attempts']} attempts)")
        if options["errors"]:
            for line in Pending.objects.filter(attempts__gt=0).order_by("schema_name", "entry_id")[:200]:
                self.stdout.write(f"  {codes.get(line.schema_name, line.schema_name)} #{line.entry_id} {line.topic} "
                                  f"attempt {line.attempts}, next {timezone.localtime(line.due_at):%d/%m/%Y %H:%M:%S}: "
                                  f"{line.error}")
