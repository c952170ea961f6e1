"""REST API of official documents.

On a commune host under ``/api/v1/documents/``: incoming and outgoing documents (lists,
details, creation, editing where the state allows it), their actions as POST endpoints, the
registers as JSON, PDF and .xlsx, the settings. Who may call what is decided in
``documents.permissions`` (``ApiPermission`` and the services' object rules).

On the national host, under ``/api/v1/communes/{commune_code}/documents/``, supervising-unit
staff read the registers and exchange documents with the communes of their unit:
``exchange/to-unit/`` (what the commune sent to the unit, its file, the acknowledgement) and
``exchange/from-unit/`` (what the unit sent to the commune; POST sends a new one). A commune
outside their unit answers 404.
"""
from __future__ import annotations

import uuid

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import FileResponse, HttpResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from communes.models import SupervisingUnit
from communes.second_factor import SecondFactorVerified
from core.api import CommuneScopedMixin, refusal_response
from core.parsers import JSONParser
from documents import exchange, files, numbering, registers, selectors, services
from documents.models import (
    AuthorityPrefix, Confidentiality, DeliveryState, DocumentNotice, DocumentType, IncomingDocument, IncomingState,
    NumberingPolicy, OutgoingDocument, OutgoingRecipient, OutgoingState, SigningAuthority, Urgency,
)
from documents.permissions import ApiPermission
from documents.text import clean_text

MAX_DB_ID = 2**63 - 1
ID_REGEX = r"[0-9]{1,18}"
# Day first, as on the pages: "03/04/2026 08:30" is 3 April.
DATETIME_INPUT_FORMATS = ["%d/%m/%Y %H:%M", "%d/%m/%Y %H:%M:%S", "iso-8601"]
PDF_RESPONSE = {(200, "application/pdf"): OpenApiResponse(OpenApiTypes.BINARY, description=gettext_lazy("A PDF file"))}
XLSX_RESPONSE = {(200, registers.XLSX_CONTENT_TYPE): OpenApiResponse(OpenApiTypes.BINARY, description=gettext_lazy("An .xlsx file"))}


def refusal(exc: DjangoValidationError) -> Response:
    """A service's refusal as the API's error body; state conflicts answer 409."""
    return refusal_response(exc, conflict_codes=services.CONFLICT_CODES)


def pdf_file(name: str, filename: str) -> FileResponse:
    if not name or not files.exists(name):
        raise NotFound(_("There is no file."))
    return FileResponse(files.open_file(name), content_type=files.PDF_CONTENT_TYPE,
                        as_attachment=True, filename=filename)


def upload_field(**kwargs):
    return serializers.FileField(required=False, allow_empty_file=False, use_url=False, write_only=True, **kwargs)


# --- serializers: input of actions ----------------------------------------------------------------

class PinSerializer(serializers.Serializer):
    pin = serializers.CharField(max_length=64, required=False, allow_blank=True, default="", trim_whitespace=False,
                                write_only=True)


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=500)


class NoteSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=5000, required=False, allow_blank=True, default="")


class RequiredNoteSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=5000)


class TextSerializer(serializers.Serializer):
    text = serializers.CharField(max_length=5000)


class UserRefSerializer(serializers.Serializer):
    user = serializers.IntegerField(min_value=1, max_value=MAX_DB_ID)


class PresentSerializer(serializers.Serializer):
    leader = serializers.IntegerField(min_value=1, max_value=MAX_DB_ID)


class AssignSerializer(serializers.Serializer):
    lead_handler = serializers.IntegerField(min_value=1, max_value=MAX_DB_ID)
    co_handlers = serializers.ListField(child=serializers.IntegerField(min_value=1, max_value=MAX_DB_ID),
                                        required=False, default=list, max_length=20)
    working_days = serializers.IntegerField(min_value=0, max_value=365, required=False, allow_null=True, default=None)
    deadline = serializers.DateField(required=False, allow_null=True, default=None)
    instruction = serializers.CharField(max_length=5000, required=False, allow_blank=True, default="")


class ForwardSerializer(serializers.Serializer):
    to_user = serializers.IntegerField(min_value=1, max_value=MAX_DB_ID)
    text = serializers.CharField(max_length=5000, required=False, allow_blank=True, default="")


class DispatchSerializer(serializers.Serializer):
    day = serializers.DateField(required=False, allow_null=True, default=None)
    note = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class ArchiveSerializer(serializers.Serializer):
    retention_years = serializers.IntegerField(min_value=0, max_value=100)
    archive_code = serializers.CharField(max_length=60, required=False, allow_blank=True, default="")


class BoxSerializer(serializers.Serializer):
    page = serializers.IntegerField(min_value=0, max_value=2000)
    box = serializers.ListField(child=serializers.FloatField(min_value=0, max_value=2000), min_length=4, max_length=4)


class LayoutSerializer(serializers.Serializer):
    number = BoxSerializer(required=False)
    date = BoxSerializer(required=False)
    signature = BoxSerializer(required=False)


