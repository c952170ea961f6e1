"""Citizens' pages of a commune host: procedures, online dossiers, status lookup, rating."""
from django.urls import path

app_name = "services"

urlpatterns: list = []
