"""The health station's pages for residents on the commune's host: their own record
(``/my-health/…``) and the questions to the doctor (``/ask-the-doctor/…``). Each part adds its
routes in its own block below, after its marker."""
app_name = "health_public"

urlpatterns = []

# --- records: the person's own record ---

# --- questions ---
