"""REST API of the one-stop desk (``/api/v1/onestop/…`` on a commune host).

* ``procedures/`` and ``procedures/{code}/``: the current catalogue (anyone, no login).
* ``dossiers/``: officials list and read dossiers (the personal ID number masked); POST takes a
  dossier in at the desk (JSON or multipart, scans as ``file_<requirement id>``). Every state
  change is a POST sub-resource (``receive``, ``ask-completion``, ``refuse``, ``hand-over``,
  ``prepare-result``, ``request-supplement``, ``supplement-arrived``, ``extend``, ``stop``,
  ``sign-leader``, ``sign-agency``, ``return``, ``payments``, ``files``) calling
  ``onestop.services``; forms, documents, the control sheet (form 6) and the result are GET.
  Form 1 is made by a job after the receipt: the answer lists it under ``pending_forms`` with the
  ``url`` of its PDF (``pending-forms/{job}/``: 202 while a worker renders it, the PDF after).
  Signing needs a session confirmed with the second factor (token calls excepted).
* ``statistics/?from=dd/mm/yyyy&to=dd/mm/yyyy``: the figures (officers, leaders, the commune
  administrator; supervising-unit staff under ``/api/v1/communes/{code}/onestop/statistics/``
  on the national host).
* ``bank-notifications/``: the bank's payment notifications (no session: an HMAC signature).
* ``lookup/``: the public status lookup by code and the last four digits of the phone
  (throttled per client address). ``ratings/``: the citizen's rating by its token.

Errors leave as ``{"code", "detail", "fields"}``: 400 for bad input, 403 for a wrong role, 404,
409 for a conflict with the dossier's state, 429 when throttled.
"""
from __future__ import annotations

import re

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DatabaseError
from django.http import FileResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_field, extend_schema_view,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import APIException, NotFound, Throttled, ValidationError
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import SAFE_METHODS, AllowAny, BasePermission, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from communes.permissions import current_commune, roles_for
from communes.second_factor import SecondFactorVerified
from core.api import CommuneScopedMixin, refusal_response
from core.http import client_ip
from core.parsers import JSONLimitError, JSONParser
from core.parsers import loads as json_loads
from core.throttle import DatabaseRateThrottle, message_for_wait
from onestop import files as dossier_files
from onestop import permissions, selectors, services, statistics
from onestop.models import Channel, Delivery, Dossier, DossierState, FormKind, PaymentMethod, Procedure

MAX_DB_ID = 2**63 - 1
ID_REGEX = r"[0-9]{1,18}"
DATE_FORMATS = ["%d/%m/%Y", "%Y-%m-%d"]
DATETIME_FORMATS = ["%d/%m/%Y %H:%M", "%d/%m/%Y", "iso-8601"]
MAX_PERIOD_DAYS = 3700
PDF_RESPONSE = {(200, "application/pdf"): OpenApiResponse(OpenApiTypes.BINARY, description=gettext_lazy("A PDF file"))}
FILE_RESPONSE = {(200, "application/octet-stream"): OpenApiResponse(OpenApiTypes.BINARY, description=gettext_lazy("A file"))}


def refusal(exc: DjangoValidationError) -> Response:
    """A service's refusal as the API's error body: 409 for a conflict with the state, 404 for
    something that does not exist, 400 otherwise."""
    return refusal_response(exc, conflict_codes=services.CONFLICT_CODES, statuses={"not_paid": status.HTTP_409_CONFLICT})


def _require_commune():
    if current_commune() is None:
        raise NotFound(_("Not found."))


# --- permissions and throttles -------------------------------------------------------------------

class OnestopPermission(BasePermission):
    """Actions of a view mapped to ``onestop.permissions`` actions (``action_permissions``).
    On the national host supervising-unit staff reach only ``supervisor_actions`` (reads)."""

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not user or not user.is_authenticated:
            return False
        action_name = getattr(view, "action", None) or request.method.lower()
        if getattr(view, "national_scope", False):
            return request.method in SAFE_METHODS and action_name in getattr(view, "supervisor_actions", ())
        needed = getattr(view, "action_permissions", {}).get(action_name)
        return needed is not None and permissions.can(user, needed)


class LookupThrottle(DatabaseRateThrottle):
    """Status lookups per client address (``XASO_LOOKUP_RATE``), counted in PostgreSQL: one
    atomic count that every process shares and that still counts while Redis is down."""

    scope = selectors.LOOKUP_ADDRESS_SCOPE
    rate = "XASO_LOOKUP_RATE"

    def allow_request(self, request, view) -> bool:
        if not str(settings.XASO_LOOKUP_RATE or "").strip():
            return True  # an empty setting: no limit per address
        try:
            return super().allow_request(request, view)
        except DatabaseError:
            raise LookupUnavailable from None


class LookupUnavailable(APIException):
    """Nothing can be counted (PostgreSQL does not answer): 503 with a retry time, never a 500."""

    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_code = "unavailable"
    default_detail = gettext_lazy("The status of dossiers cannot be looked up at the moment. Try again in a minute.")
    wait = 30


# --- serializers -------------------------------------------------------------------------------

class RequiredDocumentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    copy_kind = serializers.CharField()
    count = serializers.IntegerField()
    required = serializers.BooleanField()
    condition = serializers.CharField()
    has_template = serializers.SerializerMethodField()

    def get_has_template(self, obj) -> bool:
        return bool(obj.template)


class ProcedureStepSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    order = serializers.IntegerField()
    kind = serializers.CharField()
    name = serializers.CharField()
    role = serializers.CharField()
    duration_hours = serializers.DecimalField(max_digits=6, decimal_places=2)


# The catalogue's own notes on its sources ("what is not confirmed", where a text was read) are
# for the desk: the public pages leave them out, and so does the API for callers without a role.
DESK_ONLY_PROCEDURE_FIELDS = ("published_by", "verified", "verification_note")


