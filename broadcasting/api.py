"""Staff REST API of the commune radio (``/api/v1/radio/…`` on a commune host; on the national
host under ``/api/v1/communes/{commune_code}/radio/…`` supervising-unit staff read it).

* ``clusters/`` (with ``online``): list, create (the answer carries the device token, once),
  read, PATCH; ``clusters/{id}/rotate-token/`` (a new token, once) and ``revoke-token/``.
* ``bulletins/``: list (``?state=&category=&search=``), create (JSON, or multipart with
  ``upload``), read, PATCH (drafts and bulletins sent back); ``submit/``, ``approve/``,
  ``reject/`` (``note``), ``withdraw/``; ``audio/`` is the speech job's state.
* ``emergencies/``: list; POST sends one now (leaders; ``bulletin_id`` or ``title``/``text``,
  ``cluster_ids`` — none means every cluster —, ``repeats``); ``emergencies/{id}/cancel/``.
* ``slots/`` and ``slot-exceptions/`` (``kind``: cancel, move, extra); ``schedule/?date=`` (the
  windows of a day); ``playlists/?date=&cluster=`` (built for today and later when missing).
* ``pronunciations/``: how words are read (data of the commune).
* ``reports/?month=2026-11``: hours aired per cluster, bulletins by category, device uptime.

Errors leave as ``{"code", "detail", "fields"}``: 400 bad input, 403 wrong role, 404, 409 a
conflict with the current state, 429 throttled. The device API is in ``device_api``.
"""
from __future__ import annotations

import datetime

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import SAFE_METHODS, BasePermission, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from broadcasting import permissions, reports, selectors, services
from broadcasting.models import (
    AudioAsset, Bulletin, BulletinState, Category, Cluster, Emergency, Playlist, Pronunciation, Slot, SlotException,
)
from communes.permissions import current_commune
from core.api import CommuneScopedMixin, refusal_response
from core.parsers import JSONParser

ID_REGEX = r"[0-9]{1,18}"
ID_FIELDS = ("village_ids", "cluster_ids")


def refusal(exc: DjangoValidationError) -> Response:
    """A service's refusal as the API's error body: 409 for a conflict with the state, 429 when
    throttled, 404 for something missing, 400 otherwise."""
    response = refusal_response(exc, conflict_codes=services.CONFLICT_CODES,
                                statuses={"throttled": status.HTTP_429_TOO_MANY_REQUESTS})
    if response.status_code == status.HTTP_429_TOO_MANY_REQUESTS:
        response["Retry-After"] = str(getattr(exc, "retry_after", services.heartbeat_min_seconds()))
    return response


def request_data(request) -> dict:
    """The body as a plain dict (lists for the id fields of a form), with the upload."""
    data = request.data
    if hasattr(data, "getlist"):
        out = {}
        for key in data.keys():
            out[key] = data.getlist(key) if key in ID_FIELDS else data.get(key)
        for key in ID_FIELDS:
            if key in out and len(out[key]) == 1 and isinstance(out[key][0], str) and "," in out[key][0]:
                out[key] = out[key][0]
        return out
    if not isinstance(data, dict):
        raise ValidationError({"non_field_errors": [_("The data sent are not valid.")]})
    return dict(data)


class RadioPermission(BasePermission):
    """A view's actions mapped to ``broadcasting.permissions`` actions (``action_permissions``;
    a tuple means any of them). On the national host supervising-unit staff only read
    (``supervisor_actions``)."""

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not user or not user.is_authenticated:
            return False
        name = getattr(view, "action", None) or request.method.lower()
        if getattr(view, "national_scope", False):
            return request.method in SAFE_METHODS and name in getattr(view, "supervisor_actions", ())
        needed = getattr(view, "action_permissions", {}).get(name)
        if needed is None:
            return False
        needed = needed if isinstance(needed, tuple) else (needed,)
        return any(permissions.can(user, item) for item in needed)


def _require_commune():
    if current_commune() is None:
        raise NotFound(_("Not found."))


