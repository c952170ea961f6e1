"""The OCOP marketplace's API of a commune (``/api/v1/ocop/…``). Each part of the marketplace
adds its routes in its own block below."""
from django.urls import path  # noqa: F401  (used by the blocks below)
from rest_framework.routers import SimpleRouter

router = SimpleRouter()

urlpatterns = [
]

# Orders and their payments (ecommerce/api/orders.py).
from ecommerce.api import orders as order_api  # noqa: E402

router.register("ocop/orders", order_api.OrderViewSet, basename="ocop-order")
urlpatterns += [
    path("ocop/bank-notifications/", order_api.BankNotificationView.as_view(), name="ocop-bank-notifications"),
]

# Lots, trace codes, stamp sheets, stock files, the product map and the feeds (ecommerce/api/trace.py).
from ecommerce.api import trace as trace_api  # noqa: E402

router.register("ocop/lots", trace_api.LotViewSet, basename="ocop-lot")
router.register("ocop/stamp-sheets", trace_api.StampSheetViewSet, basename="ocop-stamp-sheet")
router.register("ocop/trace", trace_api.TraceViewSet, basename="ocop-trace")
urlpatterns += [
    path("ocop/stock-updates/", trace_api.StockUpdateViewSet.as_view({"post": "create"}), name="ocop-stock-updates"),
    path("ocop/map/", trace_api.MapViewSet.as_view({"get": "list"}), name="ocop-map"),
    path("ocop/feed.json", trace_api.FeedViewSet.as_view({"get": "as_json"}), name="ocop-feed-json"),
    path("ocop/feed.csv", trace_api.FeedViewSet.as_view({"get": "as_csv"}), name="ocop-feed-csv"),
]

# Producers, products, versions, certificates and photos (ecommerce/api/products.py).
from ecommerce.api import products as product_api  # noqa: E402

router.register("ocop/producers", product_api.ProducerViewSet, basename="ocop-producer")
router.register("ocop/products", product_api.ProductViewSet, basename="ocop-product")
router.register("ocop/versions", product_api.VersionViewSet, basename="ocop-version")
router.register("ocop/photos", product_api.PhotoViewSet, basename="ocop-photo")
router.register("ocop/certificates", product_api.CertificateViewSet, basename="ocop-certificate")

urlpatterns += router.urls