class DraftUploadSerializer(serializers.Serializer):
    file = serializers.FileField(allow_empty_file=False, use_url=False)
    layout = serializers.JSONField(required=False, help_text=gettext_lazy(
        'Field positions: {"number": {"page": 0, "box": [x1, y1, x2, y2]}, "date": {…}, "signature": {…}} in points.'))

    def validate_layout(self, value):
        if value in (None, ""):
            return None
        serializer = LayoutSerializer(data=value)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data


class AttachmentUploadSerializer(serializers.Serializer):
    file = serializers.FileField(allow_empty_file=False, use_url=False)
    title = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")


class RegisterQuerySerializer(serializers.Serializer):
    date_from = serializers.DateField(required=False, allow_null=True, default=None)
    date_to = serializers.DateField(required=False, allow_null=True, default=None)
    secret = serializers.BooleanField(required=False, default=False)
    q = serializers.CharField(required=False, allow_blank=True, max_length=100, default="")

    def validate(self, attrs):
        if attrs["date_from"] and attrs["date_to"] and attrs["date_from"] > attrs["date_to"]:
            raise ValidationError({"date_to": [_("The end date is before the start date.")]})
        return attrs


# --- serializers: documents -----------------------------------------------------------------------

def choice_text(choices, **kwargs):
    """A string field listing its values in the help text. (Enums named "state" and "kind" are
    used by several apps with different values; plain strings keep the schema's names stable.)"""
    return serializers.CharField(help_text="One of: " + ", ".join(str(value) for value, _label in choices), **kwargs)


class DocumentTypeSerializer(serializers.ModelSerializer):
    kind = choice_text(DocumentType.Kind.choices, read_only=True)

    class Meta:
        model = DocumentType
        fields = ["id", "code", "name", "abbreviation", "kind", "version", "valid_from", "active"]


class EventSerializer(serializers.Serializer):
    kind = serializers.CharField()
    user = serializers.IntegerField(source="user_id", allow_null=True)
    user_name = serializers.CharField()
    to_user = serializers.IntegerField(source="to_user_id", allow_null=True)
    text = serializers.CharField()
    at = serializers.DateTimeField()


class IncomingSerializer(serializers.ModelSerializer):
    arrived_at = serializers.DateTimeField(input_formats=DATETIME_INPUT_FORMATS, help_text=gettext_lazy(
        "dd/mm/yyyy hh:mm (Vietnam time) or ISO 8601."))
    doc_type = serializers.PrimaryKeyRelatedField(queryset=DocumentType.objects.filter(active=True), required=False,
                                                  allow_null=True)
    scan = upload_field(help_text=gettext_lazy("The scanned PDF (multipart)."))
    state = choice_text(IncomingState.choices, read_only=True)
    has_scan = serializers.SerializerMethodField()
    attachments = serializers.SerializerMethodField()
    is_overdue = serializers.SerializerMethodField()
    presented_to = serializers.IntegerField(source="presented_to_id", read_only=True)
    lead_handler = serializers.IntegerField(source="lead_handler_id", read_only=True)
    co_handlers = serializers.ListField(source="co_handler_ids", child=serializers.IntegerField(), read_only=True)

    class Meta:
        model = IncomingDocument
        fields = [
            "id", "state", "source", "arrived_at", "incoming_number", "incoming_year", "sender_org",
            "original_number_symbol", "document_date", "doc_type", "type_name", "subject", "urgency",
            "confidentiality", "sender_due_date", "note", "scan", "has_scan", "attachments", "presented_to",
            "presented_at", "lead_handler", "co_handlers", "instruction", "handling_days", "deadline", "is_overdue",
            "assigned_at", "started_at", "completed_at", "completion_note", "return_reason", "created_at",
        ]
        read_only_fields = [
            "state", "incoming_number", "incoming_year", "type_name", "presented_at", "instruction", "handling_days",
            "deadline", "assigned_at", "started_at", "completed_at", "completion_note", "return_reason", "created_at",
        ]
        extra_kwargs = {"urgency": {"default": Urgency.NORMAL}, "confidentiality": {"default": Confidentiality.NONE}}

    def get_has_scan(self, obj) -> bool:
        return bool(obj.scan) and not obj.is_secret

    def get_attachments(self, obj) -> list[dict]:
        if obj.is_secret:
            return []
        return [{"id": a.pk, "title": a.title} for a in obj.attachments.all()]

    def get_is_overdue(self, obj) -> bool:
        from django.utils import timezone

        return bool(obj.is_open and obj.deadline and obj.deadline < timezone.now())

    def validate(self, attrs):
        if attrs.get("confidentiality", Confidentiality.NONE) != Confidentiality.NONE and attrs.get("scan"):
            raise ValidationError({"scan": [_("A secret document cannot have files in the portal.")]})
        return attrs

    def create(self, validated_data):
        scan = validated_data.pop("scan", None)
        return services.register_incoming(IncomingDocument(**validated_data), user=self.context["request"].user, scan=scan)

    def update(self, instance, validated_data):
        scan = validated_data.pop("scan", None)
        for key, value in validated_data.items():
            setattr(instance, key, value)
        return services.update_incoming(instance, user=self.context["request"].user, scan=scan)