# --- serializers -------------------------------------------------------------------------------------

class ClusterSerializer(serializers.ModelSerializer):
    village_name = serializers.CharField(source="village.name", read_only=True)
    online = serializers.SerializerMethodField()
    token_revoked = serializers.SerializerMethodField()

    class Meta:
        model = Cluster
        fields = ["id", "name", "village", "village_name", "latitude", "longitude", "speakers", "active", "online",
                  "last_heartbeat_at", "last_status", "token_hint", "token_issued_at", "token_revoked",
                  "token_revoked_at", "created_at"]
        read_only_fields = fields

    def get_online(self, obj) -> bool:
        if hasattr(obj, "online"):
            return bool(obj.online)
        from broadcasting.scheduler import is_offline

        return not is_offline(obj)

    def get_token_revoked(self, obj) -> bool:
        return obj.token_revoked_at is not None


class ClusterWithTokenSerializer(ClusterSerializer):
    token = serializers.CharField(read_only=True, help_text="The device token, shown this once.")

    class Meta(ClusterSerializer.Meta):
        fields = ClusterSerializer.Meta.fields + ["token"]
        read_only_fields = fields


class AssetSerializer(serializers.ModelSerializer):
    ready = serializers.BooleanField(read_only=True)

    class Meta:
        model = AudioAsset
        fields = ["key", "engine", "voice", "ready", "duration_seconds", "loudness_lufs", "size"]
        read_only_fields = fields


def choice_text(choices, **kwargs):
    """A plain string listing its values in the help text (several apps have fields named
    "state" or "category" with other values: strings keep the schema's names stable)."""
    return serializers.CharField(help_text="One of: " + ", ".join(str(value) for value, _label in choices), **kwargs)


class BulletinSerializer(serializers.ModelSerializer):
    category = choice_text(Category.choices, read_only=True)
    state = choice_text(BulletinState.choices, read_only=True)
    category_label = serializers.CharField(source="get_category_display", read_only=True)
    state_label = serializers.CharField(source="get_state_display", read_only=True)
    village_ids = serializers.SerializerMethodField()
    cluster_ids = serializers.SerializerMethodField()
    asset = AssetSerializer(read_only=True)
    created_by = serializers.IntegerField(source="created_by_id", read_only=True, allow_null=True)
    decided_by = serializers.IntegerField(source="decided_by_id", read_only=True, allow_null=True)

    class Meta:
        model = Bulletin
        fields = ["id", "title", "category", "category_label", "priority", "text", "normalized_text", "voice",
                  "uploaded_audio", "village_ids", "cluster_ids", "valid_from", "valid_until", "repeats_per_day",
                  "state", "state_label", "asset", "created_by", "created_at", "submitted_at", "decided_by",
                  "decided_at", "decision_note"]
        read_only_fields = fields

    def get_village_ids(self, obj) -> list[int]:
        return sorted(v.pk for v in obj.villages.all())

    def get_cluster_ids(self, obj) -> list[int]:
        return sorted(c.pk for c in obj.clusters.all())


class BulletinInputSerializer(serializers.Serializer):
    """What a bulletin takes (for the schema; the services check it)."""

    title = serializers.CharField(max_length=200)
    category = choice_text(Category.choices, required=False)
    priority = serializers.IntegerField(min_value=0, max_value=100, required=False)
    text = serializers.CharField(required=False, allow_blank=True)
    upload = serializers.FileField(required=False)
    voice = serializers.CharField(required=False)
    village_ids = serializers.ListField(child=serializers.IntegerField(), required=False)
    cluster_ids = serializers.ListField(child=serializers.IntegerField(), required=False)
    valid_from = serializers.CharField(required=False, help_text="dd/mm/yyyy")
    valid_until = serializers.CharField(required=False, help_text="dd/mm/yyyy")
    repeats_per_day = serializers.IntegerField(min_value=1, max_value=20, required=False)


class RadioNoteSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, max_length=services.MAX_NOTE)


