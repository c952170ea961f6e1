"""Reads on notifications."""
from notifications.models import Delivery, Notification


def notifications():
    return Notification.objects.order_by("-created_at", "-pk")


def deliveries_of(notification, limit: int = 200):
    return Delivery.objects.filter(notification=notification).order_by("index")[:limit]
