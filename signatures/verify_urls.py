"""The public signature check (no login): a page and an API endpoint, on every host."""
urlpatterns: list = []
