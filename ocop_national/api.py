"""The national OCOP catalogue's API: ``GET /api/v1/ocop/catalogue/`` on the national host.

Public (no login: it is the public catalogue), read-only, paginated (``page``, ``page_size`` up
to 100). It reads only the rows the communes publish (``ocop_national.models.CatalogueProduct``),
one query a page and no commune's schema. Filters are those of the page
(``ocop_national.catalogue``): ``q``, ``group``, ``stars``, ``price_min``, ``price_max``,
``province``, ``commune``, ``village``, ``in_stock``; a bad value answers 400 with the error
body ``{"code": "invalid", "detail", "fields": {parameter: [message]}}``.

Each product gives its commune, the stars shown today (``stars``; 0 once its certificate has
expired, with ``certificate_expired_on``), ``stars_until`` (the last day of those stars), its
price in đồng per ``unit``, its stock state, its village and position, its producer's public
name, a photo's address and the address of its page on the commune's site. ``updated_at`` is
when the row's content last changed.
"""
from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import exceptions, generics, serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from core.api import Pagination
from ocop_national import catalogue
from ocop_national.models import CatalogueProduct, StockState


MAX_KEPT_QUERY = 300  # characters of a query string whose answer is kept


class CataloguePagination(Pagination):
    page_size = 20
    max_page_size = 100


class CatalogueProductSerializer(serializers.ModelSerializer):
    id = serializers.CharField(source="key", help_text=gettext_lazy("The product's key in its commune."))
    commune_code = serializers.CharField(source="commune.code")
    commune_name = serializers.SerializerMethodField()
    group = serializers.CharField(source="group_code")
    subgroup = serializers.CharField(source="subgroup_code")
    stars = serializers.SerializerMethodField(help_text=gettext_lazy(
        "The OCOP stars shown today: 3, 4 or 5; 0 without a valid certificate."))
    stars_until = serializers.SerializerMethodField(help_text=gettext_lazy("The last day of these stars."))
    certificate_expired_on = serializers.SerializerMethodField(help_text=gettext_lazy(
        "When the product shows no star: the day its last certificate ended, if it had one."))
    stock_state = serializers.ChoiceField(choices=StockState.choices)
    latitude = serializers.DecimalField(max_digits=9, decimal_places=6, allow_null=True, coerce_to_string=False)
    longitude = serializers.DecimalField(max_digits=9, decimal_places=6, allow_null=True, coerce_to_string=False)
    updated_at = serializers.DateTimeField(source="published_at")

    class Meta:
        model = CatalogueProduct
        fields = ["id", "commune_code", "commune_name", "slug", "name", "group", "group_name", "subgroup",
                  "subgroup_name", "stars", "stars_until", "certificate_expired_on", "price", "unit", "min_order",
                  "season_months", "stock_state", "village", "latitude", "longitude", "producer", "image_url",
                  "url", "updated_at"]

    def _stars(self, row) -> catalogue.Stars:
        today = self.context.get("today") or timezone.localdate()
        cache = row.__dict__.setdefault("_stars", {})
        if today not in cache:
            cache[today] = catalogue.stars_on(row, today)
        return cache[today]

    def get_commune_name(self, row) -> str:
        return str(row.commune)

    def get_stars(self, row) -> int:
        return self._stars(row).stars

    @extend_schema_field(OpenApiTypes.DATE)
    def get_stars_until(self, row):
        until = self._stars(row).until
        return until.isoformat() if until else None

    @extend_schema_field(OpenApiTypes.DATE)
    def get_certificate_expired_on(self, row):
        expired = self._stars(row).expired_on
        return expired.isoformat() if expired else None


PARAMETERS = [
    OpenApiParameter("q", str, required=False, description=gettext_lazy(
        "Words to find in the name, producer, village, group or description; accents optional (\"nep tu le\").")),
    OpenApiParameter("group", str, required=False, description=gettext_lazy(
        "An OCOP product group (1 to 6) or sub-group (e.g. 1.5) code.")),
    OpenApiParameter("stars", int, required=False, enum=[3, 4, 5], description=gettext_lazy(
        "The stars shown today.")),
    OpenApiParameter("price_min", int, required=False, description=gettext_lazy("Lowest price, đồng.")),
    OpenApiParameter("price_max", int, required=False, description=gettext_lazy("Highest price, đồng.")),
    OpenApiParameter("province", str, required=False, description=gettext_lazy("A province's code (2 digits).")),
    OpenApiParameter("commune", str, required=False, description=gettext_lazy("A commune's code (5 digits).")),
    OpenApiParameter("village", str, required=False, description=gettext_lazy("A village's name (with commune).")),
    OpenApiParameter("in_stock", str, required=False, enum=["1", "0"], description=gettext_lazy(
        "1: only the products in stock.")),
]


class CatalogueView(generics.ListAPIView):
    """The OCOP products of every commune on the installation, as the communes publish them."""

    serializer_class = CatalogueProductSerializer
    permission_classes = [AllowAny]
    pagination_class = CataloguePagination
    filter_backends: list = []

    @extend_schema(parameters=PARAMETERS)
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def list(self, request, *args, **kwargs):
        """The page's body is kept per query (its links name the host asked), published rows'
        version, day and language (``catalogue.kept``); a bad filter is answered at once."""
        self.today = timezone.localdate()

        def body():
            return super(CatalogueView, self).list(request, *args, **kwargs).data

        if len(request.META.get("QUERY_STRING", "")) > MAX_KEPT_QUERY:
            return Response(body())
        pairs = [(name, value) for name, values in request.query_params.lists() for value in values]
        part = f"api:{request.scheme}:{request.get_host()}:{catalogue.query_digest(pairs)}"
        return Response(catalogue.kept(part, self.today, body))

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "today": getattr(self, "today", None)}

    def get_queryset(self):
        self.today = getattr(self, "today", None) or timezone.localdate()
        if getattr(self, "swagger_fake_view", False):
            return CatalogueProduct.objects.none()
        filters, errors = catalogue.parse(self.request.query_params)
        if errors:
            raise exceptions.ValidationError(errors)
        return catalogue.products(filters, self.today)
