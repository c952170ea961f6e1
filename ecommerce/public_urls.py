"""The OCOP marketplace's public pages on a commune host: the catalogue, product pages, orders
of buyers, trace pages of the stamps, the product map."""
from django.urls import path  # noqa: F401  (used by the blocks below)

app_name = "ocop"

urlpatterns = [
]

# Orders of buyers (ecommerce/buyer_views.py).
from ecommerce import buyer_views  # noqa: E402

urlpatterns += [
    path("dat-hang/<slug:slug>/", buyer_views.order_new, name="order_new"),
    path("don-hang/", buyer_views.order_lookup, name="order_lookup"),
    path("don-hang/cua-toi/", buyer_views.my_orders, name="my_orders"),
    path("don-hang/<str:code>/", buyer_views.order_page, name="order"),
    path("don-hang/<str:code>/da-dat/", buyer_views.order_placed, name="order_placed"),
    path("don-hang/<str:code>/huy/", buyer_views.order_cancel, name="order_cancel"),
    path("don-hang/<str:code>/vietqr.png", buyer_views.order_vietqr, name="order_vietqr"),
]

# Trace pages of the stamps (ecommerce/trace_views.py) and the product map (ecommerce/map_views.py).
from django.urls import re_path  # noqa: E402

from ecommerce import map_views, trace_views  # noqa: E402

GS1_LOT = r"^01/(?P<gtin>[0-9]{8,14})/10/(?P<lot>[0-9A-Za-z][0-9A-Za-z._-]{0,19})"
urlpatterns += [
    path("t/", trace_views.lookup, name="trace_lookup"),
    path("t/<str:code>/", trace_views.trace_code, name="trace"),
    re_path(GS1_LOT + r"/?$", trace_views.trace_gs1, name="trace_gs1"),
    re_path(GS1_LOT + r"/21/(?P<serial>[0-9]{1,9})/?$", trace_views.trace_gs1, name="trace_gs1_item"),
    path("ban-do/", map_views.product_map, name="map"),
]

# Product photos, each stored size a file that never changes (ecommerce/photos.py).
from ecommerce import photos  # noqa: E402

urlpatterns += [
    path("anh-san-pham/<int:pk>/<str:name>", photos.serve, name="photo"),
]

# The catalogue and the product pages (ecommerce.public_views).
from ecommerce import public_views  # noqa: E402

urlpatterns += [
    path("san-pham/", public_views.catalogue, name="catalogue"),
    path("san-pham/<slug:slug>/", public_views.product, name="product"),
]
