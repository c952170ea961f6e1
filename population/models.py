"""The residents' registry of a commune: villages, households, residents, and who read them.

Tenant models: each commune's schema holds its own rows, with no commune foreign key.
"""
from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from core.history import tenant_history

from population import validators
from population.ethnicities import ETHNICITIES
from core.text import clean_text, fold


class Village(models.Model):
    """A village of the commune: thôn, bản, tổ dân phố, xóm or ấp."""

    class Kind(models.TextChoices):
        THON = "thon", _("village (thôn)")
        BAN = "ban", _("hamlet (bản)")
        TO_DAN_PHO = "to_dan_pho", _("residential group (tổ dân phố)")
        XOM = "xom", _("hamlet (xóm)")
        AP = "ap", _("hamlet (ấp)")

    name = models.CharField(_("name"), max_length=100, unique=True)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.THON)
    code = models.CharField(_("code"), max_length=20, blank=True)
    # Where the village is (its centre, WGS 84), for the map of the commune's products.
    latitude = models.DecimalField(
        _("latitude"), max_digits=9, decimal_places=6, null=True, blank=True,
        validators=[MinValueValidator(Decimal("-90")), MaxValueValidator(Decimal("90"))],
    )
    longitude = models.DecimalField(
        _("longitude"), max_digits=9, decimal_places=6, null=True, blank=True,
        validators=[MinValueValidator(Decimal("-180")), MaxValueValidator(Decimal("180"))],
    )
    history = tenant_history()

    class Meta:
        verbose_name = _("village")
        verbose_name_plural = _("villages")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(latitude__isnull=True, longitude__isnull=True)
                | models.Q(latitude__isnull=False, longitude__isnull=False),
                name="village_both_coordinates_or_neither",
                violation_error_message=_("Enter both latitude and longitude, or neither."),
            ),
            models.CheckConstraint(
                condition=models.Q(latitude__isnull=True)
                | models.Q(latitude__gte=-90, latitude__lte=90, longitude__gte=-180, longitude__lte=180),
                name="village_coordinates_range",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self):
        if (self.latitude is None) != (self.longitude is None):
            raise ValidationError({"longitude": _("Enter both latitude and longitude, or neither.")})

    def save(self, *args, **kwargs):
        self.name = clean_text(self.name)
        super().save(*args, **kwargs)


class Sex(models.TextChoices):
    MALE = validators.MALE, _("Male")
    FEMALE = validators.FEMALE, _("Female")


class Relation(models.TextChoices):
    """Relation to the head of the household (quan hệ với chủ hộ)."""

    HEAD = "head", _("Head of household")  # chủ hộ
    WIFE = "wife", _("Wife")  # vợ
    HUSBAND = "husband", _("Husband")  # chồng
    CHILD = "child", _("Child")  # con
    FATHER = "father", _("Father")  # cha
    MOTHER = "mother", _("Mother")  # mẹ
    GRANDFATHER = "grandfather", _("Grandfather")  # ông
    GRANDMOTHER = "grandmother", _("Grandmother")  # bà
    GRANDCHILD = "grandchild", _("Grandchild")  # cháu
    ELDER_BROTHER = "elder_brother", _("Elder brother")  # anh
    ELDER_SISTER = "elder_sister", _("Elder sister")  # chị
    YOUNGER_SIBLING = "younger_sibling", _("Younger sibling")  # em
    OTHER = "other", _("Other")


phone_validator = RegexValidator(r"^0[35789][0-9]{8}$", _("Enter a Vietnamese mobile number of 10 digits, e.g. 0912345678."))


