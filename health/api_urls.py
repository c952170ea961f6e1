"""The health station's API of a commune (``/api/v1/health/…``): health staff only (records are
never in the supervising units' API). Each part adds its routes in its own block below."""
from django.urls import path  # noqa: F401  (used by the blocks below)
from rest_framework.routers import SimpleRouter

router = SimpleRouter()

urlpatterns = []

# --- records ---
from health import record_api  # noqa: E402

router.register("health/records", record_api.RecordViewSet, basename="health-record")

# --- visits ---
from health import visit_api  # noqa: E402

router.register("health/visits", visit_api.VisitViewSet, basename="health-visit")
urlpatterns += [
    path("health/icd10/", visit_api.Icd10View.as_view(), name="health-icd10"),
    path("health/drugs/", visit_api.DrugView.as_view(), name="health-drugs"),
]

# --- programmes ---
from health import programme_api  # noqa: E402

urlpatterns += [
    path("health/records/<int:pk>/readings/", programme_api.ReadingsView.as_view(), name="health-readings"),
    path("health/records/<int:pk>/pregnancies/", programme_api.PregnanciesView.as_view(), name="health-pregnancies"),
    path("health/pregnancies/<int:pk>/antenatal-visits/", programme_api.AntenatalVisitsView.as_view(),
         name="health-antenatal-visits"),
    path("health/records/<int:pk>/growth/", programme_api.GrowthView.as_view(), name="health-growth"),
]

# --- vaccination ---
from health import vaccination_api  # noqa: E402

urlpatterns += [
    path("health/records/<int:pk>/vaccinations/", vaccination_api.RecordVaccinationsView.as_view(),
         name="health-record-vaccinations"),
    path("health/vaccinations/due/", vaccination_api.DueView.as_view(), name="health-vaccinations-due"),
    path("health/vaccinations/schedule/", vaccination_api.ScheduleView.as_view(), name="health-vaccination-schedule"),
]

# --- reports ---
from health import report_api  # noqa: E402

urlpatterns += [path("health/reports/monthly/", report_api.MonthlyReportView.as_view(), name="health-report-monthly")]

# --- questions ---
from health import question_api as _question_api  # noqa: E402

router.register("health/questions", _question_api.QuestionViewSet, basename="health-question")

urlpatterns += router.urls
