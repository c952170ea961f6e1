"""Signing certificates that expired or expire soon: the signatures app's lines of the to-do inbox.

An official sees their own certificates and the commune's certificates whose key they hold;
the commune administrator, who has them renewed, sees every certificate of the commune. The
warning period is XASO_CERT_EXPIRY_WARNING_DAYS.
"""
from __future__ import annotations

import datetime

from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from communes.modules import InboxLine, Severity, line_url, tally
from signatures import permissions
from signatures.models import KeyGrant, SigningCertificate, expiry_warning_days


def lines(request, user, roles) -> list[InboxLine]:
    roles = set(roles)
    manages = bool(roles & {str(r) for r in permissions.ADMIN_ROLES})
    certificates = SigningCertificate.objects.filter(active=True)
    if not manages:
        certificates = certificates.filter(
            Q(owner_user_id=user.pk) | Q(pk__in=KeyGrant.objects.filter(user_id=user.pk).values("certificate_id")))
    now = timezone.now()
    limit = now + datetime.timedelta(days=expiry_warning_days())
    counts = tally(certificates, {"expired": Q(not_after__lt=now), "expiring": Q(not_after__gte=now, not_after__lt=limit)})
    listing = reverse("signatures:commune" if manages else "signatures:mine")
    result = []
    for key, label, severity in (
        ("expired", _("Signing certificates that have expired"), Severity.OVERDUE),
        ("expiring", _("Signing certificates that expire soon: ask for their renewal"), Severity.DUE_SOON),
    ):
        count, pk = counts[key]
        url = line_url(count, pk, lambda pk: reverse("signatures:certificate", args=[pk]), listing)
        result.append(InboxLine(f"signatures.{key}", str(label), count, url, severity))
    return result
