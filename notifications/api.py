"""REST API of notifications: list, create (enqueue) and follow a notification's progress.

Served on a commune host under ``/api/v1/notifications/`` and, read-only for supervising-unit
staff, on the national host under ``/api/v1/communes/{commune_code}/notifications/``.

What a reader gets is what following a campaign needs, not the recipients' data nor any key:

* recipients are masked: a phone keeps its network prefix only (its last four digits are the
  secret of the dossier status lookup), an e-mail its first letter and its domain;
* a link in a message shows its site only (``https://tule.example.vn/…``): a link may carry a
  key (a rating key, a reset link), and the API is no place to read keys from;
* supervising units get no body of a message sent to a list of people (personal messages,
  such as a dossier's notices); campaigns to households they read with their links shortened.
"""
from __future__ import annotations

import re

from django.utils.translation import gettext_lazy as _
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.response import Response

from core.api import CommuneScopedMixin
from core.phones import mask_phone
from notifications import selectors, services
from notifications.models import Channel, Notification, Target
from notifications.permissions import SENDER_ROLES


_URL = re.compile(r"(?i)\b(https?://[^\s/?#]+)[^\s]*")


def shorten_links(text: str) -> str:
    """Every link reduced to its site: ``https://host/rate/<key>/`` → ``https://host/…``."""
    return _URL.sub(lambda match: match.group(1) + "/…", str(text or ""))


def mask_recipient(value: str) -> str:
    """``0912345678`` → ``091*******``; ``nam@example.vn`` → ``n***@example.vn``."""
    value = str(value or "")
    if "@" in value:
        local, _at, domain = value.rpartition("@")
        return (local[:1] + "***@" + domain) if local else "***@" + domain
    return mask_phone(value)


class NotificationSerializer(serializers.ModelSerializer):
    recipients = serializers.ListField(
        child=serializers.CharField(max_length=254), required=False, allow_empty=True,
        max_length=services.MAX_RECIPIENTS,
        help_text=_("Phone numbers (SMS) or e-mail addresses, when the target is a list."),
    )
    village = serializers.IntegerField(source="village_id", required=False, allow_null=True, min_value=1,
                                       max_value=2**63 - 1)
    channel = serializers.ChoiceField(choices=Channel.choices, default=Channel.SMS)
    target = serializers.ChoiceField(choices=Target.choices, default=Target.LIST)

    class Meta:
        model = Notification
        fields = [
            "id", "channel", "target", "village", "recipients", "subject", "message",
            "state", "attempts", "max_attempts", "progress_percent", "progress_message", "result",
            "error", "waiting_reason", "sent_count", "idempotency_key",
            "created_at", "updated_at", "started_at", "finished_at",
        ]
        read_only_fields = [
            "state", "attempts", "max_attempts", "progress_percent", "progress_message", "result",
            "error", "waiting_reason", "sent_count", "idempotency_key",
            "created_at", "updated_at", "started_at", "finished_at",
        ]
        extra_kwargs = {"message": {"max_length": services.MAX_EMAIL_LENGTH}}

    def to_representation(self, instance):
        data = super().to_representation(instance)
        data["recipients"] = [mask_recipient(r) for r in data.get("recipients") or []]
        view = self.context.get("view")
        personal = instance.target == Target.LIST
        if getattr(view, "national_scope", False) and personal:
            data["subject"], data["message"] = "", ""
        else:
            data["subject"] = shorten_links(data.get("subject", ""))
            data["message"] = shorten_links(data.get("message", ""))
        for key in ("result", "error", "progress_message"):
            if isinstance(data.get(key), str):
                data[key] = shorten_links(data[key])
        return data

    def create(self, validated_data):
        request = self.context.get("request")
        return services.create_notification(
            channel=validated_data["channel"], target=validated_data["target"],
            message=validated_data["message"], subject=validated_data.get("subject", ""),
            recipients=validated_data.get("recipients") or [],
            village_id=validated_data.get("village_id"), user=getattr(request, "user", None),
        )


class NotificationViewSet(CommuneScopedMixin, mixins.ListModelMixin, mixins.CreateModelMixin,
                          mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Notifications to households (SMS or e-mail), sent by a background job."""

    serializer_class = NotificationSerializer
    read_roles = SENDER_ROLES
    write_roles = SENDER_ROLES
    filterset_fields = ["state", "channel"]
    ordering_fields = ["created_at", "id"]

    def get_queryset(self):
        return selectors.notifications()

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        notification = serializer.save()
        return Response(self.get_serializer(notification).data, status=status.HTTP_201_CREATED)
