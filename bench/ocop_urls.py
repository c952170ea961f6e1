"""The commune host's URLs plus the benchmark's baseline: a minimal Django view."""
from django.http import HttpResponse
from django.urls import path

from config.urls_tenant import urlpatterns as tenant_patterns


def minimal(request):
    return HttpResponse("ok", content_type="text/plain")


urlpatterns = [path("bench/minimal/", minimal), *tenant_patterns]
