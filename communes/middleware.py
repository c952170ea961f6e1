"""Pick the commune (tenant) from the Host header.

National hosts (settings.NATIONAL_HOSTS) serve the public schema; a commune host serves that
commune's schema; any other host gets a plain 404 page, never a 500 and never another commune.
When the database cannot be reached to find the commune, ``/healthz`` still answers its JSON
(503) and every other request a 503 that asks to try again shortly.
"""
from django.conf import settings
from django.core.exceptions import DisallowedHost
from django.db import DatabaseError, connection
from django.http import HttpResponse, HttpResponseNotFound
from django.template import loader
from django.urls import set_urlconf
from django_tenants.utils import remove_www

from communes.models import Domain


def _not_found(request):
    """The page of a host that is no commune's: the site's 404 page, in the language the reader
    chose (the language middleware has not run yet), with the site's styles."""
    from django.utils import translation

    chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
    language = chosen if chosen in {code for code, _name in settings.LANGUAGES} else settings.LANGUAGE_CODE
    try:
        with translation.override(language):
            body = loader.render_to_string("404.html", {"request_path": request.path, "LANGUAGE_CODE": language})
    except Exception:  # the template must never turn a 404 into a 500
        body = "<h1>404</h1>"
    return HttpResponseNotFound(body)


def _database_unavailable(request):
    from django.utils.translation import gettext as _

    from core.api import json_error
    from core.views import healthz

    if request.path_info.rstrip("/") == "/healthz":
        response = healthz(request)
    elif request.path_info.startswith("/api/"):
        response = json_error(503, "unavailable", _("The service is briefly unavailable. Try again in a minute."))
    else:
        response = HttpResponse(
            "<!doctype html><meta charset=utf-8><title>503</title><p>%s</p>"
            % _("The service is briefly unavailable. Try again in a minute."),
            status=503, content_type="text/html; charset=utf-8",
        )
    response["Retry-After"] = "30"
    return response


class CommuneHostMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        connection.set_schema_to_public()
        try:
            hostname = remove_www(request.get_host().split(":")[0]).lower()
        except DisallowedHost:
            return HttpResponseNotFound()
        # django-tenants' own templates read request.tenant: on the national host it is the
        # public schema's placeholder; request.commune is the commune or None.
        request.tenant = connection.tenant
        request.commune = None
        if hostname in settings.NATIONAL_HOSTS:
            request.urlconf = settings.PUBLIC_SCHEMA_URLCONF
            set_urlconf(request.urlconf)
            request.is_national = True
            return self.get_response(request)
        request.is_national = False
        try:
            domain = Domain.objects.select_related("tenant").get(domain=hostname)
        except Domain.DoesNotExist:
            request.urlconf = settings.PUBLIC_SCHEMA_URLCONF
            set_urlconf(request.urlconf)
            if request.path_info.startswith(settings.STATIC_URL):
                # The stylesheet of the page below: static files are the same on every host.
                request.is_national = True
                return self.get_response(request)
            return _not_found(request)
        except DatabaseError:
            return _database_unavailable(request)
        commune = domain.tenant
        commune.domain_url = hostname
        request.tenant = request.commune = commune
        connection.set_tenant(commune)
        request.urlconf = settings.ROOT_URLCONF
        set_urlconf(request.urlconf)
        try:
            return self.get_response(request)
        finally:
            connection.set_schema_to_public()
