"""Messages to the applicant of a dossier, by SMS and e-mail, through the notifications app.

Sent at receipt (form 1), when the dossier must be completed before receipt (form 2), when a
supplement is requested during processing (form 2), when the result is ready, when the
dossier will be late (form 4), and when it is refused (form 3) or stopped (form 5).

Each message is a ``notifications.services.create_notification`` job addressed to the
applicant's mobile phone and, when there is one, their e-mail address. The job is enqueued in
the caller's transaction and sent once it commits; a message that cannot be addressed (no
phone, no e-mail) is skipped. The text is written in the portal's language
(``settings.LANGUAGE_CODE``), whatever language the official's page uses.
"""
from __future__ import annotations

import logging

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import translation
from django.utils.translation import gettext as _

from core.phones import normalize_mobile

logger = logging.getLogger(__name__)

RECEIVED = "received"
INCOMPLETE = "incomplete"
SUPPLEMENT = "supplement"
RESULT_READY = "result_ready"
DELAYED = "delayed"
REFUSED = "refused"
STOPPED = "stopped"
EVENTS = (RECEIVED, INCOMPLETE, SUPPLEMENT, RESULT_READY, DELAYED, REFUSED, STOPPED)

MAX_ITEMS_TEXT = 200
MAX_REASON_TEXT = 200


def _short(text: str, limit: int) -> str:
    text = " ".join(str(text or "").split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def format_moment(moment) -> str:
    """dd/mm/yyyy HH:MM in Vietnam time."""
    if moment is None:
        return ""
    from workcalendar.services import to_local

    return to_local(moment).strftime("%d/%m/%Y %H:%M")


def _links(dossier) -> dict:
    from onestop import links

    out = {}
    # No rating link: its key would be kept in the message's body, which officials and
    # supervisors read (the notifications' pages and API). The citizen rates from their account
    # (``result_url``, only the dossier's owner may rate there) or with the QR code printed on the
    # receipt and on the result they were handed.
    for key in ("status_url", "result_url"):
        try:
            out[key] = getattr(links, key)(dossier) if dossier.code else ""
        except Exception:  # noqa: BLE001 - a missing host must not stop the message
            logger.exception("No %s for dossier %s", key, dossier.pk)
            out[key] = ""
    return out


def compose(dossier, event: str, **context) -> tuple[str, str]:
    """(subject, text) of the message for ``event`` (one of ``EVENTS``)."""
    links = _links(dossier)
    values = {
        "code": dossier.code or "",
        "procedure": _short(dossier.procedure.name, 120),
        "name": dossier.applicant_name,
        "due": format_moment(context.get("due_at") or dossier.due_at),
        "items": _short("; ".join(context.get("items") or dossier.missing_items or []), MAX_ITEMS_TEXT),
        "reason": _short(context.get("reason") or dossier.closed_reason, MAX_REASON_TEXT),
        "new_due": format_moment(context.get("new_due_at") or dossier.extended_due_at),
        "status_url": links["status_url"],
        "result_url": links["result_url"] if dossier.citizen_id else "",
    }
    follow = (" " + _("Follow it at %(url)s") % {"url": values["status_url"]}) if values["status_url"] else ""
    if event == RECEIVED:
        subject = _("Dossier %(code)s received") % values
        text = _("Your dossier %(code)s (%(procedure)s) was received. Appointment to return the result: %(due)s.") % values
        text += follow
    elif event == INCOMPLETE:
        subject = _("Your dossier must be completed")
        text = _("Your dossier for “%(procedure)s” cannot be received yet. Please complete: %(items)s.") % values
    elif event == SUPPLEMENT:
        subject = _("Dossier %(code)s: a supplement is needed") % values
        text = _("Dossier %(code)s needs a supplement: %(items)s. The processing time is paused until it arrives.") % values
        text += follow
    elif event == RESULT_READY:
        subject = _("Dossier %(code)s: the result is ready") % values
        how = {
            "online": _("Download it from your account."),
            "post": _("It will be sent to you by post."),
        }.get(dossier.delivery, _("Collect it at the one-stop desk."))
        text = _("The result of dossier %(code)s is ready.") % values + " " + how
        if values["result_url"]:
            text += " " + _("Rate the service in your account: %(url)s") % {"url": values["result_url"]}
    elif event == DELAYED:
        subject = _("Dossier %(code)s: apology and new date") % values
        text = _("We apologise: dossier %(code)s will not be ready on time. New date: %(new_due)s. Reason: %(reason)s") % values
    elif event == REFUSED:
        subject = _("Your dossier was refused")
        text = _("Your dossier for “%(procedure)s” was refused. Reason: %(reason)s") % values
    elif event == STOPPED:
        subject = _("Dossier %(code)s: processing stopped") % values
        text = _("The processing of dossier %(code)s was stopped. Reason: %(reason)s") % values
    else:
        raise ValueError(f"unknown event {event!r}")
    return subject, text


def notify(dossier, event: str, *, user=None, **context) -> list:
    """Send the message of ``event`` to the applicant by SMS and e-mail; returns the jobs made.

    Never raises for an address the gateway would refuse: a message that cannot be sent is
    logged and skipped, the dossier's change stands.
    """
    from notifications.models import Channel
    from notifications.services import MAX_SMS_LENGTH, create_notification

    with translation.override(settings.LANGUAGE_CODE):
        subject, text = compose(dossier, event, **context)
    sent = []
    phone = normalize_mobile(dossier.applicant_phone)
    targets = []
    if phone:
        targets.append((Channel.SMS, phone, _short(text, MAX_SMS_LENGTH)))
    if dossier.applicant_email:
        targets.append((Channel.EMAIL, dossier.applicant_email, text))
    for channel, recipient, message in targets:
        try:
            sent.append(create_notification(
                channel=channel, message=message, recipients=[recipient], subject=subject if channel == Channel.EMAIL else "",
                user=user if getattr(user, "is_authenticated", False) else None,
            ))
        except ValidationError as exc:
            logger.warning("Dossier %s: %s message not sent: %s", dossier.pk, channel, exc)
    return sent


def dossier_received(dossier, *, user=None):
    return notify(dossier, RECEIVED, user=user)


def completion_requested(dossier, *, user=None):
    return notify(dossier, INCOMPLETE, user=user)


def supplement_requested(dossier, *, items, user=None):
    return notify(dossier, SUPPLEMENT, user=user, items=items)


def result_ready(dossier, *, user=None):
    return notify(dossier, RESULT_READY, user=user)


def delayed(dossier, *, new_due_at, reason, user=None):
    return notify(dossier, DELAYED, user=user, new_due_at=new_due_at, reason=reason)


def refused(dossier, *, user=None):
    return notify(dossier, REFUSED, user=user)


def stopped(dossier, *, user=None):
    return notify(dossier, STOPPED, user=user)
