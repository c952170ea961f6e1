"""Reads on digital signatures."""
from __future__ import annotations

import datetime as dt

from django.db.models import Q
from django.utils import timezone

from communes.models import User
from signatures import permissions
from signatures.models import (
    ImageKind, KeyGrant, SignatureImage, SigningCertificate, SigningEvent, SigningJob, expiry_warning_days,
)


def own_certificates(user):
    """The user's personal certificates and the commune certificates they hold the key of."""
    return SigningCertificate.objects.filter(
        Q(owner_user_id=user.pk) | Q(grants__user_id=user.pk)
    ).distinct().order_by("-active", "kind", "-not_after")


def commune_certificates():
    return SigningCertificate.objects.order_by("-active", "kind", "subject", "-not_after")


def visible_certificates(user, commune=None):
    if permissions.can_manage(user, commune):
        return commune_certificates()
    return own_certificates(user)


def expiring_certificates(user, commune=None):
    """Active certificates the user cares about that expired or expire within the warning period."""
    limit = timezone.now() + dt.timedelta(days=expiry_warning_days())
    return visible_certificates(user, commune).filter(active=True, not_after__lt=limit).order_by("not_after")


def grants_of(certificate):
    grants = list(KeyGrant.objects.filter(certificate=certificate).order_by("created_at"))
    users = {u.pk: u for u in User.objects.filter(pk__in=[g.user_id for g in grants])}
    for grant in grants:
        grant.holder = users.get(grant.user_id)
    return grants


def grant_of(certificate, user):
    return KeyGrant.objects.filter(certificate=certificate, user_id=user.pk).first()


def own_grants(user):
    return KeyGrant.objects.filter(user_id=user.pk).select_related("certificate").order_by("certificate__kind")


def visible_images(user, commune=None):
    qs = SignatureImage.objects.filter(active=True)
    if permissions.can_manage(user, commune):
        return qs.filter(Q(kind=ImageKind.SEAL) | Q(owner_user_id=user.pk))
    if permissions.may_use_agency_key(user, commune):
        return qs.filter(Q(kind=ImageKind.SEAL) | Q(owner_user_id=user.pk))
    return qs.filter(owner_user_id=user.pk, kind=ImageKind.SIGNATURE)


def visible_jobs(user, commune=None):
    qs = SigningJob.objects.select_related("certificate").order_by("-created_at", "-pk")
    if permissions.sees_all_jobs(user, commune):
        return qs
    return qs.filter(requested_by_id=user.pk)


def events(limit: int = 200):
    return SigningEvent.objects.order_by("-at", "-pk")[:limit]


def users_by_id(ids) -> dict:
    return {u.pk: u for u in User.objects.filter(pk__in=[i for i in ids if i])}
