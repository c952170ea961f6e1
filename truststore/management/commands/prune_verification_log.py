"""Delete old rows of the public signature-check log: ``manage.py prune_verification_log --days 365``."""
from django.core.management.base import BaseCommand

from truststore import services


class Command(BaseCommand):
    help = "Delete signature-check log rows older than --days (default: setting XASO_VERIFICATION_LOG_DAYS, 365)."

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=None)

    def handle(self, *args, **options):
        deleted = services.prune_verification_log(options["days"])
        self.stdout.write(self.style.SUCCESS(f"{deleted} log row(s) deleted."))
