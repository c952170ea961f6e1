"""Producers, products, their versions, certificates and photos in the REST API
(``/api/v1/ocop/…`` on a commune host), on the same services and permissions as the pages.

* ``producers/``: GET the producers the caller may read (the commune's staff every one, a
  producer's member their own, a person who asked for a registration that one); POST asks to
  register one (any logged-in user: ``services.request_producer``); PATCH ``producers/{id}/``
  changes it (its members, the economy officer, the person who asked while it waits);
  ``producers/{id}/approve/`` and ``producers/{id}/suspend/`` (with a reason; a suspension before
  any approval refuses the registration) are the economy officer's.
* ``products/``: GET the products the caller may read, with the approved version buyers see,
  the stock, the photos and the stars shown today (``stars_reason`` says why none: an expired
  certificate gives its date); POST creates one (a draft, or ``submit``) for one of the caller's
  producers. ``products/{id}/versions/`` GET lists its versions, POST writes the next one (an
  approved product's change waits for approval while the listing keeps the approved version);
  ``submit/``, ``stock/``, ``hide/``, ``show/``; ``photos/`` GET lists, POST uploads one
  (multipart ``photo``: JPEG, PNG or WebP); ``certificates/`` GET lists, POST records one (the
  economy officer).
* ``versions/``: the versions the caller may read (``?state=submitted`` for what waits), each
  with the fields that changed from the approved version; ``approve/`` and ``reject/`` (with a
  reason) are the economy officer's.
* ``photos/{id}/``: GET, PATCH (``alt_text``, ``position``), DELETE.
* ``certificates/``: GET the certificates of the products the caller may read; POST records one
  (the economy officer).

Approving, refusing, suspending and recording a certificate need a session confirmed by the
second factor (a token does not approve). Another producer's row is a 404 (the querysets of
``ecommerce.selectors``), an action of another role a 403; a refusal of the services is 400 (bad
input) or 409 (the row's state), with the body ``{"code", "detail", "fields"}``.
"""
from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.db.models import Prefetch
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field, extend_schema_view
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from core.parsers import JSONParser
from ecommerce import photos, selectors, services
from ecommerce.api import LOGGED_IN, MAX_DB_ID, OcopViewSet, refusal
from ecommerce.models import (
    Certificate, Producer, ProducerKind, ProducerStatus, Product, ProductPhoto, ProductStatus, ProductVersion,
    VersionState,
)
from ecommerce.producer_views import masked_tax_code, readable_producers

COMPARED = ("name", "group", "subgroup", "price", "unit", "min_order", "season_months", "description",
            "description_en")


def choice_text(choices, **kwargs):
    """A string field naming its values in the help text (plain strings keep the schema's
    component names apart from other apps' "status" fields)."""
    return serializers.CharField(help_text="One of: " + ", ".join(str(v) for v, _l in choices), **kwargs)


# --- read serializers ----------------------------------------------------------------------------

class OcopProducerSerializer(serializers.ModelSerializer):
    kind = choice_text(ProducerKind.choices, read_only=True)
    status = choice_text(ProducerStatus.choices, read_only=True)
    village_name = serializers.CharField(source="village.name", read_only=True)
    tax_code = serializers.SerializerMethodField(help_text=gettext_lazy(
        "A 12-digit tax code is the owner's personal ID number: it is masked."))

    class Meta:
        model = Producer
        fields = ["id", "kind", "name", "slug", "status", "status_reason", "representative", "phone", "email",
                  "address", "village", "village_name", "tax_code", "description", "bank_bin", "bank_account",
                  "bank_account_name", "approved_at", "created_at", "updated_at"]
        read_only_fields = fields

    def get_tax_code(self, obj) -> str:
        return masked_tax_code(obj.tax_code)


