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


class RequestSizeLimitMiddleware:
    """Refuse a request body larger than ``XASO_MAX_REQUEST_BYTES`` before reading it.

    Django limits form fields in memory but streams uploaded files to disk whatever their size;
    this answers 413 at once, with the error body on the API and a page elsewhere. Each upload
    form keeps its own, smaller limit and type checks.
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
            from django.http import HttpResponse, JsonResponse
            from django.template.defaultfilters import filesizeformat
            from django.utils.translation import gettext as _

            message = _("The request is larger than the limit of %(max)s.") % {"max": filesizeformat(limit)}
            if request.path.startswith("/api/"):
                return JsonResponse({"code": "request_too_large", "detail": message, "fields": {}}, status=413)
            return HttpResponse(message, status=413, content_type="text/plain; charset=utf-8")
        return self.get_response(request)
