"""The OCOP marketplace's public pages on a commune host: the catalogue, product pages, orders
of buyers, trace pages of the stamps, the product map."""
from django.urls import path  # noqa: F401  (used by the blocks below)

app_name = "ocop"

urlpatterns = [
]
