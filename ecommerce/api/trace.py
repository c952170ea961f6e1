"""Traceability, the product map and the feeds in the REST API (``/api/v1/ocop/…`` on a commune
host).

For producers' members (their own producers' lots) and the economy officer (every lot); the
leaders read:

* ``lots/``: GET the lots (``?product=<id>``), POST a new lot (with its trace code and, with
  ``item_codes``, a printed series). ``lots/{id}/``: the lot, its events, its scans per day.
* ``lots/{id}/events/``: GET the chain of events, POST a step (harvested, packed, shipped, other).
* ``lots/{id}/codes/``: GET the trace codes (paginated, with their trace addresses and scans),
  POST more item codes for a printed series (``count``).
* ``lots/{id}/stamps/?copies=…`` or ``?serial_from=…&serial_to=…``: the stamp sheet's PDF at
  once, up to ``stamps.DIRECT_LIMIT`` (120) stamps (400 ``too_many`` beyond). ``lots/{id}/stamp-sheets/``:
  POST a sheet of any length as a durable job (202); ``stamp-sheets/{id}/`` its state and
  progress, ``stamp-sheets/{id}/pdf/`` its PDF once made (409 ``not_ready`` before).
* ``stock-updates/``: POST ``{"items": [{"sku": …, "stock": …}, …]}``: every line checked, then
  all written or none (400 with every bad line in ``fields.items``).

For anyone, no login (published rows only):

* ``trace/{code}/``: what the trace page of a code shows (not counted as a scan).
* ``map/``: the GeoJSON FeatureCollection of the producers with listed products, at their villages.
* ``feed.json`` and ``feed.csv`` (``?producer=<slug>``): the marketplace feed (``docs/ocop-feed.md``).

Another producer's lot is 404, an action of another role 403; refusals of the services are 400
(bad input) or 409, with the project's error body ``{"code", "detail", "fields"}``.
"""
from __future__ import annotations

import datetime

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Count, F, IntegerField, OuterRef, Subquery, Sum
from django.db.models.functions import Coalesce
from django.http import FileResponse, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from core.links import commune_base_url
from core.storage import exists, open_file
from ecommerce import feeds, geo, selectors, services, stamps, trace
from ecommerce.api import MAX_DB_ID, PUBLIC, OcopViewSet, refusal
from ecommerce.models import Lot, StampSheetJob, TraceCode, TraceEventKind, TraceScanDay
from jobs.services import enqueue

SCAN_DAYS = 30
PDF_RESPONSE = {(200, "application/pdf"): OpenApiResponse(OpenApiTypes.BINARY, description=gettext_lazy("A PDF file"))}
KIND_HELP = "One of: " + ", ".join(TraceEventKind.values)


def _choice(value: str, choices, message: str) -> str:
    if value not in choices:
        raise serializers.ValidationError(message)
    return value


# --- serializers -------------------------------------------------------------------------------

class TraceEventSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    kind = serializers.CharField(read_only=True, help_text=KIND_HELP)
    kind_label = serializers.CharField(source="get_kind_display", read_only=True)
    at = serializers.DateTimeField(read_only=True)
    place = serializers.CharField(read_only=True)
    note = serializers.CharField(read_only=True)


class TraceEventInputSerializer(serializers.Serializer):
    kind = serializers.CharField(max_length=10, help_text=KIND_HELP)
    at = serializers.DateTimeField(required=False, allow_null=True, default=None,
                                   input_formats=["%d/%m/%Y %H:%M", "iso-8601"],
                                   help_text=gettext_lazy("dd/mm/yyyy hh:mm or ISO 8601; now by default."))
    place = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    note = serializers.CharField(max_length=services.MAX_TEXT, required=False, allow_blank=True, default="")

    def validate_kind(self, value):
        return _choice(value, TraceEventKind.values, _("Choose what happened."))


class LotSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    product = serializers.IntegerField(source="product_id", read_only=True)
    product_name = serializers.SerializerMethodField()
    producer = serializers.IntegerField(source="product.producer_id", read_only=True)
    number = serializers.CharField(read_only=True)
    produced_on = serializers.DateField(read_only=True)
    best_before = serializers.DateField(read_only=True, allow_null=True)
    quantity = serializers.IntegerField(read_only=True)
    unit = serializers.CharField(read_only=True)
    input_notes = serializers.CharField(read_only=True)
    code = serializers.SerializerMethodField(help_text=gettext_lazy("The lot's own trace code."))
    item_codes = serializers.IntegerField(read_only=True, help_text=gettext_lazy("Codes of its printed series."))
    scans = serializers.IntegerField(read_only=True, help_text=gettext_lazy("Scans of all its codes."))
    created_at = serializers.DateTimeField(read_only=True)

    def get_product_name(self, lot) -> str:
        return trace.product_name(lot.product)

    @extend_schema_field(OpenApiTypes.STR)
    def get_code(self, lot) -> str:
        return getattr(lot, "lot_code", "") or ""


class ScanDaySerializer(serializers.Serializer):
    day = serializers.DateField()
    count = serializers.IntegerField()


class LotDetailSerializer(LotSerializer):
    trace_url = serializers.SerializerMethodField(help_text=gettext_lazy("The trace page of the lot's code."))
    events = serializers.SerializerMethodField()
    scans_by_day = serializers.SerializerMethodField(help_text=gettext_lazy("Scans of the last 30 days."))

    @extend_schema_field(OpenApiTypes.STR)
    def get_trace_url(self, lot) -> str:
        code = lot.codes.filter(serial__isnull=True).first()
        if code is None:
            return ""
        code.lot = lot
        return f"{commune_base_url()}{trace.public_path(code)}"

    @extend_schema_field(TraceEventSerializer(many=True))
    def get_events(self, lot):
        return TraceEventSerializer(lot.events.order_by("at", "pk"), many=True).data

    @extend_schema_field(ScanDaySerializer(many=True))
    def get_scans_by_day(self, lot):
        since = timezone.localdate() - datetime.timedelta(days=SCAN_DAYS)
        days = (TraceScanDay.objects.filter(code__lot=lot, day__gt=since).values("day")
                .annotate(count=Sum("count")).order_by("-day"))
        return ScanDaySerializer(days, many=True).data


class LotInputSerializer(serializers.Serializer):
    product = serializers.IntegerField(min_value=1, max_value=MAX_DB_ID, help_text=gettext_lazy("The product's id."))
    number = serializers.CharField(max_length=20)
    produced_on = serializers.DateField(help_text=gettext_lazy("dd/mm/yyyy or yyyy-mm-dd."))
    best_before = serializers.DateField(required=False, allow_null=True, default=None)
    quantity = serializers.IntegerField(min_value=1, max_value=services.MAX_STOCK)
    unit = serializers.CharField(max_length=50)
    input_notes = serializers.CharField(max_length=services.MAX_TEXT, required=False, allow_blank=True, default="")
    item_codes = serializers.IntegerField(min_value=0, max_value=services.MAX_ITEM_CODES, required=False, default=0,
                                          help_text=gettext_lazy("Codes for a printed series (one per item)."))


class TraceCodeSerializer(serializers.Serializer):
    code = serializers.CharField()
    serial = serializers.IntegerField(allow_null=True, help_text=gettext_lazy("The item's number; null for the lot's code."))
    url = serializers.SerializerMethodField(help_text=gettext_lazy("The address its QR code carries."))
    scans = serializers.IntegerField()

    @extend_schema_field(OpenApiTypes.STR)
    def get_url(self, code) -> str:
        return f"{self.context.get('base', '')}{trace.public_path(code)}"


class SeriesInputSerializer(serializers.Serializer):
    count = serializers.IntegerField(min_value=1, max_value=services.MAX_ITEM_CODES)


