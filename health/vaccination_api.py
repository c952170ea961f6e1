"""Vaccinations in the health station's API (``/api/v1/health/…`` on a commune host).

* ``records/{id}/vaccinations/``: GET the child's doses with the card (each dose of the
  schedule, its due date and state); POST records a dose (``health.vaccination.record_dose``).
* ``vaccinations/due/?month=2026-12&village=<id>``: the children due or overdue in the month,
  by village, the household's phone masked.
* ``vaccinations/schedule/``: the schedule itself (no personal data): the module's roles.

Health staff only for what touches a child (every call is written in the access log); a refusal
is 400 with the project's error body ``{"code", "detail", "fields"}``.
"""
from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from core import periods
from core.api import RolePermission, refusal_response
from core.phones import mask_phone
from health import access, permissions, vaccination
from health.models import HealthRecord, Vaccination
from health.schedule import get_schedule

MAX_DB_ID = 2_147_483_647


class _Base(APIView):
    permission_classes = [RolePermission]
    read_roles = permissions.STAFF
    write_roles = permissions.STAFF


class DoseSerializer(serializers.ModelSerializer):
    class Meta:
        model = Vaccination
        fields = ["id", "vaccine", "dose", "given_on", "lot_number", "place", "reaction"]
        read_only_fields = ["id"]


class DoseInputSerializer(serializers.Serializer):
    vaccine = serializers.CharField(max_length=20)
    dose = serializers.IntegerField(min_value=1, max_value=10)
    given_on = serializers.DateField(input_formats=["%Y-%m-%d", "%d/%m/%Y"])
    lot_number = serializers.CharField(max_length=50, required=False, allow_blank=True, default="")
    place = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    reaction = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")


class CardLineSerializer(serializers.Serializer):
    vaccine = serializers.CharField(source="dose.vaccine")
    dose = serializers.IntegerField(source="dose.number")
    label = serializers.CharField()
    due_on = serializers.DateField()
    given_on = serializers.DateField(allow_null=True)
    status = serializers.CharField()


class RecordDosesSerializer(serializers.Serializer):
    record = serializers.IntegerField()
    doses = DoseSerializer(many=True)
    card = CardLineSerializer(many=True)


def _record(pk) -> HealthRecord:
    if pk > MAX_DB_ID:
        raise NotFound()
    record = HealthRecord.objects.select_related("resident").filter(pk=pk).first()
    if record is None:
        raise NotFound(_("No health record with this number."))
    return record


class RecordVaccinationsView(_Base):
    @extend_schema(responses=RecordDosesSerializer, summary="A child's doses and card")
    def get(self, request, pk: int):
        record = _record(pk)
        access.log_read(request.user, record, channel="api", what="vaccinations")
        return Response(self._body(record))

    @extend_schema(request=DoseInputSerializer, responses={201: DoseSerializer}, summary="Record a dose")
    def post(self, request, pk: int):
        record = _record(pk)
        data = DoseInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            dose = vaccination.record_dose(request.user, record, **data.validated_data)
        except DjangoValidationError as exc:
            return refusal_response(exc, conflict_codes=("duplicate",))
        access.log_read(request.user, record, channel="api", what="vaccinations")
        return Response(DoseSerializer(dose).data, status=status.HTTP_201_CREATED)

    @staticmethod
    def _body(record) -> dict:
        lines = vaccination.record_card(record)
        return {"record": record.pk, "doses": DoseSerializer(record.vaccinations.all(), many=True).data,
                "card": CardLineSerializer(lines, many=True).data}


class DueDoseSerializer(serializers.Serializer):
    vaccine = serializers.CharField()
    dose = serializers.IntegerField()
    label = serializers.CharField()
    due_on = serializers.DateField()
    overdue = serializers.BooleanField()


class DueChildSerializer(serializers.Serializer):
    record = serializers.IntegerField(source="child.record_id")
    name = serializers.CharField(source="child.name")
    birth_date = serializers.DateField(source="child.birth_date")
    village = serializers.CharField(source="child.village")
    head_of_household = serializers.CharField(source="child.head")
    phone = serializers.SerializerMethodField()
    doses = DueDoseSerializer(many=True)

    def get_phone(self, row) -> str:
        return mask_phone(row.child.phone)


class DueListSerializer(serializers.Serializer):
    month = serializers.CharField()
    children = DueChildSerializer(many=True)


class DueView(_Base):
    @extend_schema(
        parameters=[OpenApiParameter("month", OpenApiTypes.STR, description="yyyy-mm (this month by default)"),
                    OpenApiParameter("village", OpenApiTypes.INT)],
        responses=DueListSerializer, summary="Children due or overdue for a vaccination in a month")
    def get(self, request):
        from django.utils import timezone

        from population.models import Village

        token = (request.query_params.get("month") or "").strip()
        period = periods.parse(token) if token else periods.of_date("month", timezone.localdate())
        if period is None or period.kind != "month":
            raise ValidationError({"month": [_("Choose the month as yyyy-mm, e.g. 2026-12.")]})
        village_text = (request.query_params.get("village") or "").strip()
        village_id = None
        if village_text:
            if not village_text.isdigit() or len(village_text) > 9 or not Village.objects.filter(
                    pk=int(village_text)).exists():
                raise ValidationError({"village": [_("This village does not exist in the commune.")]})
            village_id = int(village_text)
        rows = vaccination.due_for_month(period.date_from, village_id=village_id)
        access.log_read(request.user, None, channel="api",
                        what=f"vaccinations due {period.date_from:%m/%Y} ({len(rows)} children)")
        return Response({"month": period.date_from.strftime("%Y-%m"),
                         "children": DueChildSerializer(rows, many=True).data})


class ScheduleView(_Base):
    read_roles = permissions.MODULE_ROLES
    write_roles = ()

    @extend_schema(responses=OpenApiTypes.OBJECT, summary="The Expanded Programme on Immunization schedule")
    def get(self, request):
        schedule = get_schedule()
        return Response({
            "version": schedule.version, "source": schedule.source,
            "valid_from": schedule.valid_from, "on_time_days": schedule.on_time_days,
            "vaccines": [{
                "code": v.code, "name": v.name, "name_en": v.name_en, "antigens": list(v.antigens),
                "doses": [{
                    "dose": d.number, "age": str(d.age), "min_age": str(d.min_age), "before_age": str(d.before_age),
                    "interval": str(d.interval) if d.interval else None,
                    "min_interval": str(d.min_interval) if d.min_interval else None,
                    "interval_from": d.reference,
                    "after": ({"vaccine": d.after.vaccine, "dose": d.after.dose,
                               "min_interval": str(d.after.min_interval)} if d.after else None),
                    "confirmed": d.confirmed, "note": d.note,
                } for d in v.doses],
            } for v in schedule.vaccines],
        })
