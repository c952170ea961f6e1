"""Digital signatures of a commune: signing certificates and who may use their keys, the images
drawn in a visible signature, the signing jobs and the log of every signing.

Tenant models: each commune's schema holds its own rows. Users are public rows, kept here as
foreign keys without a database constraint (``db_constraint=False``), like everywhere else.

A private key held by the portal is never stored in clear and never under a shared secret: each
person allowed to use it has a ``KeyGrant`` holding the key encrypted under that person's own PIN,
and the PIN itself is stored nowhere.
"""
from __future__ import annotations

import base64
import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.history import tenant_history
from jobs.models import Job, JobState
from jobs.registry import register


def expiry_warning_days() -> int:
    return int(getattr(settings, "XASO_CERT_EXPIRY_WARNING_DAYS", 30))


class CertificateKind(models.TextChoices):
    """Personal: an official's own certificate (chữ ký số cá nhân). Agency: the commune's
    certificate (chữ ký số của cơ quan, tổ chức), applied by its clerks (văn thư)."""

    PERSONAL = "personal", _("Personal")
    AGENCY = "agency", _("Agency (commune)")


class Backend(models.TextChoices):
    SOFTWARE = "software", _("Key held by the portal (imported PKCS#12)")
    PKCS11 = "pkcs11", _("Token or HSM (PKCS#11)")
    CSC = "csc", _("Remote signing service (confirmed on the phone)")


PIN_BACKENDS = frozenset({Backend.SOFTWARE, Backend.PKCS11})


class SigningCertificate(models.Model):
    """A signing certificate of an official or of the commune, and where its key lives.

    ``backend_config`` holds what is needed to reach a key that the portal does not hold: for
    ``pkcs11`` the module path, token label and key label or id; for ``csc`` the service address,
    the credential id and the *name* of the setting that holds the service's access token (the
    token itself never goes into the database).
    """

    kind = models.CharField(_("kind"), max_length=10, choices=CertificateKind.choices)
    owner_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("owner"), null=True, blank=True, on_delete=models.DO_NOTHING,
        related_name="+", db_constraint=False,
    )
    subject = models.CharField(_("subject"), max_length=300)
    organisation = models.CharField(_("organisation"), max_length=300, blank=True)
    title = models.CharField(_("title"), max_length=300, blank=True)
    issuer = models.CharField(_("issuer"), max_length=300, blank=True)
    serial = models.CharField(_("serial number"), max_length=100)
    fingerprint = models.CharField(_("SHA-256 fingerprint"), max_length=64, unique=True)
    not_before = models.DateTimeField(_("valid from"))
    not_after = models.DateTimeField(_("valid until"))
    cert_der = models.BinaryField(_("certificate (DER)"))
    chain_der = models.JSONField(_("chain (base64 DER, issuer first)"), default=list, blank=True)
    backend = models.CharField(_("key storage"), max_length=10, choices=Backend.choices, default=Backend.SOFTWARE)
    backend_config = models.JSONField(_("key storage settings"), default=dict, blank=True)
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("created by"), null=True, blank=True, on_delete=models.DO_NOTHING,
        related_name="+", db_constraint=False,
    )
    deactivated_at = models.DateTimeField(_("deactivated at"), null=True, blank=True)
    history = tenant_history(excluded_fields=["cert_der", "chain_der"])

    class Meta:
        verbose_name = _("signing certificate")
        verbose_name_plural = _("signing certificates")
        ordering = ["kind", "subject", "-not_after"]
        indexes = [models.Index(fields=["kind", "active"], name="sigcert_kind_active")]

    def __str__(self) -> str:
        return f"{self.subject} ({self.get_kind_display()}, {self.not_after:%d/%m/%Y})"

    # certificates

    @property
    def cert_bytes(self) -> bytes:
        return bytes(self.cert_der)

    @property
    def chain_bytes(self) -> list[bytes]:
        return [base64.b64decode(item) for item in (self.chain_der or [])]

    def set_chain(self, chain: list[bytes]) -> None:
        self.chain_der = [base64.b64encode(bytes(c)).decode("ascii") for c in chain]

    # validity

    def is_valid_at(self, when=None) -> bool:
        when = when or timezone.now()
        return self.not_before <= when <= self.not_after

    @property
    def is_expired(self) -> bool:
        return timezone.now() > self.not_after

    @property
    def is_not_yet_valid(self) -> bool:
        return timezone.now() < self.not_before

    @property
    def days_left(self) -> int:
        return max(0, (self.not_after - timezone.now()).days)

    @property
    def expires_soon(self) -> bool:
        """Still valid, but for fewer than XASO_CERT_EXPIRY_WARNING_DAYS more days."""
        now = timezone.now()
        return now <= self.not_after < now + dt.timedelta(days=expiry_warning_days())

    @property
    def uses_pin(self) -> bool:
        return self.backend in PIN_BACKENDS

    @property
    def status(self) -> str:
        if not self.active:
            return "inactive"
        if self.is_expired:
            return "expired"
        if self.is_not_yet_valid:
            return "not_yet_valid"
        if self.expires_soon:
            return "expires_soon"
        return "valid"


