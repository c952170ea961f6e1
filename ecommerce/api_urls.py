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

# Producers, products, versions, certificates and photos (ecommerce/api/products.py).
from ecommerce.api import products as product_api  # noqa: E402

router.register("ocop/producers", product_api.ProducerViewSet, basename="ocop-producer")
router.register("ocop/products", product_api.ProductViewSet, basename="ocop-product")
router.register("ocop/versions", product_api.VersionViewSet, basename="ocop-version")
router.register("ocop/photos", product_api.PhotoViewSet, basename="ocop-photo")
router.register("ocop/certificates", product_api.CertificateViewSet, basename="ocop-certificate")

urlpatterns += router.urls