class ProcedureSerializer(serializers.ModelSerializer):
    sector = serializers.CharField(source="sector.name", read_only=True)
    sector_code = serializers.CharField(source="sector.code", read_only=True)
    fee = serializers.SerializerMethodField()

    def get_fields(self):
        fields = super().get_fields()
        request = self.context.get("request")
        if request is None or not roles_for(request.user):
            for name in DESK_ONLY_PROCEDURE_FIELDS:
                fields.pop(name, None)
        return fields

    class Meta:
        model = Procedure
        fields = [
            "code", "national_code", "version", "valid_from", "name", "sector", "sector_code", "agency",
            "time_amount", "time_unit", "cutoff", "time_note", "fee", "online_level", "handler", "external_url",
            "result_type", "verified",
        ]

    def get_fee(self, obj) -> str:
        from onestop.fees import describe

        try:
            return str(describe(obj))
        except Exception:  # noqa: BLE001 - a malformed rule is shown as published
            return obj.fee_note


class ProcedureDetailSerializer(ProcedureSerializer):
    requirements = RequiredDocumentSerializer(many=True, read_only=True)
    steps = ProcedureStepSerializer(many=True, read_only=True)

    class Meta(ProcedureSerializer.Meta):
        fields = ProcedureSerializer.Meta.fields + [
            "legal_basis", "published_by", "verification_note", "fee_note", "exemptions", "result_title",
            "form_fields", "requirements", "steps",
        ]


def choice_text(choices, **kwargs):
    """A string field listing its values in the help text (several apps name fields "state",
    "channel" or "delivery" with other values: plain strings keep the schema's names stable)."""
    return serializers.CharField(help_text="One of: " + ", ".join(str(value) for value, _label in choices), **kwargs)


class DossierSerializer(serializers.ModelSerializer):
    state = choice_text(DossierState.choices, read_only=True)
    channel = choice_text(Channel.choices, read_only=True)
    delivery = choice_text(Delivery.choices, read_only=True)
    procedure = serializers.CharField(source="procedure.code", read_only=True)
    procedure_name = serializers.CharField(source="procedure.name", read_only=True)
    procedure_version = serializers.IntegerField(source="procedure.version", read_only=True)
    applicant_id_number = serializers.CharField(source="masked_id_number", read_only=True)
    current_step = serializers.SerializerMethodField()
    current_handler = serializers.IntegerField(source="current_handler_id", read_only=True, allow_null=True)
    is_overdue = serializers.SerializerMethodField()

    class Meta:
        model = Dossier
        fields = [
            "id", "code", "procedure", "procedure_name", "procedure_version", "channel", "state", "applicant_name",
            "applicant_id_number", "submitted_at", "received_at", "due_at", "extended_due_at", "completed_at",
            "returned_at", "current_step", "current_handler", "is_overdue", "fee_amount", "fee_paid_at", "delivery",
        ]
        read_only_fields = fields

    def get_current_step(self, obj) -> str:
        return obj.current_step.name if obj.current_step_id else ""

    def get_is_overdue(self, obj) -> bool:
        return bool(obj.state in (DossierState.RECEIVED, DossierState.IN_PROGRESS) and obj.due_at
                    and obj.due_at < timezone.now())


class DossierDocumentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    requirement = serializers.IntegerField(source="requirement_id", allow_null=True)
    name = serializers.CharField()
    provided = serializers.BooleanField()
    copy_kind = serializers.CharField()
    count = serializers.IntegerField()
    has_file = serializers.SerializerMethodField()
    content_type = serializers.CharField()
    size = serializers.IntegerField()
    is_supplement = serializers.BooleanField()
    uploaded_at = serializers.DateTimeField()

    def get_has_file(self, obj) -> bool:
        return bool(obj.file)


class DossierEventSerializer(serializers.Serializer):
    kind = serializers.CharField()
    at = serializers.DateTimeField()
    actor = serializers.IntegerField(source="actor_id", allow_null=True)
    actor_name = serializers.CharField()
    from_step = serializers.CharField(source="from_step.name", default="")
    to_step = serializers.CharField(source="to_step.name", default="")
    to_user = serializers.IntegerField(source="to_user_id", allow_null=True)
    to_user_name = serializers.CharField()
    step_started_at = serializers.DateTimeField(allow_null=True)
    step_due_at = serializers.DateTimeField(allow_null=True)
    note = serializers.CharField()


class IssuedFormSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    title = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()

    def get_title(self, obj) -> str:
        return str(FormKind(obj.kind).label)


class PendingFormSerializer(serializers.Serializer):
    """A form still being rendered (form 1 right after receipt): where its PDF will be."""

    job = serializers.IntegerField(source="pk")
    kind = serializers.CharField()
    title = serializers.SerializerMethodField()
    state = serializers.CharField()
    progress_percent = serializers.IntegerField()
    error = serializers.CharField()
    url = serializers.SerializerMethodField(help_text=gettext_lazy(
        "The PDF once it is ready (202 with the state until then)."))

    def get_title(self, obj) -> str:
        return str(FormKind(obj.kind).label)

    def get_url(self, obj) -> str:
        from django.urls import reverse

        path = reverse("onestop-dossier-pending-form", kwargs={"pk": obj.dossier_id, "job_id": obj.pk})
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request is not None else path


class FeePaymentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    amount = serializers.IntegerField()
    method = serializers.CharField()
    reference = serializers.CharField(allow_null=True)
    received_at = serializers.DateTimeField()
    receipt_number = serializers.CharField()


class DossierDetailSerializer(DossierSerializer):
    documents = DossierDocumentSerializer(many=True, read_only=True)
    events = DossierEventSerializer(many=True, read_only=True)
    forms = IssuedFormSerializer(many=True, read_only=True)
    pending_forms = serializers.SerializerMethodField()
    payments = FeePaymentSerializer(many=True, read_only=True)
    files = serializers.SerializerMethodField()

    class Meta(DossierSerializer.Meta):
        fields = DossierSerializer.Meta.fields + [
            "applicant_phone", "applicant_email", "applicant_address", "resident_id", "form_data", "page_count",
            "copy_count", "fee_exempt_reason", "delivery_address", "missing_items", "closed_reason", "result_number",
            "result_data", "signer_id", "original_due_at", "documents", "events", "forms", "pending_forms", "payments",
            "files",
        ]
        read_only_fields = fields

    @extend_schema_field(PendingFormSerializer(many=True))
    def get_pending_forms(self, obj) -> list:
        jobs = getattr(obj, "pending_form_jobs", None)
        if jobs is None:
            jobs = services.pending_forms(obj)
        return PendingFormSerializer(jobs, many=True, context=self.context).data

    def get_files(self, obj) -> dict:
        return {"result": bool(obj.result_pdf), "leader_signed": bool(obj.leader_signed_pdf),
                "signed_result": bool(obj.signed_result)}


