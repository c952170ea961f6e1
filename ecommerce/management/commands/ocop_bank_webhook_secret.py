from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = (
        "Print the secret that the payment notifications of a commune's OCOP orders are signed with "
        "(HMAC-SHA256 of the raw body, hex, in the X-Xaso-Signature header), and the address to send "
        "them to. Derived from XASO_BANK_WEBHOOK_SECRET, the commune's code and the marketplace's own "
        "label: it differs from the one-stop desk's secret (bank_webhook_secret), which pays no order."
    )

    def add_arguments(self, parser):
        parser.add_argument("commune", metavar="CODE", help="Administrative code of the commune (5 digits)")

    def handle(self, *args, **options):
        from communes.models import Commune
        from core.links import commune_base_url
        from ecommerce.payments import commune_secret

        if not settings.XASO_BANK_WEBHOOK_SECRET:
            raise CommandError("XASO_BANK_WEBHOOK_SECRET is not set: bank notifications are refused.")
        commune = Commune.objects.filter(code=str(options["commune"]).strip()).prefetch_related("domains").first()
        if commune is None:
            raise CommandError(f"No commune with the code {options['commune']!r}.")
        self.stdout.write(f"commune: {commune.code} {commune}")
        self.stdout.write(f"address: {commune_base_url(commune)}/api/v1/ocop/bank-notifications/")
        self.stdout.write('body names the commune: "commune": "%s"' % commune.code)
        self.stdout.write('purpose of a transfer: "DH <order code>"')
        self.stdout.write(f"secret: {commune_secret(commune)}")
