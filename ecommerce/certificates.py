"""The warnings of OCOP certificates that end: 90 and then 30 days before a certificate's end,
its producer (SMS to the producer's phone, e-mail when it has an address) and the commune's
economy officers (e-mail, or SMS to an officer without an address) are told, once each.

A warning is a durable notification (``notifications.services.create_notification``: a job whose
row is the truth, sent by a worker after the commit). The certificate keeps the day each warning
went (``warned_90_on``, ``warned_30_on``), written in the same transaction as the notifications,
with the certificate's row locked: a warning is sent once however often the task runs, and a run
that fails half-way sends the rest at the next run. A certificate recorded with less than 30
days left gets the 30-day warning only (its 90-day day is marked at once).

``warn_due(on)`` does it in the current commune's schema; the Celery beat task
``ecommerce.warn_certificates`` (``ecommerce.tasks``) calls ``warn_all`` every morning, which
visits each commune's schema in turn. ``on`` is the day of the run (today by default): the
tests move it instead of the clock.

After its end a certificate gives no star (``Certificate.stars_now``, ``selectors.with_stars``):
the product's pages say why ("The OCOP certificate expired on dd/mm/yyyy.").
"""
from __future__ import annotations

import datetime
import logging

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from core.phones import normalize_mobile
from ecommerce import permissions, selectors
from ecommerce.models import Certificate

logger = logging.getLogger(__name__)

WARNING_DAYS = (30, 90)  # the nearer first: a certificate within 30 days skips the 90-day warning


def _product_url(certificate: Certificate, commune) -> str:
    from core.links import commune_base_url

    path = reverse("ecommerce:product", args=[certificate.product_id], urlconf="config.urls_tenant")
    return f"{commune_base_url(commune)}{path}"


def compose(certificate: Certificate, days_left: int, *, for_officers: bool, url: str = "") -> tuple[str, str]:
    """(subject, text) of a warning, in the portal's language."""
    product = certificate.product
    values = {
        "number": certificate.number, "product": str(product), "producer": product.producer.name,
        "date": certificate.expires_on.strftime("%d/%m/%Y"), "days": days_left, "url": url,
        "stars": certificate.score_stars,
    }
    subject = _("OCOP certificate %(number)s ends on %(date)s") % values
    if for_officers:
        text = _("The OCOP certificate %(number)s (%(stars)d stars) of “%(product)s” of %(producer)s ends on "
                 "%(date)s, in %(days)d days. After that date the product shows no stars until a new "
                 "certificate is recorded.") % values
    else:
        text = _("The OCOP certificate %(number)s of “%(product)s” ends on %(date)s, in %(days)d days. Ask the "
                 "commune's economy officer about the re-assessment: after that date the product shows no "
                 "stars.") % values
    if url:
        text += " " + url
    return subject, text


def _officers(commune) -> list:
    from communes.permissions import members

    return list(members([permissions.ECONOMY_OFFICER], commune))


def _send(channel: str, recipients: list[str], subject: str, text: str) -> list:
    from notifications.models import Channel
    from notifications.services import MAX_SMS_LENGTH, create_notification

    if not recipients:
        return []
    if channel == Channel.SMS and len(text) > MAX_SMS_LENGTH:
        text = text[: MAX_SMS_LENGTH - 1] + "…"
    try:
        return [create_notification(channel=channel, message=text, recipients=recipients,
                                    subject=subject if channel == Channel.EMAIL else "")]
    except ValidationError as exc:  # an address the gateway would refuse: the others still go
        logger.warning("Certificate warning by %s not sent to %s: %s", channel, recipients, exc)
        return []


def notify(certificate: Certificate, days_left: int, commune) -> list:
    """The warning's notifications (jobs enqueued in the caller's transaction)."""
    from notifications.models import Channel

    url = _product_url(certificate, commune) if commune is not None else ""
    jobs = []
    with translation.override(settings.LANGUAGE_CODE):
        subject, text = compose(certificate, days_left, for_officers=False, url=url)
        producer = certificate.product.producer
        phone = normalize_mobile(producer.phone)
        jobs += _send(Channel.SMS, [phone] if phone else [], subject, text)
        jobs += _send(Channel.EMAIL, [producer.email] if producer.email else [], subject, text)
        subject, text = compose(certificate, days_left, for_officers=True, url=url)
        officers = _officers(commune) if commune is not None else []
        emails = sorted({o.email.strip().lower() for o in officers if (o.email or "").strip()})
        phones = sorted({normalize_mobile(o.phone) for o in officers
                         if not (o.email or "").strip() and normalize_mobile(o.phone)})
        jobs += _send(Channel.EMAIL, emails, subject, text)
        jobs += _send(Channel.SMS, phones, subject, text)
    return jobs


def warn_due(on: datetime.date | None = None, commune=None) -> dict:
    """Send the warnings due on ``on`` (today) in the current schema. Returns
    {"30": certificates warned, "90": …, "notifications": jobs written}."""
    from communes.permissions import current_commune

    on = on or timezone.localdate()
    commune = commune if commune is not None else current_commune()
    counts = {"30": 0, "90": 0, "notifications": 0}
    for days in WARNING_DAYS:
        field = f"warned_{days}_on"
        for pk in list(selectors.certificates_to_warn(days, on).values_list("pk", flat=True)):
            with transaction.atomic():
                certificate = (Certificate.objects.select_for_update(skip_locked=True, of=("self",))
                               .select_related("product__producer", "product__live_version", "product__pending_version")
                               .filter(pk=pk, **{f"{field}__isnull": True}).first())
                if certificate is None:  # warned meanwhile, or being warned by another run
                    continue
                jobs = notify(certificate, (certificate.expires_on - on).days, commune)
                updates = {field: on}
                if days == 30 and certificate.warned_90_on is None:
                    updates["warned_90_on"] = on
                Certificate.objects.filter(pk=pk).update(**updates)
            counts[str(days)] += 1
            counts["notifications"] += len(jobs)
    if counts["30"] or counts["90"]:
        logger.info("OCOP certificate warnings on %s: %s", on, counts)
    return counts


def warn_all(on: datetime.date | None = None) -> dict:
    """Every commune in turn (a failing schema is logged and skipped). Returns the totals."""
    from django_tenants.utils import get_public_schema_name, tenant_context

    from communes.models import Commune

    totals = {"communes": 0, "30": 0, "90": 0, "notifications": 0}
    for commune in Commune.objects.exclude(schema_name=get_public_schema_name()).order_by("pk"):
        try:
            with tenant_context(commune):
                counts = warn_due(on, commune)
        except Exception:  # one broken schema must not stop the others
            logger.exception("OCOP certificate warnings in %s failed", commune.schema_name)
            continue
        totals["communes"] += 1
        for key in ("30", "90", "notifications"):
            totals[key] += counts[key]
    return totals
