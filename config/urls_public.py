"""URLs of the national host: provinces and communes, national admin, supervising-unit API."""
from django.urls import include, path

import config.converters  # noqa: F401  (registers commune_code and province_code)

from communes import api as commune_api
from communes import views as commune_views
from config.urls_common import common_patterns, handler400, handler403, handler404, handler500  # noqa: F401
from core.admin_site import national_admin

urlpatterns = [
    path("", commune_views.national_home, name="home"),
    path("provinces/<province_code:code>/", commune_views.province_detail, name="province-detail"),
    path("admin/", national_admin.urls),
    path("calendar/", include("workcalendar.urls")),
    path("api/v1/communes/", commune_api.CommuneListView.as_view(), name="api-communes"),
    path("api/v1/communes/<commune_code:code>/", commune_api.CommuneDetailView.as_view(), name="api-commune-detail"),
    path("api/v1/communes/<commune_code:commune_code>/", include("config.api_tenant")),
    path("api/v1/", include("onestop.national_urls")),
    path("api/v1/", include("broadcasting.national_urls")),
    path("api/v1/", include("published.urls")),
    path("api/v1/", include("ocop_national.api_urls")),
    path("ocop/", include("ocop_national.urls")),
    *common_patterns("config.urls_public"),
]
