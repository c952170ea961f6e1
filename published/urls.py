"""The national host's API of the published rows (``/api/v1/facts/…``)."""
from django.urls import path

from published import api

urlpatterns = [
    path("facts/monthly/", api.MonthlyFactsView.as_view(), name="facts-monthly"),
]
