"""The public signature check (no login): a page and an API endpoint, on every host."""
from django.urls import path

from signatures import verify_views

urlpatterns = [
    path("verify/", verify_views.verify_page, name="verify"),
    path("api/v1/verify/", verify_views.verify_api, name="api-verify"),
]