class IncomingDetailSerializer(IncomingSerializer):
    events = EventSerializer(many=True, read_only=True)

    class Meta(IncomingSerializer.Meta):
        fields = IncomingSerializer.Meta.fields + ["events"]


class RecipientInputSerializer(serializers.Serializer):
    kind = choice_text(OutgoingRecipient.Kind.choices)
    code = serializers.CharField(max_length=10)

    def validate_kind(self, value):
        if value not in OutgoingRecipient.Kind.values:
            raise ValidationError(_("An electronic recipient is a commune or a supervising unit."))
        return value


class RecipientSerializer(serializers.ModelSerializer):
    state = choice_text(DeliveryState.choices, read_only=True)

    class Meta:
        model = OutgoingRecipient
        fields = ["kind", "code", "name", "state", "sent_at", "received_at", "arrival_number", "returned_at",
                  "return_reason"]


# What a secret document never shows (Law 29/2018/QH14): only its register line leaves the database.
SECRET_HIDDEN = ("body", "attachments", "files", "electronic_recipients", "layout")


class OutgoingSerializer(serializers.ModelSerializer):
    state = choice_text(OutgoingState.choices, read_only=True)
    doc_type = serializers.PrimaryKeyRelatedField(queryset=DocumentType.objects.filter(active=True))
    authority = serializers.PrimaryKeyRelatedField(queryset=SigningAuthority.objects.all(), required=False,
                                                   allow_null=True)
    electronic_recipients = RecipientInputSerializer(many=True, required=False, write_only=True, max_length=50)
    recipients = serializers.SerializerMethodField()
    attachments = serializers.SerializerMethodField()
    files = serializers.SerializerMethodField()
    number_line = serializers.SerializerMethodField()
    date_line = serializers.SerializerMethodField()

    class Meta:
        model = OutgoingDocument
        fields = [
            "id", "state", "doc_type", "subject", "body", "recipients_text", "drafting_unit", "urgency",
            "confidentiality", "authority", "signer_name", "authority_lines", "number", "number_year",
            "number_symbol", "number_line", "issued_on", "place_name", "date_line", "reply_due", "copies_count",
            "archive_holder", "dispatched_on", "note", "retention_years", "archive_code", "review_note",
            "withdrawn_reason", "electronic_recipients", "recipients", "attachments", "files", "layout",
            "draft_source", "created_at", "updated_at",
        ]
        read_only_fields = [
            "state", "signer_name", "authority_lines", "number", "number_year", "number_symbol", "issued_on",
            "place_name", "dispatched_on", "retention_years", "archive_code", "review_note", "withdrawn_reason",
            "layout", "draft_source", "created_at", "updated_at",
        ]
        extra_kwargs = {
            "body": {"max_length": services.MAX_BODY},
            "urgency": {"default": Urgency.NORMAL},
            "confidentiality": {"default": Confidentiality.NONE},
        }

    def get_recipients(self, obj) -> list[dict]:
        return RecipientSerializer(obj.electronic_recipients.all(), many=True).data

    def get_attachments(self, obj) -> list[dict]:
        return [{"id": a.pk, "title": a.title, "signed": bool(a.signed_file)} for a in obj.attachments.all()]

    def get_files(self, obj) -> dict:
        return {"draft": bool(obj.draft_pdf), "leader_signed": bool(obj.leader_signed_pdf),
                "numbered": bool(obj.numbered_pdf), "issued": bool(obj.issued_pdf)}

    def get_number_line(self, obj) -> str:
        return numbering.number_line(obj.number_symbol) if obj.number_symbol else ""

    def get_date_line(self, obj) -> str:
        return numbering.date_line(obj.place_name, obj.issued_on) if obj.issued_on else ""

    def validate(self, attrs):
        secret = attrs.get("confidentiality", getattr(self.instance, "confidentiality", Confidentiality.NONE))
        if secret != Confidentiality.NONE:
            if (attrs.get("body") or "").strip():
                raise ValidationError({"body": [_("A secret document is registered without its content: leave the body empty.")]})
            if attrs.get("electronic_recipients"):
                raise ValidationError({"electronic_recipients": [_("A secret document never leaves the commune electronically.")]})
        return attrs

    def to_representation(self, instance):
        data = super().to_representation(instance)
        if instance.is_secret:
            for key in SECRET_HIDDEN:
                data.pop(key, None)
            data["recipients"] = []
        return data

    def _save(self, instance, validated_data):
        recipients = validated_data.pop("electronic_recipients", None)
        for key, value in validated_data.items():
            setattr(instance, key, value)
        return services.save_draft(instance, user=self.context["request"].user, electronic_recipients=recipients)

    def create(self, validated_data):
        return self._save(OutgoingDocument(), validated_data)

    def update(self, instance, validated_data):
        return self._save(instance, validated_data)


