"""Signing certificates in the to-do inbox: the holder of a certificate that expires within the
warning period (or has expired) sees a line opening it; the commune's administrator sees every
certificate of the commune; nobody else sees it."""
from __future__ import annotations

from datetime import timedelta

from django.test import RequestFactory
from django.utils import timezone

from communes.models import Role
from communes.modules import inbox_for


def lines_of(commune, user, in_commune) -> dict:
    request = RequestFactory().get("/", HTTP_HOST="tule.localhost")
    request.user, request.commune = user, commune
    with in_commune(commune):
        return {line.key: (line.count, line.url, line.severity) for line in inbox_for(request, module="signatures")}


def test_expiring_and_expired_certificates_are_lines_for_their_holders(tule, in_commune, signer, clerk, make_user,
                                                                       settings):
    from signatures.models import SigningCertificate

    settings.XASO_CERT_EXPIRY_WARNING_DAYS = 30
    admin = make_user("tule.admin.sig", roles={tule: [Role.COMMUNE_ADMIN]})
    other = make_user("tule.vice.sig", roles={tule: [Role.VICE_CHAIRMAN]})
    assert lines_of(tule, signer.user, in_commune) == {}
    with in_commune(tule):
        SigningCertificate.objects.filter(pk=signer.certificate.pk).update(not_after=timezone.now() + timedelta(days=10))
        SigningCertificate.objects.filter(pk=clerk.certificate.pk).update(not_after=timezone.now() - timedelta(days=1))
    url = f"/signatures/certificates/{signer.certificate.pk}/"
    assert lines_of(tule, signer.user, in_commune) == {"signatures.expiring": (1, url, "due_soon")}
    # The clerk holds the key of the commune's certificate, which has expired.
    assert lines_of(tule, clerk.user, in_commune) == {
        "signatures.expired": (1, f"/signatures/certificates/{clerk.certificate.pk}/", "overdue")}
    assert lines_of(tule, admin, in_commune) == {
        "signatures.expiring": (1, url, "due_soon"),
        "signatures.expired": (1, f"/signatures/certificates/{clerk.certificate.pk}/", "overdue"),
    }
    assert lines_of(tule, other, in_commune) == {}
    settings.XASO_CERT_EXPIRY_WARNING_DAYS = 5
    assert lines_of(tule, signer.user, in_commune) == {}
