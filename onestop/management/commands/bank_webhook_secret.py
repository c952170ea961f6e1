from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = (
        "Print the secret a commune's bank signs its payment notifications with (HMAC-SHA256 of the "
        "raw body, hex, in the X-Xaso-Signature header), and the address to send them to. The secret "
        "is derived from XASO_BANK_WEBHOOK_SECRET and the commune's code: give each bank only its own."
    )

    def add_arguments(self, parser):
        parser.add_argument("commune", metavar="CODE", help="Administrative code of the commune (5 digits)")

    def handle(self, *args, **options):
        from communes.models import Commune
        from onestop import links
        from onestop.payments import commune_secret

        if not settings.XASO_BANK_WEBHOOK_SECRET:
            raise CommandError("XASO_BANK_WEBHOOK_SECRET is not set: bank notifications are refused.")
        commune = Commune.objects.filter(code=str(options["commune"]).strip()).prefetch_related("domains").first()
        if commune is None:
            raise CommandError(f"No commune with the code {options['commune']!r}.")
        self.stdout.write(f"commune: {commune.code} {commune}")
        self.stdout.write(f"address: {links.base_url(commune)}/api/v1/onestop/bank-notifications/")
        self.stdout.write('body names the commune: "commune": "%s"' % commune.code)
        self.stdout.write(f"secret: {commune_secret(commune)}")
