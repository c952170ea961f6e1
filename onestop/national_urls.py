"""The one-stop API of the national host for supervising units."""
urlpatterns: list = []
