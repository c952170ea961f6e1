"""The health station's pages for its staff (``/health/…`` on a commune host). Each part of the
app adds its routes in its own block below, after its marker."""
from django.urls import path

from health import views

app_name = "health"

urlpatterns = [
    path("", views.home, name="home"),
]

# --- records (health/record_views.py) ---

# --- visits (health/visit_views.py) ---

# --- programmes (health/programme_views.py) ---

# --- vaccination (health/vaccination_views.py) ---

# --- reports (health/report_views.py) ---

# --- questions (health/question_views.py) ---
