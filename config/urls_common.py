"""URLs and error handlers that both hosts serve (the national one and every commune's)."""
from csp.decorators import csp_update
from django.urls import include, path
from django.views.i18n import set_language
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from communes import oidc
from core import views as core_views


# Swagger UI: its start-up script is served as a file of its own (the "split" view, no inline
# script); the bundle sets style attributes and inline style elements, which this page alone allows.
swagger_ui = csp_update({"style-src": ["'unsafe-inline'"]})(SpectacularSwaggerSplitView.as_view(url_name="schema"))


def common_patterns(urlconf: str) -> list:
    """Accounts, the OpenAPI schema of this host's URLs, Swagger UI, health, language switch."""
    return [
        path("accounts/", include("communes.auth_urls")),
        # Login through the province's identity provider (404 unless configured).
        path("oidc/", include(oidc.urlpatterns)),
        path("api/schema/", SpectacularAPIView.as_view(urlconf=urlconf), name="schema"),
        path("api/docs/", swagger_ui, name="swagger-ui"),
        path("healthz", core_views.healthz, name="healthz"),
        # Anyone may check a signed PDF, on the national host and on every commune's.
        path("", include("signatures.verify_urls")),
        path("i18n/setlang/", set_language, name="set_language"),
    ]


handler400 = "core.views.bad_request"
handler403 = "core.views.permission_denied"
handler404 = "core.views.page_not_found"
handler500 = "core.views.server_error"
