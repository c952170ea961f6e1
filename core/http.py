"""Facts about the HTTP request that several apps need."""
from __future__ import annotations

import contextvars
import re

from django.core.files.storage import default_storage
from django.http import FileResponse, HttpResponse
from rest_framework.settings import api_settings

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


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


_CLIENT_ADDRESS: contextvars.ContextVar[str | None] = contextvars.ContextVar("xaso_client_address", default=None)


class ClientAddressMiddleware:
    """Keeps the client's address (``client_ip``) for the request's duration, for the rules that
    count per address but run below the views (the PIN check of a signature)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = _CLIENT_ADDRESS.set(client_ip(request))
        try:
            return self.get_response(request)
        finally:
            _CLIENT_ADDRESS.reset(token)


def current_client_ip() -> str | None:
    """The address of the client of the request being served; None outside a request (jobs)."""
    return _CLIENT_ADDRESS.get()


def parse_range(header: str, size: int):
    """(start, end) inclusive of a single ``bytes=`` range; None to send the whole file; "bad"
    when the range cannot be satisfied."""
    header = (header or "").strip()
    if not header or not header.lower().startswith("bytes="):
        return None  # no range, or a unit we do not know: the whole file (RFC 9110 §14.2)
    if "," in header:
        return None  # several ranges: the whole file
    match = _RANGE.match(header.replace(" ", ""))
    if match is None or (match.group(1) == "" and match.group(2) == ""):
        return "bad"
    first, last = match.group(1), match.group(2)
    if first == "":
        length = int(last)
        if length == 0 or size == 0:
            return "bad"
        return max(0, size - length), size - 1
    start = int(first)
    end = int(last) if last else size - 1
    if start >= size or end < start:
        return "bad"
    return start, min(end, size - 1)


def ranged_file_response(request, name: str, *, content_type: str, etag: str = "", filename: str | None = None):
    """The stored file ``name``, whole (200) or the byte range the request asks for (206), with
    ``Accept-Ranges``; an ``If-Range`` that does not match ``etag`` gets the whole file. None when
    the range cannot be satisfied (the caller answers 416 in its own words)."""
    size = default_storage.size(name)
    wanted = parse_range(request.headers.get("Range", ""), size)
    if_range = request.headers.get("If-Range", "")
    if wanted is not None and if_range and if_range.strip() != etag:
        wanted = None  # the file changed since the client's copy: send it whole
    if wanted == "bad":
        return None
    if wanted is None:
        response = FileResponse(default_storage.open(name, "rb"), content_type=content_type, filename=filename)
        response["Content-Length"] = str(size)
    else:
        start, end = wanted
        with default_storage.open(name, "rb") as handle:
            handle.seek(start)
            data = handle.read(end - start + 1)
        response = HttpResponse(data, status=206, content_type=content_type)
        response["Content-Range"] = f"bytes {start}-{end}/{size}"
        response["Content-Length"] = str(len(data))
    response["Accept-Ranges"] = "bytes"
    if etag:
        response["ETag"] = etag
    return response
