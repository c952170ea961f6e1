"""Officials' pages of the one-stop desk (``/onestop/`` on a commune host)."""
from django.urls import path

from onestop import views

app_name = "onestop"

urlpatterns = [
    path("", views.home, name="home"),
    path("intake/", views.intake_start, name="intake-start"),
    path("intake/<str:code>/", views.intake, name="intake"),
    path("online/", views.online_queue, name="online"),
    path("dossiers/", views.dossier_list, name="dossiers"),
    path("dossiers/<int:pk>/", views.dossier_detail, name="dossier"),
    path("dossiers/<int:pk>/forms/<int:form_pk>.pdf", views.issued_form, name="issued-form"),
    path("dossiers/<int:pk>/forms/pending/<int:job_pk>.pdf", views.pending_form, name="pending-form"),
    path("dossiers/<int:pk>/forms/progress/", views.forms_progress, name="forms-progress"),
    path("dossiers/<int:pk>/files/<int:document_pk>/", views.dossier_file, name="dossier-file"),
    path("dossiers/<int:pk>/result/<slug:kind>.pdf", views.result_file, name="result-file"),
    path("dossiers/<int:pk>/control-sheet.pdf", views.control_sheet, name="control-sheet"),
    path("dossiers/<int:pk>/vietqr.png", views.vietqr_image, name="vietqr"),
    path("dossiers/<int:pk>/progress/", views.dossier_progress, name="dossier-progress"),
    path("dossiers/<int:pk>/<slug:action>/", views.dossier_action, name="dossier-action"),
    path("register/", views.register_page, name="register"),
    path("register.pdf", views.register_pdf, name="register-pdf"),
    path("register.xlsx", views.register_xlsx, name="register-xlsx"),
    path("statistics/", views.statistics_page, name="statistics"),
    path("statistics.xlsx", views.statistics_xlsx, name="statistics-xlsx"),
]
