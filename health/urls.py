"""The health station's pages for its staff (``/health/…`` on a commune host). Each part of the
app adds its routes in its own block below, after its marker."""
from django.urls import path

from health import views

app_name = "health"

urlpatterns = [
    path("", views.home, name="home"),
]

# --- records (health/record_views.py) ---
from health import record_views  # noqa: E402

urlpatterns += [
    path("records/", record_views.record_list, name="records"),
    path("records/new/", record_views.record_new, name="record_new"),
    path("records/import/", record_views.import_start, name="record_import"),
    path("records/import/template.xlsx", record_views.import_template, name="record_import_template"),
    path("records/import/<int:pk>/", record_views.import_detail, name="record_import_detail"),
    path("records/import/<int:pk>/errors.xlsx", record_views.import_errors, name="record_import_errors"),
    path("records/<int:pk>/", record_views.record_detail, name="record"),
    path("records/<int:pk>/edit/", record_views.record_edit, name="record_edit"),
    path("records/<int:pk>/conditions/", record_views.record_conditions, name="record_conditions"),
    path("records/<int:pk>/pdf/", record_views.record_pdf_view, name="record_pdf"),
    path("records/<int:pk>/delete/", record_views.record_delete, name="record_delete"),
    path("records/<int:pk>/link/", record_views.record_link, name="record_link"),
    path("coverage/", record_views.coverage, name="coverage"),
]

# --- visits (health/visit_views.py) ---
from health import visit_views  # noqa: E402

urlpatterns += [
    path("visits/", visit_views.visit_list, name="visits"),
    path("visits/new/", visit_views.visit_new, name="visit_new"),
    path("visits/<int:pk>/", visit_views.visit_detail, name="visit"),
    path("visits/<int:pk>/edit/", visit_views.visit_edit, name="visit_edit"),
    path("visits/icd10/", visit_views.icd10_search, name="icd10_search"),
]

# --- programmes (health/programme_views.py) ---
from health import programme_views  # noqa: E402

urlpatterns += [
    path("chronic/", programme_views.chronic, name="chronic"),
    path("records/<int:pk>/readings/", programme_views.readings, name="readings"),
    path("pregnancies/", programme_views.pregnancies, name="pregnancies"),
    path("records/<int:pk>/pregnancy/new/", programme_views.pregnancy_new, name="pregnancy_new"),
    path("pregnancies/<int:pk>/", programme_views.pregnancy, name="pregnancy"),
    path("pregnancies/<int:pk>/end/", programme_views.pregnancy_end, name="pregnancy_end"),
    path("growth/", programme_views.growth, name="growth"),
    path("records/<int:pk>/growth/", programme_views.growth_new, name="growth_new"),
]

# --- vaccination (health/vaccination_views.py) ---
from health import vaccination_views  # noqa: E402

urlpatterns += [
    path("records/<int:pk>/vaccinations/", vaccination_views.record_vaccinations, name="vaccinations"),
    path("vaccinations/due/", vaccination_views.vaccinations_due, name="vaccinations_due"),
    path("vaccinations/due/pdf/", vaccination_views.vaccinations_due_pdf, name="vaccinations_due_pdf"),
    path("vaccinations/due/xlsx/", vaccination_views.vaccinations_due_xlsx, name="vaccinations_due_xlsx"),
    path("vaccinations/due/remind/", vaccination_views.vaccinations_remind, name="vaccinations_remind"),
]

# --- reports (health/report_views.py) ---
from health import report_views  # noqa: E402

urlpatterns += [
    path("reports/", report_views.report, name="report"),
    path("reports/pdf/", report_views.report_pdf_view, name="report_pdf"),
    path("reports/xlsx/", report_views.report_xlsx, name="report_xlsx"),
    path("deaths/", report_views.death_list, name="deaths"),
    path("deaths/new/<int:resident_id>/", report_views.death_new, name="death_new"),
]

# --- questions (health/question_views.py) ---
from health import question_views  # noqa: E402

urlpatterns += [
    path("questions/", question_views.question_list, name="questions"),
    path("questions/<int:pk>/", question_views.question_detail, name="question"),
]
