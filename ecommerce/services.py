"""Writes of the OCOP marketplace: the only place where a producer, a product, a lot or an order
changes state.

Each function takes the acting user, checks the role and the producer (``ecommerce.permissions``;
a wrong role or another producer's row is ``PermissionDenied``) and the input
(``ValidationError`` with a code, attached to a field where one is to blame), then makes the
change in one transaction, with its history (django-simple-history, the reason a stable English
key) and, for orders, an ``OrderEvent`` that the buyer and the producer see.

* Producers: ``register_producer`` (pending), ``update_producer``, ``approve_producer``,
  ``suspend_producer``, ``add_member``; from the producers' pages, ``request_producer`` (any
  logged-in person asks), ``edit_producer`` (also the asker's correction while it waits) and
  ``approve_registration`` (the approval gives the askers the producer role in the commune).
* Products: ``create_product`` (with its first version, a draft), ``save_version`` (writes the
  open draft, or starts the next version from the live one), ``submit_version``,
  ``approve_version`` (the version becomes the live one: an approved product's change waits for
  approval while the listing shows the previous version), ``reject_version``, ``set_stock``,
  ``hide_product``, ``show_product``; ``add_certificate``.
* Traceability: ``create_lot`` (with its trace codes), ``issue_item_codes`` (a printed series
  added to a lot), ``add_trace_event``, ``count_scan``; ``set_stocks`` (a stock file, all or none).
* Orders: ``place_order`` (idempotent by its submission key), ``confirm_order`` (reserves the
  stock with one conditional UPDATE per line, so that it never goes below zero whatever the
  concurrency), ``mark_paid`` (the amount must be the total; a bank transaction counts once),
  ``ship_order``, ``deliver_order``, ``cancel_order`` (gives the reserved stock back; a guest
  buyer cancels through the page that checked them). Each change of an order writes, in its
  transaction, the SMS and e-mail jobs that tell the buyer, and the producer of a new order or of
  the buyer's cancellation (``ecommerce.notify``).

Refusals whose code is in ``CONFLICT_CODES`` conflict with the row's state (409 in an API), the
others are bad input (400).
"""
from __future__ import annotations

import datetime
import secrets
import uuid

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from communes.permissions import has_any_role
from core.phones import normalize_mobile
from core.text import clean_text, fold
from core.validation import error_code  # noqa: F401  (an API reads it here)
from core.validation import refuse as _error
from ecommerce import permissions, validators
from ecommerce.models import (
    CODE_ALPHABET, OPEN_VERSION_STATES, Certificate, Lot, Order, OrderEvent, OrderEventKind, OrderLine, OrderPayment,
    OrderState, PaymentSource, Producer, ProducerKind, ProducerMember, ProducerStatus, Product, ProductGroup,
    ProductStatus, ProductSubGroup, ProductVersion, TraceCode, TraceEvent, TraceEventKind, TraceScanDay,
    VersionState,
)

CONFLICT_CODES = frozenset({
    "wrong_state", "not_enough_stock", "already_paid", "duplicate_transaction", "duplicate_token", "not_listed",
    "producer_not_approved", "version_open",
})
MAX_PRICE = 1_000_000_000  # đồng for one unit
MAX_STOCK = 10_000_000
MAX_QUANTITY = 100_000  # of one product in one order
MAX_LINES = 30
MAX_SHIPPING_FEE = 10_000_000
MAX_TEXT = 5000
MAX_REASON = 2000
MAX_ITEM_CODES = 5000  # trace codes printed for one lot
ORDER_CODE_LENGTH = 8
TRACE_CODE_LENGTH = 8
CLOCK_SKEW = datetime.timedelta(minutes=10)

PRODUCER_FIELDS = ("kind", "name", "tax_code", "representative", "phone", "email", "address", "village",
                   "household", "resident", "description", "bank_bin", "bank_account", "bank_account_name")
VERSION_FIELDS = ("name", "group", "subgroup", "price", "unit", "min_order", "season_months", "description",
                  "description_en")


# --- small helpers -----------------------------------------------------------------------------

def now() -> datetime.datetime:
    return timezone.now()


def user_name(user) -> str:
    if user is None:
        return ""
    return (getattr(user, "full_name", "") or user.get_username()).strip()


def _actor(user):
    return user if getattr(user, "pk", None) else None


def _save(instance, user, reason: str, update_fields=None) -> None:
    instance._history_user = _actor(user)
    instance._change_reason = reason[:100]
    instance.save(update_fields=update_fields)


def _wrong_state(label: str) -> ValidationError:
    return _error(_("This action is not possible while it is “%(state)s”.") % {"state": label}, code="wrong_state")


def _text(value, field: str, *, required: bool = False, max_length: int = 200, message: str | None = None) -> str:
    text = clean_text(value) if max_length <= 300 else str(value or "").replace("\x00", "").strip()
    if required and not text:
        raise _error(message or _("This field is required."), code="required", field=field)
    if len(text) > max_length:
        raise _error(_("At most %(max)d characters.") % {"max": max_length}, code="too_long", field=field)
    return text


def _int(value, field: str, *, minimum: int, maximum: int, message: str) -> int:
    """A whole number between ``minimum`` and ``maximum`` from an int or digits ('120.000' and
    '120 000' read as 120000); anything else is refused with ``message``."""
    if isinstance(value, bool):
        raise _error(message, code="invalid_number", field=field)
    if isinstance(value, int):
        number = value
    else:
        text = str(value if value is not None else "").strip().replace(".", "").replace(" ", "").replace("\u00a0", "")
        if not text.isascii() or not text.isdigit() or len(text) > 15:
            raise _error(message, code="invalid_number", field=field)
        number = int(text)
    if not minimum <= number <= maximum:
        raise _error(message, code="out_of_range", field=field)
    return number


def _date(value, field: str) -> datetime.date:
    if isinstance(value, datetime.datetime):
        return timezone.localdate(value) if timezone.is_aware(value) else value.date()
    if isinstance(value, datetime.date):
        return value
    text = str(value or "").strip()
    for fmt in ("%d/%m/%Y", "%Y-%m-%d"):
        try:
            return datetime.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise _error(_("Enter a date as dd/mm/yyyy."), code="invalid_date", field=field)


def _full_clean(instance, exclude=()) -> None:
    """The model's own checks (lengths, validators, constraints), as a refusal per field."""
    try:
        instance.full_clean(exclude=list(exclude))
    except ValidationError as exc:
        raise ValidationError(exc.message_dict if hasattr(exc, "error_dict") else exc.messages) from None


