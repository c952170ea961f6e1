"""Public addresses of a dossier, as printed on forms and sent in notifications.

The forms leave the portal on paper, so their links are absolute: the scheme of the public site
(``XASO_PUBLIC_SCHEME``), the commune's primary domain and, when the site listens on an unusual
port, ``XASO_PUBLIC_PORT``. The paths are the citizens' pages of the commune host:

* ``/lookup/?code=<code>`` — the status page (the citizen adds the last four digits of the phone);
* ``/rate/<rating token>/`` — the rating page (the token is the only key, no login);
* ``/my/dossiers/<pk>/`` — the dossier in the citizen's account (the result to download).
"""
from __future__ import annotations

from urllib.parse import quote, urlencode

from core.links import commune_base_url


def base_url(commune=None) -> str:
    """``https://tule.example.vn`` for the commune (the current one by default), from its
    configured address (``core.links``), never from a request.

    Without a commune or a domain the result is empty, and the links below are relative paths.
    """
    return commune_base_url(commune)


def status_url(dossier, commune=None) -> str:
    """The public status page, with the dossier code filled in."""
    return f"{base_url(commune)}/lookup/?{urlencode({'code': dossier.code or ''})}"


def rating_url(dossier, commune=None) -> str:
    """The rating page of the dossier (its rating token is the key)."""
    return f"{base_url(commune)}/rate/{quote(str(dossier.rating_token))}/"


def result_url(dossier, commune=None) -> str:
    """The dossier in the citizen's account, where the signed result is downloaded."""
    return f"{base_url(commune)}/my/dossiers/{int(dossier.pk)}/"