class KeyGrant(models.Model):
    """One person's right to use a certificate's key, with the key encrypted under their own PIN.

    A personal certificate has one grant, for its owner; the commune's agency certificate has
    one per clerk allowed to apply it. For keys the portal does not hold (token, remote service)
    ``encrypted_key`` is empty and the grant only records the right. Wrong PINs are counted
    here: after XASO_PIN_MAX_ATTEMPTS the grant is locked for XASO_PIN_LOCK_MINUTES.
    """

    certificate = models.ForeignKey(
        SigningCertificate, verbose_name=_("certificate"), on_delete=models.CASCADE, related_name="grants",
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.DO_NOTHING, related_name="+",
        db_constraint=False,
    )
    encrypted_key = models.BinaryField(_("encrypted private key"), null=True, blank=True, editable=False)
    failed_attempts = models.PositiveSmallIntegerField(_("wrong PIN attempts"), default=0)
    locked_until = models.DateTimeField(_("locked until"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("created by"), null=True, blank=True, on_delete=models.DO_NOTHING,
        related_name="+", db_constraint=False,
    )
    history = tenant_history(excluded_fields=["encrypted_key"])

    class Meta:
        verbose_name = _("key grant")
        verbose_name_plural = _("key grants")
        ordering = ["certificate", "created_at"]
        constraints = [models.UniqueConstraint(fields=["certificate", "user"], name="keygrant_unique_user")]

    def __str__(self) -> str:
        return f"{self.certificate.subject} → {self.user_id}"

    @property
    def is_locked(self) -> bool:
        return bool(self.locked_until and self.locked_until > timezone.now())


class ImageKind(models.TextChoices):
    SIGNATURE = "signature", _("Handwritten signature (blue)")
    SEAL = "seal", _("Commune seal (red)")


class SignatureImage(models.Model):
    """The image drawn in a visible signature: an official's handwritten signature (blue) or
    the commune's seal (red). A transparent PNG; one active image per official and one seal."""

    kind = models.CharField(_("kind"), max_length=10, choices=ImageKind.choices)
    owner_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("owner"), null=True, blank=True, on_delete=models.DO_NOTHING,
        related_name="+", db_constraint=False,
    )
    file_name = models.CharField(_("file"), max_length=300)
    sha256 = models.CharField(_("SHA-256"), max_length=64, db_index=True)
    width = models.PositiveIntegerField(_("width"))
    height = models.PositiveIntegerField(_("height"))
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("created by"), null=True, blank=True, on_delete=models.DO_NOTHING,
        related_name="+", db_constraint=False,
    )
    history = tenant_history()

    class Meta:
        verbose_name = _("signature image")
        verbose_name_plural = _("signature images")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["owner_user"], condition=Q(active=True, kind="signature"),
                                    name="sigimage_one_active_signature"),
            models.UniqueConstraint(fields=["kind"], condition=Q(active=True, kind="seal"),
                                    name="sigimage_one_active_seal"),
            models.CheckConstraint(condition=Q(kind="seal") | Q(owner_user__isnull=False),
                                   name="sigimage_signature_has_owner"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}"

    def read(self) -> bytes:
        from django.core.files.storage import default_storage

        with default_storage.open(self.file_name, "rb") as handle:
            return handle.read()


class Purpose(models.TextChoices):
    LEADER = "leader", _("Signature of the person with authority")
    AGENCY = "agency", _("Agency signature (clerk)")
    ATTACHMENT = "attachment", _("Agency signature of an attachment")
    OTHER = "other", _("Other")