def _unique_slug(model, text: str, *, exclude_pk=None) -> str:
    base = slugify(fold(text))[:60].strip("-") or "sp"
    candidate, number = base, 1
    while model.objects.filter(slug=candidate).exclude(pk=exclude_pk).exists():
        number += 1
        candidate = f"{base}-{number}"
    return candidate


def random_code(length: int) -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(length))


def _locked(model, pk):
    return model.objects.select_for_update().get(pk=pk)


# --- producers ---------------------------------------------------------------------------------

def _producer_values(data: dict, current: Producer | None = None) -> dict:
    """The producer's fields from ``data`` (ids or rows for the village, household, resident),
    checked; fields absent from ``data`` keep ``current``'s values."""
    from population.models import Household, Resident, Village

    values: dict = {}
    if "kind" in data or current is None:
        kind = str(data.get("kind") or "")
        if kind not in ProducerKind.values:
            raise _error(_("Choose the kind of producer."), code="invalid_choice", field="kind")
        values["kind"] = kind
    if "name" in data or current is None:
        values["name"] = _text(data.get("name"), "name", required=True, message=_("Enter the producer's name."))
    if "representative" in data or current is None:
        values["representative"] = _text(data.get("representative"), "representative", required=True,
                                         message=_("Enter the representative's name."))
    if "address" in data or current is None:
        values["address"] = _text(data.get("address"), "address", required=True, max_length=300,
                                  message=_("Enter the producer's address."))
    if "phone" in data or current is None:
        phone = normalize_mobile(data.get("phone"))
        if not phone:
            raw = "".join(ch for ch in str(data.get("phone") or "") if ch.isdigit())
            if not (raw.startswith("0") and len(raw) in (10, 11)):
                raise _error(_("Enter a Vietnamese phone number, e.g. 0912345678."), code="invalid_phone", field="phone")
            phone = raw
        values["phone"] = phone
    if "email" in data:
        email = _text(data.get("email"), "email", max_length=254)
        if email:
            try:
                validate_email(email)
            except ValidationError:
                raise _error(_("Enter a valid e-mail address."), code="invalid_email", field="email") from None
        values["email"] = email
    if "tax_code" in data:
        tax_code = _text(data.get("tax_code"), "tax_code", max_length=14).replace(" ", "")
        try:
            validators.validate_tax_code(tax_code)
        except ValidationError as exc:
            raise _error(exc.messages[0], code="invalid_tax_code", field="tax_code") from None
        values["tax_code"] = tax_code
    if "description" in data:
        values["description"] = _text(data.get("description"), "description", max_length=MAX_TEXT)
    if "village" in data or current is None:
        village = data.get("village")
        village_id = getattr(village, "pk", village)
        if not str(village_id or "").isdigit() or not Village.objects.filter(pk=int(village_id)).exists():
            raise _error(_("Choose the producer's village."), code="invalid_choice", field="village")
        values["village_id"] = int(village_id)
    for name, model, message in (("household", Household, _("This household is not in the commune's registry.")),
                                 ("resident", Resident, _("This resident is not in the commune's registry."))):
        if name in data:
            ref = data.get(name)
            ref_id = getattr(ref, "pk", ref)
            if ref_id in (None, ""):
                values[f"{name}_id"] = None
            elif not str(ref_id).isdigit() or not model.objects.filter(pk=int(ref_id)).exists():
                raise _error(message, code="invalid_choice", field=name)
            else:
                values[f"{name}_id"] = int(ref_id)
    if values.get("resident_id"):
        from population.models import Resident

        household_id = Resident.objects.filter(pk=values["resident_id"]).values_list("household_id", flat=True).first()
        if values.get("household_id") and values["household_id"] != household_id:
            raise _error(_("The resident must be a member of the household."), code="invalid_choice", field="resident")
        values["household_id"] = household_id
    if {"bank_bin", "bank_account", "bank_account_name"} & set(data):
        bank_bin = str(data.get("bank_bin", current.bank_bin if current else "") or "").strip()
        account = str(data.get("bank_account", current.bank_account if current else "") or "").replace(" ", "")
        name = _text(data.get("bank_account_name", current.bank_account_name if current else ""),
                     "bank_account_name").upper()
        if bank_bin or account:
            try:
                validators.validate_bank_bin(bank_bin)
            except ValidationError as exc:
                raise _error(exc.messages[0], code="invalid_bank", field="bank_bin") from None
            try:
                validators.validate_bank_account(account)
            except ValidationError as exc:
                raise _error(exc.messages[0], code="invalid_bank", field="bank_account") from None
            if not bank_bin or not account:
                raise _error(_("Enter both the bank and the account number, or neither."), code="invalid_bank",
                             field="bank_account")
            if not name:
                raise _error(_("Enter the account holder's name as the bank shows it."), code="required",
                             field="bank_account_name")
        values.update(bank_bin=bank_bin, bank_account=account, bank_account_name=name if (bank_bin or account) else "")
    return values


@transaction.atomic
def register_producer(user, **data) -> Producer:
    """A new producer, waiting for the economy officer's approval. A producer who registers
    themselves becomes its member."""
    permissions.require(user, "producer.register")
    unknown = set(data) - set(PRODUCER_FIELDS)
    if unknown:
        raise TypeError(f"unknown fields: {sorted(unknown)}")
    values = _producer_values(data)
    producer = Producer(**values, status=ProducerStatus.PENDING, registered_by=_actor(user))
    producer.slug = _unique_slug(Producer, producer.name)
    _full_clean(producer, exclude=["slug"])
    try:
        with transaction.atomic():
            _save(producer, user, "registered")
    except IntegrityError:
        raise _error(_("Another producer already has this tax code."), code="duplicate", field="tax_code") from None
    if not permissions.sees_every_producer(user):
        ProducerMember.objects.create(producer=producer, user=user, added_by=_actor(user))
        permissions.forget(user)
    return producer


@transaction.atomic
def update_producer(user, producer: Producer, **data) -> Producer:
    """Change a producer's details (its approval stays)."""
    permissions.require(user, "producer.edit", producer)
    unknown = set(data) - set(PRODUCER_FIELDS)
    if unknown:
        raise TypeError(f"unknown fields: {sorted(unknown)}")
    producer = _locked(Producer, producer.pk)
    for field, value in _producer_values(data, producer).items():
        setattr(producer, field, value)
    _full_clean(producer)
    try:
        with transaction.atomic():
            _save(producer, user, "updated")
    except IntegrityError:
        raise _error(_("Another producer already has this tax code."), code="duplicate", field="tax_code") from None
    _publish_producer(producer)
    return producer


