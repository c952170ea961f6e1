"""Citizens' pages of a commune host: procedures, online dossiers, status lookup, rating."""
from django.urls import path

from onestop import public_views as views

app_name = "services"

urlpatterns = [
    path("services/", views.procedure_list, name="list"),
    path("services/<str:code>/", views.procedure_detail, name="procedure"),
    path("services/<str:code>/apply/", views.apply, name="apply"),
    path("services/<str:code>/documents/<int:pk>/template/", views.requirement_template, name="template"),
    path("my/dossiers/", views.my_dossiers, name="my_dossiers"),
    path("my/dossiers/<int:pk>/", views.my_dossier, name="my_dossier"),
    path("my/dossiers/<int:pk>/edit/", views.edit_dossier, name="edit_dossier"),
    path("my/dossiers/<int:pk>/sent/", views.sent, name="sent"),
    path("my/dossiers/<int:pk>/supplement/", views.send_supplement, name="supplement"),
    path("my/dossiers/<int:pk>/withdraw/", views.withdraw, name="withdraw"),
    path("my/dossiers/<int:pk>/result/", views.download_result, name="result"),
    path("my/dossiers/<int:pk>/forms/<int:form_pk>/", views.download_form, name="form"),
    path("my/dossiers/<int:pk>/documents/<int:document_pk>/", views.download_document, name="document"),
    path("my/dossiers/<int:pk>/vietqr.png", views.vietqr_image, name="vietqr"),
    path("lookup/", views.lookup, name="lookup"),
    path("rate/<uuid:token>/", views.rate, name="rate"),
]