@register
class SigningJob(Job):
    """One PAdES signature of one PDF, as a durable job.

    For keys opened with a PIN the private-key operation happens in the request
    (``services.request_signature``): the placeholder PDF, the prepared state and the signature
    value are stored here and the job only finishes (timestamp, CMS, final file, ``on_done``).
    For a remote signing service the job prepares, asks the service once, waits (state
    ``waiting``, no worker held) until the official confirms, then finishes. Running the job
    again never adds a second signature.
    """

    purpose = models.CharField(_("purpose"), max_length=12, choices=Purpose.choices, default=Purpose.OTHER)
    subject = models.CharField(_("signed object"), max_length=200, blank=True,
                               help_text=_('What is signed, e.g. "documents.outgoing:42".'))
    certificate = models.ForeignKey(
        SigningCertificate, verbose_name=_("certificate"), on_delete=models.PROTECT, related_name="jobs",
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("requested by"), null=True, blank=True,
        on_delete=models.DO_NOTHING, related_name="+", db_constraint=False,
    )
    source_name = models.CharField(_("file to sign"), max_length=300)
    output_name = models.CharField(_("signed file"), max_length=300, blank=True)
    field_name = models.CharField(_("signature field"), max_length=100)
    field_spec = models.JSONField(_("signature field settings"), default=dict)
    appearance = models.JSONField(_("appearance"), default=dict, blank=True)
    prepared_state = models.JSONField(_("prepared state"), null=True, blank=True)
    prepared_name = models.CharField(_("prepared file"), max_length=300, blank=True)
    signature_value = models.TextField(_("signature value (base64)"), blank=True)
    csc_request_id = models.CharField(_("remote signing request"), max_length=200, blank=True)
    csc_requested_at = models.DateTimeField(_("remote signing requested at"), null=True, blank=True)
    on_done = models.CharField(_("callback when signed"), max_length=200, blank=True)
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    location = models.CharField(_("location"), max_length=200, blank=True)
    timestamp_url = models.CharField(_("timestamp authority"), max_length=300, blank=True)

    class Meta(Job.Meta):
        verbose_name = _("signing job")
        verbose_name_plural = _("signing jobs")
        constraints = [
            # One signature per field of one file (a failed job may be asked again).
            models.UniqueConstraint(fields=["source_name", "field_name"], condition=~Q(state=JobState.FAILED),
                                    name="signingjob_one_per_field"),
        ]

    def __str__(self) -> str:
        return f"{self.get_purpose_display()} #{self.pk} ({self.subject or self.source_name})"

    @property
    def is_remote(self) -> bool:
        return self.certificate.backend == Backend.CSC

    @property
    def is_waiting_for_phone(self) -> bool:
        return self.state == JobState.WAITING and bool(self.csc_request_id)

    def run(self, ctx):
        from signatures.runner import run_signing_job

        return run_signing_job(self, ctx)


class Outcome(models.TextChoices):
    REQUESTED = "requested", _("Requested")
    SIGNED = "signed", _("Signed")
    REFUSED = "refused", _("Refused")
    FAILED = "failed", _("Failed")


class SigningEvent(models.Model):
    """The log of every signing: who, with which certificate, what, why, and how it ended.

    Append-only: rows are never changed or deleted. Names are copied so a line keeps its
    meaning after the account or the certificate is gone.
    """

    at = models.DateTimeField(_("time"), default=timezone.now, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), null=True, blank=True, on_delete=models.DO_NOTHING,
        related_name="+", db_constraint=False,
    )
    username = models.CharField(_("user name"), max_length=150, blank=True)
    certificate = models.ForeignKey(
        SigningCertificate, verbose_name=_("certificate"), null=True, blank=True, on_delete=models.DO_NOTHING,
        related_name="+", db_constraint=False,
    )
    certificate_fingerprint = models.CharField(_("certificate fingerprint"), max_length=64, blank=True)
    certificate_subject = models.CharField(_("certificate subject"), max_length=300, blank=True)
    subject = models.CharField(_("signed object"), max_length=200, blank=True)
    purpose = models.CharField(_("purpose"), max_length=12, choices=Purpose.choices, blank=True)
    outcome = models.CharField(_("outcome"), max_length=10, choices=Outcome.choices)
    code = models.CharField(_("code"), max_length=40, blank=True)
    detail = models.CharField(_("detail"), max_length=500, blank=True)
    job = models.ForeignKey(
        SigningJob, verbose_name=_("signing job"), null=True, blank=True, on_delete=models.DO_NOTHING,
        related_name="events", db_constraint=False,
    )

    class Meta:
        verbose_name = _("signing event")
        verbose_name_plural = _("signing log")
        ordering = ["-at", "-pk"]

    def __str__(self) -> str:
        return f"{self.at:%d/%m/%Y %H:%M} {self.username} {self.outcome} {self.subject}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("The signing log is append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("The signing log is append-only.")