@transaction.atomic
def approve_producer(user, producer: Producer) -> Producer:
    """Approve a waiting producer, or take back a suspended one: its listed products show again."""
    permissions.require(user, "producer.approve")
    producer = _locked(Producer, producer.pk)
    if producer.status == ProducerStatus.APPROVED:
        raise _wrong_state(producer.get_status_display())
    producer.status = ProducerStatus.APPROVED
    producer.approved_by, producer.approved_at = _actor(user), now()
    producer.status_reason = ""
    _save(producer, user, "approved")
    _publish_producer(producer)
    return producer


@transaction.atomic
def suspend_producer(user, producer: Producer, reason: str) -> Producer:
    """Suspend a producer: its products leave the listing (its open orders can still be handled)."""
    permissions.require(user, "producer.approve")
    reason = _text(reason, "reason", required=True, max_length=MAX_REASON,
                   message=_("Give the reason for the suspension."))
    producer = _locked(Producer, producer.pk)
    if producer.status == ProducerStatus.SUSPENDED:
        raise _wrong_state(producer.get_status_display())
    producer.status = ProducerStatus.SUSPENDED
    producer.suspended_by, producer.suspended_at = _actor(user), now()
    producer.status_reason = reason
    _save(producer, user, "suspended")
    _publish_producer(producer)
    return producer


@transaction.atomic
def add_member(user, producer: Producer, member) -> ProducerMember:
    """Let ``member`` (a user with the producer role in this commune) act for ``producer``."""
    permissions.require(user, "producer.approve")
    if not has_any_role(member, [permissions.PRODUCER]):
        raise _error(_("This person does not have the producer role in the commune."), code="not_producer", field="user")
    row, _created = ProducerMember.objects.get_or_create(producer=producer, user_id=member.pk,
                                                         defaults={"added_by": _actor(user)})
    permissions.forget(member)
    return row


# --- producers registered from the producers' pages --------------------------------------------
# A logged-in person without a role (a citizen's account) asks to register a producer: the
# producer waits, the person is its member (without the producer role, they can read their
# request but act on nothing), and the economy officer's approval gives them the producer role
# in the commune (``approve_registration``); a refusal is a suspension with its reason.

MAX_OPEN_REQUESTS = 3  # producers a person without a role may have waiting at once


def _requester_of(user, producer: Producer) -> bool:
    return bool(getattr(user, "pk", None)) and producer.status == ProducerStatus.PENDING and \
        ProducerMember.objects.filter(producer=producer, user_id=user.pk).exists()


@transaction.atomic
def request_producer(user, **data) -> Producer:
    """A logged-in person asks to register a producer (``register_producer`` for a role that
    registers; see the section's text for anyone else)."""
    from django.core.exceptions import PermissionDenied

    if not getattr(user, "is_authenticated", False) or not getattr(user, "pk", None):
        raise PermissionDenied
    if permissions.can(user, "producer.register"):
        return register_producer(user, **data)
    unknown = set(data) - set(PRODUCER_FIELDS)
    if unknown:
        raise TypeError(f"unknown fields: {sorted(unknown)}")
    data = {key: value for key, value in data.items() if key not in ("household", "resident")}
    waiting = ProducerMember.objects.filter(user_id=user.pk, producer__status=ProducerStatus.PENDING).count()
    if waiting >= MAX_OPEN_REQUESTS:
        raise _error(_("You already have %(count)d registrations waiting for the commune's approval.") % {
            "count": waiting}, code="too_many")
    values = _producer_values(data)
    producer = Producer(**values, status=ProducerStatus.PENDING, registered_by=_actor(user))
    producer.slug = _unique_slug(Producer, producer.name)
    _full_clean(producer, exclude=["slug"])
    try:
        with transaction.atomic():
            _save(producer, user, "requested")
    except IntegrityError:
        raise _error(_("Another producer already has this tax code."), code="duplicate", field="tax_code") from None
    ProducerMember.objects.create(producer=producer, user_id=user.pk, added_by=_actor(user))
    permissions.forget(user)
    return producer


def may_edit_producer(user, producer: Producer) -> bool:
    """The producer's member or the economy officer; the person who asked, while it waits."""
    return permissions.can(user, "producer.edit", producer) or _requester_of(user, producer)


@transaction.atomic
def edit_producer(user, producer: Producer, **data) -> Producer:
    """``update_producer``, and for the person who asked (without the producer role) the
    correction of their waiting request."""
    from django.core.exceptions import PermissionDenied

    if permissions.can(user, "producer.edit", producer):
        return update_producer(user, producer, **data)
    producer = _locked(Producer, producer.pk)
    if not _requester_of(user, producer):
        raise PermissionDenied
    unknown = set(data) - set(PRODUCER_FIELDS)
    if unknown:
        raise TypeError(f"unknown fields: {sorted(unknown)}")
    data = {key: value for key, value in data.items() if key not in ("household", "resident")}
    for field, value in _producer_values(data, producer).items():
        setattr(producer, field, value)
    _full_clean(producer)
    try:
        with transaction.atomic():
            _save(producer, user, "request corrected")
    except IntegrityError:
        raise _error(_("Another producer already has this tax code."), code="duplicate", field="tax_code") from None
    return producer


def _grant_producer_role(user, producer: Producer) -> tuple[list[int], list[int]]:
    """Give the producer role in the commune to the producer's members who lack it: only to
    people of this commune alone (a person who is also an official or member elsewhere, a
    supervising unit's staff or an operator is left to the installation's operators), never to
    the approving officer, never reviving a role the commune's administrator switched off.
    Returns (granted, left) user ids."""
    import logging

    from communes.models import Membership, Role
    from communes.permissions import current_commune
    from core.admin_site import users_of_commune_only

    commune = current_commune()
    member_ids = set(ProducerMember.objects.filter(producer=producer).values_list("user_id", flat=True))
    if commune is None or not member_ids:
        return [], sorted(member_ids)
    existing = dict(Membership.objects.filter(commune=commune, role=Role.PRODUCER, user_id__in=member_ids)
                    .values_list("user_id", "is_active"))
    own = set(users_of_commune_only(commune).filter(pk__in=member_ids).values_list("pk", flat=True))
    granted, left = [], []
    for member_id in sorted(member_ids):
        if existing.get(member_id):
            continue
        if member_id in existing or member_id == getattr(user, "pk", None) or member_id not in own:
            left.append(member_id)
            continue
        Membership.objects.create(user_id=member_id, commune=commune, role=Role.PRODUCER,
                                  job_title=producer.name[:200])
        logging.getLogger(__name__).warning(
            "role grant: user %s granted producer of user %s in %s (approval of producer %s)",
            getattr(user, "pk", None), member_id, commune.pk, producer.pk)
        granted.append(member_id)
    return granted, left


