"""Personal health records in the REST API (``/api/v1/health/records/`` on a commune host).

* ``records/``: GET lists the commune's records with the resident's ID number masked
  (``?village=<id>``, ``?q=`` an accent-free name or a household code), logged as a search;
  POST creates a record for a resident of the registry (a second record is 409 "duplicate").
* ``records/{id}/``: GET reads the record with its chronic conditions (logged); PUT and PATCH
  update its fields.

Health staff of the commune only (``health.permissions``): any other role, a citizen, and a
supervising unit's staff on the national host get 403, an anonymous caller 401; records are never
in the supervising units' API. Errors carry the project's body ``{"code", "detail", "fields"}``.
"""
from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.response import Response

from communes.second_factor import SecondFactorVerified
from core.api import CommuneScopedMixin, refusal_response
from health import access, icd10, permissions, records
from health.models import ChronicCondition, HealthRecord
from health.record_form import FIELD_NAMES
from population.models import Resident


class HealthStaffOnly(BasePermission):
    """Health staff of the host's commune; nobody on the national host."""

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not user or not user.is_authenticated:
            return False
        if getattr(view, "national_scope", False):
            return False
        return permissions.can(user, "record.read" if request.method in SAFE_METHODS else "record.write")


class ResidentRefSerializer(serializers.ModelSerializer):
    masked_id = serializers.CharField(read_only=True, help_text=gettext_lazy("The personal ID number, masked."))
    household = serializers.CharField(source="household.code", read_only=True)
    village = serializers.CharField(source="household.village.name", read_only=True)

    class Meta:
        model = Resident
        fields = ["id", "full_name", "birth_date", "sex", "masked_id", "household", "village"]
        read_only_fields = fields


class ConditionSerializer(serializers.ModelSerializer):
    title = serializers.SerializerMethodField()

    class Meta:
        model = ChronicCondition
        fields = ["id", "icd10", "title", "diagnosed_on", "programme", "active", "note"]
        read_only_fields = fields

    def get_title(self, condition) -> str:
        code = icd10.lookup(condition.icd10)
        return code.title_vi if code else ""


class RecordSerializer(serializers.ModelSerializer):
    resident = ResidentRefSerializer(read_only=True)
    resident_id = serializers.IntegerField(write_only=True, min_value=1, max_value=2**63 - 1,
                                           help_text=gettext_lazy("The registry's resident (create only)."))
    conditions = ConditionSerializer(many=True, read_only=True)
    insurance_number = serializers.CharField(max_length=20, allow_blank=True, required=False, help_text=gettext_lazy(
        "15 characters (e.g. GD4151234567890) or the 10-digit social insurance number; spaces are dropped."))

    class Meta:
        model = HealthRecord
        fields = ["id", "resident", "resident_id", *FIELD_NAMES, "conditions", "created_at", "updated_at"]
        read_only_fields = ["id", "conditions", "created_at", "updated_at"]
        validators = []  # the services check the one record per resident, with their message


class RecordUpdateSerializer(RecordSerializer):
    class Meta(RecordSerializer.Meta):
        fields = ["id", "resident", *FIELD_NAMES, "conditions", "created_at", "updated_at"]


@extend_schema_view(
    list=extend_schema(summary="Health records of the commune (health staff)", parameters=[
        OpenApiParameter("village", int, description="A village's id."),
        OpenApiParameter("q", str, description="Accent-free name, or a household code."),
    ]),
    retrieve=extend_schema(summary="A health record with its chronic conditions (health staff)"),
    create=extend_schema(summary="Open a health record for a resident of the registry"),
    update=extend_schema(summary="Update a health record", request=RecordUpdateSerializer),
    partial_update=extend_schema(summary="Update some fields of a health record", request=RecordUpdateSerializer),
)
class RecordViewSet(CommuneScopedMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                    mixins.UpdateModelMixin, viewsets.GenericViewSet):
    serializer_class = RecordSerializer
    lookup_value_regex = r"[0-9]{1,18}"
    filter_backends: list = []

    def get_permissions(self):
        return [HealthStaffOnly(), SecondFactorVerified()]

    def get_queryset(self):
        village = self.request.query_params.get("village", "")
        return records.records_for(
            query=str(self.request.query_params.get("q", ""))[:100],
            village_id=int(village) if village.isdigit() and len(village) < 10 else None,
        ).prefetch_related("conditions")

    def get_serializer_class(self):
        if self.action in ("update", "partial_update"):
            return RecordUpdateSerializer
        return RecordSerializer

    def list(self, request, *args, **kwargs):
        access.log_search(request.user, channel="api", query=" ".join(
            f"{k}={v}" for k, v in request.query_params.items() if k in ("q", "village", "page"))[:500])
        return super().list(request, *args, **kwargs)

    def retrieve(self, request, *args, **kwargs):
        record = self.get_object()
        access.log_read(request.user, record, channel="api", what="record")
        return Response(self.get_serializer(record).data)

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        resident = Resident.objects.filter(pk=data.pop("resident_id")).first()
        if resident is None:
            return Response({"code": "not_found", "detail": str(gettext_lazy("No resident of the registry has this id.")),
                             "fields": {"resident_id": [str(gettext_lazy("No resident of the registry has this id."))]}},
                            status=status.HTTP_400_BAD_REQUEST)
        record = HealthRecord(resident=resident, **data)
        try:
            records.save_record(record)
        except DjangoValidationError as exc:
            return refusal_response(exc, statuses={"duplicate": status.HTTP_409_CONFLICT})
        access.log_read(request.user, record, channel="api", what="record (created)")
        return Response(RecordSerializer(record, context=self.get_serializer_context()).data,
                        status=status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        record = self.get_object()
        serializer = self.get_serializer(record, data=request.data, partial=kwargs.pop("partial", False))
        serializer.is_valid(raise_exception=True)
        for field, value in serializer.validated_data.items():
            setattr(record, field, value)
        try:
            records.save_record(record)
        except DjangoValidationError as exc:
            return refusal_response(exc)
        access.log_read(request.user, record, channel="api", what="record (updated)")
        return Response(self.get_serializer(record).data)
