"""Facts about the HTTP request that several apps need."""
from __future__ import annotations

from rest_framework.settings import api_settings


def client_ip(request) -> str | None:
    """The client's address: REMOTE_ADDR, or the address a configured number of trusted proxies
    saw (REST_FRAMEWORK NUM_PROXIES). An X-Forwarded-For header alone is never believed."""
    remote = request.META.get("REMOTE_ADDR") or None
    proxies = api_settings.NUM_PROXIES
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR")
    if proxies and forwarded:
        addresses = [a.strip() for a in forwarded.split(",") if a.strip()]
        if addresses:
            return addresses[-min(proxies, len(addresses))]
    return remote