class SpeechStatusSerializer(serializers.Serializer):
    state = serializers.CharField()
    percent = serializers.IntegerField(allow_null=True)
    message = serializers.CharField(allow_blank=True)
    ready = serializers.BooleanField()
    url = serializers.CharField(allow_null=True, allow_blank=True)
    duration = serializers.FloatField(allow_null=True)


class EmergencySerializer(serializers.ModelSerializer):
    title = serializers.CharField(source="bulletin.title", read_only=True)
    cluster_ids = serializers.SerializerMethodField()
    sent_by = serializers.IntegerField(source="sent_by_id", read_only=True, allow_null=True)
    active = serializers.SerializerMethodField()

    class Meta:
        model = Emergency
        fields = ["id", "bulletin", "title", "cluster_ids", "sent_by", "sent_at", "until", "repeats", "cancelled_at",
                  "active"]
        read_only_fields = fields

    def get_cluster_ids(self, obj) -> list[int]:
        return sorted(c.pk for c in obj.clusters.all())

    def get_active(self, obj) -> bool:
        now = timezone.now()
        return obj.cancelled_at is None and obj.sent_at <= now < obj.until


class EmergencyInputSerializer(serializers.Serializer):
    bulletin_id = serializers.IntegerField(required=False)
    title = serializers.CharField(required=False)
    text = serializers.CharField(required=False)
    voice = serializers.CharField(required=False)
    cluster_ids = serializers.ListField(child=serializers.IntegerField(), required=False)
    repeats = serializers.IntegerField(min_value=1, max_value=10, required=False)


class SlotSerializer(serializers.ModelSerializer):
    start = serializers.TimeField(format="%H:%M", read_only=True)
    end = serializers.TimeField(format="%H:%M", read_only=True)

    class Meta:
        model = Slot
        fields = ["id", "name", "start", "end", "active"]
        read_only_fields = fields


class SlotExceptionSerializer(serializers.ModelSerializer):
    kind = serializers.SerializerMethodField()
    start = serializers.TimeField(format="%H:%M", read_only=True, allow_null=True)
    end = serializers.TimeField(format="%H:%M", read_only=True, allow_null=True)

    class Meta:
        model = SlotException
        fields = ["id", "date", "slot", "kind", "cancelled", "start", "end", "note"]
        read_only_fields = fields

    def get_kind(self, obj) -> str:
        if obj.slot_id is None:
            return "extra"
        return "cancel" if obj.cancelled else "move"


class WindowSerializer(serializers.Serializer):
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()
    slot = serializers.IntegerField(allow_null=True)
    name = serializers.CharField()


class PlaylistEntrySerializer(serializers.Serializer):
    order = serializers.IntegerField()
    bulletin = serializers.IntegerField(source="bulletin_id")
    title = serializers.CharField(source="bulletin.title")
    asset_key = serializers.CharField(source="asset.key")
    offset_seconds = serializers.DecimalField(max_digits=8, decimal_places=2)
    duration_seconds = serializers.DecimalField(max_digits=8, decimal_places=2)


class PlaylistSerializer(serializers.ModelSerializer):
    cluster_name = serializers.CharField(source="cluster.name", read_only=True)
    entries = PlaylistEntrySerializer(many=True, read_only=True)

    class Meta:
        model = Playlist
        fields = ["id", "cluster", "cluster_name", "date", "starts_at", "ends_at", "etag", "built_at", "overflow",
                  "missing_audio", "entries"]
        read_only_fields = fields


class PronunciationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Pronunciation
        fields = ["id", "written", "spoken", "case_sensitive", "note"]
        read_only_fields = ["id"]


class ReportClusterSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    village = serializers.CharField()
    active = serializers.BooleanField()
    online = serializers.BooleanField()
    seconds_aired = serializers.FloatField()
    hours_aired = serializers.FloatField()
    plays = serializers.IntegerField()
    emergency_plays = serializers.IntegerField()
    uptime = serializers.FloatField(allow_null=True)


