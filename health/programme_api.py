"""The programmes in the commune's REST API (``/api/v1/health/…`` on a commune host), for the
station's staff only (role ``health_staff``; a session confirmed by the second factor, or a token
that reads): a record's readings, pregnancies (with their antenatal visits) and growth
measurements, listed and created.

* ``records/{id}/readings/``: GET lists, POST adds a blood pressure or glucose reading;
* ``records/{id}/pregnancies/``: GET lists (each with its antenatal visits), POST registers one;
* ``pregnancies/{id}/antenatal-visits/``: GET lists, POST adds a visit;
* ``records/{id}/growth/``: GET lists, POST adds a measurement (the WHO z-scores and flags are
  computed by the station, never sent).

Every GET is logged as a read of the record (``health.access``, channel ``api``). A refusal of
the services is 400 with the project's error body ``{"code", "detail", "fields"}`` (409 for a
second ongoing pregnancy); these routes do not exist on the national host: supervising units read
the aggregate figures, never a record.
"""
from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.response import Response

from communes.permissions import current_commune
from communes.second_factor import SecondFactorVerified
from core.api import Pagination, refusal_response
from health import access, growth, permissions, programmes
from health.models import AntenatalVisit, GrowthMeasurement, HealthRecord, Pregnancy, Reading

MAX_DB_ID = 2**63 - 1


class StaffOnly(BasePermission):
    """Health staff of the commune of the host: reads need ``record.read``, writes ``record.write``."""

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not user or not user.is_authenticated:
            return False
        return permissions.can(user, "record.read" if request.method in SAFE_METHODS else "record.write")


class ProgrammeView(GenericAPIView):
    permission_classes = [StaffOnly, SecondFactorVerified]
    pagination_class = Pagination
    what = ""

    def initial(self, request, *args, **kwargs):
        # Never on the national host: records are not in the supervising units' API.
        if kwargs.get("commune_code") is not None or current_commune() is None:
            raise NotFound(_("Not found."))
        super().initial(request, *args, **kwargs)

    def record(self) -> HealthRecord:
        pk = self.kwargs["pk"]
        if pk > MAX_DB_ID:
            raise NotFound(_("No health record with this number."))
        record = HealthRecord.objects.select_related("resident").filter(pk=pk).first()
        if record is None:
            raise NotFound(_("No health record with this number."))
        return record

    def listing(self, request, record, queryset):
        access.log_read(request.user, record, channel="api", what=self.what)
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def create_with(self, request, service, *, conflict_codes=()):
        data = self.get_serializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            made = service(**data.validated_data)
        except DjangoValidationError as exc:
            return refusal_response(exc, conflict_codes=conflict_codes)
        return Response(self.get_serializer(made).data, status=status.HTTP_201_CREATED)


# --- readings --------------------------------------------------------------------------------------

class ReadingSerializer(serializers.ModelSerializer):
    systolic = serializers.IntegerField(required=False, allow_null=True, min_value=0, max_value=1000)
    diastolic = serializers.IntegerField(required=False, allow_null=True, min_value=0, max_value=1000)
    glucose_mmol = serializers.DecimalField(required=False, allow_null=True, max_digits=6, decimal_places=2,
                                            help_text=gettext_lazy("Blood glucose in mmol/l (1.0 to 40.0)."))
    fasting = serializers.BooleanField(required=False, allow_null=True, default=None)
    note = serializers.CharField(required=False, allow_blank=True, max_length=300, default="")

    class Meta:
        model = Reading
        fields = ["id", "taken_on", "systolic", "diastolic", "glucose_mmol", "fasting", "note", "created_at"]
        read_only_fields = ["id", "created_at"]


class ReadingsView(ProgrammeView):
    serializer_class = ReadingSerializer
    what = "programme readings"

    @extend_schema(summary="A record's blood pressure and glucose readings")
    def get(self, request, pk: int, **kwargs):
        record = self.record()
        return self.listing(request, record, record.readings.order_by("-taken_on", "-pk"))

    @extend_schema(summary="Add a blood pressure or glucose reading")
    def post(self, request, pk: int, **kwargs):
        record = self.record()
        return self.create_with(request, lambda **data: programmes.add_reading(record, user=request.user, **data))


# --- pregnancies and antenatal visits --------------------------------------------------------------

class AntenatalVisitSerializer(serializers.ModelSerializer):
    weight_kg = serializers.DecimalField(required=False, allow_null=True, max_digits=6, decimal_places=2)
    systolic = serializers.IntegerField(required=False, allow_null=True, min_value=0, max_value=1000)
    diastolic = serializers.IntegerField(required=False, allow_null=True, min_value=0, max_value=1000)
    fundal_height_cm = serializers.IntegerField(required=False, allow_null=True, min_value=0, max_value=1000)
    tetanus_dose = serializers.IntegerField(required=False, allow_null=True, min_value=0, max_value=100)
    notes = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")

    class Meta:
        model = AntenatalVisit
        fields = ["id", "pregnancy", "visited_on", "weight_kg", "systolic", "diastolic", "fundal_height_cm",
                  "tetanus_dose", "notes", "created_at"]
        read_only_fields = ["id", "pregnancy", "created_at"]


