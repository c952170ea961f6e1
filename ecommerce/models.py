"""The commune's OCOP marketplace: producers, their products with stars, lots and trace codes,
and the orders buyers place with them.

OCOP is the "One Commune One Product" programme (Mỗi xã một sản phẩm, Decision 148/QĐ-TTg of
2023): a product is scored out of 100 by a council and certified with 3, 4 or 5 stars for 36
months. The producers are cooperatives (hợp tác xã, HTX), household businesses (hộ kinh doanh)
and enterprises (doanh nghiệp) of the commune. Tenant models: each commune's schema holds its
own rows; users (public schema) are kept as foreign keys without a database constraint.

* ``Producer`` and ``ProducerMember``: who sells, approved by the commune's economy officer;
  the members (users with the ``producer`` role) act on their producer's rows only.
* ``ProductGroup`` and ``ProductSubGroup``: the OCOP product groups, data loaded by a migration.
* ``Product`` (the listing: slug, stock, GTIN, status) and ``ProductVersion`` (its content,
  approved by the economy officer): the listing shows its approved version while a changed
  version waits for approval.
* ``Certificate``: the OCOP certificate of a product (score, stars, validity).
* ``ProductPhoto``: the stored sizes of a photo.
* ``Lot``, ``TraceCode``, ``TraceEvent``, ``TraceScanDay``: production lots, the short public
  codes printed on stamps, the chain of events of a lot, and how often a code was scanned.
* ``StampSheetJob``: a stamp sheet of a long printed series, rendered by a worker (a durable job).
* ``Order`` with its ``OrderLine``s, ``OrderEvent``s and ``OrderPayment``s, and the bank's
  ``BankNotification``s.
"""
from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Case, F, Q, Value, When
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.history import tenant_history
from core.text import clean_text, fold
from ecommerce import validators
from jobs.models import Job
from jobs.registry import register as register_job

# The alphabet of the short public codes (trace codes, order codes): no 0/O, 1/I/L, 5/S, 2/Z
# or 8/B that a buyer could misread on a small printed stamp.
CODE_ALPHABET = "34679ACDEFGHJKMNPQRTUVWXY"

phone_validator = RegexValidator(
    r"^0\d{9,10}$", _("Enter a Vietnamese phone number of 10 or 11 digits starting with 0, e.g. 0912345678."),
)


def _user_fk(verbose_name, **kwargs):
    """A reference to a public user: no database constraint across schemas."""
    kwargs.setdefault("null", True)
    kwargs.setdefault("blank", True)
    return models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=verbose_name, on_delete=models.DO_NOTHING, related_name="+",
        db_constraint=False, **kwargs,
    )