class ReportCategorySerializer(serializers.Serializer):
    category = serializers.CharField()
    label = serializers.CharField()
    bulletins = serializers.IntegerField()
    plays = serializers.IntegerField()
    seconds_aired = serializers.FloatField()
    hours_aired = serializers.FloatField()


class ReportTotalsSerializer(serializers.Serializer):
    clusters = serializers.IntegerField()
    online = serializers.IntegerField()
    seconds_aired = serializers.FloatField()
    hours_aired = serializers.FloatField()
    plays = serializers.IntegerField()
    emergency_plays = serializers.IntegerField()
    uptime = serializers.FloatField(allow_null=True)
    bulletins = serializers.IntegerField()


class RadioReportSerializer(serializers.Serializer):
    month = serializers.CharField()
    date_from = serializers.DateField()
    date_to = serializers.DateField()
    clusters = ReportClusterSerializer(many=True)
    categories = ReportCategorySerializer(many=True)
    totals = ReportTotalsSerializer()


# --- view sets ---------------------------------------------------------------------------------------

READ = "bulletin.read"


class RadioViewSet(CommuneScopedMixin, viewsets.GenericViewSet):
    permission_classes = [IsAuthenticated, RadioPermission]
    lookup_value_regex = ID_REGEX
    filter_backends: list = []
    parser_classes = [JSONParser]
    action_permissions: dict = {}
    supervisor_actions: tuple = ("list", "retrieve")

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        _require_commune()

    def call(self, func, serializer_class=None, status_code=status.HTTP_200_OK, **kwargs):
        """Call a service; its refusal becomes the API's error body."""
        try:
            result = func(**kwargs)
        except DjangoValidationError as exc:
            return refusal(exc)
        if serializer_class is None:
            return Response(status=status.HTTP_204_NO_CONTENT)
        return Response(serializer_class(result, context=self.get_serializer_context()).data, status=status_code)


