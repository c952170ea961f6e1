"""Shared (public-schema) models: communes, their hosts, supervising units, users, memberships."""
from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from django_otp.models import Device
from django_tenants.models import DomainMixin, TenantMixin
from simple_history.models import HistoricalRecords


class Role(models.TextChoices):
    """Roles an official holds in one commune (Membership.role)."""

    CHAIRMAN = "chairman", _("Chairman")
    VICE_CHAIRMAN = "vice_chairman", _("Vice-chairman")
    CLERK = "clerk", _("Clerk")  # văn thư
    ONESTOP_OFFICER = "onestop_officer", _("One-stop officer")
    SPECIALIST = "specialist", _("Specialist")
    RADIO_OPERATOR = "radio_operator", _("Radio operator")
    HEALTH_STAFF = "health_staff", _("Health staff")
    SCHOOL_STAFF = "school_staff", _("School staff")
    ECONOMY_OFFICER = "economy_officer", _("Economy officer (OCOP)")  # cán bộ kinh tế, phụ trách OCOP
    PRODUCER = "producer", _("Producer")
    TECH_TEAM = "tech_team", _("Community tech team member")
    COMMUNE_ADMIN = "commune_admin", _("Commune administrator")


class SupervisingUnit(models.Model):
    """A unit above the commune: a province, or a district where an installation keeps one."""

    class Kind(models.TextChoices):
        PROVINCE = "province", _("Province")
        DISTRICT = "district", _("District")

    code = models.CharField(_("code"), max_length=10, unique=True)
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.PROVINCE)
    province_kind = models.CharField(
        _("province kind"), max_length=40, blank=True, help_text=_("tỉnh or thành phố trung ương")
    )
    parent = models.ForeignKey(
        "self", verbose_name=_("parent unit"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="children",
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("supervising unit")
        verbose_name_plural = _("supervising units")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name

    def descendant_ids(self) -> set[int]:
        """This unit and every unit below it (the tree is shallow: province, district)."""
        ids = {self.pk}
        frontier = [self.pk]
        while frontier:
            frontier = list(
                SupervisingUnit.objects.filter(parent_id__in=frontier).values_list("pk", flat=True)
            )
            ids.update(frontier)
        return ids


class Commune(TenantMixin):
    """A commune (xã, phường or đặc khu): the tenant, with its own PostgreSQL schema."""

    class Kind(models.TextChoices):
        COMMUNE = "xã", _("commune (xã)")
        WARD = "phường", _("ward (phường)")
        SPECIAL_ZONE = "đặc khu", _("special zone (đặc khu)")

    code = models.CharField(
        _("administrative code"), max_length=5, unique=True,
        validators=[RegexValidator(r"^\d{5}$", _("The commune code has exactly 5 digits."))],
    )
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.COMMUNE)
    supervising_unit = models.ForeignKey(
        SupervisingUnit, verbose_name=_("supervising unit"), on_delete=models.PROTECT,
        related_name="communes", null=True, blank=True,
    )
    agency_code = models.CharField(
        _("agency identifier"), max_length=13, blank=True,
        help_text=_("Agency identifier code for document exchange (QCVN 102:2016)."),
    )
    address = models.CharField(_("address"), max_length=300, blank=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    bank_bin = models.CharField(_("bank BIN"), max_length=6, blank=True)
    bank_account = models.CharField(_("bank account number"), max_length=19, blank=True)
    bank_account_name = models.CharField(_("bank account name"), max_length=200, blank=True)
    note = models.TextField(
        _("public note"), blank=True,
        help_text=_("Shown at the top of every page of the commune's site, e.g. that it was merged into another commune."),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    history = HistoricalRecords(excluded_fields=["schema_name"])

    auto_create_schema = True
    auto_drop_schema = False

    class Meta:
        verbose_name = _("commune")
        verbose_name_plural = _("communes")
        ordering = ["code"]
        constraints = [
            # The agency identifier names the commune in document exchange, prefixes its dossier
            # codes and is the VietQR purpose: one commune per identifier in an installation.
            models.UniqueConstraint(
                fields=["agency_code"], condition=~models.Q(agency_code=""), name="commune_agency_code_unique",
                violation_error_message=_("Another commune already has this agency identifier."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display_vi()} {self.name}"

    @property
    def name_in_sentence(self) -> str:
        """'xã Tú Lệ': the kind in lower case, as written inside a sentence or a title."""
        return f"{self.kind} {self.name}"

    def get_kind_display_vi(self) -> str:
        return {"xã": "Xã", "phường": "Phường", "đặc khu": "Đặc khu"}.get(self.kind, self.kind)

    @property
    def primary_host(self) -> str | None:
        domains = list(self.domains.all())  # uses prefetch_related("domains") when present
        primary = next((d for d in domains if d.is_primary), domains[0] if domains else None)
        return primary.domain if primary else None

    def create_schema(self, check_if_exists=False, sync_schema=True, verbosity=1):
        """Provision by cloning the template schema; plain migrations are the fallback."""
        from communes.provisioning import provision_schema

        # Migration chatter only when asked for (verbosity 2 and up).
        self.provisioning_path = provision_schema(self, verbosity=max(0, verbosity - 1))


class Domain(DomainMixin):
    """A host name that serves one commune."""

    class Meta:
        verbose_name = _("host")
        verbose_name_plural = _("hosts")


class User(AbstractUser):
    """A person with an account. Users are global; roles come from memberships per commune."""

    full_name = models.CharField(_("full name"), max_length=200, blank=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True)

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.full_name or self.get_username()

    def roles_in(self, commune) -> set[str]:
        if not self.is_authenticated or commune is None or not getattr(commune, "pk", None):
            return set()
        cache = self.__dict__.setdefault("_roles_cache", {})
        if commune.pk not in cache:
            cache[commune.pk] = set(
                self.memberships.filter(commune_id=commune.pk, is_active=True).values_list("role", flat=True)
            )
        return cache[commune.pk]

    def supervised_unit_ids(self) -> set[int]:
        ids: set[int] = set()
        for unit in SupervisingUnit.objects.filter(staff__user=self, staff__is_active=True):
            ids |= unit.descendant_ids()
        return ids

    def supervised_communes(self):
        return Commune.objects.filter(supervising_unit_id__in=self.supervised_unit_ids())


class Membership(models.Model):
    """An official's role in one commune."""

    user = models.ForeignKey(User, verbose_name=_("user"), on_delete=models.CASCADE, related_name="memberships")
    commune = models.ForeignKey(Commune, verbose_name=_("commune"), on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(_("role"), max_length=30, choices=Role.choices)
    job_title = models.CharField(_("job title"), max_length=200, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.UniqueConstraint(fields=["user", "commune", "role"], name="membership_unique_role"),
        ]

    def __str__(self) -> str:
        return f"{self.user} – {self.get_role_display()} – {self.commune.name}"


class UnitStaff(models.Model):
    """Staff of a supervising unit: they read every commune under their unit."""

    user = models.ForeignKey(User, verbose_name=_("user"), on_delete=models.CASCADE, related_name="unit_staff")
    unit = models.ForeignKey(SupervisingUnit, verbose_name=_("unit"), on_delete=models.CASCADE, related_name="staff")
    job_title = models.CharField(_("job title"), max_length=200, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("supervising unit staff")
        verbose_name_plural = _("supervising unit staff")
        constraints = [models.UniqueConstraint(fields=["user", "unit"], name="unitstaff_unique")]

    def __str__(self) -> str:
        return f"{self.user} – {self.unit}"


class AdministrativeUnit(models.Model):
    """The official list of provinces and communes (Decision 19/2025/QĐ-TTg), loaded from a fixture."""

    code = models.CharField(_("code"), max_length=5, unique=True)
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=40)
    level = models.CharField(_("level"), max_length=10, choices=[("province", _("Province")), ("commune", _("Commune"))])
    province_code = models.CharField(_("province code"), max_length=2, blank=True, db_index=True)

    class Meta:
        verbose_name = _("administrative unit")
        verbose_name_plural = _("administrative units")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.kind} {self.name}"


class LegacyWard(models.Model):
    """A pre-2025 ward and the commune it became part of (kept for old addresses)."""

    old_ward_code = models.CharField(_("old ward code"), max_length=5, db_index=True)
    old_ward_name = models.CharField(_("old ward name"), max_length=200)
    old_district_code = models.CharField(_("old district code"), max_length=3)
    old_district_name = models.CharField(_("old district name"), max_length=200)
    old_province_code = models.CharField(_("old province code"), max_length=2)
    new_commune_code = models.CharField(_("new commune code"), max_length=5, blank=True, db_index=True)

    class Meta:
        verbose_name = _("legacy ward")
        verbose_name_plural = _("legacy wards")
        constraints = [
            models.UniqueConstraint(fields=["old_ward_code", "new_commune_code"], name="legacyward_unique"),
        ]


class TotpDevice(Device):
    """An official's authenticator app (time-based one-time codes, RFC 6238): the second factor
    asked at login from those who approve, sign, issue, broadcast or administer.

    A django-otp device (``user.is_verified()`` and the admin sites rely on it), but not
    ``django_otp.plugins.otp_totp.TOTPDevice``: that model keeps the shared secret in clear in
    its ``key`` column, and a copy of the database would then give every official's codes. Here
    the secret is encrypted by ``core.secrets`` (its own rotatable keyring, not SECRET_KEY),
    bound to the user's id. ``last_used_step`` refuses a code that was already used once; after
    ``XASO_SECOND_FACTOR_MAX_ATTEMPTS`` wrong codes the app is locked for a fixed time
    (``locked_until``), which the code page can state, rather than django-otp's growing delays
    (``ThrottlingMixin``) that give the official no time to read.
    """

    user = models.OneToOneField(User, verbose_name=_("user"), on_delete=models.CASCADE, related_name="totp_device")
    name = models.CharField(_("name"), max_length=64, default="authenticator", blank=True)
    confirmed = models.BooleanField(_("confirmed"), default=False)
    secret_encrypted = models.BinaryField(_("secret (encrypted)"), editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    last_used_step = models.BigIntegerField(_("last used time step"), null=True, blank=True, editable=False)
    failed_attempts = models.PositiveIntegerField(_("wrong codes in a row"), default=0)
    locked_until = models.DateTimeField(_("locked until"), null=True, blank=True)
    history = HistoricalRecords(excluded_fields=["secret_encrypted", "last_used_step", "failed_attempts"])

    class Meta:
        verbose_name = _("authenticator app")
        verbose_name_plural = _("authenticator apps")

    def __str__(self) -> str:
        return str(self.user)

    def verify_is_allowed(self):
        from django.utils import timezone
        from django_otp.models import VerifyNotAllowed

        if self.locked_until and self.locked_until > timezone.now():
            return False, {"reason": VerifyNotAllowed.N_FAILED_ATTEMPTS, "locked_until": self.locked_until}
        return True, None

    def verify_token(self, token) -> bool:
        """django-otp's check of a code (the whole rule is ``communes.second_factor.check_device``)."""
        from communes.second_factor import check_device

        return check_device(self, token).ok


class ExternalIdentity(models.Model):
    """An account of an identity provider (OpenID Connect) linked to a user: the provider's
    issuer and the subject it gives the person. A login through the provider finds the user by
    this pair only (never by e-mail address or name)."""

    user = models.ForeignKey(User, verbose_name=_("user"), on_delete=models.CASCADE, related_name="external_identities")
    issuer = models.CharField(_("issuer"), max_length=300)
    subject = models.CharField(_("subject"), max_length=255)
    created_at = models.DateTimeField(_("linked at"), auto_now_add=True)
    last_login_at = models.DateTimeField(_("last login through the provider"), null=True, blank=True)

    class Meta:
        verbose_name = _("external identity")
        verbose_name_plural = _("external identities")
        constraints = [models.UniqueConstraint(fields=["issuer", "subject"], name="externalidentity_issuer_subject")]

    def __str__(self) -> str:
        return f"{self.user} – {self.issuer}"
