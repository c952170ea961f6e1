"""The device API of the loudspeaker clusters (``/api/v1/radio/device/…`` on a commune host).

Every call carries the cluster's token: ``Authorization: Device <token>``. The token is compared
by its SHA-256 (only the hash is stored); a wrong, revoked or missing token answers 401 with the
API's error body ``{"code", "detail", "fields"}`` and ``WWW-Authenticate: Device``.

* ``GET playlist/``: the current and next windows with their items (audio URL, duration, offset)
  and, while an emergency broadcast is active for the cluster, ``interrupt: true`` with the
  emergency item first in ``items``. The ``ETag`` header covers all of it; a request with
  ``If-None-Match`` equal to it gets ``304 Not Modified`` and no body.
* ``GET audio/<key>.mp3``: a ready audio file of the cluster's playlists that have not ended
  (or of an emergency broadcast interrupting it); any other key answers 404; ``Range: bytes=…`` gives
  ``206 Partial Content`` with ``Content-Range``, an unsatisfiable range ``416``.
* ``POST heartbeat/``: ``{status, volume (0–100), signal (dBm), firmware}``; more often than
  every XASO_RADIO_HEARTBEAT_MIN_SECONDS answers ``429`` with ``Retry-After``. The heartbeat is
  kept in Redis and written into PostgreSQL by the beat task (``broadcasting.device_cache``).

A device's token, cluster and current answer (ETag and body) are kept in Redis
(``broadcasting.device_cache``): a poll whose answer has not changed reads Redis once and no
table; any change of what the device is told, its token included, is seen at the next poll.
* ``POST as-run/``: ``[{asset_key, bulletin_id?, started_at, ended_at}, …]`` (or
  ``{"entries": […]}``); a replayed report stores nothing twice.
"""
from __future__ import annotations


from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.files.storage import default_storage
from django.http import HttpResponse, JsonResponse
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.authentication import BaseAuthentication
from rest_framework.exceptions import AuthenticationFailed, NotFound
from core.parsers import JSONParser
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.views import APIView

import json

from django.core.serializers.json import DjangoJSONEncoder

from broadcasting import device_cache, scheduler, services
from broadcasting.api import refusal
from broadcasting.models import Cluster
from communes.permissions import current_commune
from core.http import ranged_file_response
from core.middleware import shareable_with_the_device

KEY_REGEX = r"[0-9a-f]{64}"
AUDIO_CONTENT_TYPE = "audio/mpeg"


class DevicePrincipal:
    """The user of a device's request: the cluster, not a person."""

    is_authenticated = True
    is_active = True
    is_anonymous = False
    is_staff = False
    is_superuser = False
    pk = id = None

    def __init__(self, cluster: Cluster):
        self.cluster = cluster

    def __str__(self) -> str:
        return f"device:{self.cluster.pk}"

    def roles_in(self, commune) -> set[str]:
        return set()


class DeviceAuthentication(BaseAuthentication):
    """``Authorization: Device <token>`` → the cluster (``request.auth``)."""

    keyword = "Device"

    def authenticate(self, request):
        header = request.META.get("HTTP_AUTHORIZATION", "")
        parts = header.split()
        if not parts or parts[0].lower() != self.keyword.lower():
            return None
        if len(parts) != 2:
            raise AuthenticationFailed(_("The device token is missing or has spaces in it."))
        token = parts[1]
        digest = services.hash_token(token) if 0 < len(token) <= 200 else ""
        found = device_cache.lookup(digest) if digest else None
        if found is not None and found.entry is not None:
            # kept under the current version: the token was valid and nothing changed since
            entry = found.entry
            cluster = Cluster(pk=entry["cluster"], name=entry["name"], village_id=entry["village"], active=True)
        else:
            keep_as = device_cache.version_to_keep(found) if digest else None
            cluster = services.device_for_token(token)
            if cluster is None:
                raise AuthenticationFailed(_("This device token is not valid or has been revoked."))
            entry = None
        cluster.device_token_hash, cluster.device_entry = digest, entry
        cluster.device_keep_as = None if entry is not None else keep_as
        return DevicePrincipal(cluster), cluster

    def authenticate_header(self, request):
        return f'{self.keyword} realm="radio"'


