import yaml
from django.core.management.base import BaseCommand, CommandError
from django_tenants.utils import get_public_schema_name, schema_context

from onestop.catalogue import DATA_FILE, CatalogueError, load_catalogue, read_file, validate


class Command(BaseCommand):
    help = (
        "Load or refresh the procedure catalogue in every commune (or the ones named), from the shipped "
        "file or another one. Idempotent: a changed procedure becomes a new version; dossiers keep theirs."
    )

    def add_arguments(self, parser):
        parser.add_argument("--file", default=str(DATA_FILE), help="YAML catalogue file (default: the shipped one)")
        parser.add_argument("--commune", action="append", default=[], metavar="CODE",
                            help="Administrative code of a commune (repeatable; default: every commune)")
        parser.add_argument("--retire-missing", action="store_true",
                            help="Stop offering the current procedures whose code the file does not list")
        parser.add_argument("--check", action="store_true", help="Only validate the file")

    def handle(self, *args, **options):
        from communes.models import Commune

        try:
            data = read_file(options["file"])
            checked = validate(data)
        except (OSError, ValueError, yaml.YAMLError) as exc:  # CatalogueError is a ValueError
            raise CommandError(str(exc)) from exc
        if options["check"]:
            self.stdout.write(self.style.SUCCESS(f"The catalogue is valid: {len(checked['procedures'])} procedures."))
            return

        communes = Commune.objects.exclude(schema_name=get_public_schema_name()).order_by("code")
        if options["commune"]:
            communes = communes.filter(code__in=options["commune"])
            missing = set(options["commune"]) - set(communes.values_list("code", flat=True))
            if missing:
                raise CommandError(f"Unknown commune code(s): {', '.join(sorted(missing))}")
        for commune in communes:
            with schema_context(commune.schema_name):
                try:
                    counts = load_catalogue(data, retire_missing=options["retire_missing"])
                except CatalogueError as exc:
                    raise CommandError(str(exc)) from exc
            self.stdout.write(
                "{code} {name}: {created} new, {new_versions} new versions, {unchanged} unchanged, "
                "{reactivated} offered again, {retired} retired.".format(code=commune.code, name=commune.name, **counts)
            )
        self.stdout.write(self.style.SUCCESS("Catalogue loaded."))