# --- input serializers ---------------------------------------------------------------------------

class CounterIntakeSerializer(serializers.Serializer):
    procedure = serializers.CharField(max_length=40, help_text=gettext_lazy("The procedure's code (HT-01 …)."))
    applicant_name = serializers.CharField(max_length=200, allow_blank=True, required=False, default="")
    applicant_id_number = serializers.CharField(max_length=20, allow_blank=True, required=False, default="")
    applicant_phone = serializers.CharField(max_length=30, allow_blank=True, required=False, default="")
    applicant_email = serializers.CharField(max_length=254, allow_blank=True, required=False, default="")
    applicant_address = serializers.CharField(max_length=300, allow_blank=True, required=False, default="")
    checklist = serializers.JSONField(required=False, default=dict, help_text=gettext_lazy(
        'The documents provided: {"<requirement id>": true, …} or a list of requirement ids.'))
    form_data = serializers.JSONField(required=False, default=dict)
    decision = serializers.ChoiceField(choices=["receive", "incomplete", "refuse"], default="receive")
    missing = serializers.ListField(child=serializers.CharField(max_length=300), required=False, default=list,
                                    max_length=30)
    reason = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")
    delivery = choice_text([(Delivery.COUNTER, ""), (Delivery.POST, "")], max_length=10, required=False,
                           default=Delivery.COUNTER)
    delivery_address = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")
    page_count = serializers.IntegerField(min_value=0, max_value=10000, required=False, default=0)
    copy_count = serializers.IntegerField(min_value=1, max_value=1000, required=False, default=1)
    fee_exempt_reason = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    resident_id = serializers.IntegerField(min_value=1, max_value=MAX_DB_ID, required=False, allow_null=True,
                                           default=None)
    submit_token = serializers.UUIDField(required=False, allow_null=True, default=None)

    def validate_checklist(self, value):
        if isinstance(value, list):
            value = {item: True for item in value}
        if not isinstance(value, dict) or len(value) > 100:
            raise ValidationError(_("The checklist is not valid."))
        out = {}
        for key, provided in value.items():
            try:
                pk = int(key)
            except (TypeError, ValueError):
                raise ValidationError(_("The checklist is not valid.")) from None
            if not 0 < pk <= MAX_DB_ID or not isinstance(provided, (bool, int, dict)):
                raise ValidationError(_("The checklist is not valid."))
            out[pk] = provided
        return out

    def validate_form_data(self, value):
        if not isinstance(value, dict) or len(value) > 100:
            raise ValidationError(_("The application's fields are not valid."))
        return {str(k): v for k, v in value.items() if isinstance(v, (str, int, float))}


class CompletionRequestSerializer(serializers.Serializer):
    items = serializers.ListField(child=serializers.CharField(max_length=300), min_length=1, max_length=30)
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class SupplementRequestSerializer(serializers.Serializer):
    items = serializers.ListField(child=serializers.CharField(max_length=300), min_length=1, max_length=30)
    reason = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class DossierReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000)


class DossierNoteSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=5000, required=False, allow_blank=True, default="")


class HandOverInputSerializer(serializers.Serializer):
    to_user = serializers.IntegerField(min_value=1, max_value=MAX_DB_ID, required=False, allow_null=True, default=None)
    note = serializers.CharField(max_length=5000, required=False, allow_blank=True, default="")


class ResultInputSerializer(serializers.Serializer):
    result_number = serializers.CharField(max_length=60, required=False, allow_blank=True, default="")
    data = serializers.DictField(child=serializers.CharField(max_length=5000, allow_blank=True), required=False,
                                 default=dict)


class ExtensionInputSerializer(serializers.Serializer):
    new_due_at = serializers.CharField(max_length=20, help_text=gettext_lazy("dd/mm/yyyy or dd/mm/yyyy hh:mm"))
    reason = serializers.CharField(max_length=2000)


class DossierPinSerializer(serializers.Serializer):
    pin = serializers.CharField(max_length=64, required=False, allow_blank=True, default="", trim_whitespace=False,
                                write_only=True)


class ReturnInputSerializer(serializers.Serializer):
    delivery = choice_text(Delivery.choices, max_length=10, required=False, allow_null=True, allow_blank=True,
                           default=None)


class FeePaymentInputSerializer(serializers.Serializer):
    method = serializers.ChoiceField(choices=[PaymentMethod.CASH, PaymentMethod.VIETQR])
    amount = serializers.IntegerField(min_value=1, max_value=10**9, required=False, allow_null=True, default=None)
    reference = serializers.CharField(max_length=100, required=False, allow_blank=True, allow_null=True, default=None)


class DossierFileInputSerializer(serializers.Serializer):
    file = serializers.FileField(allow_empty_file=True, use_url=False)
    requirement = serializers.IntegerField(min_value=1, max_value=MAX_DB_ID, required=False, allow_null=True,
                                           default=None)
    is_supplement = serializers.BooleanField(required=False, default=False)


class DossierSigningJobSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    state = serializers.CharField()
    done = serializers.BooleanField()
    failed = serializers.BooleanField()
    message = serializers.CharField()


class DossierLookupSerializer(serializers.Serializer):
    code = serializers.CharField(max_length=40)
    phone_last4 = serializers.RegexField(r"^[0-9]{4}$", max_length=4, error_messages={
        "invalid": gettext_lazy("Enter the last four digits of the phone number.")})


class DossierTimelineSerializer(serializers.Serializer):
    kind = serializers.CharField()
    label = serializers.CharField()
    step = serializers.CharField()
    at = serializers.DateTimeField()


class DossierStatusSerializer(serializers.Serializer):
    code = serializers.CharField()
    procedure = serializers.CharField()
    state = serializers.CharField()
    state_label = serializers.CharField()
    received_at = serializers.DateTimeField(allow_null=True)
    due_at = serializers.DateTimeField(allow_null=True)
    extended_due_at = serializers.DateTimeField(allow_null=True)
    completed_at = serializers.DateTimeField(allow_null=True)
    returned_at = serializers.DateTimeField(allow_null=True)
    current_step = serializers.CharField()
    applicant = serializers.CharField()
    fee_amount = serializers.IntegerField()
    fee_paid = serializers.BooleanField()
    timeline = DossierTimelineSerializer(many=True)