def add_months(day: datetime.date, months: int) -> datetime.date:
    """The same day ``months`` later (the last day of the month when it has no such day)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    for last in (31, 30, 29, 28):
        try:
            return datetime.date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise ValueError(day)


# --- producers ---------------------------------------------------------------------------------

class ProducerKind(models.TextChoices):
    COOPERATIVE = "cooperative", _("Cooperative (HTX)")  # hợp tác xã
    HOUSEHOLD_BUSINESS = "household_business", _("Household business")  # hộ kinh doanh
    ENTERPRISE = "enterprise", _("Enterprise")  # doanh nghiệp


class ProducerStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for approval")
    APPROVED = "approved", _("Approved")
    SUSPENDED = "suspended", _("Suspended")


class Producer(models.Model):
    """A seller of OCOP products (chủ thể OCOP): a cooperative (hợp tác xã, HTX), a household
    business (hộ kinh doanh) or an enterprise of the commune.

    Its products are listed only while it is approved. Buyers pay it directly, by VietQR to its
    own bank account (``bank_bin``, ``bank_account``, ``bank_account_name``)."""

    kind = models.CharField(_("kind"), max_length=20, choices=ProducerKind.choices)
    name = models.CharField(_("name"), max_length=200)
    slug = models.SlugField(_("address in links"), max_length=80, unique=True, allow_unicode=False)
    search_name = models.CharField(_("name for search"), max_length=200, editable=False, db_index=True)
    tax_code = models.CharField(
        _("tax code"), max_length=14, blank=True, validators=[validators.validate_tax_code],
        help_text=_("10 digits (a branch adds a dash and 3 digits); household businesses may give the owner's 12-digit ID number."),
    )
    representative = models.CharField(_("representative"), max_length=200)
    phone = models.CharField(_("phone"), max_length=11, validators=[phone_validator])
    email = models.EmailField(_("e-mail"), blank=True)
    address = models.CharField(_("address"), max_length=300)
    village = models.ForeignKey(
        "population.Village", verbose_name=_("village"), on_delete=models.PROTECT, related_name="producers",
    )
    household = models.ForeignKey(
        "population.Household", verbose_name=_("household in the registry"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="producers",
    )
    resident = models.ForeignKey(
        "population.Resident", verbose_name=_("resident in the registry"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="producers",
    )
    description = models.TextField(_("introduction"), blank=True)
    bank_bin = models.CharField(_("bank BIN"), max_length=6, blank=True, validators=[validators.validate_bank_bin])
    bank_account = models.CharField(
        _("bank account number"), max_length=19, blank=True, validators=[validators.validate_bank_account],
    )
    bank_account_name = models.CharField(_("bank account name"), max_length=200, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=ProducerStatus.choices, default=ProducerStatus.PENDING, db_index=True,
    )
    status_reason = models.TextField(_("reason (suspension)"), blank=True)
    registered_by = _user_fk(_("registered by"))
    approved_by = _user_fk(_("approved by"))
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)
    suspended_by = _user_fk(_("suspended by"))
    suspended_at = models.DateTimeField(_("suspended at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    history = tenant_history(excluded_fields=["updated_at", "search_name"])

    class Meta:
        verbose_name = _("producer")
        verbose_name_plural = _("producers")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["tax_code"], condition=~Q(tax_code=""), name="producer_tax_code_unique",
                violation_error_message=_("Another producer already has this tax code."),
            ),
            models.CheckConstraint(
                condition=(Q(bank_bin="") & Q(bank_account="")) | (~Q(bank_bin="") & ~Q(bank_account="")),
                name="producer_bank_complete",
                violation_error_message=_("Enter both the bank and the account number, or neither."),
            ),
            models.CheckConstraint(
                condition=~Q(status="approved") | Q(approved_at__isnull=False), name="producer_approved_when",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        self.name = clean_text(self.name)
        self.search_name = fold(self.name)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "name" in update_fields:
            kwargs["update_fields"] = {*update_fields, "search_name"}
        super().save(*args, **kwargs)

    def clean(self):
        if bool(self.bank_bin) != bool(self.bank_account):
            raise ValidationError({"bank_account": _("Enter both the bank and the account number, or neither.")})
        if self.resident_id and self.household_id and self.resident.household_id != self.household_id:
            raise ValidationError({"resident": _("The resident must be a member of the household.")})

    @property
    def is_approved(self) -> bool:
        return self.status == ProducerStatus.APPROVED

    @property
    def can_be_paid_by_vietqr(self) -> bool:
        return bool(self.bank_bin and self.bank_account)


class ProducerMember(models.Model):
    """A user who acts for a producer (with the ``producer`` role in the commune)."""

    producer = models.ForeignKey(Producer, verbose_name=_("producer"), on_delete=models.CASCADE, related_name="members")
    user = _user_fk(_("user"), null=False, blank=False)
    added_by = _user_fk(_("added by"))
    created_at = models.DateTimeField(_("added at"), auto_now_add=True)

    class Meta:
        verbose_name = _("producer member")
        verbose_name_plural = _("producer members")
        constraints = [models.UniqueConstraint(fields=["producer", "user"], name="producermember_unique")]

    def __str__(self) -> str:
        return f"{self.user_id} – {self.producer}"


# --- product groups (data) ---------------------------------------------------------------------

class ProductGroup(models.Model):
    """An OCOP product group (nhóm sản phẩm): data loaded by a migration, edited in the admin."""

    code = models.CharField(_("code"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=200)
    name_en = models.CharField(_("name in English"), max_length=200, blank=True)
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    active = models.BooleanField(_("offered"), default=True)

    class Meta:
        verbose_name = _("product group")
        verbose_name_plural = _("product groups")
        ordering = ["order", "code"]

    def __str__(self) -> str:
        return self.name


class ProductSubGroup(models.Model):
    """A sub-group (phân nhóm) of an OCOP product group."""

    group = models.ForeignKey(ProductGroup, verbose_name=_("group"), on_delete=models.PROTECT, related_name="subgroups")
    code = models.CharField(_("code"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=200)
    name_en = models.CharField(_("name in English"), max_length=200, blank=True)
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    active = models.BooleanField(_("offered"), default=True)

    class Meta:
        verbose_name = _("product sub-group")
        verbose_name_plural = _("product sub-groups")
        ordering = ["group__order", "order", "code"]

    def __str__(self) -> str:
        return self.name


# --- products and their versions ---------------------------------------------------------------

class ProductStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PENDING = "pending", _("Waiting for approval")
    PUBLISHED = "published", _("Published")
    HIDDEN = "hidden", _("Hidden")


class Product(models.Model):
    """A product listing of a producer: what stays the same from one version to the next (its
    link, stock, barcode, status) and which version is shown.

    ``live_version`` is the approved content that buyers see; ``pending_version`` is a changed
    content waiting for the economy officer. Approving the pending version makes it the live
    one; until then the listing stays as it was. ``stock`` is a count of the product's unit,
    never negative (a database constraint; orders reserve it with one conditional update)."""

    producer = models.ForeignKey(Producer, verbose_name=_("producer"), on_delete=models.PROTECT, related_name="products")
    slug = models.SlugField(_("address in links"), max_length=80, unique=True, allow_unicode=False)
    status = models.CharField(
        _("status"), max_length=10, choices=ProductStatus.choices, default=ProductStatus.DRAFT, db_index=True,
    )
    stock = models.IntegerField(_("stock"), default=0, validators=[MinValueValidator(0)])
    gtin = models.CharField(
        _("GTIN (barcode)"), max_length=14, blank=True, validators=[validators.validate_gtin14],
        help_text=_("The product's barcode number, if it has one (8, 12, 13 or 14 digits)."),
    )
    live_version = models.OneToOneField(
        "ProductVersion", verbose_name=_("approved version"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )
    pending_version = models.OneToOneField(
        "ProductVersion", verbose_name=_("version waiting for approval"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
    )
    hidden_reason = models.TextField(_("reason (hidden)"), blank=True)
    published_at = models.DateTimeField(_("first published at"), null=True, blank=True)
    created_by = _user_fk(_("created by"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    history = tenant_history(excluded_fields=["updated_at", "stock"])

    class Meta:
        verbose_name = _("product")
        verbose_name_plural = _("products")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(stock__gte=0), name="product_stock_not_negative",
                                   violation_error_message=_("The stock cannot be negative.")),
            models.UniqueConstraint(fields=["gtin"], condition=~Q(gtin=""), name="product_gtin_unique",
                                    violation_error_message=_("Another product already has this barcode number.")),
            models.CheckConstraint(
                condition=~Q(status="published") | Q(live_version__isnull=False), name="product_published_has_version",
            ),
            models.CheckConstraint(
                condition=Q(live_version__isnull=True) | Q(pending_version__isnull=True)
                | ~Q(live_version=F("pending_version")),
                name="product_pending_not_live",
            ),
        ]
        indexes = [models.Index(fields=["producer", "status"], name="product_producer_status")]

    def __str__(self) -> str:
        version = self.live_version or self.pending_version
        return version.name if version is not None else self.slug

    @property
    def is_listed(self) -> bool:
        """Shown to buyers: published, with an approved version, by an approved producer."""
        return (self.status == ProductStatus.PUBLISHED and self.live_version_id is not None
                and self.producer.status == ProducerStatus.APPROVED)


class VersionState(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted for approval")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")


OPEN_VERSION_STATES = (VersionState.DRAFT, VersionState.SUBMITTED)


def _months_field():
    return ArrayField(
        models.PositiveSmallIntegerField(validators=[MinValueValidator(1), MaxValueValidator(12)]),
        verbose_name=_("months of the season"), default=list, blank=True, validators=[validators.validate_months],
        help_text=_("The months the product is offered; none means all year."),
    )


class ProductVersion(models.Model):
    """The content of a product that the economy officer approves: name, group, price, unit,
    minimum order, season, descriptions. An approved or rejected version is never changed: a
    change is a new version (at most one draft or submitted version per product)."""

    product = models.ForeignKey(Product, verbose_name=_("product"), on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField(_("version"))
    name = models.CharField(_("name"), max_length=200)
    group = models.ForeignKey(ProductGroup, verbose_name=_("product group"), on_delete=models.PROTECT, related_name="+")
    subgroup = models.ForeignKey(
        ProductSubGroup, verbose_name=_("sub-group"), null=True, blank=True, on_delete=models.PROTECT, related_name="+",
    )
    price = models.PositiveBigIntegerField(_("price (đồng)"), validators=[MinValueValidator(1)])
    unit = models.CharField(_("unit"), max_length=50, help_text=_("What one item of the price is, e.g. kg, hộp 500 g, chai 500 ml."))
    min_order = models.PositiveIntegerField(_("minimum order"), default=1, validators=[MinValueValidator(1)])
    season_months = _months_field()
    description = models.TextField(_("description (Vietnamese)"))
    description_en = models.TextField(_("description (English)"), blank=True)
    search_text = models.TextField(_("text for search"), editable=False, blank=True)
    state = models.CharField(_("state"), max_length=10, choices=VersionState.choices, default=VersionState.DRAFT)
    created_by = _user_fk(_("written by"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    reviewed_by = _user_fk(_("reviewed by"))
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    reject_reason = models.TextField(_("reason (rejection)"), blank=True)
    history = tenant_history(excluded_fields=["search_text"])

    class Meta:
        verbose_name = _("product version")
        verbose_name_plural = _("product versions")
        ordering = ["product", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["product", "number"], name="productversion_number"),
            models.UniqueConstraint(fields=["product"], condition=Q(state__in=["draft", "submitted"]),
                                    name="productversion_one_open",
                                    violation_error_message=_("This product already has a version being written or waiting for approval.")),
            models.CheckConstraint(condition=Q(price__gt=0), name="productversion_price_positive",
                                   violation_error_message=_("The price must be above 0 đồng.")),
            models.CheckConstraint(condition=Q(min_order__gte=1), name="productversion_min_order",
                                   violation_error_message=_("The minimum order is at least 1.")),
            models.CheckConstraint(condition=~Q(state="rejected") | ~Q(reject_reason=""),
                                   name="productversion_rejected_with_reason"),
        ]

    def __str__(self) -> str:
        return f"{self.name} (v{self.number})"

    def save(self, *args, **kwargs):
        self.name = clean_text(self.name)
        self.unit = clean_text(self.unit)
        self.search_text = fold(" ".join(filter(None, [self.name, self.description, self.description_en])))
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and {"name", "description", "description_en"} & set(update_fields):
            kwargs["update_fields"] = {*update_fields, "search_text"}
        super().save(*args, **kwargs)

    def clean(self):
        if self.subgroup_id and self.group_id and self.subgroup.group_id != self.group_id:
            raise ValidationError({"subgroup": _("This sub-group belongs to another group.")})

    def in_season(self, month: int) -> bool:
        return not self.season_months or month in self.season_months


# --- certificates ------------------------------------------------------------------------------

def stars_for_score(score: int | None) -> int:
    """3★ for 50–69 points, 4★ for 70–89, 5★ for 90–100; below 50 no star."""
    if score is None:
        return 0
    if score >= 90:
        return 5
    if score >= 70:
        return 4
    if score >= 50:
        return 3
    return 0


def certificate_months() -> int:
    return int(getattr(settings, "XASO_OCOP_CERTIFICATE_MONTHS", 36))


@dataclass(frozen=True)
class StarsNow:
    """The stars a product shows on a day, and why it shows none."""

    stars: int
    reason: str = ""
    expired: bool = False

    def __bool__(self) -> bool:
        return self.stars > 0


class Certificate(models.Model):
    """An OCOP certificate of a product (giấy chứng nhận OCOP): the council's score, the stars it
    gives, who issued it and until when it holds (36 months after issue by default: the
    ``XASO_OCOP_CERTIFICATE_MONTHS`` setting). The producer and the commune are warned 90 and
    30 days before the end (``warned_90_on``, ``warned_30_on``); an expired certificate gives
    no star (``stars_now``)."""

    product = models.ForeignKey(Product, verbose_name=_("product"), on_delete=models.PROTECT, related_name="certificates")
    number = models.CharField(_("certificate number"), max_length=60)
    score = models.PositiveSmallIntegerField(_("score"), validators=[MinValueValidator(0), MaxValueValidator(100)])
    stars = models.GeneratedField(
        expression=Case(
            When(score__gte=90, then=Value(5)), When(score__gte=70, then=Value(4)), When(score__gte=50, then=Value(3)),
            default=Value(0),
        ),
        output_field=models.PositiveSmallIntegerField(_("stars")), db_persist=True,
    )
    issuing_authority = models.CharField(_("issued by"), max_length=200,
                                         help_text=_("E.g. Ủy ban nhân dân tỉnh Lào Cai."))
    issued_on = models.DateField(_("issued on"))
    expires_on = models.DateField(_("valid until"), blank=True)
    scan = models.CharField(_("scanned certificate"), max_length=300, blank=True)
    warned_90_on = models.DateField(_("90-day warning sent on"), null=True, blank=True)
    warned_30_on = models.DateField(_("30-day warning sent on"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    revoked_reason = models.TextField(_("reason (revoked)"), blank=True)
    created_by = _user_fk(_("recorded by"))
    created_at = models.DateTimeField(_("recorded at"), auto_now_add=True)
    history = tenant_history()

    class Meta:
        verbose_name = _("OCOP certificate")
        verbose_name_plural = _("OCOP certificates")
        ordering = ["product", "-issued_on"]
        constraints = [
            models.UniqueConstraint(fields=["number", "issuing_authority"], name="certificate_number_unique",
                                    violation_error_message=_("This certificate number is already recorded.")),
            models.CheckConstraint(condition=Q(score__gte=0) & Q(score__lte=100), name="certificate_score_range",
                                   violation_error_message=_("The score is between 0 and 100.")),
            models.CheckConstraint(condition=Q(expires_on__gt=F("issued_on")), name="certificate_expires_after_issue"),
        ]
        indexes = [models.Index(fields=["expires_on"], name="certificate_expires_on")]

    def __str__(self) -> str:
        return self.number

    def save(self, *args, **kwargs):
        self.number = clean_text(self.number)
        self.issuing_authority = clean_text(self.issuing_authority)
        if self.issued_on and not self.expires_on:
            self.expires_on = add_months(self.issued_on, certificate_months())
        super().save(*args, **kwargs)

    @property
    def score_stars(self) -> int:
        """The stars the score gives, read without a query (``stars`` is the same, from the database)."""
        return stars_for_score(self.score)

    def is_valid_on(self, on: datetime.date | None = None) -> bool:
        on = on or timezone.localdate()
        return self.revoked_at is None and self.issued_on <= on < self.expires_on

    def stars_now(self, on: datetime.date | None = None) -> StarsNow:
        """The stars to show on ``on`` (today by default): none when the certificate has expired,
        was revoked or is not yet in force, with the reason to show instead."""
        on = on or timezone.localdate()
        if self.revoked_at is not None:
            return StarsNow(0, str(_("The OCOP certificate was revoked.")))
        if on < self.issued_on:
            return StarsNow(0, str(_("The OCOP certificate is not in force yet.")))
        if on >= self.expires_on:
            return StarsNow(0, str(_("The OCOP certificate expired on %(date)s.") % {
                "date": self.expires_on.strftime("%d/%m/%Y")}), expired=True)
        stars = self.score_stars
        if not stars:
            return StarsNow(0, str(_("The score is below 50 points: no star.")))
        return StarsNow(stars)


# --- photos ------------------------------------------------------------------------------------

class ProductPhoto(models.Model):
    """A photo of a product as stored: resized, without its metadata (GPS), in WebP and JPEG at a
    few widths. ``variants`` lists them: [{"format": "webp", "width": 480, "height": 360,
    "path": "…", "bytes": 23456}, …]; ``width``/``height`` are those of the largest."""

    product = models.ForeignKey(Product, verbose_name=_("product"), on_delete=models.CASCADE, related_name="photos")
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    alt_text = models.CharField(_("description for screen readers"), max_length=200, blank=True)
    width = models.PositiveIntegerField(_("width (px)"), default=0)
    height = models.PositiveIntegerField(_("height (px)"), default=0)
    variants = models.JSONField(_("stored sizes"), default=list, blank=True)
    original_name = models.CharField(_("file name"), max_length=200, blank=True)
    original_bytes = models.PositiveIntegerField(_("uploaded size (bytes)"), default=0)
    uploaded_by = _user_fk(_("uploaded by"))
    created_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("product photo")
        verbose_name_plural = _("product photos")
        ordering = ["product", "order", "pk"]

    def __str__(self) -> str:
        return self.alt_text or f"#{self.pk}"

    def variant(self, fmt: str, width: int) -> dict | None:
        """The stored variant of format ``fmt`` closest to ``width`` from above (else the largest)."""
        candidates = sorted((v for v in self.variants or [] if v.get("format") == fmt), key=lambda v: v.get("width", 0))
        for candidate in candidates:
            if candidate.get("width", 0) >= width:
                return candidate
        return candidates[-1] if candidates else None


# --- lots and traceability ---------------------------------------------------------------------

class Lot(models.Model):
    """A production lot (lô sản xuất) of a product: when it was harvested or made, how much, and
    what went into it (inputs, fertilisers, treatments)."""

    product = models.ForeignKey(Product, verbose_name=_("product"), on_delete=models.PROTECT, related_name="lots")
    number = models.CharField(
        _("lot number"), max_length=20,
        validators=[RegexValidator(r"^[0-9A-Za-z][0-9A-Za-z._-]*$", _("A lot number has letters, digits, dots, dashes or underscores."))],
        help_text=_("Printed on the pack and in the GS1 link (/10/…)."),
    )
    produced_on = models.DateField(_("harvest or production date"))
    best_before = models.DateField(_("best before"), null=True, blank=True)
    quantity = models.PositiveIntegerField(_("quantity"), validators=[MinValueValidator(1)])
    unit = models.CharField(_("unit"), max_length=50)
    input_notes = models.TextField(_("inputs (seeds, fertilisers, treatments)"), blank=True)
    created_by = _user_fk(_("recorded by"))
    created_at = models.DateTimeField(_("recorded at"), auto_now_add=True)
    history = tenant_history()

    class Meta:
        verbose_name = _("lot")
        verbose_name_plural = _("lots")
        ordering = ["product", "-produced_on", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["product", "number"], name="lot_number_per_product",
                                    violation_error_message=_("This product already has a lot with this number.")),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="lot_quantity_positive"),
            models.CheckConstraint(condition=Q(best_before__isnull=True) | Q(best_before__gte=F("produced_on")),
                                   name="lot_best_before_after_production"),
        ]

    def __str__(self) -> str:
        return self.number


class TraceCode(models.Model):
    """A short public code printed on a stamp (QR and the code under it): one for a whole lot
    (``serial`` empty), or one per printed item of a series (``serial`` 1, 2, …)."""

    code = models.CharField(
        _("code"), max_length=12, unique=True,
        validators=[RegexValidator(rf"^[{CODE_ALPHABET}]{{6,12}}$", _("A trace code has 6 to 12 letters and digits of the stamp alphabet."))],
    )
    lot = models.ForeignKey(Lot, verbose_name=_("lot"), on_delete=models.PROTECT, related_name="codes")
    serial = models.PositiveIntegerField(_("item number"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("trace code")
        verbose_name_plural = _("trace codes")
        ordering = ["lot", "serial", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["lot", "serial"], name="tracecode_serial_per_lot"),
            models.UniqueConstraint(fields=["lot"], condition=Q(serial__isnull=True), name="tracecode_one_per_lot"),
        ]

    def __str__(self) -> str:
        return self.code


class TraceEventKind(models.TextChoices):
    HARVESTED = "harvested", _("Harvested or produced")
    PACKED = "packed", _("Packed")
    SHIPPED = "shipped", _("Shipped")
    OTHER = "other", _("Other")


class TraceEvent(models.Model):
    """A step in the chain of a lot, shown on the public trace page."""

    lot = models.ForeignKey(Lot, verbose_name=_("lot"), on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(_("kind"), max_length=10, choices=TraceEventKind.choices)
    at = models.DateTimeField(_("at"))
    place = models.CharField(_("place"), max_length=200, blank=True)
    note = models.TextField(_("note"), blank=True)
    created_by = _user_fk(_("recorded by"))
    created_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("trace event")
        verbose_name_plural = _("trace events")
        ordering = ["lot", "at", "pk"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.at:%d/%m/%Y}"


class TraceScanDay(models.Model):
    """How many times a code's trace page was opened on a day. Nothing about the scanner is kept."""

    code = models.ForeignKey(TraceCode, verbose_name=_("code"), on_delete=models.CASCADE, related_name="scan_days")
    day = models.DateField(_("day"))
    count = models.PositiveIntegerField(_("scans"), default=0)

    class Meta:
        verbose_name = _("scans of a day")
        verbose_name_plural = _("scans per day")
        ordering = ["code", "-day"]
        constraints = [models.UniqueConstraint(fields=["code", "day"], name="tracescanday_code_day")]