class OcopApprovalSerializer(serializers.Serializer):
    producer = OcopProducerSerializer()
    granted_role_to = serializers.ListField(child=serializers.IntegerField(), help_text=gettext_lazy(
        "Members who received the producer role in the commune."))
    left_to_operators = serializers.ListField(child=serializers.IntegerField(), help_text=gettext_lazy(
        "Members who also belong elsewhere: the installation's operators give them the role."))


class OcopVersionSerializer(serializers.ModelSerializer):
    state = choice_text(VersionState.choices, read_only=True)
    group = serializers.CharField(source="group.code", read_only=True)
    group_name = serializers.CharField(source="group.name", read_only=True)
    subgroup = serializers.CharField(source="subgroup.code", read_only=True, default=None, allow_null=True)
    season_months = serializers.ListField(child=serializers.IntegerField(), read_only=True)

    class Meta:
        model = ProductVersion
        fields = ["id", "product", "number", "state", "name", "group", "group_name", "subgroup", "price", "unit",
                  "min_order", "season_months", "description", "description_en", "created_at", "submitted_at",
                  "reviewed_at", "reject_reason"]
        read_only_fields = fields


def changed_fields(version: ProductVersion) -> list[str]:
    """The content fields of ``version`` that differ from its product's approved version (every
    field when the product has none, or when ``version`` is the approved one: none)."""
    live = version.product.live_version
    if live is None:
        return list(COMPARED)
    if live.pk == version.pk:
        return []

    def value(v, field):
        if field in ("group", "subgroup"):
            return getattr(v, f"{field}_id")
        raw = getattr(v, field)
        return list(raw or []) if field == "season_months" else raw

    return [field for field in COMPARED if value(version, field) != value(live, field)]


class OcopVersionDetailSerializer(OcopVersionSerializer):
    producer = serializers.IntegerField(source="product.producer_id", read_only=True)
    live_version = serializers.IntegerField(source="product.live_version_id", read_only=True, allow_null=True)
    changed = serializers.SerializerMethodField(help_text=gettext_lazy(
        "The fields that differ from the approved version buyers see."))

    class Meta(OcopVersionSerializer.Meta):
        fields = OcopVersionSerializer.Meta.fields + ["producer", "live_version", "changed"]
        read_only_fields = fields

    def get_changed(self, obj) -> list[str]:
        return changed_fields(obj)


class OcopPhotoVariantSerializer(serializers.Serializer):
    format = serializers.CharField()
    width = serializers.IntegerField()
    height = serializers.IntegerField()
    bytes = serializers.IntegerField()
    url = serializers.CharField()


class OcopPhotoSerializer(serializers.ModelSerializer):
    variants = serializers.SerializerMethodField()

    class Meta:
        model = ProductPhoto
        fields = ["id", "product", "order", "alt_text", "width", "height", "variants", "original_bytes", "created_at"]
        read_only_fields = fields

    @extend_schema_field(OcopPhotoVariantSerializer(many=True))
    def get_variants(self, obj) -> list:
        from django.urls import reverse

        request = self.context.get("request")
        out = []
        for variant in sorted(obj.variants or [], key=lambda v: (v.get("format", ""), v.get("width", 0))):
            path = reverse("ocop:photo", args=[obj.pk, photos.file_name(variant)])
            out.append({"format": variant.get("format"), "width": variant.get("width"), "height": variant.get("height"),
                        "bytes": variant.get("bytes", 0),
                        "url": request.build_absolute_uri(path) if request is not None else path})
        return out


