"""Officials' and producers' pages of the OCOP marketplace (``/ocop/`` on a commune host)."""
from django.urls import path

from ecommerce import views

app_name = "ecommerce"

urlpatterns = [
    path("", views.home, name="home"),
]

# The producers' orders (ecommerce/order_views.py).
from ecommerce import order_views  # noqa: E402

urlpatterns += [
    path("orders/", order_views.order_list, name="orders"),
    path("orders/<int:pk>/", order_views.order_detail, name="order"),
    path("orders/<int:pk>/<slug:action>/", order_views.order_action, name="order_action"),
]
