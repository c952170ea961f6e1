from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from communes.models import Commune, AdministrativeUnit
from communes.services import create_commune


class Command(BaseCommand):
    help = "Provision a commune: its schema (cloned from the template) and its host."

    def add_arguments(self, parser):
        parser.add_argument("--code", required=True, help="Official 5-digit commune code.")
        parser.add_argument("--name", help="Name with diacritics (default: from the official list).")
        parser.add_argument("--domain", required=True, help="Host name, e.g. tule.localhost")
        parser.add_argument("--kind", choices=[k for k, _ in Commune.Kind.choices])
        parser.add_argument("--province", help="Province code (default: from the official list).")

    def handle(self, *args, **options):
        official = AdministrativeUnit.objects.filter(code=options["code"], level="commune").first()
        name = options["name"] or (official.name if official else None)
        if not name:
            raise CommandError("--name is required for a code that is not in the official list.")
        try:
            commune, seconds = create_commune(
                code=options["code"], name=name, domain=options["domain"],
                kind=options["kind"] or (official.kind if official else Commune.Kind.COMMUNE),
                province_code=options["province"] or (official.province_code if official else None),
            )
        except ValidationError as exc:
            raise CommandError("; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items()))
        self.stdout.write(self.style.SUCCESS(
            f"Commune {commune.code} {commune.name} at {options['domain']} (schema {commune.schema_name}, {getattr(commune, 'provisioning_path', 'unknown')}) in {seconds:.2f} s."
        ))
