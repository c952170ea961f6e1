"""URLs of a commune host."""
from django.urls import include, path

from communes import views as commune_views
from config.urls_common import common_patterns, handler400, handler403, handler404, handler500  # noqa: F401
from core.admin_site import commune_admin

urlpatterns = [
    path("", commune_views.official_home, name="home"),
    path("population/", include("population.urls")),
    path("notifications/", include("notifications.urls")),
    path("documents/", include("documents.urls")),
    path("signatures/", include("signatures.urls")),
    path("onestop/", include("onestop.urls")),
    path("radio/", include("broadcasting.urls")),
    path("ocop/", include("ecommerce.urls")),
    path("health/", include("health.urls")),
    path("schools/", include("education.urls")),
    path("", include("onestop.public_urls")),
    path("", include("ecommerce.public_urls")),
    path("", include("health.public_urls")),
    path("", include("education.public_urls")),
    path("admin/", commune_admin.urls),
    path("api/v1/", include("config.api_tenant")),
    *common_patterns("config.urls_tenant"),
]
