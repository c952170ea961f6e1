from django.core.management.base import BaseCommand

from core.bank_notifications import SecretCommand


class Command(SecretCommand, BaseCommand):
    help = (
        "Print the secret that the payment notifications of a commune's OCOP orders are signed with "
        "(HMAC-SHA256 of the raw body, hex, in the X-Xaso-Signature header), and the address to send "
        "them to. Derived from XASO_BANK_WEBHOOK_SECRET, the commune's code and the marketplace's own "
        "label: it differs from the one-stop desk's secret (bank_webhook_secret), which pays no order."
    )

    api_path = "/api/v1/ocop/bank-notifications/"
    purpose_hint = '"DH <order code>"'

    def secret(self, commune) -> str:
        from ecommerce.payments import commune_secret

        return commune_secret(commune)
