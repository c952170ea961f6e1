"""Officials' and producers' pages of the OCOP marketplace (``/ocop/`` on a commune host)."""
from django.urls import path

from ecommerce import views

app_name = "ecommerce"

urlpatterns = [
    path("", views.home, name="home"),
]