class PregnancySerializer(serializers.ModelSerializer):
    expected_delivery = serializers.DateField(required=False, allow_null=True, help_text=gettext_lazy(
        "From an ultrasound; left out, it is the last period + 280 days (Naegele's rule)."))
    last_period = serializers.DateField(required=False, allow_null=True)
    gravida = serializers.IntegerField(required=False, default=1, min_value=0, max_value=100)
    para = serializers.IntegerField(required=False, default=0, min_value=0, max_value=100)
    risk_notes = serializers.CharField(required=False, allow_blank=True, max_length=300, default="")
    weeks_today = serializers.SerializerMethodField()
    antenatal_visits = AntenatalVisitSerializer(many=True, read_only=True)

    class Meta:
        model = Pregnancy
        fields = ["id", "registered_on", "last_period", "expected_delivery", "gravida", "para", "risk_notes",
                  "outcome", "ended_on", "children", "weeks_today", "antenatal_visits", "created_at"]
        read_only_fields = ["id", "outcome", "ended_on", "children", "weeks_today", "antenatal_visits", "created_at"]

    @extend_schema_field(OpenApiTypes.INT)
    def get_weeks_today(self, pregnancy) -> int | None:
        if pregnancy.outcome:
            return None
        return programmes.weeks_of_pregnancy(pregnancy)[0]


class PregnanciesView(ProgrammeView):
    serializer_class = PregnancySerializer
    what = "pregnancies and antenatal visits"

    @extend_schema(summary="A record's pregnancies with their antenatal visits")
    def get(self, request, pk: int, **kwargs):
        record = self.record()
        return self.listing(request, record, record.pregnancies.prefetch_related("antenatal_visits")
                            .order_by("-registered_on", "-pk"))

    @extend_schema(summary="Register a pregnancy (one ongoing per record)")
    def post(self, request, pk: int, **kwargs):
        record = self.record()
        return self.create_with(request, lambda **data: programmes.register_pregnancy(record, **data),
                                conflict_codes=("ongoing",))


class AntenatalVisitsView(ProgrammeView):
    serializer_class = AntenatalVisitSerializer
    what = "antenatal visits"

    def pregnancy(self) -> Pregnancy:
        pk = self.kwargs["pk"]
        found = Pregnancy.objects.select_related("record").filter(pk=pk).first() if pk <= MAX_DB_ID else None
        if found is None:
            raise NotFound(_("No pregnancy with this number."))
        return found

    @extend_schema(summary="A pregnancy's antenatal visits")
    def get(self, request, pk: int, **kwargs):
        pregnancy = self.pregnancy()
        return self.listing(request, pregnancy.record, pregnancy.antenatal_visits.order_by("visited_on", "pk"))

    @extend_schema(summary="Add an antenatal visit")
    def post(self, request, pk: int, **kwargs):
        pregnancy = self.pregnancy()
        return self.create_with(request, lambda **data: programmes.add_antenatal_visit(
            pregnancy, user=request.user, **data), conflict_codes=("ended",))


# --- growth ----------------------------------------------------------------------------------------

class GrowthSerializer(serializers.ModelSerializer):
    weight_kg = serializers.DecimalField(max_digits=6, decimal_places=2)
    height_cm = serializers.DecimalField(required=False, allow_null=True, max_digits=6, decimal_places=1)
    position = serializers.ChoiceField(choices=[growth.LYING, growth.STANDING], required=False, allow_null=True,
                                       write_only=True, help_text=gettext_lazy(
                                           "How the child was measured; left out, as for the age (lying under "
                                           "2 years). The other way is corrected by 0.7 cm."))

    class Meta:
        model = GrowthMeasurement
        fields = ["id", "measured_on", "weight_kg", "height_cm", "position", "weight_for_age_z",
                  "height_for_age_z", "weight_for_height_z", "underweight", "stunted", "wasted", "created_at"]
        read_only_fields = ["id", "weight_for_age_z", "height_for_age_z", "weight_for_height_z", "underweight",
                            "stunted", "wasted", "created_at"]


class GrowthView(ProgrammeView):
    serializer_class = GrowthSerializer
    what = "growth measurements"

    @extend_schema(summary="A child's growth measurements with the WHO z-scores")
    def get(self, request, pk: int, **kwargs):
        record = self.record()
        return self.listing(request, record, record.growth.order_by("-measured_on", "-pk"))

    @extend_schema(summary="Add a growth measurement")
    def post(self, request, pk: int, **kwargs):
        record = self.record()
        return self.create_with(request, lambda **data: programmes.record_growth(record, user=request.user, **data))