@transaction.atomic
def approve_registration(user, producer: Producer) -> tuple[Producer, list[int], list[int]]:
    """Approve a waiting producer (``approve_producer``) and give its members the producer role
    (``_grant_producer_role``). Returns (producer, granted, left) with the members' user ids."""
    producer = approve_producer(user, producer)
    granted, left = _grant_producer_role(user, producer)
    return producer, granted, left


# --- the national catalogue ----------------------------------------------------------------------
# A change that alters a listed product's public row publishes it through the outbox in the same
# transaction (``ecommerce.publishing``: only what differs from the public side).

def _publish(product_ids) -> None:
    from ecommerce import publishing

    publishing.refresh(product_ids)


def _publish_producer(producer: Producer) -> None:
    from ecommerce import publishing

    publishing.refresh_producer(producer)


def _publish_stock(moves: dict[int, int]) -> None:
    from ecommerce import publishing

    publishing.stock_moved(moves)


# --- products ----------------------------------------------------------------------------------

def _version_values(data: dict, base: ProductVersion | None) -> dict:
    """The content fields from ``data`` over ``base`` (the version being changed), checked."""
    values = {field: getattr(base, field) for field in VERSION_FIELDS} if base is not None else {}
    if base is not None:
        values["group"], values["subgroup"] = base.group, base.subgroup
    if "name" in data or base is None:
        values["name"] = _text(data.get("name"), "name", required=True, message=_("Enter the product's name."))
    if "group" in data or base is None:
        group = data.get("group")
        group_obj = group if isinstance(group, ProductGroup) else ProductGroup.objects.filter(
            **({"pk": int(group)} if str(group or "").isdigit() else {"code": str(group or "")}), active=True).first()
        if group_obj is None:
            raise _error(_("Choose the OCOP product group."), code="invalid_choice", field="group")
        values["group"] = group_obj
        if "subgroup" not in data and values.get("subgroup") is not None and values["subgroup"].group_id != group_obj.pk:
            values["subgroup"] = None
    if "subgroup" in data:
        subgroup = data.get("subgroup")
        if subgroup in (None, ""):
            values["subgroup"] = None
        else:
            sub_obj = subgroup if isinstance(subgroup, ProductSubGroup) else ProductSubGroup.objects.filter(
                **({"pk": int(subgroup)} if str(subgroup).isdigit() else {"code": str(subgroup)})).first()
            if sub_obj is None or sub_obj.group_id != values["group"].pk:
                raise _error(_("Choose a sub-group of the chosen group."), code="invalid_choice", field="subgroup")
            values["subgroup"] = sub_obj
    if "price" in data or base is None:
        values["price"] = _int(data.get("price"), "price", minimum=1, maximum=MAX_PRICE,
                               message=_("Enter the price in đồng: a whole number from 1 to 1.000.000.000."))
    if "unit" in data or base is None:
        values["unit"] = _text(data.get("unit"), "unit", required=True, max_length=50,
                               message=_("Enter the unit the price is for (kg, hộp 500 g …)."))
    if "min_order" in data:
        values["min_order"] = _int(data.get("min_order"), "min_order", minimum=1, maximum=MAX_QUANTITY,
                                   message=_("The minimum order is a whole number from 1 to 100.000."))
    values.setdefault("min_order", 1)
    if "season_months" in data:
        months = data.get("season_months") or []
        try:
            months = sorted(int(m) for m in months)
            validators.validate_months(months)
        except (TypeError, ValueError, ValidationError):
            raise _error(_("Choose months from 1 to 12."), code="invalid_months", field="season_months") from None
        values["season_months"] = [] if len(months) == 12 else months
    values.setdefault("season_months", [])
    if "description" in data or base is None:
        values["description"] = _text(data.get("description"), "description", required=True, max_length=MAX_TEXT,
                                      message=_("Describe the product in Vietnamese."))
    if "description_en" in data:
        values["description_en"] = _text(data.get("description_en"), "description_en", max_length=MAX_TEXT)
    values.setdefault("description_en", "")
    return values


def _check_writable(user, producer: Producer) -> None:
    permissions.require(user, "product.write", producer)
    if producer.status == ProducerStatus.SUSPENDED:
        raise _error(_("This producer is suspended: its products cannot be changed."), code="producer_suspended")


@transaction.atomic
def create_product(user, producer: Producer, *, stock=0, gtin: str = "", slug: str = "", submit: bool = False,
                   **content) -> Product:
    """A new product of ``producer`` with its first version (a draft; ``submit`` sends it for
    approval at once)."""
    _check_writable(user, producer)
    unknown = set(content) - set(VERSION_FIELDS)
    if unknown:
        raise TypeError(f"unknown fields: {sorted(unknown)}")
    values = _version_values(content, None)
    stock = _int(stock, "stock", minimum=0, maximum=MAX_STOCK,
                 message=_("The stock is a whole number from 0 to 10.000.000."))
    try:
        gtin = validators.normalize_gtin(gtin)
    except ValidationError as exc:
        raise _error(exc.messages[0], code="invalid_gtin", field="gtin") from None
    if gtin and Product.objects.filter(gtin=gtin).exists():
        raise _error(_("Another product already has this barcode number."), code="duplicate", field="gtin")
    if slug:
        slug = slugify(fold(slug))[:80]
        if not slug or Product.objects.filter(slug=slug).exists():
            raise _error(_("This link address is taken or not valid."), code="duplicate", field="slug")
    product = Product(producer=producer, stock=stock, gtin=gtin, slug=slug or _unique_slug(Product, values["name"]),
                      created_by=_actor(user))
    _save(product, user, "created")
    version = ProductVersion(product=product, number=1, created_by=_actor(user), **values)
    _full_clean(version, exclude=["product"])
    version.save()
    if submit:
        submit_version(user, product)
        product.refresh_from_db()
    return product


def open_version(product: Product) -> ProductVersion | None:
    return product.versions.filter(state__in=OPEN_VERSION_STATES).order_by("-number").first()


