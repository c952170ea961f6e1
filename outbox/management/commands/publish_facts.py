"""Publish communes' monthly figures (every app's ``communes.modules.facts_for``) for the national
host, as the hourly beat does for the previous and the current month.

    python manage.py publish_facts [--commune 04630 …] [--month 2026-11 …] [--from 2026-01 --to 2026-11]

Without months: the previous and the current month. Only figures that changed become entries;
each commune's writer delivers them before the next commune.
"""
from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django_tenants.utils import schema_context

from outbox.facts import publish_months
from outbox.management.commands.republish import communes_named
from outbox.services import SyncResult
from outbox.writer import deliver
from published.api import parse_month
from published.facts import months_between, refresh_months


def _month(value: str, name: str):
    month = parse_month(value)
    if month is None:
        raise CommandError(f"--{name}: write the month as yyyy-mm or mm/yyyy, e.g. 2026-11 (got {value!r}).")
    return month


class Command(BaseCommand):
    help = "Publish communes' monthly figures through their outbox."

    def add_arguments(self, parser):
        parser.add_argument("--commune", action="append", default=[], help="Official commune code (repeatable).")
        parser.add_argument("--month", action="append", default=[], help="A month, yyyy-mm (repeatable).")
        parser.add_argument("--from", dest="month_from", help="First month of a range, yyyy-mm.")
        parser.add_argument("--to", dest="month_to", help="Last month of a range, yyyy-mm.")

    def handle(self, *args, **options):
        months = {_month(value, "month") for value in options["month"]}
        if options["month_from"] or options["month_to"]:
            if not (options["month_from"] and options["month_to"]):
                raise CommandError("--from and --to go together.")
            first, last = _month(options["month_from"], "from"), _month(options["month_to"], "to")
            if last < first:
                raise CommandError("--to is before --from.")
            months |= set(months_between(first, last))
        months = sorted(months) or refresh_months()
        total = SyncResult()
        communes = communes_named(options["commune"])
        for commune in communes:
            with schema_context(commune.schema_name):
                result = publish_months(months)
            deliver(commune.schema_name, wait=True)
            total += result
            self.stdout.write(f"{commune.code}: {result}")
        self.stdout.write(f"{len(communes)} communes, {len(months)} months "
                          f"({months[0]:%m/%Y}–{months[-1]:%m/%Y}): {total}")