class DeviceAuthenticationScheme(OpenApiAuthenticationExtension):
    """The device token in the OpenAPI schema."""

    target_class = "broadcasting.device_api.DeviceAuthentication"
    name = "deviceToken"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "header", "name": "Authorization",
                "description": "Device <token> (the cluster's token, shown once when issued)"}


class IsDevice(BasePermission):
    def has_permission(self, request, view) -> bool:
        return isinstance(request.auth, Cluster)


class DeviceView(APIView):
    """A device endpoint: the cluster's token only (no session, no user token), commune hosts only."""

    authentication_classes = [DeviceAuthentication]
    permission_classes = [IsDevice]
    throttle_classes: list = []
    parser_classes = [JSONParser]

    def initial(self, request, *args, **kwargs):
        if "commune_code" in self.kwargs or current_commune() is None:
            raise NotFound(_("Not found."))
        super().initial(request, *args, **kwargs)

    @property
    def cluster(self) -> Cluster:
        return self.request.auth


def _etag_matches(header: str, etag: str) -> bool:
    if not header:
        return False
    for candidate in header.split(","):
        candidate = candidate.strip()
        if candidate == "*":
            return True
        if candidate.startswith("W/"):
            candidate = candidate[2:]
        if candidate.strip('"') == etag:
            return True
    return False


def audio_url(request, key: str) -> str:
    return request.build_absolute_uri(reverse("radio-device-audio", kwargs={"key": key}))


class DevicePlaylistView(DeviceView):
    """The current and next windows of the cluster (and the emergency broadcast, if any)."""

    @extend_schema(
        parameters=[OpenApiParameter("If-None-Match", str, location=OpenApiParameter.HEADER, required=False)],
        responses={200: OpenApiTypes.OBJECT, 304: OpenApiResponse(description="Not modified")},
    )
    def get(self, request, *args, **kwargs):
        cluster = self.cluster
        entry = cluster.device_entry
        origin = request.build_absolute_uri("/")
        if entry is None or entry["until"] <= timezone.now().timestamp() or (
                entry["origin"] != origin and not _etag_matches(request.headers.get("If-None-Match", ""),
                                                               entry["etag"])):
            entry = self._answer(request, cluster, origin)
        return _playlist_response(request, entry)

    def _answer(self, request, cluster: Cluster, origin: str) -> dict:
        """The answer computed from PostgreSQL, kept in Redis under the version read before."""
        keep_as = getattr(cluster, "device_keep_as", None)
        digest = cluster.device_token_hash
        if cluster.device_entry is not None:  # kept, but its moment passed (a window started or ended)
            keep_as = device_cache.version_to_keep(device_cache.lookup(digest))
            cluster = Cluster.objects.select_related("village").get(pk=cluster.pk)
        state = scheduler.DeviceState(cluster)
        body = state.body()
        for item in body["items"] + body["emergencies"] + [i for s in body["slots"] for i in s["items"]]:
            if item.get("asset_key") and "url" not in item:
                item["url"] = audio_url(request, item["asset_key"]) if item.get("ready", True) else None
        entry = {"cluster": cluster.pk, "name": cluster.name, "village": cluster.village_id, "etag": state.etag,
                 "until": state.until, "origin": origin, "version": keep_as,
                 "body": json.dumps(body, cls=DjangoJSONEncoder, ensure_ascii=False).encode()}
        if keep_as is not None:
            device_cache.keep(digest, entry)
        return entry


def _playlist_response(request, entry: dict) -> HttpResponse:
    if _etag_matches(request.headers.get("If-None-Match", ""), entry["etag"]):
        response = HttpResponse(status=status.HTTP_304_NOT_MODIFIED)
    else:
        response = HttpResponse(entry["body"], content_type="application/json")
    response["ETag"] = f'"{entry["etag"]}"'
    response["Cache-Control"] = "private, no-cache"
    return shareable_with_the_device(response)


_playlist_view = DevicePlaylistView.as_view()


