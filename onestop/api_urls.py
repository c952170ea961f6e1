"""The one-stop API of a commune (``/api/v1/onestop/…``; on the national host under
``/api/v1/communes/{commune_code}/onestop/…`` for supervising-unit staff)."""
from django.urls import path
from rest_framework.routers import SimpleRouter

from onestop import api

router = SimpleRouter()
router.register("onestop/procedures", api.ProcedureViewSet, basename="onestop-procedure")
router.register("onestop/dossiers", api.DossierViewSet, basename="onestop-dossier")

urlpatterns = [
    path("onestop/statistics/", api.StatisticsView.as_view(), name="onestop-statistics"),
    path("onestop/bank-notifications/", api.BankNotificationView.as_view(), name="onestop-bank-notifications"),
    path("onestop/lookup/", api.LookupView.as_view(), name="onestop-lookup"),
    path("onestop/ratings/", api.RatingView.as_view(), name="onestop-ratings"),
    *router.urls,
]
