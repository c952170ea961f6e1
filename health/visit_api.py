"""Visits in the REST API (``/api/v1/health/…`` on a commune host), for the station's health staff.

* ``visits/``: GET lists visits (``?day=``, ``?month=2026-11``, ``?record=<id>``, ``?payment=``,
  ``?code=`` a diagnosis code or its beginning, ``?referred=true``; today when no period is asked),
  each read of a record's visit written to the access log; POST writes a visit with its diagnoses
  and prescription lines in one transaction (``health.visits.create_visit``).
* ``visits/{id}/``: GET reads one visit (logged).
* ``icd10/?q=``: the ICD-10 codes matching a code's beginning or words of a title (no personal
  data, health staff only all the same); ``drugs/?q=``: the station's drug list.

Health staff of the commune only: any other role, a citizen, and a supervising unit's staff on the
national host get 403, an anonymous caller 401. Refusals are 400 with the project's body
``{"code", "detail", "fields"}``: ``code`` names the first problem (``visit_before_birth``,
``visit_in_future``, ``vital_out_of_range``, ``unknown_icd10``, ``several_main_diagnoses``,
``referral_place_required``, ``insurance_not_valid`` …) and ``fields`` every message by field.
"""
from __future__ import annotations

import datetime

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.response import Response
from rest_framework.views import APIView

from core import periods
from core.api import CommuneScopedMixin, refusal_response
from health import access, drugs, icd10, permissions, visits, vitals
from health.models import HealthRecord, Payment, Prescription, Visit, VisitDiagnosis

MAX_DB_ID = 2**63 - 1
DATE_FORMATS = ["%Y-%m-%d", "%d/%m/%Y"]


class HealthStaffOnly(BasePermission):
    """Health staff of the host's commune; nobody on the national host (no visit reaches a
    supervising unit)."""

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not user or not user.is_authenticated or getattr(view, "national_scope", False):
            return False
        return permissions.can(user, "record.read" if request.method in SAFE_METHODS else "record.write")


class StaffView:
    permission_classes = [HealthStaffOnly]


# --- serializers ---------------------------------------------------------------------------------

class DiagnosisSerializer(serializers.ModelSerializer):
    title = serializers.SerializerMethodField()

    class Meta:
        model = VisitDiagnosis
        fields = ["icd10", "title", "primary"]
        read_only_fields = fields

    def get_title(self, diagnosis) -> str:
        code = icd10.lookup(diagnosis.icd10)
        return code.title_vi if code else ""


class PrescriptionSerializer(serializers.ModelSerializer):
    class Meta:
        model = Prescription
        fields = ["drug_code", "text", "dose", "days", "quantity"]
        read_only_fields = fields


class VisitSerializer(serializers.ModelSerializer):
    resident_name = serializers.CharField(source="record.resident.full_name", read_only=True)
    main_diagnosis = serializers.SerializerMethodField()

    class Meta:
        model = Visit
        fields = ["id", "record", "resident_name", "visited_at", "reason", "main_diagnosis", "payment", "referred",
                  "referred_to"]
        read_only_fields = fields

    def get_main_diagnosis(self, visit) -> str:
        return visits.main_code(visit)


class VisitDetailSerializer(VisitSerializer):
    diagnoses = DiagnosisSerializer(many=True, read_only=True)
    prescriptions = PrescriptionSerializer(many=True, read_only=True)

    class Meta(VisitSerializer.Meta):
        fields = [*VisitSerializer.Meta.fields, "examination", *vitals.FIELDS, "diagnoses", "prescriptions",
                  "treatment", "referral_reason", "staff_name", "created_at"]
        read_only_fields = fields


class DiagnosisInput(serializers.Serializer):
    code = serializers.CharField(max_length=12, help_text=gettext_lazy("An ICD-10 code, e.g. J06.9."))
    primary = serializers.BooleanField(default=False, help_text=gettext_lazy("The main diagnosis (exactly one)."))


class PrescriptionInput(serializers.Serializer):
    drug_code = serializers.CharField(max_length=20, required=False, allow_blank=True,
                                      help_text=gettext_lazy("A code of the drug list (drugs/), or empty."))
    text = serializers.CharField(max_length=200, required=False, allow_blank=True,
                                 help_text=gettext_lazy("The medicine written out, when it is not in the list."))
    dose = serializers.CharField(max_length=200, required=False, allow_blank=True)
    days = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=365)
    quantity = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=10000)


