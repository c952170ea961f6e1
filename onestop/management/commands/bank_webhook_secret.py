from django.core.management.base import BaseCommand

from core.bank_notifications import SecretCommand


class Command(SecretCommand, BaseCommand):
    help = (
        "Print the secret a commune's bank signs its payment notifications with (HMAC-SHA256 of the "
        "raw body, hex, in the X-Xaso-Signature header), and the address to send them to. The secret "
        "is derived from XASO_BANK_WEBHOOK_SECRET and the commune's code: give each bank only its own."
    )
    api_path = "/api/v1/onestop/bank-notifications/"

    def secret(self, commune) -> str:
        from onestop.payments import commune_secret

        return commune_secret(commune)