# --- orders ------------------------------------------------------------------------------------

class OrderState(models.TextChoices):
    PLACED = "placed", _("Placed, waiting for the producer")
    CONFIRMED = "confirmed", _("Confirmed, waiting for payment")
    PAID = "paid", _("Paid")
    SHIPPED = "shipped", _("Shipped")
    DELIVERED = "delivered", _("Delivered")
    CANCELLED = "cancelled", _("Cancelled")


OPEN_ORDER_STATES = (OrderState.PLACED, OrderState.CONFIRMED, OrderState.PAID, OrderState.SHIPPED)


class Order(models.Model):
    """An order of a buyer (a citizen's account, or a guest with a name and a phone number) from
    one producer: placed → confirmed (the stock is reserved) → paid (VietQR to the producer's
    account, confirmed by the producer or by the bank's signed notification) → shipped →
    delivered; or cancelled with a reason (the reserved stock goes back). Its history stays."""

    code = models.CharField(_("order code"), max_length=20, unique=True)
    producer = models.ForeignKey(Producer, verbose_name=_("producer"), on_delete=models.PROTECT, related_name="orders")
    buyer = _user_fk(_("buyer's account"))
    buyer_name = models.CharField(_("buyer's name"), max_length=200)
    buyer_phone = models.CharField(_("buyer's phone"), max_length=11, validators=[phone_validator])
    buyer_email = models.EmailField(_("buyer's e-mail"), blank=True)
    delivery_address = models.CharField(_("delivery address"), max_length=300)
    note = models.TextField(_("note to the producer"), blank=True, max_length=1000)
    state = models.CharField(_("state"), max_length=10, choices=OrderState.choices, default=OrderState.PLACED,
                             db_index=True)
    cancel_reason = models.TextField(_("reason (cancellation)"), blank=True)
    cancelled_by = _user_fk(_("cancelled by"))
    stock_reserved = models.BooleanField(_("stock reserved"), default=False)
    subtotal = models.PositiveBigIntegerField(_("goods (đồng)"))
    shipping_fee = models.PositiveBigIntegerField(_("shipping (đồng)"), default=0)
    total = models.PositiveBigIntegerField(_("total (đồng)"))
    shipping_note = models.CharField(_("carrier and tracking number"), max_length=200, blank=True)
    submit_token = models.UUIDField(_("submission key"), null=True, blank=True, unique=True)
    placed_at = models.DateTimeField(_("placed at"), default=timezone.now, db_index=True)
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    paid_at = models.DateTimeField(_("paid at"), null=True, blank=True)
    shipped_at = models.DateTimeField(_("shipped at"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    history = tenant_history(excluded_fields=["updated_at"])

    class Meta:
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        ordering = ["-placed_at", "-pk"]
        indexes = [models.Index(fields=["producer", "state"], name="order_producer_state")]
        constraints = [
            models.CheckConstraint(condition=Q(total=F("subtotal") + F("shipping_fee")), name="order_total_sum"),
            models.CheckConstraint(condition=Q(subtotal__gt=0), name="order_subtotal_positive"),
            models.CheckConstraint(condition=~Q(state="cancelled") | ~Q(cancel_reason=""),
                                   name="order_cancelled_with_reason"),
            models.CheckConstraint(condition=~Q(state="cancelled") | Q(stock_reserved=False),
                                   name="order_cancelled_releases_stock"),
        ]

    def __str__(self) -> str:
        return self.code

    @property
    def masked_phone(self) -> str:
        from core.phones import mask_phone

        return mask_phone(self.buyer_phone)


class OrderLine(models.Model):
    """A product of an order, with the name, unit and price of the version it was sold at."""

    order = models.ForeignKey(Order, verbose_name=_("order"), on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey(Product, verbose_name=_("product"), on_delete=models.PROTECT, related_name="order_lines")
    version = models.ForeignKey(ProductVersion, verbose_name=_("version sold"), on_delete=models.PROTECT, related_name="+")
    name = models.CharField(_("name"), max_length=200)
    unit = models.CharField(_("unit"), max_length=50)
    unit_price = models.PositiveBigIntegerField(_("unit price (đồng)"))
    quantity = models.PositiveIntegerField(_("quantity"), validators=[MinValueValidator(1)])
    amount = models.PositiveBigIntegerField(_("amount (đồng)"))

    class Meta:
        verbose_name = _("order line")
        verbose_name_plural = _("order lines")
        ordering = ["order", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["order", "product"], name="orderline_product_once"),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="orderline_quantity_positive"),
            models.CheckConstraint(condition=Q(amount=F("unit_price") * F("quantity")), name="orderline_amount"),
        ]

    def __str__(self) -> str:
        return f"{self.name} × {self.quantity}"


class OrderEventKind(models.TextChoices):
    PLACED = "placed", _("Order placed")
    CONFIRMED = "confirmed", _("Confirmed by the producer")
    PAID = "paid", _("Payment received")
    SHIPPED = "shipped", _("Shipped")
    DELIVERED = "delivered", _("Delivered")
    CANCELLED = "cancelled", _("Cancelled")
    NOTE = "note", _("Note")


class OrderEvent(models.Model):
    """A line of an order's history, as the buyer and the producer see it. ``notification_id``
    is the SMS or e-mail job (notifications.Notification) that told the other side, if any."""

    order = models.ForeignKey(Order, verbose_name=_("order"), on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(_("kind"), max_length=10, choices=OrderEventKind.choices)
    at = models.DateTimeField(_("at"), default=timezone.now)
    actor = _user_fk(_("by"))
    actor_name = models.CharField(_("by (name)"), max_length=200, blank=True)
    note = models.TextField(_("note"), blank=True)
    public = models.BooleanField(_("shown to the buyer"), default=True)
    notification_id = models.BigIntegerField(_("notification sent"), null=True, blank=True)

    class Meta:
        verbose_name = _("order event")
        verbose_name_plural = _("order events")
        ordering = ["order", "at", "pk"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.at:%d/%m/%Y %H:%M}"


class PaymentSource(models.TextChoices):
    PRODUCER = "producer", _("Confirmed by the producer")
    BANK = "bank", _("Signed bank notification")


class OrderPayment(models.Model):
    """A payment of an order. A bank transaction is counted once (``transaction_id`` is unique);
    a producer's confirmation may carry the transaction id the bank showed, or none."""

    order = models.ForeignKey(Order, verbose_name=_("order"), on_delete=models.PROTECT, related_name="payments")
    transaction_id = models.CharField(_("bank transaction id"), max_length=100, null=True, blank=True, unique=True)
    amount = models.PositiveBigIntegerField(_("amount (đồng)"))
    purpose = models.CharField(_("transfer purpose"), max_length=100, blank=True)
    paid_at = models.DateTimeField(_("paid at"))
    source = models.CharField(_("source"), max_length=10, choices=PaymentSource.choices)
    recorded_by = _user_fk(_("recorded by"))
    created_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("order payment")
        verbose_name_plural = _("order payments")
        ordering = ["order", "paid_at"]
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="orderpayment_amount_positive")]

    def __str__(self) -> str:
        return f"{self.order_id}: {self.amount}"


