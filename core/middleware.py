"""The portal's own middleware: the language chosen on the site, the guard that refuses what no
view can handle, and ``no-store`` on every answer that may carry personal data."""
from django.conf import settings
from django.utils import translation
from django.utils.cache import patch_vary_headers


class ChosenLanguageMiddleware:
    """Like Django's LocaleMiddleware, but the browser's Accept-Language is not consulted.

    Officials and citizens get the portal in Vietnamese whatever their phone's language is; the
    language switcher (``set_language``) stores an explicit choice in a cookie.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self.supported = {code for code, _name in settings.LANGUAGES}

    def __call__(self, request):
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        language = chosen if chosen in self.supported else settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()
        response = self.get_response(request)
        patch_vary_headers(response, ("Cookie",))
        response.headers.setdefault("Content-Language", language)
        return response


def _refuse(request, status: int, code: str, message: str):
    from django.http import HttpResponse, JsonResponse

    if request.path.startswith("/api/"):
        return JsonResponse({"code": code, "detail": message, "fields": {}}, status=status)
    return HttpResponse(message, status=status, content_type="text/plain; charset=utf-8")


class RequestGuardMiddleware:
    """Refuse what no view can handle, before any view or query runs.

    * A body larger than ``XASO_MAX_REQUEST_BYTES``: 413 before it is read. Django limits form
      fields in memory but streams uploaded files to disk whatever their size; each upload form
      keeps its own, smaller limit and type checks.
    * A NUL character in the path or the query string: 400. PostgreSQL cannot hold it in text,
      so any lookup with it would fail deep in a query.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        limit = settings.XASO_MAX_REQUEST_BYTES
        if length > limit:
            from django.template.defaultfilters import filesizeformat
            from django.utils.translation import gettext as _

            message = _("The request is larger than the limit of %(max)s.") % {"max": filesizeformat(limit)}
            return _refuse(request, 413, "request_too_large", message)
        if "\x00" in request.path or "%00" in request.META.get("QUERY_STRING", ""):
            from django.utils.translation import gettext as _

            return _refuse(request, 400, "bad_request", _("The address contains a character that is not allowed."))
        return self.get_response(request)


NO_STORE = "no-store, private"


def shareable_with_the_device(response):
    """Keep the caching a view chose for a response that carries no personal data although the
    request was authenticated (a loudspeaker's playlist and audio: it keeps them to play offline)."""
    response.xaso_keep_cache_control = True
    return response


class PrivateResponseMiddleware:
    """``Cache-Control: no-store, private`` on every answer that may carry personal data, so that
    neither a shared cache nor the browser's history keeps it after the official or citizen has
    left a shared computer:

    * any response to an authenticated request (a session, an API token, a device token), pages,
      API answers, files and exports alike;
    * any response to a request bound to a session that holds data (a citizen's sign-up or
      lookup in progress, a login waiting for its second factor);
    * any answer to a POST, PUT, PATCH or DELETE (the public status lookup's result among them).

    Static files are left alone (WhiteNoise answers them before this middleware in any case).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if getattr(response, "xaso_keep_cache_control", False) or request.path.startswith(settings.STATIC_URL):
            return response
        if self.personal(request):
            response["Cache-Control"] = NO_STORE
            if "Expires" in response:
                del response["Expires"]
        return response

    @staticmethod
    def personal(request) -> bool:
        if request.method not in ("GET", "HEAD", "OPTIONS"):
            return True
        if request.META.get("HTTP_AUTHORIZATION"):
            return True
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            return True
        session = getattr(request, "session", None)
        return bool(session is not None and session.accessed and not session.is_empty())
