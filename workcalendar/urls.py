from django.urls import path

from workcalendar import views

app_name = "workcalendar"

urlpatterns = [
    path("", views.calendar_index, name="index"),
    path("<int:year>/", views.year_view, name="year"),
]