class StampSelectionSerializer(serializers.Serializer):
    copies = serializers.IntegerField(min_value=1, max_value=stamps.MAX_COPIES, required=False, allow_null=True,
                                      default=None, help_text=gettext_lazy("Copies of the lot's code (40 by default)."))
    serial_from = serializers.IntegerField(min_value=1, max_value=10**9, required=False, allow_null=True, default=None)
    serial_to = serializers.IntegerField(min_value=1, max_value=10**9, required=False, allow_null=True, default=None)


class StampSheetSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    lot = serializers.IntegerField(source="lot_id")
    state = serializers.CharField(help_text="One of: queued, running, waiting, succeeded, failed")
    progress_percent = serializers.IntegerField()
    progress_message = serializers.CharField()
    error = serializers.CharField()
    copies = serializers.IntegerField()
    serial_from = serializers.IntegerField(allow_null=True)
    serial_to = serializers.IntegerField(allow_null=True)
    stamps = serializers.IntegerField()
    pages = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)
    pdf = serializers.SerializerMethodField(help_text=gettext_lazy("The PDF's address once it is made."))

    @extend_schema_field(OpenApiTypes.STR)
    def get_pdf(self, job) -> str:
        from django.urls import reverse

        return reverse("ocop-stamp-sheet-pdf", args=[job.pk]) if job.file else ""


class StockItemSerializer(serializers.Serializer):
    sku = serializers.CharField(required=False, help_text=gettext_lazy("The product's sku (or the feed's id)."))
    id = serializers.CharField(required=False)
    stock = serializers.IntegerField(min_value=0, max_value=services.MAX_STOCK)


class StockUpdateSerializer(serializers.Serializer):
    items = StockItemSerializer(many=True, help_text=gettext_lazy("At most 5.000 products."))


class StockChangeSerializer(serializers.Serializer):
    sku = serializers.CharField()
    stock_before = serializers.IntegerField()
    stock = serializers.IntegerField()


class TracePublicSerializer(serializers.Serializer):
    """What the public trace page of a code shows."""

    code = serializers.CharField()
    serial = serializers.IntegerField(allow_null=True)
    product = serializers.DictField()
    producer = serializers.DictField()
    village = serializers.DictField()
    lot = serializers.DictField()
    certificate = serializers.DictField(allow_null=True)
    events = TraceEventSerializer(many=True)
    page_url = serializers.CharField()


def trace_data(page: trace.TracePage) -> dict:
    village = page.product.producer.village
    certificate = page.certificate
    return {
        "code": page.code.code,
        "serial": page.code.serial,
        "product": {"name": page.product_name, "gtin": page.product.gtin,
                    "url": f"{commune_base_url()}{page.product_path}" if page.product_path else ""},
        "producer": {"name": page.producer_name, "kind": page.producer_kind, "approved": page.producer_approved},
        "village": {"name": village.name,
                    "latitude": float(village.latitude) if village.latitude is not None else None,
                    "longitude": float(village.longitude) if village.longitude is not None else None},
        "lot": {"number": page.lot.number, "produced_on": page.lot.produced_on.isoformat(),
                "best_before": page.lot.best_before.isoformat() if page.lot.best_before else None,
                "quantity": page.lot.quantity, "unit": page.lot.unit, "input_notes": page.lot.input_notes},
        "certificate": None if certificate is None else {
            "number": certificate.number, "issuing_authority": certificate.issuing_authority,
            "issued_on": certificate.issued_on.isoformat(), "expires_on": certificate.expires_on.isoformat(),
            "stars": page.stars.stars, "reason": page.stars.reason},
        "events": TraceEventSerializer(page.events, many=True).data,
        "page_url": f"{commune_base_url()}{page.canonical_path}",
    }


# --- lots --------------------------------------------------------------------------------------

