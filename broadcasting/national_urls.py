"""The radio reports of the national host for supervising units: the figures of their communes
(``/api/v1/radio/reports/?month=``; one commune's under ``/api/v1/communes/{code}/radio/…``)."""
from django.urls import path

from broadcasting import national_api

urlpatterns = [
    path("radio/reports/", national_api.NationalReportView.as_view(), name="radio-national-reports"),
]