@transaction.atomic
def save_version(user, product: Product, **changes) -> ProductVersion:
    """Write the product's open version (a draft, or a submitted one, which goes back to draft),
    or start the next version from the live one (from the rejected one when none was approved).
    The live version does not change."""
    product = _locked(Product, product.pk)
    _check_writable(user, product.producer)
    unknown = set(changes) - set(VERSION_FIELDS)
    if unknown:
        raise TypeError(f"unknown fields: {sorted(unknown)}")
    version = open_version(product)
    if version is None:  # from the live version, or the last one (rejected) of a product never approved
        latest = product.versions.order_by("-number").first()
        base = product.live_version or latest
        version = ProductVersion(product=product, number=latest.number + 1, created_by=_actor(user))
    else:
        base = version
    for field, value in _version_values(changes, base).items():
        setattr(version, field, value)
    if version.state == VersionState.SUBMITTED:  # changed while waiting: back to the producer's draft
        version.state, version.submitted_at = VersionState.DRAFT, None
        product.pending_version = None
        if product.status == ProductStatus.PENDING:
            product.status = ProductStatus.DRAFT
        _save(product, user, "version withdrawn")
    _full_clean(version, exclude=["product"])
    _save(version, user, "written")
    return version


@transaction.atomic
def submit_version(user, product: Product) -> ProductVersion:
    """Send the product's draft version for the economy officer's approval."""
    product = _locked(Product, product.pk)
    _check_writable(user, product.producer)
    version = open_version(product)
    if version is None or version.state != VersionState.DRAFT:
        raise _error(_("There is no draft version to send for approval."), code="wrong_state")
    version.state, version.submitted_at = VersionState.SUBMITTED, now()
    _save(version, user, "submitted")
    product.pending_version = version
    if product.live_version_id is None:
        product.status = ProductStatus.PENDING
    _save(product, user, "submitted")
    return version


@transaction.atomic
def approve_version(user, version: ProductVersion) -> Product:
    """Approve a submitted version: it becomes the live one (the first one publishes the product;
    a hidden product stays hidden)."""
    permissions.require(user, "product.review")
    product = _locked(Product, version.product_id)
    version = _locked(ProductVersion, version.pk)
    if version.state != VersionState.SUBMITTED:
        raise _wrong_state(version.get_state_display())
    version.state, version.reviewed_by, version.reviewed_at = VersionState.APPROVED, _actor(user), now()
    _save(version, user, "approved")
    product.live_version = version
    product.pending_version = None
    if product.status in (ProductStatus.DRAFT, ProductStatus.PENDING):
        product.status = ProductStatus.PUBLISHED
    if product.published_at is None and product.status == ProductStatus.PUBLISHED:
        product.published_at = now()
    _save(product, user, f"approved v{version.number}")
    _publish([product.pk])
    return product


@transaction.atomic
def reject_version(user, version: ProductVersion, reason: str) -> ProductVersion:
    """Send a submitted version back with the reason; the live version (if any) stays listed."""
    permissions.require(user, "product.review")
    reason = _text(reason, "reason", required=True, max_length=MAX_REASON, message=_("Give the reason for the refusal."))
    product = _locked(Product, version.product_id)
    version = _locked(ProductVersion, version.pk)
    if version.state != VersionState.SUBMITTED:
        raise _wrong_state(version.get_state_display())
    version.state, version.reviewed_by, version.reviewed_at = VersionState.REJECTED, _actor(user), now()
    version.reject_reason = reason
    _save(version, user, "rejected")
    product.pending_version = None
    if product.live_version_id is None:
        product.status = ProductStatus.DRAFT
    _save(product, user, f"rejected v{version.number}")
    return version


@transaction.atomic
def set_stock(user, product: Product, stock) -> Product:
    """Set the stock counted by the producer (what confirmed orders have not taken yet)."""
    _check_writable(user, product.producer)
    stock = _int(stock, "stock", minimum=0, maximum=MAX_STOCK,
                 message=_("The stock is a whole number from 0 to 10.000.000."))
    Product.objects.filter(pk=product.pk).update(stock=stock, updated_at=now())
    product.stock = stock
    _publish([product.pk])
    return product


@transaction.atomic
def hide_product(user, product: Product, reason: str = "") -> Product:
    """Take a product off the listing (its versions and orders stay)."""
    product = _locked(Product, product.pk)
    _check_writable(user, product.producer)
    if product.status == ProductStatus.HIDDEN:
        raise _wrong_state(product.get_status_display())
    product.status = ProductStatus.HIDDEN
    product.hidden_reason = _text(reason, "reason", max_length=MAX_REASON)
    _save(product, user, "hidden")
    _publish([product.pk])
    return product


@transaction.atomic
def show_product(user, product: Product) -> Product:
    """Put a hidden product back: published when it has an approved version, otherwise a draft."""
    product = _locked(Product, product.pk)
    _check_writable(user, product.producer)
    if product.status != ProductStatus.HIDDEN:
        raise _wrong_state(product.get_status_display())
    if product.live_version_id:
        product.status = ProductStatus.PUBLISHED
        product.published_at = product.published_at or now()
    else:
        product.status = ProductStatus.PENDING if product.pending_version_id else ProductStatus.DRAFT
    product.hidden_reason = ""
    _save(product, user, "shown")
    _publish([product.pk])
    return product


@transaction.atomic
def add_certificate(user, product: Product, *, number: str, score, issuing_authority: str, issued_on,
                    expires_on=None, scan: str = "") -> Certificate:
    """Record the OCOP certificate of a product (its stars come from the score; it ends 36 months
    after its issue unless the certificate says otherwise)."""
    permissions.require(user, "certificate.write")
    number = _text(number, "number", required=True, max_length=60, message=_("Enter the certificate number."))
    score = _int(score, "score", minimum=0, maximum=100, message=_("The score is a whole number from 0 to 100."))
    authority = _text(issuing_authority, "issuing_authority", required=True,
                      message=_("Enter who issued the certificate."))
    issued_on = _date(issued_on, "issued_on")
    if issued_on > timezone.localdate():
        raise _error(_("The date of issue cannot be in the future."), code="future_date", field="issued_on")
    certificate = Certificate(product=product, number=number, score=score, issuing_authority=authority,
                              issued_on=issued_on, scan=scan, created_by=_actor(user))
    if expires_on not in (None, ""):
        certificate.expires_on = _date(expires_on, "expires_on")
        if certificate.expires_on <= issued_on:
            raise _error(_("The end of validity must come after the date of issue."), code="invalid_date",
                         field="expires_on")
    if Certificate.objects.filter(number=number, issuing_authority=authority).exists():
        raise _error(_("This certificate number is already recorded."), code="duplicate", field="number")
    _save(certificate, user, "recorded")
    _publish([product.pk])
    return certificate