class OcopCertificateSerializer(serializers.ModelSerializer):
    stars = serializers.IntegerField(source="score_stars", read_only=True, help_text=gettext_lazy(
        "The stars the score gives (3 for 50–69, 4 for 70–89, 5 for 90–100)."))
    stars_now = serializers.SerializerMethodField(help_text=gettext_lazy("The stars it gives today: none once expired."))
    stars_reason = serializers.SerializerMethodField()
    expired = serializers.SerializerMethodField()

    class Meta:
        model = Certificate
        fields = ["id", "product", "number", "score", "stars", "stars_now", "stars_reason", "expired",
                  "issuing_authority", "issued_on", "expires_on", "warned_90_on", "warned_30_on", "revoked_at",
                  "created_at"]
        read_only_fields = fields

    def _now(self, obj):
        return obj.stars_now(self.context.get("today"))

    def get_stars_now(self, obj) -> int:
        return self._now(obj).stars

    def get_stars_reason(self, obj) -> str:
        return self._now(obj).reason

    def get_expired(self, obj) -> bool:
        return self._now(obj).expired


class OcopProductSerializer(serializers.ModelSerializer):
    status = choice_text(ProductStatus.choices, read_only=True)
    producer_name = serializers.CharField(source="producer.name", read_only=True)
    live_version = OcopVersionSerializer(read_only=True, allow_null=True)
    pending_version = serializers.IntegerField(source="pending_version_id", read_only=True, allow_null=True)
    name = serializers.SerializerMethodField()
    stars_today = serializers.SerializerMethodField(help_text=gettext_lazy(
        "The stars shown today: those of the best valid OCOP certificate, none after its end."))
    stars_reason = serializers.SerializerMethodField(help_text=gettext_lazy(
        "Why no star is shown (an expired certificate says its date), or empty."))
    photos = OcopPhotoSerializer(source="photo_list", many=True, read_only=True)

    class Meta:
        model = Product
        fields = ["id", "slug", "producer", "producer_name", "name", "status", "stock", "gtin", "live_version",
                  "pending_version", "stars_today", "stars_reason", "photos", "hidden_reason", "published_at",
                  "created_at", "updated_at"]
        read_only_fields = fields

    def get_name(self, obj) -> str:
        return str(obj)

    def _stars(self, obj):
        cache = self.context.setdefault("_stars", {})
        if obj.pk not in cache:
            cache[obj.pk] = selectors.stars_now(obj, self.context.get("today"))
        return cache[obj.pk]

    def get_stars_today(self, obj) -> int:
        annotated = getattr(obj, "stars_today", None)
        return int(annotated) if annotated is not None else self._stars(obj).stars

    def get_stars_reason(self, obj) -> str:
        if getattr(obj, "stars_today", 0):
            return ""
        return self._stars(obj).reason


# --- input serializers ---------------------------------------------------------------------------

class OcopProducerInputSerializer(serializers.Serializer):
    """Every field optional here: the service names what a registration lacks."""

    kind = serializers.ChoiceField(choices=ProducerKind.choices, required=False)
    name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    representative = serializers.CharField(max_length=200, required=False, allow_blank=True)
    phone = serializers.CharField(max_length=20, required=False, allow_blank=True)
    email = serializers.CharField(max_length=254, required=False, allow_blank=True)
    address = serializers.CharField(max_length=300, required=False, allow_blank=True)
    village = serializers.IntegerField(min_value=1, max_value=MAX_DB_ID, required=False)
    tax_code = serializers.CharField(max_length=20, required=False, allow_blank=True)
    description = serializers.CharField(max_length=services.MAX_TEXT, required=False, allow_blank=True)
    bank_bin = serializers.CharField(max_length=6, required=False, allow_blank=True)
    bank_account = serializers.CharField(max_length=30, required=False, allow_blank=True)
    bank_account_name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    household = serializers.IntegerField(min_value=1, max_value=MAX_DB_ID, required=False, allow_null=True)
    resident = serializers.IntegerField(min_value=1, max_value=MAX_DB_ID, required=False, allow_null=True)