def _vital_field(name: str):
    if name in vitals.DECIMALS:
        return serializers.DecimalField(max_digits=9, decimal_places=3, required=False, allow_null=True,
                                        help_text=str(vitals.RANGES[name].label))
    return serializers.IntegerField(required=False, allow_null=True, min_value=0, max_value=100000,
                                    help_text=str(vitals.RANGES[name].label))


class VisitInput(serializers.Serializer):
    record = serializers.IntegerField(min_value=1, max_value=MAX_DB_ID, help_text=gettext_lazy("The health record's id."))
    visited_at = serializers.DateTimeField(help_text=gettext_lazy("When the visit took place (ISO 8601)."))
    reason = serializers.CharField(max_length=300)
    examination = serializers.CharField(max_length=5000, required=False, allow_blank=True)
    diagnoses = DiagnosisInput(many=True, required=False, max_length=visits.MAX_DIAGNOSES)
    prescriptions = PrescriptionInput(many=True, required=False, max_length=visits.MAX_LINES)
    treatment = serializers.CharField(max_length=5000, required=False, allow_blank=True)
    referred = serializers.BooleanField(default=False)
    referred_to = serializers.CharField(max_length=200, required=False, allow_blank=True)
    referral_reason = serializers.CharField(max_length=300, required=False, allow_blank=True)
    payment = serializers.ChoiceField(choices=Payment.choices, default=Payment.INSURANCE)

    def get_fields(self):
        fields = super().get_fields()
        for name in vitals.FIELDS:
            fields[name] = _vital_field(name)
        return fields

    def visit_data(self) -> visits.VisitData:
        data = self.validated_data
        record = HealthRecord.objects.select_related("resident").filter(pk=data["record"]).first()
        if record is None:
            raise ValidationError({"record": [_("No health record with this id.")]})
        return visits.VisitData(
            record=record, visited_at=data["visited_at"], reason=data["reason"],
            examination=data.get("examination", ""), vitals={name: data.get(name) for name in vitals.FIELDS},
            diagnoses=[visits.DiagnosisLine(d["code"], d.get("primary", False)) for d in data.get("diagnoses", [])],
            prescriptions=[visits.PrescriptionLine(p.get("drug_code", ""), p.get("text", ""), p.get("dose", ""),
                                                   p.get("days"), p.get("quantity"))
                           for p in data.get("prescriptions", [])],
            treatment=data.get("treatment", ""), referred=data["referred"], referred_to=data.get("referred_to", ""),
            referral_reason=data.get("referral_reason", ""), payment=data["payment"])


class CodeSerializer(serializers.Serializer):
    code = serializers.CharField()
    title_vi = serializers.CharField()
    title_en = serializers.CharField()
    common = serializers.BooleanField()
    chapter = serializers.CharField()
    block = serializers.CharField()


class DrugSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    strength = serializers.CharField()
    form = serializers.CharField()
    unit = serializers.CharField()
    label = serializers.CharField()


# --- views ---------------------------------------------------------------------------------------

def _date(value: str, name: str) -> datetime.date:
    for pattern in DATE_FORMATS:
        try:
            return datetime.datetime.strptime(value.strip(), pattern).date()
        except ValueError:
            continue
    raise ValidationError({name: [_("Enter a date as dd/mm/yyyy or yyyy-mm-dd.")]})


def _id(value: str, name: str) -> int:
    if not value.isdigit() or not 0 < int(value) <= MAX_DB_ID:
        raise ValidationError({name: [_("Enter a valid id.")]})
    return int(value)


LIST_PARAMETERS = [
    OpenApiParameter("day", str, description="dd/mm/yyyy or yyyy-mm-dd"),
    OpenApiParameter("month", str, description="yyyy-mm"),
    OpenApiParameter("record", int),
    OpenApiParameter("payment", str, enum=Payment.values),
    OpenApiParameter("code", str, description="An ICD-10 code or its beginning."),
    OpenApiParameter("referred", bool),
]