class BankNotification(models.Model):
    """A payment notification from a producer's bank, kept once per transaction (a replay does
    nothing) with what was done with it."""

    transaction_id = models.CharField(_("transaction id"), max_length=100, unique=True)
    received_at = models.DateTimeField(_("received at"), auto_now_add=True)
    payload = models.JSONField(_("payload"))
    outcome = models.CharField(_("outcome"), max_length=30)
    order = models.ForeignKey(Order, verbose_name=_("order"), null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+")

    class Meta:
        verbose_name = _("bank notification")
        verbose_name_plural = _("bank notifications")
        ordering = ["-received_at"]

    def __str__(self) -> str:
        return self.transaction_id


# --- stamp sheets of long series (durable jobs) ------------------------------------------------

@register_job
class StampSheetJob(Job):
    """A stamp sheet of a lot rendered by a worker (``ecommerce.stamps``), for a series too long
    to make while the producer waits: copies of the lot's code, or its items ``serial_from``–
    ``serial_to``. The row is the truth: the producer's page shows its progress, then the PDF
    (``file``, written once under the commune's prefix)."""

    lot = models.ForeignKey(Lot, verbose_name=_("lot"), on_delete=models.CASCADE, related_name="stamp_jobs")
    copies = models.PositiveIntegerField(_("copies of the lot's code"), default=0)
    serial_from = models.PositiveIntegerField(_("from item number"), null=True, blank=True)
    serial_to = models.PositiveIntegerField(_("to item number"), null=True, blank=True)
    requested_by = _user_fk(_("requested by"))
    file = models.CharField(_("file"), max_length=300, blank=True)
    stamps = models.PositiveIntegerField(_("stamps"), default=0)
    pages = models.PositiveIntegerField(_("pages"), default=0)

    class Meta(Job.Meta):
        verbose_name = _("stamp sheet to print")
        verbose_name_plural = _("stamp sheets to print")
        constraints = [
            models.CheckConstraint(
                condition=(Q(serial_from__isnull=True) & Q(serial_to__isnull=True) & Q(copies__gt=0))
                | (Q(serial_from__isnull=False) & Q(serial_to__gte=F("serial_from")) & Q(copies=0)),
                name="stampsheetjob_selection",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.lot_id}: {self.serial_from or ''}–{self.serial_to or self.copies}"

    def run(self, ctx):
        from ecommerce.stamps import run_job

        return run_job(self, ctx)
