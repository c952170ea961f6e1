"""The one-stop API of a commune (``/api/v1/onestop/…``)."""
urlpatterns: list = []
