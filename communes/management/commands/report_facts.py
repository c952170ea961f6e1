"""Each commune's figures for a period, as its apps report them (``communes.modules.FactsSource``):
the one-stop desk's dossiers, the documents, the radio … The command visits the communes' schemas
one by one; it prints a block per commune, or JSON (``--json``) for another system to read.

    python manage.py report_facts --from 01/11/2026 --to 30/11/2026 [--commune 04630] [--json]

Without dates: the last full month.
"""
import datetime
import json

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django_tenants.utils import get_public_schema_name, tenant_context

from communes.models import Commune
from communes.modules import FACTS_SOURCES, facts_for


def _date(value: str, name: str) -> datetime.date:
    try:
        return datetime.datetime.strptime(value.strip(), "%d/%m/%Y").date()
    except ValueError:
        raise CommandError(f"--{name}: write the date as dd/mm/yyyy, e.g. 01/11/2026 (got {value!r}).") from None


class Command(BaseCommand):
    help = "Print each commune's figures for a period, as its apps report them."

    def add_arguments(self, parser):
        parser.add_argument("--from", dest="date_from", help="First day, dd/mm/yyyy (default: the last month's).")
        parser.add_argument("--to", dest="date_to", help="Last day, dd/mm/yyyy (default: the last month's).")
        parser.add_argument("--commune", action="append", default=[], help="Official commune code (repeatable).")
        parser.add_argument("--json", action="store_true", help="Print JSON.")

    def handle(self, *args, **options):
        first_of_month = timezone.localdate().replace(day=1)
        last_month_end = first_of_month - datetime.timedelta(days=1)
        date_from = _date(options["date_from"], "from") if options["date_from"] else last_month_end.replace(day=1)
        date_to = _date(options["date_to"], "to") if options["date_to"] else last_month_end
        if date_to < date_from:
            raise CommandError("--to is before --from.")
        communes = Commune.objects.exclude(schema_name=get_public_schema_name()).order_by("code")
        if options["commune"]:
            communes = communes.filter(code__in=options["commune"])
            missing = set(options["commune"]) - set(communes.values_list("code", flat=True))
            if missing:
                raise CommandError(f"No commune with the code {', '.join(sorted(missing))}.")
        rows = []
        for commune in communes:
            with tenant_context(commune):
                rows.append({"commune_code": commune.code, "commune_name": commune.name,
                             "facts": facts_for(date_from, date_to)})
        if options["json"]:
            self.stdout.write(json.dumps({"date_from": date_from.isoformat(), "date_to": date_to.isoformat(),
                                          "communes": rows}, ensure_ascii=False, indent=1))
            return
        titles = {source.module: str(source.title or source.module) for source in FACTS_SOURCES}
        self.stdout.write(f"{date_from:%d/%m/%Y} – {date_to:%d/%m/%Y}")
        for row in rows:
            self.stdout.write(f"{row['commune_name']} ({row['commune_code']})")
            for module, figures in row["facts"].items():
                text = ", ".join(f"{key} {value}" for key, value in figures.items())
                self.stdout.write(f"  {titles.get(module, module)}: {text}")
