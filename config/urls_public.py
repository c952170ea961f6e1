"""URLs of the national host: provinces and communes, national admin, supervising-unit API."""
from django.urls import include, path
from django.views.i18n import set_language
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from core import views as core_views
from core.admin_site import national_admin
from communes import views as commune_views
from communes import api as commune_api

urlpatterns = [
    path("", commune_views.national_home, name="home"),
    path("provinces/<str:code>/", commune_views.province_detail, name="province-detail"),
    path("accounts/", include("communes.auth_urls")),
    path("admin/", national_admin.urls),
    path("calendar/", include("workcalendar.urls")),
    path("api/v1/communes/", commune_api.CommuneListView.as_view(), name="api-communes"),
    path("api/v1/communes/<str:code>/", commune_api.CommuneDetailView.as_view(), name="api-commune-detail"),
    path("api/v1/communes/<str:commune_code>/", include("config.api_tenant")),
    path("api/schema/", SpectacularAPIView.as_view(urlconf="config.urls_public"), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("healthz", core_views.healthz, name="healthz"),
    path("i18n/setlang/", set_language, name="set_language"),
]

handler400 = "core.views.bad_request"
handler403 = "core.views.permission_denied"
handler404 = "core.views.page_not_found"
handler500 = "core.views.server_error"
