"""Language selection: Vietnamese unless the user chose another language on the site."""
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