# --- lots and traceability ---------------------------------------------------------------------

def _new_codes(count: int) -> list[str]:
    """``count`` fresh trace codes (none already used)."""
    codes: set[str] = set()
    while len(codes) < count:
        wanted = {random_code(TRACE_CODE_LENGTH) for _ in range(count - len(codes))}
        taken = set(TraceCode.objects.filter(code__in=wanted).values_list("code", flat=True))
        codes |= wanted - taken
    return list(codes)[:count]


@transaction.atomic
def create_lot(user, product: Product, *, number: str, produced_on, quantity, unit: str, input_notes: str = "",
               best_before=None, item_codes=0) -> Lot:
    """A production lot with its trace code (one for the lot) and, for a printed series, one code
    per item (``item_codes`` of them, numbered 1, 2 …)."""
    _check_writable(user, product.producer)
    permissions.require(user, "lot.write", product.producer_id)
    number = _text(number, "number", required=True, max_length=20, message=_("Enter the lot number."))
    produced_on = _date(produced_on, "produced_on")
    if produced_on > timezone.localdate():
        raise _error(_("The harvest or production date cannot be in the future."), code="future_date",
                     field="produced_on")
    lot = Lot(product=product, number=number, produced_on=produced_on,
              quantity=_int(quantity, "quantity", minimum=1, maximum=MAX_STOCK,
                            message=_("The quantity is a whole number from 1 to 10.000.000.")),
              unit=_text(unit, "unit", required=True, max_length=50, message=_("Enter the unit of the quantity.")),
              input_notes=_text(input_notes, "input_notes", max_length=MAX_TEXT),
              best_before=_date(best_before, "best_before") if best_before not in (None, "") else None,
              created_by=_actor(user))
    items = _int(item_codes or 0, "item_codes", minimum=0, maximum=MAX_ITEM_CODES,
                 message=_("The number of item codes is a whole number from 0 to 5.000."))
    if lot.best_before and lot.best_before < produced_on:
        raise _error(_("The best-before date cannot come before the production date."), code="invalid_date",
                     field="best_before")
    if Lot.objects.filter(product=product, number=number).exists():
        raise _error(_("This product already has a lot with this number."), code="duplicate", field="number")
    _full_clean(lot, exclude=["product"])
    _save(lot, user, "created")
    for attempt in range(3):
        try:
            with transaction.atomic():
                codes = _new_codes(items + 1)
                TraceCode.objects.bulk_create(
                    [TraceCode(lot=lot, code=codes[0], serial=None)]
                    + [TraceCode(lot=lot, code=code, serial=serial) for serial, code in enumerate(codes[1:], start=1)])
            break
        except IntegrityError:  # a code drawn at the same moment by another lot: draw again
            if attempt == 2:
                raise
    return lot


def add_trace_event(user, lot: Lot, *, kind: str, at=None, place: str = "", note: str = "") -> TraceEvent:
    """A step of the lot's chain (harvested, packed, shipped, other), shown on the trace page."""
    permissions.require(user, "lot.write", lot.product.producer_id)
    if kind not in TraceEventKind.values:
        raise _error(_("Choose what happened."), code="invalid_choice", field="kind")
    at = at or now()
    if not isinstance(at, datetime.datetime):
        raise _error(_("Enter the date and time."), code="invalid_date", field="at")
    if timezone.is_naive(at):
        at = timezone.make_aware(at)
    if at > now() + CLOCK_SKEW:
        raise _error(_("The time cannot be in the future."), code="future_date", field="at")
    if timezone.localdate(at) < lot.produced_on - datetime.timedelta(days=366):
        raise _error(_("The time is more than a year before the lot's date."), code="invalid_date", field="at")
    return TraceEvent.objects.create(
        lot=lot, kind=kind, at=at, place=_text(place, "place"), note=_text(note, "note", max_length=MAX_TEXT),
        created_by=_actor(user),
    )


def count_scan(code: TraceCode, day: datetime.date | None = None) -> None:
    """Count one opening of a code's trace page on ``day`` (today): one upsert, nothing about
    who scanned."""
    day = day or timezone.localdate()
    table = connection.ops.quote_name(TraceScanDay._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (code_id, day, count) VALUES (%s, %s, 1) "
            "ON CONFLICT (code_id, day) DO UPDATE SET count = " + table + ".count + 1",
            [code.pk, day],
        )


@transaction.atomic
def issue_item_codes(user, lot: Lot, count) -> list[TraceCode]:
    """``count`` more codes for a printed series of ``lot``, one per item, numbered after the
    lot's last item (a lot holds at most ``MAX_ITEM_CODES`` item codes). The lot's row is locked
    while the numbers are drawn, so two series issued at once never share a number."""
    producer = Product.objects.select_related("producer").get(pk=lot.product_id).producer
    _check_writable(user, producer)
    permissions.require(user, "lot.write", producer.pk)
    lot = _locked(Lot, lot.pk)
    count = _int(count, "count", minimum=1, maximum=MAX_ITEM_CODES,
                 message=_("The number of stamps is a whole number from 1 to 5.000."))
    numbered = lot.codes.filter(serial__isnull=False)
    issued, last = numbered.count(), numbered.order_by("-serial").values_list("serial", flat=True).first() or 0
    if issued + count > MAX_ITEM_CODES:
        raise _error(_("A lot has at most %(max)s item codes: %(left)s more can be issued.") % {
            "max": "5.000", "left": f"{MAX_ITEM_CODES - issued:,}".replace(",", ".")}, code="too_many", field="count")
    for attempt in range(3):
        try:
            with transaction.atomic():
                created = TraceCode.objects.bulk_create([
                    TraceCode(lot=lot, code=code, serial=serial)
                    for serial, code in enumerate(_new_codes(count), start=last + 1)])
            break
        except IntegrityError:  # a code drawn at the same moment by another lot: draw again
            if attempt == 2:
                raise
    return created


@transaction.atomic
def set_stocks(user, changes) -> list[Product]:
    """Set the stock of several products at once (a producer's stock file): every change is
    checked as ``set_stock`` checks one, and either all are written or none (one refusal
    undoes the others)."""
    updated = []
    for product, stock in changes:
        updated.append(set_stock(user, product, stock))
    return updated


# --- orders ------------------------------------------------------------------------------------

