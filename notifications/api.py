"""REST API of notifications: list, create (enqueue) and follow a notification's progress.

Served on a commune host under ``/api/v1/notifications/`` and, read-only for supervising-unit
staff, on the national host under ``/api/v1/communes/{commune_code}/notifications/``.
"""
from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.response import Response

from core.api import CommuneScopedMixin
from notifications import selectors, services
from notifications.models import Channel, Notification, Target
from notifications.permissions import SENDER_ROLES


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