class RatingInputSerializer(serializers.Serializer):
    token = serializers.UUIDField()
    score = serializers.IntegerField(min_value=1, max_value=3)
    comment = serializers.CharField(max_length=1000, required=False, allow_blank=True, default="")


class OnestopCountsSerializer(serializers.Serializer):
    received = serializers.IntegerField()
    in_progress = serializers.IntegerField()
    overdue = serializers.IntegerField()
    completed = serializers.IntegerField()
    early = serializers.IntegerField()
    on_time = serializers.IntegerField()
    late = serializers.IntegerField()
    supplements = serializers.IntegerField()
    refusals = serializers.IntegerField()
    stopped = serializers.IntegerField()
    rated = serializers.IntegerField()
    satisfied = serializers.IntegerField()
    satisfaction_share = serializers.FloatField(allow_null=True)


class OnestopProcedureCountsSerializer(OnestopCountsSerializer):
    procedure_code = serializers.CharField()
    procedure_name = serializers.CharField()


class OnestopOfficerCountsSerializer(OnestopCountsSerializer):
    officer_id = serializers.IntegerField(allow_null=True)
    officer_name = serializers.CharField()


class OnestopStatisticsSerializer(OnestopCountsSerializer):
    date_from = serializers.DateField()
    date_to = serializers.DateField()
    by_procedure = OnestopProcedureCountsSerializer(many=True)
    by_officer = OnestopOfficerCountsSerializer(many=True)


class OnestopCommuneCountsSerializer(OnestopCountsSerializer):
    commune_code = serializers.CharField()
    commune_name = serializers.CharField()


class OnestopNationalStatisticsSerializer(serializers.Serializer):
    date_from = serializers.DateField()
    date_to = serializers.DateField()
    rows = OnestopCommuneCountsSerializer(many=True)
    totals = OnestopCountsSerializer()


class OnestopPeriodSerializer(serializers.Serializer):
    """?from=dd/mm/yyyy&to=dd/mm/yyyy (the current year to date by default)."""

    date_from = serializers.DateField(input_formats=DATE_FORMATS, required=False, allow_null=True, default=None)
    date_to = serializers.DateField(input_formats=DATE_FORMATS, required=False, allow_null=True, default=None)
    procedure = serializers.CharField(max_length=40, required=False, allow_blank=True, default="")
    officer = serializers.IntegerField(min_value=1, max_value=MAX_DB_ID, required=False, allow_null=True, default=None)

    def validate(self, attrs):
        today = timezone.localdate()
        date_to = attrs.get("date_to") or today
        date_from = attrs.get("date_from") or date_to.replace(month=1, day=1)
        if date_from > date_to:
            raise ValidationError({"to": [_("The end date is before the start date.")]})
        if (date_to - date_from).days > MAX_PERIOD_DAYS:
            raise ValidationError({"from": [_("The period can be at most ten years long.")]})
        attrs["date_from"], attrs["date_to"] = date_from, date_to
        return attrs


def period(request) -> dict:
    params = request.query_params
    serializer = OnestopPeriodSerializer(data={
        "date_from": params.get("from") or None, "date_to": params.get("to") or None,
        "procedure": params.get("procedure", ""), "officer": params.get("officer") or None,
    })
    if not serializer.is_valid():
        errors = {{"date_from": "from", "date_to": "to"}.get(k, k): v for k, v in serializer.errors.items()}
        raise ValidationError(errors)
    return serializer.validated_data


PERIOD_PARAMETERS = [
    OpenApiParameter("from", str, required=False, description=gettext_lazy("First day, dd/mm/yyyy.")),
    OpenApiParameter("to", str, required=False, description=gettext_lazy("Last day, dd/mm/yyyy.")),
    OpenApiParameter("procedure", str, required=False, description=gettext_lazy("A procedure's code.")),
    OpenApiParameter("officer", int, required=False, description=gettext_lazy("The officer who received the dossiers.")),
]


# --- view sets ---------------------------------------------------------------------------------

class OnestopViewSet(CommuneScopedMixin, viewsets.GenericViewSet):
    permission_classes = [IsAuthenticated, OnestopPermission]
    lookup_value_regex = ID_REGEX
    action_permissions: dict[str, str] = {}
    supervisor_actions: tuple[str, ...] = ()

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        _require_commune()

    def run(self, func, *, serializer_class=None, status_code=status.HTTP_200_OK, **kwargs):
        """Call a service; its refusal becomes the API's error body."""
        try:
            result = func(**kwargs)
        except DjangoValidationError as exc:
            return refusal(exc)
        if serializer_class is None:
            return Response(status=status.HTTP_204_NO_CONTENT)
        return Response(serializer_class(result, context=self.get_serializer_context()).data, status=status_code)

    def input(self, serializer_class, data=None):
        serializer = serializer_class(data=self.request.data if data is None else data)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data


# What the detail serializer reads of a dossier, fetched with it.
DETAIL_PREFETCH = ("documents", "events__from_step", "events__to_step", "forms", "payments")


def _detail_prefetch() -> tuple:
    """DETAIL_PREFETCH with the events' steps in the events' query, and the forms still being
    rendered (``pending_forms``)."""
    from django.db.models import Prefetch

    from onestop.models import DossierEvent, FormJob

    events = Prefetch("events", queryset=DossierEvent.objects.select_related("from_step", "to_step"))
    pending = Prefetch("form_jobs", queryset=FormJob.objects.filter(issued_form__isnull=True).order_by("pk"),
                       to_attr="pending_form_jobs")
    return (*(name for name in DETAIL_PREFETCH if not name.startswith("events")), events, pending)


