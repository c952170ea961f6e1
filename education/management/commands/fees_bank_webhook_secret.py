"""``python manage.py fees_bank_webhook_secret <commune code>``: the secret a commune's bank signs
its notifications of school fee transfers with (label ``education-fees``: it cannot sign the
one-stop desk's fees nor the marketplace's orders), and the address to send them to."""
from django.core.management.base import BaseCommand

from core.bank_notifications import SecretCommand


class Command(SecretCommand, BaseCommand):
    help = (
        "Print the secret a commune's bank signs its notifications of school fee transfers with (HMAC-SHA256 "
        "of the raw body, hex, in the X-Xaso-Signature header) and the address to send them to. Derived "
        "from XASO_BANK_WEBHOOK_SECRET, the label 'education-fees' and the commune's code."
    )

    api_path = "/api/v1/education/fees/bank-notification/"

    def secret(self, commune) -> str:
        from education.fees import commune_secret

        return commune_secret(commune)
