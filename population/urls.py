from django.urls import path

from population import views

app_name = "population"

urlpatterns = [
    path("", views.resident_list, name="resident-list"),
    path("residents/new/", views.resident_edit, name="resident-create"),
    path("residents/import/", views.resident_import, name="resident-import"),
    path("residents/export.xlsx", views.resident_export, name="resident-export"),
    path("residents/<int:pk>/", views.resident_detail, name="resident-detail"),
    path("residents/<int:pk>/edit/", views.resident_edit, name="resident-edit"),
    path("households/", views.household_list, name="household-list"),
    path("households/new/", views.household_edit, name="household-create"),
    path("households/<int:pk>/", views.household_detail, name="household-detail"),
    path("households/<int:pk>/edit/", views.household_edit, name="household-edit"),
    path("villages/", views.village_list, name="village-list"),
    path("villages/new/", views.village_create, name="village-create"),
]