@extend_schema_view(list=extend_schema(parameters=[
    OpenApiParameter("state", str, required=False, enum=[s for s, _l in DossierState.choices]),
    OpenApiParameter("procedure", str, required=False),
    OpenApiParameter("view", str, required=False, enum=["mine", "overdue", "due_soon"]),
    OpenApiParameter("search", str, required=False, description=gettext_lazy("Dossier code or applicant's name.")),
]))
class DossierViewSet(OnestopViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    """Dossiers of the commune (hồ sơ thủ tục hành chính) and their actions."""

    serializer_class = DossierSerializer
    parser_classes = [JSONParser, MultiPartParser, FormParser]
    http_method_names = ["get", "post", "head", "options"]
    filter_backends: list = []
    action_permissions = {
        "list": "dossier.read", "retrieve": "dossier.read", "create": "dossier.intake",
        "receive": "dossier.intake", "ask_completion": "dossier.intake", "refuse": "dossier.intake",
        "hand_over": "dossier.read", "prepare_result": "dossier.read", "request_supplement": "dossier.supplement",
        "supplement_arrived": "dossier.supplement_receive", "extend": "dossier.extend", "stop": "dossier.stop",
        "sign_leader": "result.sign_leader", "sign_agency": "result.sign_agency", "return_result": "dossier.return",
        "payments": "dossier.payment", "files": "dossier.intake", "form": "dossier.read", "document": "dossier.read",
        "result": "dossier.read", "control_sheet": "dossier.read", "pending_form": "dossier.read",
    }

    def get_serializer_class(self):
        return DossierDetailSerializer if self.action == "retrieve" else DossierSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Dossier.objects.none()
        queryset = selectors.staff_dossiers(self.request.user)
        if self.action == "list":
            params = self.request.query_params
            # A work list narrows the dossiers first; the filters below apply to it as well.
            view = params.get("view", "")
            if view == "mine":
                queryset = selectors.my_steps(self.request.user)
            elif view == "overdue":
                queryset = selectors.overdue()
            elif view == "due_soon":
                queryset = selectors.due_soon()
            state = params.get("state", "")
            if state:
                if state not in DossierState.values:
                    raise ValidationError({"state": [_("This state does not exist.")]})
                queryset = queryset.filter(state=state)
            if params.get("procedure"):
                queryset = queryset.filter(procedure__code=params["procedure"][:40])
            search = params.get("search", "").strip()[:100]
            if search:
                from django.db.models import Q

                queryset = queryset.filter(Q(code__icontains=search) | Q(applicant_name__icontains=search))
            return queryset.order_by("-received_at", "-pk")
        if self.action == "retrieve":
            return queryset.prefetch_related(*_detail_prefetch())
        return queryset

    def _log(self, obj, what: str) -> None:
        from population.services import log_access

        log_access(self.request.user, action="view", channel="api", object_type="onestop.dossier",
                   object_id=obj.pk, description=what)

    def retrieve(self, request, *args, **kwargs):
        dossier = self.get_object()
        self._log(dossier, dossier.code or "")
        return Response(DossierDetailSerializer(dossier, context=self.get_serializer_context()).data)

    def _detail(self, dossier, status_code=status.HTTP_200_OK) -> Response:
        dossier = selectors.staff_dossiers().prefetch_related(*_detail_prefetch()).filter(pk=dossier.pk).first() or dossier
        return Response(DossierDetailSerializer(dossier, context=self.get_serializer_context()).data, status=status_code)

    @extend_schema(request={"application/json": CounterIntakeSerializer, "multipart/form-data": CounterIntakeSerializer},
                   responses={201: DossierDetailSerializer, 200: DossierDetailSerializer})
    def create(self, request, *args, **kwargs):
        """Take a dossier in at the desk: receive it (form 1), ask to complete it (form 2) or
        refuse it (form 3). Scans as multipart fields ``file_<requirement id>``."""
        raw = request.data
        data = {}
        for key in CounterIntakeSerializer().fields:
            if key not in raw:
                continue
            data[key] = raw.getlist(key) if key == "missing" and hasattr(raw, "getlist") else raw.get(key)
        for key in ("checklist", "form_data"):
            if isinstance(data.get(key), str):
                try:
                    data[key] = json_loads(data[key]) if data[key].strip() else {}
                except JSONLimitError as exc:
                    raise ValidationError({key: [exc.message]}) from None
                except ValueError:
                    raise ValidationError({key: [_("This field must be JSON.")]}) from None
        values = self.input(CounterIntakeSerializer, data)
        procedure = Procedure.objects.filter(code=values["procedure"], is_current=True).first()
        if procedure is None:
            raise ValidationError({"procedure": [_("No procedure with this code.")]})
        uploads = {}
        for key in getattr(request, "FILES", {}):
            if key.startswith("file_") and key[5:].isdigit() and len(key) <= 23:
                uploads[int(key[5:])] = request.FILES.getlist(key)
            else:
                raise ValidationError({"files": [_("Send each scan as file_<requirement id>.")]})
        token = values["submit_token"]
        try:
            dossier = services.counter_intake(
                user=request.user, procedure=procedure,
                applicant={"name": values["applicant_name"], "id_number": values["applicant_id_number"],
                           "phone": values["applicant_phone"], "email": values["applicant_email"],
                           "address": values["applicant_address"]},
                checklist=values["checklist"], files=uploads, form_data=values["form_data"],
                decision=values["decision"], missing=values["missing"], reason=values["reason"],
                delivery=values["delivery"], delivery_address=values["delivery_address"],
                page_count=values["page_count"], copy_count=values["copy_count"],
                fee_exempt_reason=values["fee_exempt_reason"], resident_id=values["resident_id"], submit_token=token,
            )
        except DjangoValidationError as exc:
            return refusal(exc)
        # The answer from the dossier in hand (its procedure and step are there): only its lists
        # are read, in one query each.
        from django.db.models import prefetch_related_objects

        prefetch_related_objects([dossier], *_detail_prefetch())
        existed = getattr(dossier, "sent_before", False)  # the same submit token as an earlier intake
        return Response(DossierDetailSerializer(dossier, context=self.get_serializer_context()).data,
                        status=status.HTTP_200_OK if existed else status.HTTP_201_CREATED)

    def _act(self, func, **kwargs) -> Response:
        dossier = self.get_object()
        try:
            result = func(dossier=dossier, user=self.request.user, **kwargs)
        except DjangoValidationError as exc:
            return refusal(exc)
        return self._detail(result if isinstance(result, Dossier) else dossier)

    @extend_schema(request=None, responses=DossierDetailSerializer)
    @action(detail=True, methods=["post"])
    def receive(self, request, pk=None):
        """Receive a dossier submitted online: its code, appointment and form 1."""
        return self._act(services.receive)

    @extend_schema(request=CompletionRequestSerializer, responses=DossierDetailSerializer)
    @action(detail=True, methods=["post"], url_path="ask-completion")
    def ask_completion(self, request, pk=None):
        """Ask the applicant to complete an online dossier before receipt (form 2)."""
        data = self.input(CompletionRequestSerializer)
        return self._act(services.ask_completion, items=data["items"], note=data["note"])

    @extend_schema(request=DossierReasonSerializer, responses=DossierDetailSerializer)
    @action(detail=True, methods=["post"])
    def refuse(self, request, pk=None):
        """Refuse the dossier (form 3)."""
        data = self.input(DossierReasonSerializer)
        return self._act(services.refuse, reason=data["reason"])

    @extend_schema(request=HandOverInputSerializer, responses=DossierDetailSerializer)
    @action(detail=True, methods=["post"], url_path="hand-over")
    def hand_over(self, request, pk=None):
        """Finish the current step and hand the dossier to the next one (form 6)."""
        data = self.input(HandOverInputSerializer)
        return self._act(services.hand_over, to_user_id=data["to_user"], note=data["note"])

    @extend_schema(request=ResultInputSerializer, responses=DossierDetailSerializer)
    @action(detail=True, methods=["post"], url_path="prepare-result")
    def prepare_result(self, request, pk=None):
        data = self.input(ResultInputSerializer)
        return self._act(services.prepare_result, result_number=data["result_number"], data=data["data"])

    @extend_schema(request=SupplementRequestSerializer, responses=DossierDetailSerializer)
    @action(detail=True, methods=["post"], url_path="request-supplement")
    def request_supplement(self, request, pk=None):
        """Ask for a supplement during processing: the clock stops (form 2)."""
        data = self.input(SupplementRequestSerializer)
        return self._act(services.request_supplement, items=data["items"], reason=data["reason"])

    @extend_schema(request=DossierNoteSerializer, responses=DossierDetailSerializer)
    @action(detail=True, methods=["post"], url_path="supplement-arrived")
    def supplement_arrived(self, request, pk=None):
        data = self.input(DossierNoteSerializer)
        return self._act(services.supplement_arrived, note=data["note"])

    @extend_schema(request=ExtensionInputSerializer, responses=DossierDetailSerializer)
    @action(detail=True, methods=["post"])
    def extend(self, request, pk=None):
        """Apology and a new date (form 4)."""
        data = self.input(ExtensionInputSerializer)
        return self._act(services.extend, new_due_at=data["new_due_at"], reason=data["reason"])

    @extend_schema(request=DossierReasonSerializer, responses=DossierDetailSerializer)
    @action(detail=True, methods=["post"])
    def stop(self, request, pk=None):
        """Stop the processing (form 5)."""
        data = self.input(DossierReasonSerializer)
        return self._act(services.stop, reason=data["reason"])

    def _sign(self, func) -> Response:
        from signatures.services import job_status

        data = self.input(DossierPinSerializer)
        dossier = self.get_object()
        try:
            job = func(dossier=dossier, user=self.request.user, pin=data["pin"])
        except DjangoValidationError as exc:
            return refusal(exc)
        return Response(DossierSigningJobSerializer(job_status(job)).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(request=DossierPinSerializer, responses={202: DossierSigningJobSerializer})
    @action(detail=True, methods=["post"], url_path="sign-leader",
            permission_classes=[IsAuthenticated, OnestopPermission, SecondFactorVerified])
    def sign_leader(self, request, pk=None):
        """The leader's personal signature on the result (a signing job)."""
        return self._sign(services.sign_result_leader)

    @extend_schema(request=DossierPinSerializer, responses={202: DossierSigningJobSerializer})
    @action(detail=True, methods=["post"], url_path="sign-agency",
            permission_classes=[IsAuthenticated, OnestopPermission, SecondFactorVerified])
    def sign_agency(self, request, pk=None):
        """The agency's signature (the clerk) on the leader's signed result."""
        return self._sign(services.sign_result_agency)

    @extend_schema(request=ReturnInputSerializer, responses=DossierDetailSerializer)
    @action(detail=True, methods=["post"], url_path="return")
    def return_result(self, request, pk=None):
        data = self.input(ReturnInputSerializer)
        return self._act(services.return_result, delivery=data["delivery"])

    @extend_schema(request=FeePaymentInputSerializer, responses={201: FeePaymentSerializer})
    @action(detail=True, methods=["post"])
    def payments(self, request, pk=None):
        """Record the fee paid at the desk (a fee receipt is issued)."""
        data = self.input(FeePaymentInputSerializer)
        dossier = self.get_object()
        try:
            payment = services.record_payment(dossier=dossier, user=request.user, method=data["method"],
                                              amount=data["amount"], reference=data["reference"])
        except DjangoValidationError as exc:
            return refusal(exc)
        return Response(FeePaymentSerializer(payment).data, status=status.HTTP_201_CREATED)

    @extend_schema(request={"multipart/form-data": DossierFileInputSerializer}, responses={201: DossierDocumentSerializer})
    @action(detail=True, methods=["post"], parser_classes=[MultiPartParser, FormParser])
    def files(self, request, pk=None):
        """Attach a scan (PDF, JPEG or PNG, checked by content)."""
        data = self.input(DossierFileInputSerializer)
        dossier = self.get_object()
        try:
            document = services.add_file(dossier=dossier, user=request.user, requirement_id=data["requirement"],
                                         upload=data["file"], is_supplement=data["is_supplement"])
        except DjangoValidationError as exc:
            return refusal(exc)
        return Response(DossierDocumentSerializer(document).data, status=status.HTTP_201_CREATED)

    def _file(self, name: str, filename: str, content_type: str = dossier_files.PDF) -> FileResponse:
        if not dossier_files.exists(name):
            raise NotFound(_("There is no file."))
        return FileResponse(dossier_files.open_file(name), content_type=content_type or "application/octet-stream",
                            as_attachment=True, filename=filename)

    @extend_schema(responses=PDF_RESPONSE)
    @action(detail=True, methods=["get"], url_path=rf"forms/(?P<form_id>{ID_REGEX})")
    def form(self, request, pk=None, form_id=None):
        """An issued form (PDF), as the citizen received it."""
        dossier = self.get_object()
        issued = dossier.forms.filter(pk=int(form_id)).first() if int(form_id) <= MAX_DB_ID else None
        if issued is None:
            raise NotFound(_("There is no such form."))
        self._log(dossier, f"form {issued.kind}")
        return self._file(issued.file, f"{dossier.code or dossier.pk}-mau-{issued.kind}.pdf")

    @extend_schema(responses={**PDF_RESPONSE, 202: PendingFormSerializer})
    @action(detail=True, methods=["get"], url_path=rf"pending-forms/(?P<job_id>{ID_REGEX})", url_name="pending-form")
    def pending_form(self, request, pk=None, job_id=None):
        """A form that the intake queued (form 1): the PDF once it is ready; rendered in this
        request when no worker has taken it yet; 202 with its state while a worker renders it;
        409 when rendering failed."""
        from onestop.models import FormJob

        dossier = self.get_object()
        job = FormJob.objects.filter(dossier=dossier, pk=int(job_id)).first() if int(job_id) <= MAX_DB_ID else None
        if job is None:
            raise NotFound(_("There is no such form."))
        issued = services.form_now(job)
        if issued is None:
            job.refresh_from_db()
            body = PendingFormSerializer(job, context=self.get_serializer_context()).data
            if job.state == job.State.FAILED:
                return Response({"code": "form_failed", "detail": _("The form could not be rendered: %(error)s")
                                 % {"error": job.error}, "fields": {}, "job": body}, status=status.HTTP_409_CONFLICT)
            return Response(body, status=status.HTTP_202_ACCEPTED, headers={"Retry-After": "1"})
        self._log(dossier, f"form {issued.kind}")
        return self._file(issued.file, f"{dossier.code or dossier.pk}-mau-{issued.kind}.pdf")

    @extend_schema(responses=FILE_RESPONSE)
    @action(detail=True, methods=["get"], url_path=rf"documents/(?P<document_id>{ID_REGEX})")
    def document(self, request, pk=None, document_id=None):
        """A document of the dossier (the scan or upload)."""
        dossier = self.get_object()
        document = dossier.documents.filter(pk=int(document_id)).exclude(file="").first() \
            if int(document_id) <= MAX_DB_ID else None
        if document is None:
            raise NotFound(_("There is no file."))
        self._log(dossier, f"document {document.pk}")
        extension = dossier_files.EXTENSIONS.get(document.content_type, "bin")
        return self._file(document.file, f"{dossier.code or dossier.pk}-{document.pk}.{extension}", document.content_type)

    @extend_schema(responses=PDF_RESPONSE)
    @action(detail=True, methods=["get"])
    def result(self, request, pk=None):
        """The result: signed by the leader and the agency when it is; else the latest stage."""
        dossier = self.get_object()
        name = dossier.signed_result or dossier.leader_signed_pdf or dossier.result_pdf
        if not name:
            raise NotFound(_("There is no file."))
        return self._file(name, f"{dossier.code or dossier.pk}-ket-qua.pdf")

    @extend_schema(responses=PDF_RESPONSE)
    @action(detail=True, methods=["get"], url_path="control-sheet")
    def control_sheet(self, request, pk=None):
        """Form 6, the control sheet, as it stands now."""
        from django.http import HttpResponse

        from onestop import pdf

        dossier = self.get_object()
        if not dossier.code:
            raise NotFound(_("The dossier has not been received."))
        data = pdf.render_form(FormKind.CONTROL, dossier, officer=request.user)
        response = HttpResponse(data, content_type=dossier_files.PDF)
        response["Content-Disposition"] = f'attachment; filename="{dossier.code}-mau-6.pdf"'
        return response


class StatisticsView(CommuneScopedMixin, APIView):
    """The desk's figures for a period (received, in progress, early, on time, late …).

    On the national host (``/api/v1/communes/{code}/onestop/statistics/``) for the staff of a
    supervising unit above the commune."""

    permission_classes = [IsAuthenticated, OnestopPermission]
    action_permissions = {"get": "statistics.read"}
    supervisor_actions = ("get",)

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        _require_commune()

    @extend_schema(parameters=PERIOD_PARAMETERS, responses=OnestopStatisticsSerializer)
    def get(self, request, *args, **kwargs):
        values = period(request)
        figures = statistics.compute(values["date_from"], values["date_to"], procedure_code=values["procedure"] or None,
                                     officer_id=values["officer"])
        return Response(OnestopStatisticsSerializer(figures).data)


class ProcedureViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The procedures the commune offers now (public)."""

    permission_classes = [AllowAny]
    lookup_field = "code"
    lookup_value_regex = r"[A-Za-z0-9._-]{1,40}"
    filter_backends: list = []
    pagination_class = None

    def initial(self, request, *args, **kwargs):
        if "commune_code" in self.kwargs:  # the national host: the public catalogue is on the commune's host
            raise NotFound(_("Not found."))
        super().initial(request, *args, **kwargs)
        _require_commune()

    def get_serializer_class(self):
        return ProcedureDetailSerializer if self.action == "retrieve" else ProcedureSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Procedure.objects.none()
        queryset = Procedure.objects.filter(is_current=True).select_related("sector")
        if self.action == "retrieve":
            queryset = queryset.prefetch_related("requirements", "steps")
        return queryset.order_by("sector__order", "code")


class PublicAPIView(APIView):
    """A public endpoint of a commune host: no session, and nothing on the national host."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    def initial(self, request, *args, **kwargs):
        if "commune_code" in self.kwargs:
            raise NotFound(_("Not found."))
        super().initial(request, *args, **kwargs)
        _require_commune()


class BankNotificationView(PublicAPIView):
    """The bank's payment notification: JSON signed with HMAC-SHA256 (``X-Xaso-Signature``).
    A replayed transaction answers ``{"status": "duplicate"}`` and records nothing."""

    parser_classes: list = []

    @extend_schema(request={"application/json": OpenApiTypes.OBJECT}, responses={200: OpenApiTypes.OBJECT},
                   parameters=[OpenApiParameter("X-Xaso-Signature", str, location=OpenApiParameter.HEADER,
                                                required=True)])
    def post(self, request, *args, **kwargs):
        from onestop.payments import handle_bank_notification

        raw = request._request.body
        status_code, body = handle_bank_notification(raw, request.headers.get("X-Xaso-Signature", ""))
        return Response(body, status=status_code)


class LookupView(PublicAPIView):
    """The status of a dossier by its code and the last four digits of the applicant's phone.
    An unknown code and a wrong phone get the same 404.

    The common request (a small JSON object with the two fields, valid, answered in JSON) takes a
    lean path (``_lean``) that gives the same answer, byte for byte, without DRF's request,
    serializers and negotiation, which cost a lookup more than its statements (bench/README.md,
    one-stop); any other request goes through DRF (``post``)."""

    throttle_classes = [LookupThrottle]

    def dispatch(self, request, *args, **kwargs):
        lean = None if kwargs or current_commune() is None else _lean_lookup_input(request)
        if lean is None:
            return super().dispatch(request, *args, **kwargs)
        return self._lean(request, *lean)

    def _lean(self, request, code: str, phone_last4: str):
        """The address's count (``LookupThrottle``), the lookup and the answer, as ``post`` does."""
        from rest_framework.renderers import JSONRenderer

        from core.api import exception_handler

        self.request, self.args, self.kwargs, self.headers = request, (), {}, self.default_response_headers
        try:
            try:
                # The address's count (LookupThrottle's) goes with the code's, in one statement.
                dossier = selectors.lookup(code, phone_last4, address=client_ip(request) or "unknown",
                                           count_address=True)
            except selectors.LookupRefused as refused:
                if refused.per_address:  # as DRF's Throttled for LookupThrottle
                    raise Throttled(wait=refused.decision.retry_after) from None
                raise Throttled(wait=refused.decision.retry_after,
                                detail=message_for_wait(refused.decision.retry_after)) from None
            except DatabaseError:
                raise LookupUnavailable from None
            if dossier is None:
                raise NotFound(_("No dossier matches this code and phone number."))
            response = Response(_status_data(selectors.public_status(dossier)))
        except APIException as exc:
            response = exception_handler(exc, {"view": self, "request": request})
        response.accepted_renderer = JSONRenderer()
        response.accepted_media_type = "application/json"
        response.renderer_context = {}
        for key, value in self.headers.items():
            if key == "Vary":
                from django.utils.cache import patch_vary_headers

                patch_vary_headers(response, [value])
            else:
                response[key] = value
        return response.render()

    @extend_schema(request=DossierLookupSerializer, responses={200: DossierStatusSerializer})
    def post(self, request, *args, **kwargs):
        serializer = DossierLookupSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            dossier = selectors.lookup(serializer.validated_data["code"], serializer.validated_data["phone_last4"],
                                       address=client_ip(request))
        except selectors.LookupRefused as refused:
            raise Throttled(wait=refused.decision.retry_after,
                            detail=message_for_wait(refused.decision.retry_after)) from None
        except DatabaseError:
            raise LookupUnavailable from None
        if dossier is None:
            raise NotFound(_("No dossier matches this code and phone number."))
        return Response(DossierStatusSerializer(selectors.public_status(dossier)).data)


_LEAN_MEDIA_TYPES = {"application/json", "application/json; charset=utf-8", "application/json;charset=utf-8"}
_LEAN_ACCEPT = {"", "*/*", "application/json"}
_LEAN_MAX_BYTES = 1024
_PHONE_LAST4 = re.compile(r"[0-9]{4}")


def _lean_lookup_input(request) -> tuple[str, str] | None:
    """(code, phone_last4) of a lookup that ``DossierLookupSerializer`` would take as they are,
    sent as a small JSON object that DRF would parse and answer in JSON; None for anything else
    (DRF then answers it: a refusal, another format, a larger body)."""
    meta = request.META
    if request.method != "POST" or request.GET:
        return None
    if meta.get("CONTENT_TYPE", "").strip().lower() not in _LEAN_MEDIA_TYPES:
        return None
    if meta.get("HTTP_ACCEPT", "").strip() not in _LEAN_ACCEPT:
        return None
    try:
        length = int(meta.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return None
    if not 0 < length <= _LEAN_MAX_BYTES:
        return None
    try:
        data = json_loads(request.body.decode("utf-8"))
    except (ValueError, JSONLimitError):
        return None
    if not isinstance(data, dict) or data.keys() != {"code", "phone_last4"}:
        return None
    code, phone = data["code"], data["phone_last4"]
    if not isinstance(code, str) or not isinstance(phone, str):
        return None
    code, phone = code.strip(), phone.strip()
    if not code or len(code) > 40 or not _PHONE_LAST4.fullmatch(phone):
        return None
    return code, phone


def _api_datetime(value):
    """A datetime as ``serializers.DateTimeField`` writes it: in the current time zone, ISO 8601."""
    if value is None:
        return None
    zone = timezone.get_current_timezone()
    value = value.astimezone(zone) if timezone.is_aware(value) else timezone.make_aware(value, zone)
    text = value.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def _status_data(status_: dict) -> dict:
    """``DossierStatusSerializer(status_).data`` without the serializer (the same values)."""
    when = _api_datetime
    return {
        "code": str(status_["code"]),
        "procedure": str(status_["procedure"]),
        "state": str(status_["state"]),
        "state_label": str(status_["state_label"]),
        "received_at": when(status_["received_at"]),
        "due_at": when(status_["due_at"]),
        "extended_due_at": when(status_["extended_due_at"]),
        "completed_at": when(status_["completed_at"]),
        "returned_at": when(status_["returned_at"]),
        "current_step": str(status_["current_step"]),
        "applicant": str(status_["applicant"]),
        "fee_amount": int(status_["fee_amount"]),
        "fee_paid": bool(status_["fee_paid"]),
        "timeline": [{"kind": str(row["kind"]), "label": str(row["label"]), "step": str(row["step"]),
                      "at": when(row["at"])} for row in status_["timeline"]],
    }


class RatingView(PublicAPIView):
    """The applicant's rating of the service (once per dossier), by the token of the rating link."""

    @extend_schema(request=RatingInputSerializer, responses={201: OpenApiTypes.OBJECT})
    def post(self, request, *args, **kwargs):
        serializer = RatingInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            rating = services.rate(token=data["token"], score=data["score"], comment=data["comment"])
        except DjangoValidationError as exc:
            return refusal(exc)
        return Response({"score": rating.score, "created_at": rating.created_at}, status=status.HTTP_201_CREATED)
