"""``python manage.py fees_bank_webhook_secret <commune code>``: the secret a commune's bank signs
its notifications of school fee transfers with (label ``education-fees``: it cannot sign the
one-stop desk's fees nor the marketplace's orders), and the address to send them to."""
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = (
        "Print the secret a commune's bank signs its notifications of school fee transfers with (HMAC-SHA256 "
        "of the raw body, hex, in the X-Xaso-Signature header) and the address to send them to. Derived "
        "from XASO_BANK_WEBHOOK_SECRET, the label 'education-fees' and the commune's code."
    )

    def add_arguments(self, parser):
        parser.add_argument("commune", metavar="CODE", help="Administrative code of the commune (5 digits)")

    def handle(self, *args, **options):
        from communes.models import Commune
        from education.fees import commune_secret
        from onestop import links

        if not settings.XASO_BANK_WEBHOOK_SECRET:
            raise CommandError("XASO_BANK_WEBHOOK_SECRET is not set: bank notifications are refused.")
        commune = Commune.objects.filter(code=str(options["commune"]).strip()).prefetch_related("domains").first()
        if commune is None:
            raise CommandError(f"No commune with the code {options['commune']!r}.")
        self.stdout.write(f"commune: {commune.code} {commune}")
        self.stdout.write(f"address: {links.base_url(commune)}/api/v1/education/fees/bank-notification/")
        self.stdout.write('body names the commune: "commune": "%s"' % commune.code)
        self.stdout.write(f"secret: {commune_secret(commune)}")