class ClusterViewSet(RadioViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    """Loudspeaker clusters (cụm loa) with their status."""

    serializer_class = ClusterSerializer
    http_method_names = ["get", "post", "patch", "head", "options"]
    action_permissions = {"list": "cluster.read", "retrieve": "cluster.read", "create": "cluster.manage",
                          "partial_update": "cluster.manage", "rotate_token": "cluster.manage",
                          "revoke_token": "cluster.manage"}

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Cluster.objects.none()
        queryset = selectors.clusters_with_status()
        village = self.request.query_params.get("village")
        if village and village.isdigit() and len(village) <= 18:
            queryset = queryset.filter(village_id=int(village))
        return queryset.order_by("village__name", "name")

    @extend_schema(request=OpenApiTypes.OBJECT, responses={201: ClusterWithTokenSerializer})
    def create(self, request, *args, **kwargs):
        try:
            cluster, token = services.create_cluster(user=request.user, data=request_data(request))
        except DjangoValidationError as exc:
            return refusal(exc)
        cluster.token = token
        return Response(ClusterWithTokenSerializer(cluster).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=OpenApiTypes.OBJECT, responses=ClusterSerializer)
    def partial_update(self, request, *args, **kwargs):
        return self.call(services.update_cluster, ClusterSerializer, cluster=self.get_object(), user=request.user,
                         data=request_data(request))

    @extend_schema(request=None, responses=ClusterWithTokenSerializer)
    @action(detail=True, methods=["post"], url_path="rotate-token")
    def rotate_token(self, request, pk=None):
        """A new device token (shown once); the old one stops working."""
        cluster = self.get_object()
        try:
            token = services.rotate_token(cluster=cluster, user=request.user)
        except DjangoValidationError as exc:
            return refusal(exc)
        cluster = self.get_queryset().get(pk=cluster.pk)
        cluster.token = token
        return Response(ClusterWithTokenSerializer(cluster).data)

    @extend_schema(request=None, responses=ClusterSerializer)
    @action(detail=True, methods=["post"], url_path="revoke-token")
    def revoke_token(self, request, pk=None):
        return self.call(services.revoke_token, ClusterSerializer, cluster=self.get_object(), user=request.user)


@extend_schema_view(list=extend_schema(parameters=[
    OpenApiParameter("state", str, required=False), OpenApiParameter("category", str, required=False),
    OpenApiParameter("search", str, required=False)]))
class BulletinViewSet(RadioViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    """Bulletins (bản tin): text read by the voice, or a recording; approval by a leader."""

    serializer_class = BulletinSerializer
    parser_classes = [JSONParser, MultiPartParser, FormParser]
    http_method_names = ["get", "post", "patch", "head", "options"]
    supervisor_actions = ("list", "retrieve", "audio")
    action_permissions = {"list": READ, "retrieve": READ, "audio": READ, "create": "bulletin.write",
                          "partial_update": "bulletin.write", "submit": "bulletin.write",
                          "approve": "bulletin.approve", "reject": "bulletin.approve",
                          "withdraw": ("bulletin.write", "bulletin.approve")}

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Bulletin.objects.none()
        params = self.request.query_params
        return selectors.bulletins(state=params.get("state", "")[:20] or None,
                                   category=params.get("category", "")[:20] or None,
                                   search=params.get("search", "")[:100] or None)

    @extend_schema(request={"application/json": BulletinInputSerializer,
                            "multipart/form-data": BulletinInputSerializer}, responses={201: BulletinSerializer})
    def create(self, request, *args, **kwargs):
        return self.call(services.create_bulletin, BulletinSerializer, status.HTTP_201_CREATED, user=request.user,
                         data=request_data(request))

    @extend_schema(request={"application/json": BulletinInputSerializer,
                            "multipart/form-data": BulletinInputSerializer}, responses=BulletinSerializer)
    def partial_update(self, request, *args, **kwargs):
        return self.call(services.update_bulletin, BulletinSerializer, bulletin=self.get_object(), user=request.user,
                         data=request_data(request))

    @extend_schema(request=None, responses=BulletinSerializer)
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        return self.call(services.submit_bulletin, BulletinSerializer, bulletin=self.get_object(), user=request.user)

    def _note(self) -> str:
        serializer = RadioNoteSerializer(data=request_data(self.request))
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data.get("note", "")

    @extend_schema(request=RadioNoteSerializer, responses=BulletinSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        return self.call(services.approve_bulletin, BulletinSerializer, bulletin=self.get_object(), user=request.user,
                         note=self._note())

    @extend_schema(request=RadioNoteSerializer, responses=BulletinSerializer)
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        return self.call(services.reject_bulletin, BulletinSerializer, bulletin=self.get_object(), user=request.user,
                         note=self._note())

    @extend_schema(request=None, responses=BulletinSerializer)
    @action(detail=True, methods=["post"])
    def withdraw(self, request, pk=None):
        return self.call(services.withdraw_bulletin, BulletinSerializer, bulletin=self.get_object(), user=request.user)

    @extend_schema(responses=SpeechStatusSerializer)
    @action(detail=True, methods=["get"])
    def audio(self, request, pk=None, **kwargs):
        """The state of the bulletin's audio (rendering progress, then the file's address).
        (``kwargs``: the commune's code on the national host.)"""
        from broadcasting.audio_services import job_status

        bulletin = self.get_object()
        if bulletin.asset is None:
            raise NotFound(_("The bulletin has no audio yet."))
        return Response(SpeechStatusSerializer(job_status(bulletin.asset)).data)


class EmergencyViewSet(RadioViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    """Emergency broadcasts: sent now by a leader, interrupting what plays."""

    serializer_class = EmergencySerializer
    http_method_names = ["get", "post", "head", "options"]
    action_permissions = {"list": READ, "retrieve": READ, "create": "emergency.send", "cancel": "emergency.send"}

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Emergency.objects.none()
        return Emergency.objects.select_related("bulletin").prefetch_related("clusters").order_by("-sent_at")

    @extend_schema(request=EmergencyInputSerializer, responses={201: EmergencySerializer})
    def create(self, request, *args, **kwargs):
        data = request_data(request)
        kwargs = {"user": request.user, "cluster_ids": data.get("cluster_ids"), "repeats": data.get("repeats", 1)}
        bulletin_id = data.get("bulletin_id")
        if bulletin_id not in (None, ""):
            if not str(bulletin_id).isdigit() or len(str(bulletin_id)) > 18:
                return refusal(services._error(_("There is no such bulletin."), "invalid", "bulletin_id"))
            bulletin = Bulletin.objects.filter(pk=int(bulletin_id)).first()
            if bulletin is None:
                return refusal(services._error(_("There is no such bulletin."), "invalid", "bulletin_id"))
            kwargs["bulletin"] = bulletin
        else:
            kwargs["bulletin_data"] = {key: data[key] for key in ("title", "text", "voice", "valid_until",
                                                                   "repeats_per_day") if key in data}
        return self.call(services.send_emergency, EmergencySerializer, status.HTTP_201_CREATED, **kwargs)

    @extend_schema(request=None, responses=EmergencySerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        return self.call(services.cancel_emergency, EmergencySerializer, emergency=self.get_object(),
                         user=request.user)


class SlotViewSet(RadioViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    """The daily broadcast windows."""

    serializer_class = SlotSerializer
    pagination_class = None
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    action_permissions = {"list": READ, "retrieve": READ, "create": "slot.manage", "partial_update": "slot.manage",
                          "destroy": "slot.manage"}

    def get_queryset(self):
        return Slot.objects.order_by("start")

    @extend_schema(request=OpenApiTypes.OBJECT, responses={201: SlotSerializer})
    def create(self, request, *args, **kwargs):
        return self.call(services.create_slot, SlotSerializer, status.HTTP_201_CREATED, user=request.user,
                         data=request_data(request))

    @extend_schema(request=OpenApiTypes.OBJECT, responses=SlotSerializer)
    def partial_update(self, request, *args, **kwargs):
        return self.call(services.update_slot, SlotSerializer, slot=self.get_object(), user=request.user,
                         data=request_data(request))

    def destroy(self, request, *args, **kwargs):
        return self.call(services.delete_slot, slot=self.get_object(), user=request.user)


@extend_schema_view(list=extend_schema(parameters=[
    OpenApiParameter("from", str, required=False, description="dd/mm/yyyy"),
    OpenApiParameter("to", str, required=False, description="dd/mm/yyyy")]))
class SlotExceptionViewSet(RadioViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    """Per-day changes: a slot cancelled or moved, an extra window."""

    serializer_class = SlotExceptionSerializer
    http_method_names = ["get", "post", "delete", "head", "options"]
    action_permissions = {"list": READ, "retrieve": READ, "create": "slot.manage", "destroy": "slot.manage"}

    def get_queryset(self):
        queryset = SlotException.objects.order_by("date", "start", "pk")
        if self.action == "list":
            day_from, day_to = day_range(self.request)
            queryset = queryset.filter(date__gte=day_from, date__lte=day_to)
        return queryset

    @extend_schema(request=OpenApiTypes.OBJECT, responses={201: SlotExceptionSerializer})
    def create(self, request, *args, **kwargs):
        return self.call(services.add_slot_exception, SlotExceptionSerializer, status.HTTP_201_CREATED,
                         user=request.user, data=request_data(request))

    def destroy(self, request, *args, **kwargs):
        return self.call(services.delete_slot_exception, exception=self.get_object(), user=request.user)


class PronunciationViewSet(RadioViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    """How words and abbreviations are read (data of the commune)."""

    serializer_class = PronunciationSerializer
    pagination_class = None
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    action_permissions = {"list": READ, "retrieve": READ, "create": "pronunciation.manage",
                          "partial_update": "pronunciation.manage", "destroy": "pronunciation.manage"}

    def get_queryset(self):
        return Pronunciation.objects.order_by("written")

    @extend_schema(request=PronunciationSerializer, responses={201: PronunciationSerializer})
    def create(self, request, *args, **kwargs):
        return self.call(services.save_pronunciation, PronunciationSerializer, status.HTTP_201_CREATED,
                         user=request.user, data=request_data(request))

    @extend_schema(request=PronunciationSerializer, responses=PronunciationSerializer)
    def partial_update(self, request, *args, **kwargs):
        return self.call(services.save_pronunciation, PronunciationSerializer, user=request.user,
                         data=request_data(request), pronunciation=self.get_object())

    def destroy(self, request, *args, **kwargs):
        return self.call(services.delete_pronunciation, pronunciation=self.get_object(), user=request.user)


# --- plain views -------------------------------------------------------------------------------------

def _day(value, field: str) -> datetime.date:
    errors = services._Errors()
    day = services.parse_date(value, field, errors)
    if errors:
        raise DjangoValidationError(errors.errors)
    return day


def day_range(request) -> tuple[datetime.date, datetime.date]:
    params = request.query_params
    today = timezone.localdate()
    day_from = _day(params["from"], "from") if params.get("from") else today
    day_to = _day(params["to"], "to") if params.get("to") else day_from + datetime.timedelta(days=31)
    if day_to < day_from:
        raise DjangoValidationError({"to": [_("The last day is before the first day.")]})
    if (day_to - day_from).days > 366:
        raise DjangoValidationError({"to": [_("Ask for at most a year.")]})
    return day_from, day_to


class RadioView(CommuneScopedMixin, APIView):
    permission_classes = [IsAuthenticated, RadioPermission]
    action_permissions = {"get": READ}
    supervisor_actions = ("get",)

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        _require_commune()


class ScheduleView(RadioView):
    """The broadcast windows of a day (slots with the day's exceptions)."""

    @extend_schema(parameters=[OpenApiParameter("date", str, required=False, description="dd/mm/yyyy")],
                   responses=WindowSerializer(many=True))
    def get(self, request, *args, **kwargs):
        value = request.query_params.get("date")
        day = _day(value, "date") if value else timezone.localdate()
        windows = [{"starts_at": s, "ends_at": e, "slot": slot.pk if slot else None,
                    "name": slot.name if slot else _("Extra broadcast")} for s, e, slot in services.slots_for_day(day)]
        return Response(WindowSerializer(windows, many=True).data)


class PlaylistView(RadioView):
    """The playlists of a day, per cluster (built for today and later when missing)."""

    @extend_schema(parameters=[OpenApiParameter("date", str, required=False, description="dd/mm/yyyy"),
                               OpenApiParameter("cluster", int, required=False)],
                   responses=PlaylistSerializer(many=True))
    def get(self, request, *args, **kwargs):
        value = request.query_params.get("date")
        day = _day(value, "date") if value else timezone.localdate()
        clusters = Cluster.objects.filter(active=True).select_related("village")
        cluster = request.query_params.get("cluster")
        if cluster:
            if not cluster.isdigit() or len(cluster) > 18:
                raise DjangoValidationError({"cluster": [_("There is no cluster with the id %(ids)s.") % {
                    "ids": cluster[:20]}]})
            clusters = clusters.filter(pk=int(cluster))
        schedule = selectors.day_schedule(day, clusters=clusters)
        ids = [p.pk for window in schedule for p in window["playlists"]]
        playlists = (Playlist.objects.filter(pk__in=ids).select_related("cluster")
                     .prefetch_related("entries__bulletin", "entries__asset").order_by("starts_at", "cluster__name"))
        return Response(PlaylistSerializer(playlists, many=True).data)


def month_of(request) -> datetime.date:
    return reports.parse_month(request.query_params.get("month"))


class ReportView(RadioView):
    """The month's figures: hours aired per cluster, bulletins by category, device uptime."""

    action_permissions = {"get": "report.read"}

    @extend_schema(parameters=[OpenApiParameter("month", str, required=False, description="yyyy-mm or mm/yyyy")],
                   responses=RadioReportSerializer)
    def get(self, request, *args, **kwargs):
        return Response(RadioReportSerializer(reports.monthly_report(month_of(request))).data)