@csrf_exempt
def device_playlist(request, *args, **kwargs):
    """``GET playlist/``: a poll whose kept answer is current (its token's answer in Redis, of the
    commune's current version, its moment not passed, for this host) is answered here, from one
    read of Redis; any other request goes through ``DevicePlaylistView`` (which computes the
    answer from PostgreSQL and keeps it)."""
    entry = None
    header = request.META.get("HTTP_AUTHORIZATION", "")
    if request.method == "GET" and "commune_code" not in kwargs and header[:7].lower() == "device ":
        parts = header.split()
        if len(parts) == 2 and 0 < len(parts[1]) <= 200 and current_commune() is not None:
            found = device_cache.lookup(services.hash_token(parts[1]))
            entry = found.entry if found is not None else None
    if entry is None or entry["until"] <= timezone.now().timestamp() or entry["origin"] != request.build_absolute_uri("/"):
        return _playlist_view(request, *args, **kwargs)
    response = _playlist_response(request, entry)
    for name, value in _PLAYLIST_HEADERS.items():
        response[name] = value
    return response


# What the REST framework adds to the view's answers, added to the answers given without it.
def _allowed(view_class) -> str:
    view = view_class()
    view.head = view.get  # as ``as_view`` does for a view with GET
    return ", ".join(view.allowed_methods)


_PLAYLIST_HEADERS = {"Allow": _allowed(DevicePlaylistView), "Vary": "Accept"}
# The OpenAPI schema and the URL patterns see the REST framework's view.
device_playlist.cls, device_playlist.initkwargs = DevicePlaylistView, {}


def _range_not_satisfiable(size: int) -> HttpResponse:
    detail = _("The requested range is not within the file (%(size)s bytes).") % {"size": size}
    response = JsonResponse({"code": "range_not_satisfiable", "detail": detail, "fields": {}}, status=416)
    response["Content-Range"] = f"bytes */{size}"
    return response


class DeviceAudioView(DeviceView):
    """An audio file (MP3) the cluster plays, whole or a byte range."""

    @extend_schema(
        parameters=[OpenApiParameter("Range", str, location=OpenApiParameter.HEADER, required=False)],
        responses={(200, AUDIO_CONTENT_TYPE): OpenApiResponse(OpenApiTypes.BINARY),
                   (206, AUDIO_CONTENT_TYPE): OpenApiResponse(OpenApiTypes.BINARY),
                   416: OpenApiResponse(OpenApiTypes.OBJECT)},
    )
    def get(self, request, key=None, *args, **kwargs):
        asset = scheduler.asset_for_device(self.cluster, key)
        if asset is None or not default_storage.exists(asset.file):
            raise NotFound(_("There is no such audio."))
        response = ranged_file_response(request, asset.file, content_type=AUDIO_CONTENT_TYPE, etag=f'"{asset.key}"')
        if response is None:
            return _range_not_satisfiable(default_storage.size(asset.file))
        response["Cache-Control"] = "private, max-age=31536000, immutable"
        return shareable_with_the_device(response)


class DeviceHeartbeatView(DeviceView):
    """The device is alive (status, volume, signal, firmware)."""

    @extend_schema(request=OpenApiTypes.OBJECT, responses={201: OpenApiTypes.OBJECT, 429: OpenApiTypes.OBJECT})
    def post(self, request, *args, **kwargs):
        try:
            beat = services.record_heartbeat(cluster=self.cluster, data=request.data)
        except DjangoValidationError as exc:
            return refusal(exc)
        return Response({"received_at": beat.at, "next_after_seconds": services.heartbeat_min_seconds(),
                         "offline_after_seconds": scheduler.offline_seconds()}, status=status.HTTP_201_CREATED)


class DeviceAsRunView(DeviceView):
    """What the device played, from when to when (the as-run log)."""

    @extend_schema(request=OpenApiTypes.OBJECT, responses={200: OpenApiTypes.OBJECT})
    def post(self, request, *args, **kwargs):
        data = request.data
        entries = data.get("entries") if isinstance(data, dict) else data
        try:
            stored = services.record_as_run(cluster=self.cluster, entries=entries)
        except DjangoValidationError as exc:
            return refusal(exc)
        return Response({"received": len(entries), "stored": stored, "at": timezone.now()})
