"""The health station's pages for residents on the commune's host: their own record
(``/my-health/…``) and the questions to the doctor (``/ask-the-doctor/…``). Each part adds its
routes in its own block below, after its marker."""
app_name = "health_public"

urlpatterns = []

# --- records: the person's own record ---
from django.urls import path  # noqa: E402

from health import record_views  # noqa: E402

urlpatterns += [
    path("my-health/", record_views.my_health, name="my_health"),
    path("my-health/<int:pk>/", record_views.my_health_record, name="my_health_record"),
    path("my-health/<int:pk>/pdf/", record_views.my_health_pdf, name="my_health_pdf"),
]

# --- questions ---
from django.urls import path  # noqa: E402

from health import question_views  # noqa: E402

urlpatterns += [
    path("ask-the-doctor/", question_views.answers, name="answers"),
    path("ask-the-doctor/ask/", question_views.ask, name="ask"),
    path("ask-the-doctor/mine/", question_views.my_questions, name="my_questions"),
    path("ask-the-doctor/<int:pk>/", question_views.answer_detail, name="answer_detail"),
]
