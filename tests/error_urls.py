"""A commune host's URLs plus one page that fails, to see the server-error page."""
from django.urls import path

from config.urls_tenant import handler400, handler403, handler404, handler500  # noqa: F401
from config.urls_tenant import urlpatterns as tenant_patterns


def fails(request):
    raise RuntimeError("a fault of the page")


urlpatterns = [path("fails/", fails), *tenant_patterns]
