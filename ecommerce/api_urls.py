"""The OCOP marketplace's API of a commune (``/api/v1/ocop/…``). Each part of the marketplace
adds its routes in its own block below."""
from django.urls import path  # noqa: F401  (used by the blocks below)
from rest_framework.routers import SimpleRouter

router = SimpleRouter()

urlpatterns = [
]

urlpatterns += router.urls