class Household(models.Model):
    """A household (hộ) with its head, village and address."""

    code = models.CharField(_("household code"), max_length=30, unique=True)
    head = models.ForeignKey(
        "Resident", verbose_name=_("head of household"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
    )
    village = models.ForeignKey(Village, verbose_name=_("village"), on_delete=models.PROTECT, related_name="households")
    address = models.CharField(_("address"), max_length=300, blank=True)
    address_code = models.CharField(_("address code"), max_length=30, null=True, blank=True, unique=True)
    latitude = models.DecimalField(
        _("latitude"), max_digits=9, decimal_places=6, null=True, blank=True,
        validators=[MinValueValidator(Decimal("-90")), MaxValueValidator(Decimal("90"))],
    )
    longitude = models.DecimalField(
        _("longitude"), max_digits=9, decimal_places=6, null=True, blank=True,
        validators=[MinValueValidator(Decimal("-180")), MaxValueValidator(Decimal("180"))],
    )
    phone = models.CharField(
        _("phone for SMS"), max_length=10, blank=True, validators=[phone_validator],
        help_text=_("Vietnamese mobile number, e.g. 0912345678."),
    )
    note = models.TextField(_("note"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    history = tenant_history()

    class Meta:
        verbose_name = _("household")
        verbose_name_plural = _("households")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.code

    def clean(self):
        self.code = clean_text(self.code)
        self.address = clean_text(self.address)
        self.address_code = clean_text(self.address_code) or None
        if (self.latitude is None) != (self.longitude is None):
            raise ValidationError({"longitude": _("Enter both latitude and longitude, or neither.")})
        if self.head_id and self.pk and self.head.household_id != self.pk:
            raise ValidationError({"head": _("The head must be a member of the household.")})


class Resident(models.Model):
    """A resident (nhân khẩu) of a household."""

    household = models.ForeignKey(Household, verbose_name=_("household"), on_delete=models.PROTECT, related_name="members")
    full_name = models.CharField(_("full name"), max_length=150)
    search_name = models.CharField(_("name for search"), max_length=150, db_index=True, editable=False)
    birth_date = models.DateField(_("birth date"))
    sex = models.CharField(_("sex"), max_length=10, choices=Sex.choices)
    ethnicity = models.CharField(_("ethnicity"), max_length=2, choices=ETHNICITIES, default="01")
    personal_id = models.CharField(
        _("personal ID number"), max_length=12, null=True, blank=True, unique=True,
        help_text=_("12 digits; leave empty for a child who has none yet."),
        error_messages={"unique": _("Another resident already has this ID number.")},
    )
    relation = models.CharField(_("relation to the head"), max_length=20, choices=Relation.choices)
    phone = models.CharField(_("phone"), max_length=10, blank=True, validators=[phone_validator])
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    history = tenant_history()

    class Meta:
        verbose_name = _("resident")
        verbose_name_plural = _("residents")
        ordering = ["search_name", "birth_date", "pk"]

    def __str__(self) -> str:
        return self.full_name

    @property
    def masked_id(self) -> str:
        """The ID number for display. The full number is read only through
        ``population.reveal.reveal_id``, which logs the read."""
        return validators.mask_id(self.personal_id)

    def normalize(self) -> None:
        self.full_name = clean_text(self.full_name)
        self.search_name = fold(self.full_name)[:150]
        self.personal_id = clean_text(self.personal_id) or None

    def clean(self):
        self.normalize()
        errors: dict[str, list[str]] = {}
        for field, message in validators.check_resident(
            personal_id=self.personal_id, birth_date=self.birth_date, sex=self.sex,
        ):
            errors.setdefault(field, []).append(message)
        if errors:
            raise ValidationError(errors)

    def save(self, *args, **kwargs):
        self.normalize()
        super().save(*args, **kwargs)


class AccessLog(models.Model):
    """Who read or exported residents' data, and when (Decree 13/2023/NĐ-CP).

    Append-only, so it keeps no history of its own. The user's name is copied so a line keeps
    its meaning after the account is removed.
    """

    class Action(models.TextChoices):
        VIEW = "view", _("View")
        SEARCH = "search", _("Search")
        EXPORT = "export", _("Export")
        REVEAL = "reveal", _("Full ID number shown")

    # A plain reference to the public user (no foreign key across schemas; see core.history).
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), null=True, on_delete=models.DO_NOTHING,
        related_name="+", db_constraint=False,
    )
    username = models.CharField(_("user name"), max_length=150)
    at = models.DateTimeField(_("time"), auto_now_add=True, db_index=True)
    action = models.CharField(_("action"), max_length=10, choices=Action.choices)
    channel = models.CharField(_("channel"), max_length=10, choices=[
        ("page", _("Web page")), ("api", _("API")), ("admin", _("Administration site")),
    ])
    object_type = models.CharField(_("object type"), max_length=50)
    object_id = models.CharField(_("object id"), max_length=50, blank=True)
    description = models.TextField(_("description"), blank=True)

    class Meta:
        verbose_name = _("access log entry")
        verbose_name_plural = _("access log")
        ordering = ["-at", "-pk"]

    def __str__(self) -> str:
        return f"{self.at:%d/%m/%Y %H:%M} {self.username} {self.action} {self.object_type} {self.object_id}"