def _order_event(order: Order, kind: str, user, *, note: str = "", public: bool = True, name: str = "") -> OrderEvent:
    return OrderEvent.objects.create(order=order, kind=kind, at=now(), actor=_actor(user),
                                     actor_name=(name or user_name(user))[:200], note=note[:MAX_TEXT], public=public)


def _tell(order: Order, event: OrderEvent, user=None, **context) -> None:
    """The messages of a state change (``ecommerce.notify``: SMS and e-mail jobs), written in the
    change's transaction; the event keeps the buyer's job."""
    from ecommerce import notify

    jobs = notify.order_changed(order, event.kind, user=user, **context)
    if jobs:
        event.notification_id = jobs[0].pk
        event.save(update_fields=["notification_id"])


def _order_lines(lines) -> list[tuple[Product, int]]:
    """[(product, quantity)] from [(product or id, quantity)] or [{"product", "quantity"}], merged per
    product; each product listed, of one producer, within its minimum order and the stock."""
    pairs = []
    for line in lines or ():
        if isinstance(line, dict):
            pairs.append((line.get("product"), line.get("quantity")))
        else:
            product, quantity = line
            pairs.append((product, quantity))
    if not pairs:
        raise _error(_("Choose at least one product."), code="required", field="lines")
    if len(pairs) > MAX_LINES:
        raise _error(_("An order holds at most %(max)d products.") % {"max": MAX_LINES}, code="too_many", field="lines")
    merged: dict[int, int] = {}
    for product, quantity in pairs:
        product_id = getattr(product, "pk", product)
        if not str(product_id or "").isdigit():
            raise _error(_("This product is not offered."), code="not_listed", field="lines")
        quantity = _int(quantity, "lines", minimum=1, maximum=MAX_QUANTITY,
                        message=_("A quantity is a whole number from 1 to 100.000."))
        merged[int(product_id)] = merged.get(int(product_id), 0) + quantity
    products = {p.pk: p for p in Product.objects.filter(pk__in=merged).select_related("live_version", "producer")}
    result = []
    for product_id, quantity in merged.items():
        product = products.get(product_id)
        if product is None or not product.is_listed:
            raise _error(_("This product is not offered."), code="not_listed", field="lines")
        version = product.live_version
        if quantity > MAX_QUANTITY:
            raise _error(_("A quantity is a whole number from 1 to 100.000."), code="out_of_range", field="lines")
        if quantity < version.min_order:
            raise _error(_("“%(name)s” is sold from %(min)d %(unit)s.") % {
                "name": version.name, "min": version.min_order, "unit": version.unit}, code="below_minimum", field="lines")
        if quantity > product.stock:
            raise _error(_("Only %(stock)d %(unit)s of “%(name)s” are left.") % {
                "stock": product.stock, "unit": version.unit, "name": version.name}, code="not_enough_stock", field="lines")
        result.append((product, quantity))
    if len({product.producer_id for product, _q in result}) > 1:
        raise _error(_("An order is placed with one producer: order the other products separately."),
                     code="several_producers", field="lines")
    return result


def _new_order_code() -> str:
    while True:
        code = random_code(ORDER_CODE_LENGTH)
        if not Order.objects.filter(code=code).exists():
            return code


def place_order(*, lines, buyer_name: str, buyer_phone: str, delivery_address: str, buyer=None, buyer_email: str = "",
                note: str = "", submit_token=None, shipping_fee=0) -> Order:
    """A buyer's order from one producer (a citizen's account or a guest with a phone number).

    Idempotent: a second call with the same ``submit_token`` (a double click, a retried request)
    returns the first order (``order.repeated`` is then True) instead of placing another."""
    if buyer is not None and not getattr(buyer, "is_authenticated", False):
        buyer = None
    token = None
    if submit_token not in (None, ""):
        try:
            token = submit_token if isinstance(submit_token, uuid.UUID) else uuid.UUID(str(submit_token))
        except ValueError:
            raise _error(_("The form has expired: reload the page and send it again."), code="invalid_token") from None
        existing = _repeated_order(token, buyer, buyer_phone)
        if existing is not None:
            return existing
    name = _text(buyer_name, "buyer_name", required=True, message=_("Enter your full name."))
    phone = normalize_mobile(buyer_phone)
    if not phone:
        raise _error(_("Enter a Vietnamese mobile number of 10 digits, e.g. 0912345678."), code="invalid_phone",
                     field="buyer_phone")
    email = _text(buyer_email, "buyer_email", max_length=254)
    if email:
        try:
            validate_email(email)
        except ValidationError:
            raise _error(_("Enter a valid e-mail address."), code="invalid_email", field="buyer_email") from None
    address = _text(delivery_address, "delivery_address", required=True, max_length=300,
                    message=_("Enter the delivery address."))
    note = _text(note, "note", max_length=1000)
    shipping = _int(shipping_fee or 0, "shipping_fee", minimum=0, maximum=MAX_SHIPPING_FEE,
                    message=_("The shipping fee is a whole number of đồng."))
    try:
        with transaction.atomic():
            chosen = _order_lines(lines)
            producer = chosen[0][0].producer
            subtotal = sum(product.live_version.price * quantity for product, quantity in chosen)
            order = Order(code=_new_order_code(), producer=producer, buyer=buyer, buyer_name=name, buyer_phone=phone,
                          buyer_email=email, delivery_address=address, note=note, subtotal=subtotal,
                          shipping_fee=shipping, total=subtotal + shipping, submit_token=token, placed_at=now())
            _save(order, buyer, "placed")
            OrderLine.objects.bulk_create([
                OrderLine(order=order, product=product, version=product.live_version, name=product.live_version.name,
                          unit=product.live_version.unit, unit_price=product.live_version.price, quantity=quantity,
                          amount=product.live_version.price * quantity)
                for product, quantity in chosen
            ])
            _tell(order, _order_event(order, OrderEventKind.PLACED, buyer, name=name), buyer)
    except IntegrityError:
        existing = _repeated_order(token, buyer, buyer_phone) if token else None
        if existing is None:
            raise
        return existing
    order.repeated = False
    return order


def _repeated_order(token, buyer, buyer_phone) -> Order | None:
    order = Order.objects.filter(submit_token=token).first()
    if order is None:
        return None
    same = (order.buyer_id == buyer.pk) if buyer is not None else (
        order.buyer_id is None and order.buyer_phone == normalize_mobile(buyer_phone))
    if not same:
        raise _error(_("The form has expired: reload the page and send it again."), code="duplicate_token")
    order.repeated = True
    return order


def _check_order_action(user, order: Order) -> None:
    permissions.require(user, "order.manage", order.producer_id)


