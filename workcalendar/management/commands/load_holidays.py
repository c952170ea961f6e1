from django.core.management.base import BaseCommand

from workcalendar.loading import DATA_FILE
from workcalendar.services import load_holidays


class Command(BaseCommand):
    help = "Load or refresh the official days off and worked days from a schedule file (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--file", default=str(DATA_FILE), help="YAML schedule file (default: the shipped one)")
        parser.add_argument(
            "--prune", action="store_true",
            help="Delete the overrides of the loaded years that the file does not list",
        )

    def handle(self, *args, **options):
        counts = load_holidays(options["file"], prune=options["prune"])
        self.stdout.write(self.style.SUCCESS(
            "Loaded {years} years, {overrides} days, {statutory} statutory holidays; pruned {pruned}.".format(**counts)
        ))