class OcopContentInputSerializer(serializers.Serializer):
    """A version's content; on a change only the fields sent are changed."""

    name = serializers.CharField(max_length=200, required=False)
    group = serializers.CharField(max_length=20, required=False, help_text=gettext_lazy(
        "The OCOP product group's code (1 … 6) or id."))
    subgroup = serializers.CharField(max_length=20, required=False, allow_null=True, allow_blank=True,
                                     help_text=gettext_lazy("The sub-group's code (1.2 …) or id; empty for none."))
    price = serializers.IntegerField(min_value=1, max_value=services.MAX_PRICE, required=False,
                                     help_text=gettext_lazy("In đồng, for one unit."))
    unit = serializers.CharField(max_length=50, required=False)
    min_order = serializers.IntegerField(min_value=1, max_value=services.MAX_QUANTITY, required=False)
    season_months = serializers.ListField(child=serializers.IntegerField(min_value=1, max_value=12), max_length=12,
                                          required=False, help_text=gettext_lazy("Months 1–12; empty for all year."))
    description = serializers.CharField(max_length=services.MAX_TEXT, required=False)
    description_en = serializers.CharField(max_length=services.MAX_TEXT, required=False, allow_blank=True)

    def content(self) -> dict:
        return {key: value for key, value in self.validated_data.items() if key in COMPARED}


class OcopProductInputSerializer(OcopContentInputSerializer):
    producer = serializers.IntegerField(min_value=1, max_value=MAX_DB_ID)
    stock = serializers.IntegerField(min_value=0, max_value=services.MAX_STOCK, required=False, default=0)
    gtin = serializers.CharField(max_length=20, required=False, allow_blank=True, default="")
    submit = serializers.BooleanField(required=False, default=False, help_text=gettext_lazy(
        "Send the first version for approval at once."))


class OcopVersionInputSerializer(OcopContentInputSerializer):
    submit = serializers.BooleanField(required=False, default=False, help_text=gettext_lazy(
        "Send the version for approval after writing it."))


class OcopStockInputSerializer(serializers.Serializer):
    stock = serializers.IntegerField(min_value=0, max_value=services.MAX_STOCK)


class OcopReasonInputSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=services.MAX_REASON)


class OcopOptionalReasonInputSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=services.MAX_REASON, required=False, allow_blank=True, default="")


class OcopPhotoUploadSerializer(serializers.Serializer):
    photo = serializers.FileField(allow_empty_file=True, use_url=False, help_text=gettext_lazy(
        "JPEG, PNG or WebP (the content is checked)."))
    alt_text = serializers.CharField(max_length=photos.MAX_ALT_TEXT, required=False, allow_blank=True, default="")


class OcopPhotoUpdateSerializer(serializers.Serializer):
    alt_text = serializers.CharField(max_length=photos.MAX_ALT_TEXT, required=False, allow_blank=True)
    position = serializers.IntegerField(min_value=0, max_value=1000, required=False, help_text=gettext_lazy(
        "0 puts the photo first."))


DATE_FORMATS = ["%d/%m/%Y", "iso-8601"]


class OcopCertificateInputSerializer(serializers.Serializer):
    number = serializers.CharField(max_length=60)
    score = serializers.IntegerField(min_value=0, max_value=100)
    issuing_authority = serializers.CharField(max_length=200)
    issued_on = serializers.DateField(input_formats=DATE_FORMATS, help_text=gettext_lazy("dd/mm/yyyy or yyyy-mm-dd"))
    expires_on = serializers.DateField(input_formats=DATE_FORMATS, required=False, allow_null=True, default=None,
                                       help_text=gettext_lazy("Empty: 36 months after the date of issue."))


class OcopCertificateCreateSerializer(OcopCertificateInputSerializer):
    product = serializers.IntegerField(min_value=1, max_value=MAX_DB_ID)


# --- view sets -----------------------------------------------------------------------------------

def _today():
    return timezone.localdate()


class ProductsBase(OcopViewSet):
    def get_serializer_context(self):
        return {**super().get_serializer_context(), "today": _today()}


