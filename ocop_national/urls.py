"""The national OCOP catalogue's page (``/ocop/`` on the national host)."""
from django.urls import path

from ocop_national import views

app_name = "ocop_national"

urlpatterns = [
    path("", views.catalogue_page, name="catalogue"),
]
