"""Officials' pages of the one-stop desk (``/onestop/`` on a commune host)."""
from django.urls import path

from onestop import views

app_name = "onestop"

urlpatterns = [
    path("", views.home, name="home"),
]