@extend_schema_view(
    list=extend_schema(summary="Producers the caller may read"),
    create=extend_schema(request=OcopProducerInputSerializer, responses={201: OcopProducerSerializer},
                         summary="Ask to register a producer (the economy officer approves it)"),
    partial_update=extend_schema(request=OcopProducerInputSerializer, responses=OcopProducerSerializer),
)
class ProducerViewSet(ProductsBase, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    """OCOP producers (chủ thể OCOP): cooperatives, household businesses, enterprises."""

    serializer_class = OcopProducerSerializer
    http_method_names = ["get", "post", "patch", "head", "options"]
    action_permissions = {
        "list": LOGGED_IN, "retrieve": LOGGED_IN, "create": LOGGED_IN, "partial_update": LOGGED_IN,
        "approve": "producer.approve", "suspend": "producer.approve",
    }

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Producer.objects.none()
        queryset = readable_producers(self.request.user).select_related("village").order_by("name", "pk")
        status_filter = self.request.query_params.get("status", "")
        if status_filter:
            if status_filter not in ProducerStatus.values:
                raise ValidationError({"status": [_("This state does not exist.")]})
            queryset = queryset.filter(status=status_filter)
        return queryset

    def _values(self, partial: bool) -> dict:
        data = self.input(OcopProducerInputSerializer)
        return {key: value for key, value in data.items() if key in services.PRODUCER_FIELDS}

    def create(self, request, *args, **kwargs):
        values = self._values(partial=False)
        return self.run(services.request_producer, request.user, serializer_class=OcopProducerSerializer,
                        status_code=status.HTTP_201_CREATED, **values)

    def partial_update(self, request, *args, **kwargs):
        producer = self.get_object()
        values = self._values(partial=True)
        return self.run(services.edit_producer, request.user, producer, serializer_class=OcopProducerSerializer, **values)

    @extend_schema(request=None, responses=OcopApprovalSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        """Approve the registration (or take a suspended producer back); its members who asked
        from the portal receive the producer role in the commune."""
        producer = self.get_object()
        try:
            producer, granted, left = services.approve_registration(request.user, producer)
        except DjangoValidationError as exc:
            return refusal(exc)
        return Response({"producer": OcopProducerSerializer(producer, context=self.get_serializer_context()).data,
                         "granted_role_to": granted, "left_to_operators": left})

    @extend_schema(request=OcopReasonInputSerializer, responses=OcopProducerSerializer)
    @action(detail=True, methods=["post"])
    def suspend(self, request, pk=None):
        """Suspend the producer with a reason (before any approval: refuse the registration)."""
        producer = self.get_object()
        data = self.input(OcopReasonInputSerializer)
        return self.run(services.suspend_producer, request.user, producer, data["reason"],
                        serializer_class=OcopProducerSerializer)


def _photos_prefetch():
    return Prefetch("photos", ProductPhoto.objects.order_by("order", "pk"), to_attr="photo_list")


@extend_schema_view(
    list=extend_schema(parameters=[
        OpenApiParameter("status", str, required=False, enum=list(ProductStatus.values)),
        OpenApiParameter("producer", int, required=False),
    ]),
    create=extend_schema(request=OcopProductInputSerializer, responses={201: OcopProductSerializer}),
)
class ProductViewSet(ProductsBase, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    """OCOP products of the commune's producers, with their versions, stock, photos and certificates."""

    serializer_class = OcopProductSerializer
    http_method_names = ["get", "post", "head", "options"]
    parser_classes = [JSONParser, MultiPartParser, FormParser]
    action_permissions = {
        "list": "product.read", "retrieve": "product.read", "create": "product.write",
        "versions": "product.read", "versions:post": "product.write", "submit": "product.write",
        "stock": "product.write", "hide": "product.write", "show": "product.write",
        "photos": "product.read", "photos:post": "product.write",
        "certificates": "product.read", "certificates:post": "certificate.write",
    }

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Product.objects.none()
        queryset = selectors.products_for(self.request.user).select_related(
            "producer", "live_version", "live_version__group", "live_version__subgroup", "pending_version")
        if self.action == "list":
            params = self.request.query_params
            status_filter = params.get("status", "")
            if status_filter:
                if status_filter not in ProductStatus.values:
                    raise ValidationError({"status": [_("This state does not exist.")]})
                queryset = queryset.filter(status=status_filter)
            producer = params.get("producer", "")
            if producer:
                if not producer.isdigit() or int(producer) > MAX_DB_ID:
                    raise ValidationError({"producer": [_("Choose one of the producers.")]})
                queryset = queryset.filter(producer_id=int(producer))
            queryset = selectors.with_stars(queryset.order_by("-created_at", "-pk"), _today())
        return queryset.prefetch_related(_photos_prefetch())

    def _reload(self, product) -> Product:
        return (selectors.with_stars(Product.objects.filter(pk=product.pk), _today())
                .select_related("producer", "live_version", "live_version__group", "live_version__subgroup",
                                "pending_version").prefetch_related(_photos_prefetch()).get())

    def _answer(self, product, status_code=status.HTTP_200_OK) -> Response:
        return Response(OcopProductSerializer(self._reload(product), context=self.get_serializer_context()).data,
                        status=status_code)

    def create(self, request, *args, **kwargs):
        serializer = OcopProductInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        producer = selectors.producers_for(request.user).filter(pk=data["producer"]).first()
        if producer is None:
            raise ValidationError({"producer": [_("Choose one of your producers.")]})
        try:
            product = services.create_product(request.user, producer, stock=data["stock"], gtin=data["gtin"],
                                              submit=data["submit"], **serializer.content())
        except DjangoValidationError as exc:
            return refusal(exc)
        return self._answer(product, status.HTTP_201_CREATED)

    @extend_schema(methods=["GET"], request=None, responses=OcopVersionSerializer(many=True))
    @extend_schema(methods=["POST"], request=OcopVersionInputSerializer, responses={201: OcopVersionDetailSerializer})
    @action(detail=True, methods=["get", "post"])
    def versions(self, request, pk=None):
        """GET: the product's versions, the last first. POST: write the next version (or the open
        draft); ``submit`` sends it for approval."""
        product = self.get_object()
        if request.method == "GET":
            versions = product.versions.select_related("group", "subgroup").order_by("-number")
            return Response(OcopVersionSerializer(versions, many=True).data)
        serializer = OcopVersionInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            with transaction.atomic():
                version = services.save_version(request.user, product, **serializer.content())
                if serializer.validated_data.get("submit"):
                    version = services.submit_version(request.user, product)
        except DjangoValidationError as exc:
            return refusal(exc)
        version = ProductVersion.objects.select_related("product__live_version", "group", "subgroup").get(pk=version.pk)
        return Response(OcopVersionDetailSerializer(version).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=OcopVersionDetailSerializer)
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        """Send the product's draft version for approval."""
        product = self.get_object()
        return self.run(services.submit_version, request.user, product, serializer_class=OcopVersionDetailSerializer)

    @extend_schema(request=OcopStockInputSerializer, responses=OcopProductSerializer)
    @action(detail=True, methods=["post"])
    def stock(self, request, pk=None):
        """Set the stock (what confirmed orders have not taken yet)."""
        product = self.get_object()
        data = self.input(OcopStockInputSerializer)
        return self._run_product(services.set_stock, request.user, product, data["stock"])

    @extend_schema(request=OcopOptionalReasonInputSerializer, responses=OcopProductSerializer)
    @action(detail=True, methods=["post"])
    def hide(self, request, pk=None):
        product = self.get_object()
        data = self.input(OcopOptionalReasonInputSerializer)
        return self._run_product(services.hide_product, request.user, product, data["reason"])

    @extend_schema(request=None, responses=OcopProductSerializer)
    @action(detail=True, methods=["post"])
    def show(self, request, pk=None):
        product = self.get_object()
        return self._run_product(services.show_product, request.user, product)

    def _run_product(self, func, *args) -> Response:
        try:
            product = func(*args)
        except DjangoValidationError as exc:
            return refusal(exc)
        return self._answer(product)

    @extend_schema(methods=["GET"], request=None, responses=OcopPhotoSerializer(many=True))
    @extend_schema(methods=["POST"], request={"multipart/form-data": OcopPhotoUploadSerializer},
                   responses={201: OcopPhotoSerializer})
    @action(detail=True, methods=["get", "post"])
    def photos(self, request, pk=None):
        """GET: the product's photos in their order. POST (multipart): upload a photo."""
        product = self.get_object()
        if request.method == "GET":
            return Response(OcopPhotoSerializer(product.photos.order_by("order", "pk"), many=True,
                                            context=self.get_serializer_context()).data)
        data = self.input(OcopPhotoUploadSerializer)
        return self.run(photos.add_photo, request.user, product, data["photo"], alt_text=data["alt_text"],
                        serializer_class=OcopPhotoSerializer, status_code=status.HTTP_201_CREATED)

    @extend_schema(methods=["GET"], request=None, responses=OcopCertificateSerializer(many=True))
    @extend_schema(methods=["POST"], request=OcopCertificateInputSerializer, responses={201: OcopCertificateSerializer})
    @action(detail=True, methods=["get", "post"])
    def certificates(self, request, pk=None):
        """GET: the product's OCOP certificates. POST: record one (the economy officer)."""
        product = self.get_object()
        if request.method == "GET":
            return Response(OcopCertificateSerializer(product.certificates.order_by("-issued_on", "-pk"), many=True,
                                                  context=self.get_serializer_context()).data)
        data = self.input(OcopCertificateInputSerializer)
        return self.run(services.add_certificate, request.user, product, number=data["number"], score=data["score"],
                        issuing_authority=data["issuing_authority"], issued_on=data["issued_on"],
                        expires_on=data["expires_on"], serializer_class=OcopCertificateSerializer,
                        status_code=status.HTTP_201_CREATED)


@extend_schema_view(list=extend_schema(parameters=[
    OpenApiParameter("state", str, required=False, enum=list(VersionState.values)),
    OpenApiParameter("product", int, required=False),
]))
class VersionViewSet(ProductsBase, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    """Versions of products (``?state=submitted``: what waits for the economy officer)."""

    serializer_class = OcopVersionDetailSerializer
    http_method_names = ["get", "post", "head", "options"]
    action_permissions = {"list": "product.read", "retrieve": "product.read", "approve": "product.review",
                          "reject": "product.review"}

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return ProductVersion.objects.none()
        queryset = ProductVersion.objects.filter(product__in=selectors.products_for(self.request.user)).select_related(
            "product", "product__live_version", "group", "subgroup")
        if self.action == "list":
            params = self.request.query_params
            state = params.get("state", "")
            if state:
                if state not in VersionState.values:
                    raise ValidationError({"state": [_("This state does not exist.")]})
                queryset = queryset.filter(state=state)
            product = params.get("product", "")
            if product:
                if not product.isdigit() or int(product) > MAX_DB_ID:
                    raise ValidationError({"product": [_("Choose one of the products.")]})
                queryset = queryset.filter(product_id=int(product))
            queryset = queryset.order_by("submitted_at", "pk") if state == VersionState.SUBMITTED else \
                queryset.order_by("-created_at", "-pk")
        return queryset

    @extend_schema(request=None, responses=OcopProductSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        """Approve a submitted version: it becomes the version buyers see."""
        version = self.get_object()
        try:
            product = services.approve_version(request.user, version)
        except DjangoValidationError as exc:
            return refusal(exc)
        product = (selectors.with_stars(Product.objects.filter(pk=product.pk), _today())
                   .select_related("producer", "live_version", "live_version__group", "live_version__subgroup")
                   .prefetch_related(_photos_prefetch()).get())
        return Response(OcopProductSerializer(product, context=self.get_serializer_context()).data)

    @extend_schema(request=OcopReasonInputSerializer, responses=OcopVersionDetailSerializer)
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        """Send a submitted version back to the producer with the reason."""
        version = self.get_object()
        data = self.input(OcopReasonInputSerializer)
        return self.run(services.reject_version, request.user, version, data["reason"],
                        serializer_class=OcopVersionDetailSerializer)


@extend_schema_view(partial_update=extend_schema(request=OcopPhotoUpdateSerializer, responses=OcopPhotoSerializer))
class PhotoViewSet(ProductsBase, mixins.RetrieveModelMixin, mixins.DestroyModelMixin):
    """A product's photo: its text for screen readers, its place, its deletion."""

    serializer_class = OcopPhotoSerializer
    http_method_names = ["get", "patch", "delete", "head", "options"]
    action_permissions = {"retrieve": "product.read", "partial_update": "product.write", "destroy": "product.write"}

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return ProductPhoto.objects.none()
        return ProductPhoto.objects.filter(product__in=selectors.products_for(self.request.user)).select_related(
            "product__producer")

    def partial_update(self, request, *args, **kwargs):
        photo = self.get_object()
        data = self.input(OcopPhotoUpdateSerializer)
        try:
            with transaction.atomic():
                if "alt_text" in data:
                    photos.update_photo(request.user, photo, alt_text=data["alt_text"])
                if "position" in data:
                    photos.move_photo(request.user, photo, data["position"])
        except DjangoValidationError as exc:
            return refusal(exc)
        photo = ProductPhoto.objects.get(pk=photo.pk)
        return Response(OcopPhotoSerializer(photo, context=self.get_serializer_context()).data)

    def destroy(self, request, *args, **kwargs):
        photo = self.get_object()
        return self.run(photos.delete_photo, request.user, photo)


@extend_schema_view(
    list=extend_schema(parameters=[OpenApiParameter("product", int, required=False),
                                   OpenApiParameter("expiring_within", int, required=False, description=gettext_lazy(
                                       "Valid certificates that end within this many days."))]),
    create=extend_schema(request=OcopCertificateCreateSerializer, responses={201: OcopCertificateSerializer}),
)
class CertificateViewSet(ProductsBase, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    """OCOP certificates of the products the caller may read; the economy officer records them."""

    serializer_class = OcopCertificateSerializer
    http_method_names = ["get", "post", "head", "options"]
    action_permissions = {"list": "product.read", "retrieve": "product.read", "create": "certificate.write"}

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Certificate.objects.none()
        queryset = Certificate.objects.filter(product__in=selectors.products_for(self.request.user))
        if self.action == "list":
            params = self.request.query_params
            product = params.get("product", "")
            if product:
                if not product.isdigit() or int(product) > MAX_DB_ID:
                    raise ValidationError({"product": [_("Choose one of the products.")]})
                queryset = queryset.filter(product_id=int(product))
            within = params.get("expiring_within", "")
            if within:
                if not within.isdigit() or not 0 <= int(within) <= 3660:
                    raise ValidationError({"expiring_within": [_("A number of days from 0 to 3660.")]})
                queryset = queryset.filter(pk__in=selectors.certificates_expiring(int(within), _today()).values("pk"))
            queryset = queryset.order_by("expires_on", "pk")
        return queryset

    def create(self, request, *args, **kwargs):
        data = self.input(OcopCertificateCreateSerializer)
        product = selectors.products_for(request.user).filter(pk=data["product"]).first()
        if product is None:
            raise NotFound(_("No product with this id."))
        return self.run(services.add_certificate, request.user, product, number=data["number"], score=data["score"],
                        issuing_authority=data["issuing_authority"], issued_on=data["issued_on"],
                        expires_on=data["expires_on"], serializer_class=OcopCertificateSerializer,
                        status_code=status.HTTP_201_CREATED)
