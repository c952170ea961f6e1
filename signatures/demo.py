"""The demo PKI of the demo communes: a clearly labelled demo CA ("DEMO - NOT FOR REAL USE"),
personal certificates for the officials who sign (chairman and vice-chairmen), an agency
certificate per commune given to its clerks, demo signature and seal images, and the CA in the
trust store. Idempotent: running it again adds only what is missing.

The CA is kept in the storage of the public schema (``national/demo-pki/``), its key encrypted
under the installation's secret key, so that communes added later get certificates from the
same CA.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from cryptography import x509
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django_tenants.utils import get_public_schema_name, schema_context, tenant_context

from communes.models import Commune, Membership, Role
from signatures import pki

CA_NAME = "Xã Số Demo CA"
CA_CERT = "demo-pki/ca.pem"
CA_KEY = "demo-pki/ca-key.pem"
SIGNING_ROLES = (Role.CHAIRMAN, Role.VICE_CHAIRMAN)


@dataclass
class DemoReport:
    ca_created: bool = False
    personal: int = 0
    agency: int = 0
    grants: int = 0
    images: int = 0
    skipped: list[str] = field(default_factory=list)


def _ca_secret() -> str:
    return "demo-ca:" + str(settings.SECRET_KEY)


def load_or_create_ca(*, new: bool = False) -> tuple[pki.Identity, bool]:
    """The demo CA, created (and stored) when there is none or when ``new``."""
    with schema_context(get_public_schema_name()):
        storage = default_storage
        cert_name, key_name = storage.generate_filename(CA_CERT), storage.generate_filename(CA_KEY)
        if not new and storage.exists(cert_name) and storage.exists(key_name):
            with storage.open(cert_name, "rb") as handle:
                cert = pki.load_certificate(handle.read())
            with storage.open(key_name, "rb") as handle:
                key = pki.decrypt_key(handle.read(), _ca_secret())
            return pki.Identity(key=key, cert=cert, chain=[]), False
        ca = pki.make_demo_ca(CA_NAME)
        for name in (cert_name, key_name):
            if storage.exists(name):
                storage.delete(name)
        storage.save(CA_CERT, ContentFile(ca.cert_pem()))
        storage.save(CA_KEY, ContentFile(pki.encrypt_key(ca.key, _ca_secret())))
        return ca, True


def trust_ca(ca: pki.Identity) -> bool:
    """Add the CA to the trust store (when the trust store app provides it)."""
    try:
        from truststore.services import add_anchor
    except ImportError:
        return False
    with schema_context(get_public_schema_name()):
        add_anchor(ca.cert_pem(), label=f"{CA_NAME} ({pki.DEMO_LABEL})", source="init_demo_pki")
    return True


def demo_signature_png(name: str) -> bytes:
    from signatures.pdf.images import demo_signature_png as make

    return make(name)


def demo_seal_png(organisation: str) -> bytes:
    from signatures.pdf.images import demo_seal_png as make

    return make(organisation)


def _organisation(commune: Commune) -> str:
    return f"UBND {commune.name_in_sentence}"


def _usable(certificate) -> bool:
    return certificate is not None and certificate.active and certificate.is_valid_at()


def seed_commune(commune: Commune, ca: pki.Identity, *, pin: str, force: bool = False,
                 report: DemoReport | None = None) -> DemoReport:
    """Certificates, grants and images of one commune (inside its schema)."""
    from signatures import services
    from signatures.models import CertificateKind, ImageKind, KeyGrant, SigningCertificate

    report = report or DemoReport()
    organisation = _organisation(commune)
    issuer = ca.cert.subject.get_attributes_for_oid(x509.oid.NameOID.COMMON_NAME)[0].value
    memberships = list(
        Membership.objects.filter(commune=commune, is_active=True, user__is_active=True)
        .select_related("user").order_by("user__username", "role")
    )
    with tenant_context(commune):
        def demo_certificates(**filters):
            return SigningCertificate.objects.filter(issuer=issuer, active=True, **filters)

        if force:
            for certificate in demo_certificates():
                services.deactivate_certificate(certificate, actor=None)
        # personal certificates of those who sign
        for membership in memberships:
            if membership.role not in SIGNING_ROLES:
                continue
            user = membership.user
            existing = demo_certificates(kind=CertificateKind.PERSONAL, owner_user_id=user.pk).order_by("-not_after").first()
            if not _usable(existing):
                identity = pki.issue_personal(ca, user.full_name or user.username,
                                              membership.job_title or membership.get_role_display(), organisation)
                services.import_pkcs12(
                    file_bytes=identity.to_pkcs12("demo"), passphrase="demo", kind=CertificateKind.PERSONAL,
                    owner_user_id=user.pk, grants={user.pk: pin}, actor=None,
                )
                report.personal += 1
            if services.active_image(ImageKind.SIGNATURE, user.pk) is None:
                services.save_signature_image(data=demo_signature_png(user.full_name or user.username),
                                              kind=ImageKind.SIGNATURE, owner_user_id=user.pk, actor=None)
                report.images += 1
        # the agency certificate, given to the clerks
        clerks = [m.user for m in memberships if m.role == Role.CLERK]
        agency = demo_certificates(kind=CertificateKind.AGENCY).order_by("-not_after").first()
        if not _usable(agency):
            if not clerks:
                report.skipped.append(f"{commune.name}: no clerk, no agency certificate")
            else:
                identity = pki.issue_agency(ca, organisation, locality=commune.name)
                agency = services.import_pkcs12(
                    file_bytes=identity.to_pkcs12("demo"), passphrase="demo", kind=CertificateKind.AGENCY,
                    grants={clerk.pk: pin for clerk in clerks}, actor=None,
                )
                report.agency += 1
                report.grants += len(clerks)
        elif clerks:
            holder = KeyGrant.objects.filter(certificate=agency).exclude(encrypted_key=None).first()
            for clerk in clerks:
                if holder is None or KeyGrant.objects.filter(certificate=agency, user_id=clerk.pk).exists():
                    continue
                try:
                    services.add_grant(agency, clerk.pk, pin, None, pin, unlocking_user_id=holder.user_id)
                    report.grants += 1
                except Exception as exc:  # noqa: BLE001 - e.g. the holder changed the demo PIN
                    report.skipped.append(f"{commune.name}: {clerk.username}: {exc}")
        if services.active_image(ImageKind.SEAL) is None:
            services.save_signature_image(data=demo_seal_png(organisation), kind=ImageKind.SEAL, actor=None)
            report.images += 1
    return report


def seed(*, pin: str = "123456", force: bool = False, new_ca: bool = False, commune_codes=None) -> tuple[pki.Identity, DemoReport]:
    from signatures.services import validate_pin

    validate_pin(pin)
    ca, created = load_or_create_ca(new=new_ca)
    report = DemoReport(ca_created=created)
    trust_ca(ca)
    communes = Commune.objects.exclude(schema_name=get_public_schema_name()).order_by("code")
    if commune_codes:
        communes = communes.filter(code__in=list(commune_codes))
    for commune in communes:
        seed_commune(commune, ca, pin=pin, force=force or new_ca, report=report)
    return ca, report


def seed_demo(context) -> None:
    """The demo step (``communes.modules.DemoStep``): the demo PKI, the certificates of the
    officials who sign and of each commune, all opened by the demo PIN."""
    _ca, report = seed(pin=context.pin)
    if report.personal or report.agency:
        context.out(f"  demo PKI: {report.personal} personal and {report.agency} agency certificates "
                    f"(PIN {context.pin})")