@transaction.atomic
def confirm_order(user, order: Order) -> Order:
    """The producer accepts the order: its quantities are taken from the stock, each with one
    ``UPDATE … SET stock = stock - q WHERE stock >= q``. When a product has too little left,
    nothing is taken and the order stays placed."""
    _check_order_action(user, order)
    order = _locked(Order, order.pk)
    if order.state != OrderState.PLACED:
        raise _wrong_state(order.get_state_display())
    for line in order.lines.select_related("product").order_by("product_id"):
        taken = Product.objects.filter(pk=line.product_id, stock__gte=line.quantity).update(
            stock=F("stock") - line.quantity)
        if not taken:
            left = Product.objects.filter(pk=line.product_id).values_list("stock", flat=True).first() or 0
            raise _error(_("Not enough stock of “%(name)s”: %(quantity)d %(unit)s ordered, %(left)d left.") % {
                "name": line.name, "quantity": line.quantity, "unit": line.unit, "left": left},
                code="not_enough_stock")
    _publish_stock({line.product_id: -line.quantity for line in order.lines.all()})
    order.state, order.confirmed_at, order.stock_reserved = OrderState.CONFIRMED, now(), True
    _save(order, user, "confirmed")
    _tell(order, _order_event(order, OrderEventKind.CONFIRMED, user), user)
    return order


@transaction.atomic
def mark_paid(user, order: Order, *, amount, transaction_id: str | None = None, paid_at=None, purpose: str = "",
              source: str = PaymentSource.PRODUCER) -> Order:
    """Record the payment of a confirmed order: by the producer (who saw the transfer) or from a
    bank notification whose signature was checked (``source=bank``, no user). The amount must be
    the order's total; a bank transaction counts once (a replay changes nothing)."""
    if source not in PaymentSource.values:
        raise ValueError(source)
    if source == PaymentSource.PRODUCER:
        _check_order_action(user, order)
    transaction_id = (str(transaction_id).strip()[:100] or None) if transaction_id else None
    order = _locked(Order, order.pk)
    if transaction_id:
        earlier = OrderPayment.objects.filter(transaction_id=transaction_id).first()
        if earlier is not None:
            if earlier.order_id == order.pk:
                return order
            raise _error(_("This bank transaction was already counted for another order."), code="duplicate_transaction",
                         field="transaction_id")
    if order.state != OrderState.CONFIRMED:
        if order.state in (OrderState.PAID, OrderState.SHIPPED, OrderState.DELIVERED):
            raise _error(_("This order is already paid."), code="already_paid")
        raise _wrong_state(order.get_state_display())
    amount = _int(amount, "amount", minimum=1, maximum=10 ** 13, message=_("Enter the amount in đồng."))
    if amount != order.total:
        raise _error(_("The amount paid (%(paid)s đ) is not the order's total (%(total)s đ).") % {
            "paid": f"{amount:,}".replace(",", "."), "total": f"{order.total:,}".replace(",", ".")},
            code="wrong_amount", field="amount")
    paid_at = paid_at or now()
    OrderPayment.objects.create(order=order, transaction_id=transaction_id, amount=amount,
                                purpose=_text(purpose, "purpose", max_length=100), paid_at=paid_at, source=source,
                                recorded_by=_actor(user))
    order.state, order.paid_at = OrderState.PAID, paid_at
    _save(order, user, f"paid ({source})")
    _tell(order, _order_event(order, OrderEventKind.PAID, user,
                              note=_("Bank notification") if source == PaymentSource.BANK else ""), user)
    return order


@transaction.atomic
def ship_order(user, order: Order, shipping_note: str = "") -> Order:
    _check_order_action(user, order)
    order = _locked(Order, order.pk)
    if order.state != OrderState.PAID:
        raise _wrong_state(order.get_state_display())
    order.state, order.shipped_at = OrderState.SHIPPED, now()
    order.shipping_note = _text(shipping_note, "shipping_note")
    _save(order, user, "shipped")
    _tell(order, _order_event(order, OrderEventKind.SHIPPED, user, note=order.shipping_note), user)
    return order


@transaction.atomic
def deliver_order(user, order: Order) -> Order:
    """The order arrived: told by the producer, or by the buyer."""
    if not permissions.is_buyer(user, order):
        _check_order_action(user, order)
    order = _locked(Order, order.pk)
    if order.state != OrderState.SHIPPED:
        raise _wrong_state(order.get_state_display())
    order.state, order.delivered_at = OrderState.DELIVERED, now()
    _save(order, user, "delivered")
    _tell(order, _order_event(order, OrderEventKind.DELIVERED, user), user)
    return order


BUYER_CANCELLABLE = (OrderState.PLACED, OrderState.CONFIRMED)
PRODUCER_CANCELLABLE = (OrderState.PLACED, OrderState.CONFIRMED, OrderState.PAID)


@transaction.atomic
def cancel_order(user, order: Order, reason: str, *, guest_checked: bool = False) -> Order:
    """Cancel with a reason: the buyer before paying, the producer until shipping (a paid order is
    refunded by the producer). A reserved stock goes back; the order keeps its history.

    ``guest_checked``: the caller checked that the person is the guest buyer of an order placed
    without an account (the order was placed in their browser's session, or they gave its code
    with the last four digits of its phone); it counts for a guest's order only."""
    reason = _text(reason, "reason", required=True, max_length=MAX_REASON, message=_("Give the reason for cancelling."))
    buyer = permissions.is_buyer(user, order) or (guest_checked and order.buyer_id is None)
    if not buyer:
        _check_order_action(user, order)
    order = _locked(Order, order.pk)
    by_producer = permissions.can(user, "order.manage", order.producer_id)
    allowed = PRODUCER_CANCELLABLE if by_producer else BUYER_CANCELLABLE
    if order.state not in allowed:
        raise _wrong_state(order.get_state_display())
    if order.stock_reserved:
        for line in order.lines.order_by("product_id"):
            Product.objects.filter(pk=line.product_id).update(stock=F("stock") + line.quantity)
        _publish_stock({line.product_id: line.quantity for line in order.lines.all()})
    order.state, order.cancelled_at, order.stock_reserved = OrderState.CANCELLED, now(), False
    order.cancel_reason, order.cancelled_by = reason, _actor(user)
    _save(order, user, "cancelled")
    _tell(order, _order_event(order, OrderEventKind.CANCELLED, user, note=reason,
                              name="" if by_producer or user_name(user) else order.buyer_name),
          user, by_buyer=not by_producer)
    return order