# --- view sets ----------------------------------------------------------------------------------

# Signing with a session needs a login confirmed by the second factor (tokens are outside it).
SIGNING_PERMISSIONS = [IsAuthenticated, ApiPermission, SecondFactorVerified]


class DocumentsViewSet(CommuneScopedMixin, viewsets.GenericViewSet):
    permission_classes = [IsAuthenticated, ApiPermission]
    lookup_value_regex = ID_REGEX
    action_permissions: dict[str, str] = {}
    supervisor_actions: tuple[str, ...] = ()

    def run(self, func, *args, serializer_class=None, **kwargs):
        """Call a service; its refusal becomes the API's error body."""
        try:
            result = func(*args, **kwargs)
        except DjangoValidationError as exc:
            return refusal(exc)
        if serializer_class is None:
            return Response(status=status.HTTP_204_NO_CONTENT)
        return Response(serializer_class(result, context=self.get_serializer_context()).data)

    def input(self, serializer_class):
        serializer = serializer_class(data=self.request.data)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data


class DocumentTypeViewSet(DocumentsViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    """The catalogue of document types (Decree 30/2020/NĐ-CP) as data."""

    serializer_class = DocumentTypeSerializer
    queryset = DocumentType.objects.order_by("kind", "name")
    action_permissions = {"list": "module.open", "retrieve": "module.open"}
    pagination_class = None


SEARCH_PARAMETER = OpenApiParameter(
    "search", str, required=False, description=gettext_lazy("Number, symbol, subject or sender; accents optional."))


@extend_schema_view(list=extend_schema(parameters=[
    SEARCH_PARAMETER,
    OpenApiParameter("sender", str, required=False, description=gettext_lazy("The sender, accents optional.")),
    OpenApiParameter("view", str, required=False, enum=["overdue", "due_soon"]),
]))
class IncomingViewSet(DocumentsViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                      mixins.UpdateModelMixin):
    """Incoming documents (văn bản đến). Create = register with the next incoming number."""

    parser_classes = [JSONParser, MultiPartParser, FormParser]
    http_method_names = ["get", "post", "patch", "head", "options"]
    action_permissions = {
        "list": "incoming.read", "retrieve": "incoming.read", "create": "incoming.register",
        "partial_update": "incoming.edit", "register": "incoming.register", "return_to_sender": "incoming.return",
        "present": "incoming.present", "assign": "incoming.assign", "start": "incoming.handle",
        "notes": "incoming.note", "forward": "incoming.handle", "complete": "incoming.handle",
        "scan": "incoming.read",
    }
    ordering_fields = ["arrived_at", "incoming_number", "deadline"]
    filterset_fields = ["state", "source", "urgency"]

    def get_serializer_class(self):
        return IncomingDetailSerializer if self.action == "retrieve" else IncomingSerializer

    def get_queryset(self):
        params = self.request.query_params
        view = params.get("view", "")
        return selectors.incoming_documents(
            self.request.user, q=params.get("search", ""), sender=params.get("sender", "")[:100],
            overdue_only=view == "overdue",
            due_soon_days=numbering.get_policy().due_soon_days if view == "due_soon" else None,
        ).prefetch_related("attachments")

    @extend_schema(request=PresentSerializer, responses=IncomingSerializer)
    @action(detail=True, methods=["post"])
    def present(self, request, pk=None):
        data = self.input(PresentSerializer)
        return self.run(services.present, self.get_object(), user=request.user, leader_id=data["leader"],
                        serializer_class=IncomingSerializer)

    @extend_schema(request=AssignSerializer, responses=IncomingSerializer)
    @action(detail=True, methods=["post"])
    def assign(self, request, pk=None):
        data = self.input(AssignSerializer)
        return self.run(services.assign, self.get_object(), user=request.user, lead_handler_id=data["lead_handler"],
                        co_handler_ids=data["co_handlers"], working_days=data["working_days"],
                        deadline=data["deadline"], instruction=data["instruction"], serializer_class=IncomingSerializer)

    @extend_schema(request=None, responses=IncomingSerializer)
    @action(detail=True, methods=["post"])
    def register(self, request, pk=None):
        """Register an electronic document waiting in the inbox (the sender is told)."""
        return self.run(services.register_received, self.get_object(), user=request.user,
                        serializer_class=IncomingSerializer)

    @extend_schema(request=ReasonSerializer, responses=IncomingSerializer)
    @action(detail=True, methods=["post"], url_path="return")
    def return_to_sender(self, request, pk=None):
        data = self.input(ReasonSerializer)
        return self.run(services.return_to_sender, self.get_object(), user=request.user, reason=data["reason"],
                        serializer_class=IncomingSerializer)

    @extend_schema(request=None, responses=IncomingSerializer)
    @action(detail=True, methods=["post"])
    def start(self, request, pk=None):
        return self.run(services.start, self.get_object(), user=request.user, serializer_class=IncomingSerializer)

    @extend_schema(request=TextSerializer, responses={204: None})
    @action(detail=True, methods=["post"])
    def notes(self, request, pk=None):
        data = self.input(TextSerializer)
        return self.run(services.add_note, self.get_object(), user=request.user, text=data["text"])

    @extend_schema(request=ForwardSerializer, responses=IncomingSerializer)
    @action(detail=True, methods=["post"])
    def forward(self, request, pk=None):
        data = self.input(ForwardSerializer)
        return self.run(services.forward, self.get_object(), user=request.user, to_user_id=data["to_user"],
                        text=data["text"], serializer_class=IncomingSerializer)

    @extend_schema(request=RequiredNoteSerializer, responses=IncomingSerializer)
    @action(detail=True, methods=["post"])
    def complete(self, request, pk=None):
        data = self.input(RequiredNoteSerializer)
        return self.run(services.complete, self.get_object(), user=request.user, note=data["note"],
                        serializer_class=IncomingSerializer)

    @extend_schema(responses=PDF_RESPONSE)
    @action(detail=True, methods=["get"])
    def scan(self, request, pk=None):
        doc = self.get_object()
        if doc.is_secret:
            raise NotFound(_("There is no file."))
        return pdf_file(doc.scan, f"van-ban-den-{doc.pk}.pdf")

    def perform_create(self, serializer):
        try:
            serializer.save()
        except DjangoValidationError as exc:
            raise ValidationError(exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages})

    perform_update = perform_create


