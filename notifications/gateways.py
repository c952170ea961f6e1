"""SMS and e-mail gateways. Every call carries the delivery's idempotency key, so a gateway
that honours it delivers a retried message once.

Pick one with settings.XASO_SMS_BACKEND (dotted path):
* ``notifications.gateways.ConsoleGateway`` (default): logs the message, sends nothing;
* ``notifications.gateways.HttpGateway``: POSTs JSON to settings.XASO_SMS_URL with
  ``Authorization: Bearer <XASO_SMS_TOKEN>`` and an ``Idempotency-Key`` header.
E-mail always goes through Django's mail backend, with the key as a header.
"""
from __future__ import annotations

import logging
import uuid

import requests
from django.conf import settings
from django.core.mail import EmailMessage
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from jobs.exceptions import PermanentError, RetryableError

logger = logging.getLogger(__name__)


class GatewayRetryableError(RetryableError):
    """The gateway is down or overloaded (5xx, timeout, connection refused)."""


class GatewayPermanentError(PermanentError):
    """The gateway refused this message (4xx): sending it again cannot help."""


class BaseGateway:
    def send_sms(self, to: str, text: str, idempotency_key: str) -> str:
        raise NotImplementedError

    def send_email(self, to: str, subject: str, text: str, idempotency_key: str) -> str:
        domain = settings.DEFAULT_FROM_EMAIL.rpartition("@")[2] or "localhost"
        message_id = f"<{idempotency_key.replace(':', '.')}@{domain}>"
        email = EmailMessage(
            subject=subject, body=text, to=[to],
            headers={"Idempotency-Key": idempotency_key, "Message-ID": message_id},
        )
        try:
            email.send(fail_silently=False)
        except (OSError, TimeoutError) as exc:
            raise GatewayRetryableError(str(exc)) from exc
        return message_id


class ConsoleGateway(BaseGateway):
    """Writes messages to the log (developer machines, demos)."""

    def send_sms(self, to: str, text: str, idempotency_key: str) -> str:
        logger.info("SMS to %s [%s]: %s", to, idempotency_key, text)
        return f"console-{uuid.uuid5(uuid.NAMESPACE_URL, idempotency_key).hex[:16]}"


class HttpGateway(BaseGateway):
    """An SMS provider reached over HTTP (JSON body, bearer token, Idempotency-Key header)."""

    def __init__(self, url: str | None = None, token: str | None = None, timeout: float | None = None):
        self.url = url or settings.XASO_SMS_URL
        self.token = token if token is not None else settings.XASO_SMS_TOKEN
        self.timeout = timeout or settings.XASO_SMS_TIMEOUT
        if not self.url:
            raise GatewayPermanentError(_("The SMS gateway address (XASO_SMS_URL) is not set."))
        self.session = requests.Session()

    def send_sms(self, to: str, text: str, idempotency_key: str) -> str:
        headers = {"Idempotency-Key": idempotency_key}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        try:
            response = self.session.post(
                self.url, json={"to": to, "text": text}, headers=headers, timeout=self.timeout,
            )
        except requests.RequestException as exc:  # connection refused, timeout, reset
            raise GatewayRetryableError(_("The SMS gateway cannot be reached: %(error)s") % {"error": exc}) from exc
        if response.status_code >= 500 or response.status_code == 429:
            raise GatewayRetryableError(
                _("The SMS gateway answered %(status)s.") % {"status": response.status_code}
            )
        if response.status_code >= 400:
            raise GatewayPermanentError(
                _("The SMS gateway refused the message (%(status)s): %(body)s")
                % {"status": response.status_code, "body": response.text[:200]}
            )
        try:
            body = response.json()
        except ValueError:
            body = {}
        return str(body.get("message_id") or body.get("id") or "")


def get_gateway() -> BaseGateway:
    return import_string(settings.XASO_SMS_BACKEND)()