@extend_schema_view(list=extend_schema(parameters=LIST_PARAMETERS), create=extend_schema(
    request=VisitInput, responses={201: VisitDetailSerializer}))
class VisitViewSet(CommuneScopedMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                   viewsets.GenericViewSet):
    permission_classes = [HealthStaffOnly]
    serializer_class = VisitSerializer
    lookup_value_regex = r"[0-9]{1,18}"
    queryset = Visit.objects.none()

    def get_serializer_class(self):
        if self.action == "retrieve":
            return VisitDetailSerializer
        if self.action == "create":
            return VisitInput
        return VisitSerializer

    def get_queryset(self):
        base = Visit.objects.select_related("record__resident").prefetch_related("diagnoses", "prescriptions")
        if self.action != "list":
            return base
        params = self.request.query_params
        today = timezone.localdate()
        if params.get("month"):
            period = periods.parse(params["month"])
            if period is None or period.kind != "month":
                raise ValidationError({"month": [_("Enter a month as yyyy-mm.")]})
            first, last = period.date_from, period.date_to
        elif params.get("day"):
            first = last = _date(params["day"], "day")
        elif params.get("record"):
            first, last = datetime.date(1900, 1, 1), today
        else:
            first = last = today
        payment = params.get("payment", "")
        if payment and payment not in Payment.values:
            raise ValidationError({"payment": [_("Choose insurance, paid or free.")]})
        referred = None
        if params.get("referred", "") in ("true", "1"):
            referred = True
        elif params.get("referred", "") in ("false", "0"):
            referred = False
        rows = visits.visits_between(first, last, payment=payment, code=params.get("code", "")[:8],
                                     referred=referred)
        if params.get("record"):
            rows = rows.filter(record_id=_id(params["record"], "record"))
        return rows.prefetch_related("prescriptions").order_by("-visited_at", "-pk")

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.get_queryset())
        rows = page if page is not None else list(self.get_queryset())
        for record_id in sorted({visit.record_id for visit in rows}):
            access.log_read(request.user, record_id, channel="api", what="visits (list)")
        data = VisitSerializer(rows, many=True).data
        return self.get_paginated_response(data) if page is not None else Response(data)

    def retrieve(self, request, *args, **kwargs):
        visit = self.get_object()
        access.log_read(request.user, visit.record, channel="api", what="visit")
        return Response(VisitDetailSerializer(visit).data)

    def create(self, request, *args, **kwargs):
        body = VisitInput(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            visit = visits.create_visit(request.user, body.visit_data())
        except DjangoValidationError as exc:
            return refusal_response(exc)
        visit = self.get_queryset().get(pk=visit.pk)
        access.log_read(request.user, visit.record, channel="api", what="visit")
        return Response(VisitDetailSerializer(visit).data, status=status.HTTP_201_CREATED)


class Icd10View(CommuneScopedMixin, APIView):
    permission_classes = [HealthStaffOnly]

    @extend_schema(parameters=[OpenApiParameter("q", str, description="A code's beginning or words of a title.")],
                   responses={200: CodeSerializer(many=True)})
    def get(self, request):
        query = str(request.query_params.get("q", "")).strip()[:60]
        found = icd10.search(query, limit=50) if query else sorted(
            (c for c in icd10.codes().values() if c.common), key=lambda c: c.code)
        rows = []
        for code in found:
            chapter, block = icd10.chapter_of(code.code), icd10.block_of(code.code)
            rows.append({"code": code.code, "title_vi": code.title_vi, "title_en": code.title_en,
                         "common": code.common, "chapter": chapter.key if chapter else "",
                         "block": block.key if block else ""})
        return Response(CodeSerializer(rows, many=True).data)


class DrugView(CommuneScopedMixin, APIView):
    permission_classes = [HealthStaffOnly]

    @extend_schema(parameters=[OpenApiParameter("q", str)], responses={200: DrugSerializer(many=True)})
    def get(self, request):
        query = str(request.query_params.get("q", "")).strip()[:60]
        found = drugs.search(query) if query else sorted(drugs.drugs().values(), key=lambda d: d.code)
        return Response(DrugSerializer([{**d.__dict__, "label": d.label} for d in found], many=True).data)
