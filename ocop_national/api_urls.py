"""The national OCOP catalogue's API (``/api/v1/ocop/catalogue/`` on the national host)."""
from django.urls import path

from ocop_national import api

urlpatterns = [
    path("ocop/catalogue/", api.CatalogueView.as_view(), name="ocop-national-catalogue"),
]
