"""The commune API (``/api/v1/`` on a commune host, and under
``/api/v1/communes/{commune_code}/`` on the national host)."""
from django.urls import include, path

urlpatterns = [
    path("", include("population.api_urls")),
    path("", include("notifications.api_urls")),
    path("", include("documents.api_urls")),
    path("", include("signatures.api_urls")),
    path("", include("onestop.api_urls")),
    path("", include("broadcasting.api_urls")),
    path("", include("ecommerce.api_urls")),
    path("", include("health.api_urls")),
    path("", include("education.api_urls")),
]
