"""Officials' pages of the commune radio (``/radio/`` on a commune host)."""
from django.urls import path

from broadcasting import views

app_name = "broadcasting"

urlpatterns = [
    path("", views.home, name="home"),
    path("week/", views.week, name="week"),
    path("bulletins/", views.bulletin_list, name="bulletins"),
    path("bulletins/new/", views.bulletin_new, name="bulletin-new"),
    path("bulletins/<int:pk>/", views.bulletin_detail, name="bulletin"),
    path("bulletins/<int:pk>/edit/", views.bulletin_edit, name="bulletin-edit"),
    path("bulletins/<int:pk>/<slug:action>/", views.bulletin_action, name="bulletin-action"),
    path("preview/", views.preview, name="preview"),
    path("listen/", views.listen, name="listen"),
    path("audio/<str:key>/", views.audio_status, name="audio-status"),
    path("audio/<str:key>.mp3", views.audio_file, name="audio-file"),
    path("emergency/", views.emergency, name="emergency"),
    path("emergency/<int:pk>/cancel/", views.emergency_cancel, name="emergency-cancel"),
    path("clusters/", views.clusters, name="clusters"),
    path("clusters/<int:pk>/", views.cluster_detail, name="cluster"),
    path("clusters/<int:pk>/token/<slug:action>/", views.cluster_token, name="cluster-token"),
    path("slots/", views.slots, name="slots"),
    path("slots/<int:pk>/", views.slot_edit, name="slot"),
    path("slots/exceptions/<int:pk>/delete/", views.slot_exception_delete, name="slot-exception-delete"),
    path("pronunciations/", views.pronunciations, name="pronunciations"),
    path("pronunciations/<int:pk>/", views.pronunciation_edit, name="pronunciation"),
    path("reports/", views.reports, name="reports"),
    path("reports.xlsx", views.reports_xlsx, name="reports-xlsx"),
]