class LotViewSet(OcopViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    """Production lots (lô sản xuất), their trace codes, events and stamp sheets."""

    serializer_class = LotSerializer
    http_method_names = ["get", "post", "head", "options"]
    action_permissions = {
        "list": "product.read", "retrieve": "product.read", "create": "lot.write",
        "events": "product.read", "add_event": "lot.write",
        "codes": "product.read", "issue_codes": "lot.write",
        "stamps": "lot.write", "stamp_sheets": "lot.write",
    }

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Lot.objects.none()
        scans = (TraceScanDay.objects.filter(code__lot=OuterRef("pk")).order_by().values("code__lot")
                 .annotate(total=Sum("count")).values("total"))
        items = (TraceCode.objects.filter(lot=OuterRef("pk"), serial__isnull=False).order_by().values("lot")
                 .annotate(n=Count("pk")).values("n"))
        lot_code = TraceCode.objects.filter(lot=OuterRef("pk"), serial__isnull=True).values("code")[:1]
        queryset = (Lot.objects.filter(product__in=selectors.products_for(self.request.user))
                    .select_related("product", "product__producer", "product__live_version")
                    .annotate(scans=Coalesce(Subquery(scans, output_field=IntegerField()), 0),
                              item_codes=Coalesce(Subquery(items, output_field=IntegerField()), 0),
                              lot_code=Subquery(lot_code))
                    .order_by("-produced_on", "-pk"))
        product = self.request.query_params.get("product", "") if self.action == "list" else ""
        if product:
            if not product.isdigit() or int(product) > MAX_DB_ID:
                raise serializers.ValidationError({"product": [_("Choose a product by its id.")]})
            queryset = queryset.filter(product_id=int(product))
        return queryset

    def get_serializer_class(self):
        return LotDetailSerializer if self.action == "retrieve" else LotSerializer

    def _detail(self, lot, status_code=status.HTTP_200_OK) -> Response:
        lot = self.get_queryset().get(pk=lot.pk)
        return Response(LotDetailSerializer(lot, context=self.get_serializer_context()).data, status=status_code)

    @extend_schema(parameters=[OpenApiParameter("product", int, required=False)])
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(request=LotInputSerializer, responses={201: LotDetailSerializer})
    def create(self, request, *args, **kwargs):
        """A new lot of a product of the caller's producer, with its trace code (and item codes)."""
        data = self.input(LotInputSerializer)
        product = selectors.products_for(request.user).select_related("producer").filter(pk=data.pop("product")).first()
        if product is None:
            return Response({"code": "invalid", "detail": _("Choose one of your products."),
                             "fields": {"product": [_("Choose one of your products.")]}}, status=400)
        try:
            lot = services.create_lot(request.user, product, **data)
        except DjangoValidationError as exc:
            return refusal(exc)
        return self._detail(lot, status.HTTP_201_CREATED)

    @extend_schema(responses=TraceEventSerializer(many=True))
    @action(detail=True, methods=["get"])
    def events(self, request, pk=None):
        """The chain of events of the lot, oldest first."""
        lot = self.get_object()
        return Response(TraceEventSerializer(lot.events.order_by("at", "pk"), many=True).data)

    @extend_schema(request=TraceEventInputSerializer, responses={201: TraceEventSerializer})
    @events.mapping.post
    def add_event(self, request, pk=None):
        """Add a step to the lot's chain (shown on its trace page)."""
        lot = self.get_object()
        data = self.input(TraceEventInputSerializer)
        return self.run(services.add_trace_event, request.user, lot, kind=data["kind"], at=data["at"],
                        place=data["place"], note=data["note"], serializer_class=TraceEventSerializer,
                        status_code=status.HTTP_201_CREATED)

    def _codes_page(self, lot):
        scans = (TraceScanDay.objects.filter(code=OuterRef("pk")).order_by().values("code")
                 .annotate(total=Sum("count")).values("total"))
        codes = lot.codes.annotate(scans=Coalesce(Subquery(scans, output_field=IntegerField()), 0)).order_by(
            F("serial").asc(nulls_first=True), "pk")
        page = self.paginate_queryset(codes)
        for code in page:
            code.lot = lot
        context = {**self.get_serializer_context(), "base": commune_base_url()}
        return self.get_paginated_response(TraceCodeSerializer(page, many=True, context=context).data)

    @extend_schema(responses=TraceCodeSerializer(many=True))
    @action(detail=True, methods=["get"])
    def codes(self, request, pk=None):
        """The lot's trace codes: its own (serial null), then its items', with their scans."""
        return self._codes_page(self.get_object())

    @extend_schema(request=SeriesInputSerializer, responses={201: TraceCodeSerializer(many=True)})
    @codes.mapping.post
    def issue_codes(self, request, pk=None):
        """``count`` more item codes, numbered after the lot's last."""
        lot = self.get_object()
        data = self.input(SeriesInputSerializer)
        try:
            created = services.issue_item_codes(request.user, lot, data["count"])
        except DjangoValidationError as exc:
            return refusal(exc)
        for code in created:
            code.lot, code.scans = lot, 0
        context = {**self.get_serializer_context(), "base": commune_base_url()}
        return Response(TraceCodeSerializer(created, many=True, context=context).data, status=status.HTTP_201_CREATED)

    def _selection(self, lot, data) -> stamps.Selection:
        return stamps.selection(lot, copies=data.get("copies"), serial_from=data.get("serial_from"),
                                serial_to=data.get("serial_to"))

    @extend_schema(parameters=[StampSelectionSerializer], responses=PDF_RESPONSE)
    @action(detail=True, methods=["get"])
    def stamps(self, request, pk=None):
        """The stamp sheet's PDF at once (up to 120 stamps; a longer one is a stamp-sheet job)."""
        lot = self.get_object()
        data = self.input(StampSelectionSerializer, data=request.query_params)
        try:
            chosen = self._selection(lot, data)
            if chosen.count > stamps.DIRECT_LIMIT:
                return Response({"code": "too_many", "fields": {}, "detail": _(
                    "More than %(max)s stamps: ask for a stamp sheet job (POST stamp-sheets/).") % {
                    "max": stamps.DIRECT_LIMIT}}, status=400)
            data = stamps.render_lot(lot, chosen)
        except DjangoValidationError as exc:
            return refusal(exc)
        response = HttpResponse(data, content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="{stamps.file_name(lot, chosen)}"'
        return response

    @extend_schema(request=StampSelectionSerializer, responses={202: StampSheetSerializer})
    @action(detail=True, methods=["post"], url_path="stamp-sheets")
    def stamp_sheets(self, request, pk=None):
        """A stamp sheet of any length, made by a worker: follow its state at ``stamp-sheets/{id}/``."""
        lot = self.get_object()
        data = self.input(StampSelectionSerializer)
        try:
            chosen = self._selection(lot, data)
            trace.base_url()
        except DjangoValidationError as exc:
            return refusal(exc)
        job = enqueue(StampSheetJob(lot=lot, copies=chosen.copies, serial_from=chosen.serial_from,
                                    serial_to=chosen.serial_to, requested_by=request.user))
        response = Response(StampSheetSerializer(job).data, status=status.HTTP_202_ACCEPTED)
        from django.urls import reverse

        response["Location"] = reverse("ocop-stamp-sheet-detail", args=[job.pk])
        return response


class StampSheetViewSet(OcopViewSet, mixins.RetrieveModelMixin):
    """Stamp sheets being made or made (durable jobs)."""

    serializer_class = StampSheetSerializer
    http_method_names = ["get", "head", "options"]
    action_permissions = {"retrieve": "product.read", "pdf": "product.read"}

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return StampSheetJob.objects.none()
        return StampSheetJob.objects.filter(lot__product__in=selectors.products_for(self.request.user))

    @extend_schema(responses={**PDF_RESPONSE, 409: OpenApiTypes.OBJECT})
    @action(detail=True, methods=["get"])
    def pdf(self, request, pk=None):
        """The sheet's PDF once made (409 ``not_ready`` while a worker makes it)."""
        job = self.get_object()
        if not job.file or not exists(job.file):
            return Response({"code": "not_ready", "fields": {},
                             "detail": _("The stamp sheet is not ready yet: its state says how far it is.")},
                            status=status.HTTP_409_CONFLICT)
        lot = Lot.objects.get(pk=job.lot_id)
        chosen = stamps.Selection(copies=job.copies, serial_from=job.serial_from, serial_to=job.serial_to)
        return FileResponse(open_file(job.file), as_attachment=True, filename=stamps.file_name(lot, chosen),
                            content_type="application/pdf")


# --- stock files -------------------------------------------------------------------------------

class StockUpdateViewSet(OcopViewSet):
    """The stock of several products at once: all lines written, or none."""

    action_permissions = {"create": "product.write"}
    serializer_class = StockUpdateSerializer

    @extend_schema(request=StockUpdateSerializer, responses={200: StockChangeSerializer(many=True)})
    def create(self, request, *args, **kwargs):
        items = request.data.get("items") if isinstance(request.data, dict) else None
        try:
            lines = feeds.lines_from_items(items)
            report = feeds.import_stock(request.user, lines)
        except DjangoValidationError as exc:
            return refusal(exc)
        if not report.ok:
            return refusal(report.as_refusal("items"))
        return Response([{"sku": product.slug, "stock_before": old, "stock": new}
                         for product, old, new in report.changes])


# --- public: trace, map, feeds -----------------------------------------------------------------

class TraceViewSet(OcopViewSet, mixins.RetrieveModelMixin):
    """What the trace page of a code shows (public; reading it here is not counted as a scan)."""

    action_permissions = {"retrieve": PUBLIC}
    authentication_classes: list = []
    lookup_field = "code"
    lookup_value_regex = r"[0-9A-Za-z-]{1,40}"
    serializer_class = TracePublicSerializer
    http_method_names = ["get", "head", "options"]

    @extend_schema(responses=TracePublicSerializer)
    def retrieve(self, request, *args, **kwargs):
        found = trace.find_code(self.kwargs.get("code", ""))
        if found is None:
            raise NotFound(_("No product has this trace code. Check the code on the stamp."))
        return Response(trace_data(trace.page_for(found)))


class MapViewSet(OcopViewSet):
    """The product map as GeoJSON (RFC 7946): a Point per producer with listed products."""

    action_permissions = {"list": PUBLIC}
    authentication_classes: list = []
    http_method_names = ["get", "head", "options"]
    pagination_class = None

    @extend_schema(responses={(200, "application/geo+json"): OpenApiTypes.OBJECT})
    def list(self, request, *args, **kwargs):
        response = Response(geo.feature_collection())
        response["Cache-Control"] = "public, max-age=300"
        return response


FEED_PARAMETERS = [OpenApiParameter("producer", str, required=False,
                                    description=gettext_lazy("Only this producer's products (its slug)."))]


class FeedViewSet(OcopViewSet):
    """The marketplace feed of the listed products (docs/ocop-feed.md)."""

    action_permissions = {"as_json": PUBLIC, "as_csv": PUBLIC}
    authentication_classes: list = []
    http_method_names = ["get", "head", "options"]

    def _producer(self) -> str:
        slug = self.request.query_params.get("producer", "")
        if slug and (len(slug) > 80 or not slug.replace("-", "").isalnum() or not slug.isascii()):
            raise serializers.ValidationError({"producer": [_("Give a producer by the slug of its address.")]})
        return slug

    @extend_schema(parameters=FEED_PARAMETERS, responses={200: OpenApiTypes.OBJECT})
    def as_json(self, request, *args, **kwargs):
        response = Response(feeds.as_json(feeds.rows(self._producer())))
        response["Cache-Control"] = "public, max-age=300"
        return response

    @extend_schema(parameters=FEED_PARAMETERS, responses={(200, "text/csv"): OpenApiTypes.STR})
    def as_csv(self, request, *args, **kwargs):
        producer = self._producer()
        response = HttpResponse(feeds.as_csv(feeds.rows(producer)), content_type=feeds.CSV_CONTENT_TYPE)
        response["Content-Disposition"] = f'inline; filename="{feeds.file_name("csv", producer)}"'
        response["Cache-Control"] = "public, max-age=300"
        return response