@extend_schema_view(list=extend_schema(parameters=[SEARCH_PARAMETER]))
class OutgoingViewSet(DocumentsViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                      mixins.UpdateModelMixin):
    """Outgoing documents (văn bản đi): drafts, review, signatures, issuing, dispatch, filing."""

    serializer_class = OutgoingSerializer
    parser_classes = [JSONParser, MultiPartParser, FormParser]
    http_method_names = ["get", "post", "patch", "head", "options"]
    action_permissions = {
        "list": "outgoing.read", "retrieve": "outgoing.read", "create": "outgoing.draft",
        "partial_update": "outgoing.draft", "draft_pdf": "outgoing.draft", "attachments": "outgoing.draft",
        "submit": "outgoing.draft", "approve": "outgoing.review", "return_draft": "outgoing.review",
        "sign": "outgoing.sign", "issue": "outgoing.issue", "agency_sign": "outgoing.issue",
        "dispatch_document": "outgoing.dispatch", "archive": "outgoing.file", "withdraw": "outgoing.withdraw",
        "preview": "outgoing.read", "download": "outgoing.read",
    }
    ordering_fields = ["created_at", "issued_on", "number"]
    filterset_fields = ["state", "doc_type", "confidentiality"]

    def get_queryset(self):
        return selectors.outgoing_documents(self.request.user, q=self.request.query_params.get("search", "")) \
            .select_related("authority").prefetch_related("attachments", "electronic_recipients")

    def perform_create(self, serializer):
        try:
            serializer.save()
        except DjangoValidationError as exc:
            raise ValidationError(exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages})

    perform_update = perform_create

    @extend_schema(request={"multipart/form-data": DraftUploadSerializer}, responses=OutgoingSerializer)
    @action(detail=True, methods=["post"], url_path="draft-pdf")
    def draft_pdf(self, request, pk=None):
        """Upload the draft as a PDF (instead of the composed text), with the fields' positions."""
        data = self.input(DraftUploadSerializer)
        doc = self.get_object()
        return self.run(services.save_draft, doc, user=request.user, upload=data["file"],
                        layout=data.get("layout") or None, serializer_class=OutgoingSerializer)

    @extend_schema(request={"multipart/form-data": AttachmentUploadSerializer}, responses=OutgoingSerializer)
    @action(detail=True, methods=["post"])
    def attachments(self, request, pk=None):
        data = self.input(AttachmentUploadSerializer)
        doc = self.get_object()
        response = self.run(services.add_attachment, doc, user=request.user, upload=data["file"], title=data["title"])
        if response.status_code >= 400:
            return response
        doc.refresh_from_db()
        return Response(OutgoingSerializer(doc, context=self.get_serializer_context()).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=OutgoingSerializer)
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        return self.run(services.submit, self.get_object(), user=request.user, serializer_class=OutgoingSerializer)

    @extend_schema(request=NoteSerializer, responses=OutgoingSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        data = self.input(NoteSerializer)
        return self.run(services.approve, self.get_object(), user=request.user, note=data["note"],
                        serializer_class=OutgoingSerializer)

    @extend_schema(request=ReasonSerializer, responses=OutgoingSerializer)
    @action(detail=True, methods=["post"], url_path="return")
    def return_draft(self, request, pk=None):
        data = self.input(ReasonSerializer)
        return self.run(services.return_draft, self.get_object(), user=request.user, reason=data["reason"],
                        serializer_class=OutgoingSerializer)

    @extend_schema(request=PinSerializer, responses={202: OutgoingSerializer})
    @action(detail=True, methods=["post"], permission_classes=SIGNING_PERMISSIONS)
    def sign(self, request, pk=None):
        """The leader's signature: requested now, applied by a signing job."""
        data = self.input(PinSerializer)
        doc = self.get_object()
        response = self.run(services.sign_as_leader, doc, request.user, data["pin"])
        if response.status_code >= 400:
            return response
        doc.refresh_from_db()
        return Response(OutgoingSerializer(doc, context=self.get_serializer_context()).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(request=PinSerializer, responses=OutgoingSerializer)
    @action(detail=True, methods=["post"], permission_classes=SIGNING_PERMISSIONS)
    def issue(self, request, pk=None):
        """Number and date (committed at once), then the agency's signature."""
        data = self.input(PinSerializer)
        return self.run(services.issue, self.get_object(), request.user, data["pin"], serializer_class=OutgoingSerializer)

    @extend_schema(request=PinSerializer, responses=OutgoingSerializer)
    @action(detail=True, methods=["post"], permission_classes=SIGNING_PERMISSIONS, url_path="agency-sign")
    def agency_sign(self, request, pk=None):
        data = self.input(PinSerializer)
        return self.run(services.apply_agency_signature, self.get_object(), request.user, data["pin"],
                        serializer_class=OutgoingSerializer)

    @extend_schema(request=DispatchSerializer, responses=OutgoingSerializer)
    @action(detail=True, methods=["post"], url_path="dispatch")
    def dispatch_document(self, request, pk=None):
        data = self.input(DispatchSerializer)
        return self.run(services.dispatch, self.get_object(), user=request.user, day=data["day"], note=data["note"],
                        serializer_class=OutgoingSerializer)

    @extend_schema(request=ArchiveSerializer, responses=OutgoingSerializer)
    @action(detail=True, methods=["post"])
    def archive(self, request, pk=None):
        data = self.input(ArchiveSerializer)
        return self.run(services.file_document, self.get_object(), user=request.user,
                        retention_years=data["retention_years"], archive_code=data["archive_code"],
                        serializer_class=OutgoingSerializer)

    @extend_schema(request=ReasonSerializer, responses=OutgoingSerializer)
    @action(detail=True, methods=["post"])
    def withdraw(self, request, pk=None):
        data = self.input(ReasonSerializer)
        return self.run(services.withdraw, self.get_object(), user=request.user, reason=data["reason"],
                        serializer_class=OutgoingSerializer)

    @extend_schema(responses=PDF_RESPONSE)
    @action(detail=True, methods=["get"])
    def preview(self, request, pk=None):
        doc = self.get_object()
        if doc.is_secret:
            raise NotFound(_("There is no file."))
        try:
            pdf = services.preview_pdf(doc)
        except DjangoValidationError as exc:
            return refusal(exc)
        return HttpResponse(pdf, content_type=files.PDF_CONTENT_TYPE)

    @extend_schema(responses=PDF_RESPONSE, parameters=[OpenApiParameter(
        "kind", str, enum=["draft", "leader-signed", "numbered", "issued"], required=False)])
    @action(detail=True, methods=["get"])
    def download(self, request, pk=None):
        """The file of one step (?kind=draft|leader-signed|numbered|issued, default issued)."""
        doc = self.get_object()
        fields = {"draft": "draft_pdf", "leader-signed": "leader_signed_pdf", "numbered": "numbered_pdf",
                  "issued": "issued_pdf"}
        kind = request.query_params.get("kind", "issued")
        if kind not in fields or doc.is_secret:
            raise NotFound(_("There is no file."))
        return pdf_file(getattr(doc, fields[kind]), f"van-ban-di-{doc.pk}-{kind}.pdf")


class RegisterViewSet(DocumentsViewSet):
    """The registers of Decree 30 for a date range: JSON lines (paginated), PDF, .xlsx."""

    action_permissions = {"list": "registers.read", "pdf": "registers.read", "xlsx": "registers.read"}
    supervisor_actions = ("list", "pdf", "xlsx")
    kind = registers.OUTGOING
    serializer_class = RegisterQuerySerializer

    def _query(self):
        serializer = RegisterQuerySerializer(data=self.request.query_params)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        if data["secret"] and self.national_scope:  # the register of secret documents stays in the commune
            raise PermissionDenied()
        selector = selectors.outgoing_register if self.kind == registers.OUTGOING else selectors.incoming_register
        return data, selector(data["date_from"], data["date_to"], secret=data["secret"], q=data["q"])

    @extend_schema(parameters=[RegisterQuerySerializer], responses={200: OpenApiTypes.OBJECT})
    def list(self, request, *args, **kwargs):
        data, queryset = self._query()
        page = self.paginate_queryset(queryset)
        register = registers.build(self.kind, page, date_from=data["date_from"], date_to=data["date_to"],
                                   secret=data["secret"])
        rows = [dict(zip(register.columns, row)) for row in register.rows]
        response = self.get_paginated_response(rows)
        response.data["title"] = register.title
        response.data["columns"] = register.columns
        return response

    def _export(self, fmt):
        data, queryset = self._query()
        register = registers.build(self.kind, queryset, date_from=data["date_from"], date_to=data["date_to"],
                                   secret=data["secret"])
        agency = numbering.agency_name(numbering.get_policy())
        name = f"so-van-ban-{'di' if self.kind == registers.OUTGOING else 'den'}"
        if fmt == "pdf":
            response = HttpResponse(registers.to_pdf(register, agency), content_type=files.PDF_CONTENT_TYPE)
        else:
            response = HttpResponse(registers.to_xlsx(register, agency), content_type=registers.XLSX_CONTENT_TYPE)
        response["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
        return response

    @extend_schema(parameters=[RegisterQuerySerializer], responses=PDF_RESPONSE)
    @action(detail=False, methods=["get"])
    def pdf(self, request, *args, **kwargs):
        return self._export("pdf")

    @extend_schema(parameters=[RegisterQuerySerializer], responses=XLSX_RESPONSE)
    @action(detail=False, methods=["get"])
    def xlsx(self, request, *args, **kwargs):
        return self._export("xlsx")


class OutgoingRegisterViewSet(RegisterViewSet):
    kind = registers.OUTGOING


class IncomingRegisterViewSet(RegisterViewSet):
    kind = registers.INCOMING


class NumberingPolicySerializer(serializers.ModelSerializer):
    class Meta:
        model = NumberingPolicy
        fields = ["mode", "agency_symbol", "default_unit_code", "secret_mark", "parent_agency_line", "agency_name",
                  "place_name", "due_soon_days", "default_handling_days"]


class SettingsViewSet(DocumentsViewSet):
    """The numbering policy and letterhead of the commune (commune administrator)."""

    serializer_class = NumberingPolicySerializer
    queryset = NumberingPolicy.objects.none()  # one row, read through numbering.get_policy
    action_permissions = {"list": "settings.manage", "update_policy": "settings.manage"}
    pagination_class = None

    def list(self, request, *args, **kwargs):
        return Response(NumberingPolicySerializer(numbering.get_policy()).data)

    @extend_schema(request=NumberingPolicySerializer, responses=NumberingPolicySerializer)
    @action(detail=False, methods=["patch"], url_path="policy")
    def update_policy(self, request, *args, **kwargs):
        serializer = NumberingPolicySerializer(numbering.get_policy(), data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        policy = serializer.instance
        for key, value in serializer.validated_data.items():
            setattr(policy, key, value)
        return self.run(services.save_policy, policy, user=request.user, serializer_class=NumberingPolicySerializer)


class AuthoritySerializer(serializers.ModelSerializer):
    user = serializers.IntegerField(source="user_id", min_value=1, max_value=MAX_DB_ID)
    document_types = serializers.PrimaryKeyRelatedField(many=True, queryset=DocumentType.objects.filter(active=True))
    prefix = serializers.ChoiceField(choices=AuthorityPrefix.choices, required=False, allow_blank=True, default="")
    lines = serializers.ListField(child=serializers.CharField(), read_only=True)

    class Meta:
        model = SigningAuthority
        fields = ["id", "user", "document_types", "prefix", "title", "principal_title", "collective", "valid_from",
                  "valid_until", "lines"]

    def validate(self, attrs):
        if attrs.get("valid_until") and attrs.get("valid_from") and attrs["valid_until"] < attrs["valid_from"]:
            raise ValidationError({"valid_until": [_("The end date is before the start date.")]})
        return attrs


class AuthorityViewSet(DocumentsViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    """Who signs what, as data (commune administrator)."""

    serializer_class = AuthoritySerializer
    action_permissions = {"list": "settings.manage", "retrieve": "settings.manage", "create": "settings.manage",
                          "end": "settings.manage"}

    def get_queryset(self):
        return SigningAuthority.objects.prefetch_related("document_types").order_by("-valid_from", "pk")

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        types = data.pop("document_types")
        authority = SigningAuthority(**data)
        response = self.run(services.save_authority, authority, user=request.user, document_types=types,
                            serializer_class=AuthoritySerializer)
        if response.status_code == 200:
            response.status_code = status.HTTP_201_CREATED
        return response

    @extend_schema(request=None, responses=AuthoritySerializer)
    @action(detail=True, methods=["post"])
    def end(self, request, pk=None):
        return self.run(services.end_authority, self.get_object(), user=request.user, serializer_class=AuthoritySerializer)


class NoticeSerializer(serializers.ModelSerializer):
    kind = choice_text(DocumentNotice.Kind.choices, read_only=True)

    class Meta:
        model = DocumentNotice
        fields = ["id", "document", "kind", "day", "created_at", "read_at"]


class NoticeViewSet(DocumentsViewSet, mixins.ListModelMixin):
    """My reminders of due-soon and overdue documents."""

    serializer_class = NoticeSerializer
    action_permissions = {"list": "notices.read"}

    def get_queryset(self):
        return selectors.notices_for(self.request.user)


# --- exchange with supervising units (national host) -------------------------------------------

def staff_unit_codes(user) -> set[str]:
    return set(SupervisingUnit.objects.filter(pk__in=user.supervised_unit_ids()).values_list("code", flat=True))


class ToUnitSerializer(serializers.ModelSerializer):
    number_symbol = serializers.CharField(source="document.number_symbol")
    issued_on = serializers.DateField(source="document.issued_on")
    type_name = serializers.CharField(source="document.doc_type.name")
    subject = serializers.CharField(source="document.subject")
    signer_name = serializers.CharField(source="document.signer_name")
    urgency = serializers.CharField(source="document.urgency")
    message_id = serializers.UUIDField()
    state = choice_text(DeliveryState.choices, read_only=True)

    class Meta:
        model = OutgoingRecipient
        fields = ["id", "message_id", "code", "name", "state", "sent_at", "received_at", "number_symbol", "issued_on",
                  "type_name", "subject", "signer_name", "urgency"]


class FromUnitSerializer(serializers.ModelSerializer):
    file = upload_field(help_text=gettext_lazy("The document as PDF (multipart)."))
    unit = serializers.CharField(max_length=10, required=False, write_only=True,
                                 help_text=gettext_lazy("Your unit's code, when you belong to several."))
    message_id = serializers.UUIDField(source="exchange_message_id", required=False,
                                       help_text=gettext_lazy("Your message id: sending it again creates nothing new."))
    due_date = serializers.DateField(source="sender_due_date", required=False, allow_null=True)
    state = choice_text(IncomingState.choices, read_only=True)

    class Meta:
        model = IncomingDocument
        fields = ["id", "message_id", "unit", "sender_org", "original_number_symbol", "document_date", "type_name",
                  "subject", "urgency", "due_date", "file", "state", "incoming_number", "arrived_at",
                  "return_reason"]
        read_only_fields = ["state", "incoming_number", "arrived_at", "return_reason"]
        extra_kwargs = {"sender_org": {"required": False}, "urgency": {"default": Urgency.NORMAL}}


class ToUnitViewSet(DocumentsViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    """What this commune sent to the caller's supervising unit(s)."""

    serializer_class = ToUnitSerializer
    units_only = True
    supervisor_actions = ("list", "retrieve", "file", "acknowledge")

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return OutgoingRecipient.objects.none()
        return selectors.sent_to_units(staff_unit_codes(self.request.user))

    @extend_schema(responses=PDF_RESPONSE)
    @action(detail=True, methods=["get"])
    def file(self, request, pk=None, **kwargs):
        line = self.get_object()
        return pdf_file(line.document.issued_pdf, f"{line.document.pk}.pdf")

    @extend_schema(request=None, responses=ToUnitSerializer)
    @action(detail=True, methods=["post"])
    def acknowledge(self, request, pk=None, **kwargs):
        return self.run(exchange.acknowledge_by_unit, self.get_object(), serializer_class=ToUnitSerializer)


class FromUnitViewSet(DocumentsViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin):
    """What the caller's unit(s) sent to this commune; POST sends a new document to its inbox."""

    serializer_class = FromUnitSerializer
    parser_classes = [JSONParser, MultiPartParser, FormParser]
    units_only = True
    supervisor_actions = ("list", "retrieve", "create")

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return IncomingDocument.objects.none()
        return selectors.received_from_units(staff_unit_codes(self.request.user))

    def _unit(self, code: str | None) -> SupervisingUnit:
        commune = self.request.commune
        units = SupervisingUnit.objects.filter(staff__user=self.request.user, staff__is_active=True)
        chain = services._units_above(commune)
        candidates = [u for u in units if chain & u.descendant_ids()]
        if code:
            candidates = [u for u in candidates if u.code == code]
        if not candidates:
            raise ValidationError({"unit": [_("You are not staff of a unit that supervises this commune.")]})
        return candidates[0]

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        unit = self._unit(data.get("unit"))
        pdf = None
        if data.get("file") is not None:
            try:
                pdf, _info = files.read_upload(data["file"])
            except DjangoValidationError as exc:
                raise ValidationError({"file": exc.messages})
        try:
            doc, created = exchange.receive_from_unit(
                unit=unit, subject=clean_text(data["subject"]), sender_org=clean_text(data.get("sender_org", "")),
                original_number_symbol=clean_text(data.get("original_number_symbol", "")),
                document_date=data.get("document_date"), type_name=clean_text(data.get("type_name", "")),
                urgency=data.get("urgency", Urgency.NORMAL), due_date=data.get("sender_due_date"), pdf=pdf,
                filename=getattr(data.get("file"), "name", "document.pdf"),
                message_id=data.get("exchange_message_id") or uuid.uuid4(),
            )
        except DjangoValidationError as exc:
            return refusal(exc)
        body = self.get_serializer(doc).data
        return Response(body, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)
