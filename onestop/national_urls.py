"""The one-stop API of the national host for supervising units: the figures of their communes
(``/api/v1/onestop/statistics/``; one commune's under ``/api/v1/communes/{code}/onestop/…``)."""
from django.urls import path

from onestop import national_api

urlpatterns = [
    path("onestop/statistics/", national_api.NationalStatisticsView.as_view(), name="onestop-national-statistics"),
]
