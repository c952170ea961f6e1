"""SMS and e-mail gateways. Every call carries the delivery's idempotency key.

Pick one with settings.XASO_SMS_BACKEND (dotted path):
* ``notifications.gateways.ConsoleGateway`` (default): logs the message, sends nothing;
* ``notifications.gateways.HttpGateway``: POSTs JSON to settings.XASO_SMS_URL with
  ``Authorization: Bearer <XASO_SMS_TOKEN>`` and an ``Idempotency-Key`` header.
E-mail always goes through Django's mail backend, with the key as a header.

A send is recorded in two steps (``Notification.run``): the delivery is committed as *sending*
before the call, and as *sent* (or failed) after it. A delivery found still *sending* by a later
run is one whose call may have reached the gateway. What the run does then depends on what the
gateway can tell:

=========================  ==========================  =========================================
gateway                    deduplicates by key?        a *sending* delivery on the next run
=========================  ==========================  =========================================
``ConsoleGateway``         yes (it sends nothing)      sent again with the same key
``HttpGateway`` with       only if the provider says   asked ``GET XASO_SMS_STATUS_URL`` (``{key}``
``XASO_SMS_STATUS_URL``    so (``XASO_SMS_             in the address): 2xx = it has the message
                           DEDUPLICATES=true``)        (recorded sent), 404 = it never got it
                                                       (sent again, same key)
``HttpGateway``, no        ``XASO_SMS_DEDUPLICATES=    sent again with the same key: the
status address             true``                      provider drops the repeat
``HttpGateway``, neither   no (the default)            marked *uncertain*: never sent again until
                                                       an official confirms "send again"
e-mail (SMTP)              no: a Message-ID is not a   marked *uncertain*
                           promise of one delivery
=========================  ==========================  =========================================

Set ``XASO_SMS_DEDUPLICATES`` only for a provider whose contract says that a repeated
``Idempotency-Key`` delivers once; when in doubt, leave it off (a person then decides).
"""
from __future__ import annotations

import logging
import smtplib
import socket
import uuid
from dataclasses import dataclass
from urllib.parse import quote

import requests
from django.conf import settings
from django.core.mail import EmailMessage
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from urllib3.exceptions import NewConnectionError

from jobs.exceptions import PermanentError, RetryableError

logger = logging.getLogger(__name__)


class GatewayRetryableError(RetryableError):
    """The gateway is down or overloaded (503, 429, connection refused): it did not take the
    message, so it may be sent again."""


class GatewayUncertainError(GatewayRetryableError):
    """The call may have reached the gateway (the answer was lost: a timeout after sending, a
    connection cut while reading, a 5xx other than 503): whether the message left is unknown."""


class GatewayPermanentError(PermanentError):
    """The gateway refused this message (4xx): sending it again cannot help."""


@dataclass(frozen=True)
class Lookup:
    """What a gateway knows about an idempotency key: ``accepted`` when it took the message."""

    accepted: bool
    message_id: str = ""


class BaseGateway:
    #: A repeated idempotency key has no second effect (the message reaches the phone once).
    deduplicates_sms = False
    deduplicates_email = False

    def send_sms(self, to: str, text: str, idempotency_key: str) -> str:
        raise NotImplementedError

    def can_look_up(self, channel: str) -> bool:
        """Whether ``look_up`` can answer for this channel."""
        return False

    def deduplicates(self, channel: str) -> bool:
        return self.deduplicates_email if channel == "email" else self.deduplicates_sms

    def look_up(self, channel: str, idempotency_key: str) -> Lookup:
        """Ask the gateway whether it took the message sent with this key. Raises
        ``GatewayRetryableError`` when it cannot answer now."""
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
        except (ConnectionRefusedError, socket.gaierror) as exc:  # nothing reached the mail server
            raise GatewayRetryableError(str(exc)) from exc
        except smtplib.SMTPRecipientsRefused as exc:
            raise GatewayPermanentError(str(exc)) from exc
        except smtplib.SMTPResponseException as exc:  # the server answered: it did not take the message
            if 400 <= exc.smtp_code < 500:
                raise GatewayRetryableError(str(exc)) from exc
            raise GatewayPermanentError(str(exc)) from exc
        except (OSError, TimeoutError) as exc:  # cut off mid-conversation: it may have been accepted
            raise GatewayUncertainError(str(exc)) from exc
        return message_id


