from django.core.management.base import BaseCommand

from communes.services import load_administrative_units


class Command(BaseCommand):
    help = "Load the official list of provinces and communes (Decision 19/2025/QĐ-TTg) shipped in the repository."

    def add_arguments(self, parser):
        parser.add_argument("--no-legacy", action="store_true", help="Skip the pre-2025 wards.")

    def handle(self, *args, **options):
        counts = load_administrative_units(with_legacy=not options["no_legacy"])
        self.stdout.write(self.style.SUCCESS(
            f"{counts['provinces']} provinces, {counts['communes']} communes, {counts['legacy_wards']} legacy wards loaded."
        ))
