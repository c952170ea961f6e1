"""Absolute addresses of the portal for what leaves it: e-mails, SMS, printed forms and their
QR codes.

They never come from the request: its ``Host`` header (and port) is whatever the client sent, and
a link built from it would carry an attacker's host or port into a message sent to someone else.
They come from configuration instead:

* a commune's site: ``XASO_PUBLIC_SCHEME``, the commune's primary domain and, when the site
  listens on an unusual port, ``XASO_PUBLIC_PORT`` (``https://tule.example.vn``);
* the national site: ``XASO_NATIONAL_PUBLIC_URL`` when set, else the same scheme and port before
  the first of ``XASO_NATIONAL_HOSTS``.
"""
from __future__ import annotations

from django.conf import settings

DEFAULT_PORTS = {"http": "80", "https": "443"}


def _scheme() -> str:
    return (getattr(settings, "XASO_PUBLIC_SCHEME", "") or "http").strip().lower().rstrip(":/") or "http"


def _with_port(host: str, scheme: str) -> str:
    port = str(getattr(settings, "XASO_PUBLIC_PORT", "") or "").strip()
    if port and port != DEFAULT_PORTS.get(scheme):
        return f"{host}:{port}"
    return host


def current_commune():
    from communes.permissions import current_commune as current

    return current()


def commune_base_url(commune=None) -> str:
    """``https://tule.example.vn`` for the commune (the current one by default); empty without a
    commune or a domain."""
    commune = commune if commune is not None else current_commune()
    host = commune.primary_host if commune is not None else None
    if not host:
        return ""
    scheme = _scheme()
    return f"{scheme}://{_with_port(host, scheme)}"


def national_base_url() -> str:
    """The national site's address (``XASO_NATIONAL_PUBLIC_URL``, or the first national host)."""
    configured = str(getattr(settings, "XASO_NATIONAL_PUBLIC_URL", "") or "").strip().rstrip("/")
    if configured:
        return configured
    hosts = [h for h in getattr(settings, "NATIONAL_HOSTS", []) if h and not h.startswith(".") and h != "*"]
    scheme = _scheme()
    return f"{scheme}://{_with_port(hosts[0] if hosts else 'localhost', scheme)}"


def site_base_url(commune=None) -> str:
    """The address of the site being served: the commune's (the current one by default), or the
    national site's on the national host."""
    commune = commune if commune is not None else current_commune()
    if commune is not None:
        return commune_base_url(commune) or national_base_url()
    return national_base_url()


def site_host(commune=None) -> str:
    """``tule.example.vn`` (with the public port when there is one) of ``site_base_url()``."""
    return site_base_url(commune).split("://", 1)[-1]


def absolute_url(path: str, commune=None) -> str:
    """``path`` (``/accounts/login/``) on the public address of the site."""
    return f"{site_base_url(commune)}{path if path.startswith('/') else '/' + path}"