class ConsoleGateway(BaseGateway):
    """Writes messages to the log (developer machines, demos). Nothing reaches a phone, so
    writing a line twice is harmless."""

    deduplicates_sms = True

    def send_sms(self, to: str, text: str, idempotency_key: str) -> str:
        logger.info("SMS to %s [%s]: %s", to, idempotency_key, text)
        return f"console-{uuid.uuid5(uuid.NAMESPACE_URL, idempotency_key).hex[:16]}"


class HttpGateway(BaseGateway):
    """An SMS provider reached over HTTP (JSON body, bearer token, Idempotency-Key header).

    ``status_url`` (settings.XASO_SMS_STATUS_URL), when set, is where the provider answers a
    ``GET`` for one key (``{key}`` in the address is replaced by it, URL-quoted): 2xx when it
    took the message (``message_id`` or ``id`` in the JSON body), 404 when it never did.
    ``deduplicates`` (settings.XASO_SMS_DEDUPLICATES): the provider's contract says a repeated
    ``Idempotency-Key`` delivers once.
    """

    def __init__(self, url: str | None = None, token: str | None = None, timeout: float | None = None,
                 status_url: str | None = None, deduplicates: bool | None = None):
        self.url = url or settings.XASO_SMS_URL
        self.token = token if token is not None else settings.XASO_SMS_TOKEN
        self.timeout = timeout or settings.XASO_SMS_TIMEOUT
        self.status_url = status_url if status_url is not None else settings.XASO_SMS_STATUS_URL
        self.deduplicates_sms = bool(settings.XASO_SMS_DEDUPLICATES if deduplicates is None else deduplicates)
        if not self.url:
            raise GatewayPermanentError(_("The SMS gateway address (XASO_SMS_URL) is not set."))
        self.session = requests.Session()

    def _headers(self, idempotency_key: str) -> dict:
        headers = {"Idempotency-Key": idempotency_key}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        return headers

    def send_sms(self, to: str, text: str, idempotency_key: str) -> str:
        try:
            response = self.session.post(
                self.url, json={"to": to, "text": text}, headers=self._headers(idempotency_key), timeout=self.timeout,
            )
        except requests.RequestException as exc:
            message = _("The SMS gateway cannot be reached: %(error)s") % {"error": exc}
            if _before_sending(exc):  # refused, or no connection within the timeout
                raise GatewayRetryableError(message) from exc
            raise GatewayUncertainError(message) from exc  # sent, then the answer was lost
        if response.status_code in (429, 503):
            raise GatewayRetryableError(
                _("The SMS gateway answered %(status)s.") % {"status": response.status_code}
            )
        if response.status_code >= 500:  # it may have taken the message before failing
            raise GatewayUncertainError(
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

    def can_look_up(self, channel: str) -> bool:
        return channel == "sms" and bool(self.status_url)

    def look_up(self, channel: str, idempotency_key: str) -> Lookup:
        if not self.can_look_up(channel):
            raise NotImplementedError
        url = self.status_url.replace("{key}", quote(idempotency_key, safe=""))
        try:
            response = self.session.get(url, headers=self._headers(idempotency_key), timeout=self.timeout)
        except requests.RequestException as exc:
            raise GatewayRetryableError(_("The SMS gateway cannot be reached: %(error)s") % {"error": exc}) from exc
        if response.status_code == 404:
            return Lookup(accepted=False)
        if 200 <= response.status_code < 300:
            try:
                body = response.json()
            except ValueError:
                body = {}
            body = body if isinstance(body, dict) else {}
            return Lookup(accepted=True, message_id=str(body.get("message_id") or body.get("id") or ""))
        raise GatewayRetryableError(
            _("The SMS gateway answered %(status)s.") % {"status": response.status_code}
        )


def _before_sending(exc: requests.RequestException) -> bool:
    """Whether the request failed before any byte of it could reach the gateway."""
    if isinstance(exc, requests.ConnectTimeout):
        return True
    if isinstance(exc, requests.ConnectionError):
        reason = exc.args[0] if exc.args else None
        reason = getattr(reason, "reason", reason)  # urllib3's MaxRetryError wraps the cause
        return isinstance(reason, NewConnectionError)
    return False


def get_gateway() -> BaseGateway:
    return import_string(settings.XASO_SMS_BACKEND)()
