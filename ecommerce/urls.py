"""Officials' and producers' pages of the OCOP marketplace (``/ocop/`` on a commune host)."""
from django.urls import path

from ecommerce import views

app_name = "ecommerce"

urlpatterns = [
    path("", views.home, name="home"),
]

# Lots, trace codes and stamp sheets (ecommerce/trace_views.py); feeds and stock files
# (ecommerce/feed_views.py).
from ecommerce import feed_views, trace_views  # noqa: E402

urlpatterns += [
    path("lots/", trace_views.lots, name="lots"),
    path("lots/new/", trace_views.lot_new, name="lot_new"),
    path("lots/<int:pk>/", trace_views.lot_detail, name="lot"),
    path("lots/<int:pk>/events/", trace_views.lot_event, name="lot_event"),
    path("lots/<int:pk>/series/", trace_views.lot_series, name="lot_series"),
    path("lots/<int:pk>/stamps/", trace_views.lot_stamps, name="lot_stamps"),
    path("lots/<int:pk>/stamps/progress/", trace_views.lot_stamps_progress, name="lot_stamps_progress"),
    path("lots/<int:pk>/stamps/<int:job_pk>.pdf", trace_views.lot_stamp_file, name="lot_stamp_file"),
    path("feeds/", feed_views.feeds_page, name="feeds"),
    path("feeds/stock/", feed_views.stock_import, name="stock_import"),
]

# The producers' orders (ecommerce/order_views.py).
from ecommerce import order_views  # noqa: E402

urlpatterns += [
    path("orders/", order_views.order_list, name="orders"),
    path("orders/<int:pk>/", order_views.order_detail, name="order"),
    path("orders/<int:pk>/<slug:action>/", order_views.order_action, name="order_action"),
]

# The producers' pages (ecommerce/producer_views.py) and the economy officer's review pages
# (ecommerce/review_views.py).
from ecommerce import producer_views, review_views  # noqa: E402

urlpatterns += [
    path("producer/", producer_views.producer_home, name="producer_home"),
    path("producer/register/", producer_views.register, name="producer_register"),
    path("producers/<int:pk>/", producer_views.producer_detail, name="producer"),
    path("producers/<int:pk>/edit/", producer_views.producer_edit, name="producer_edit"),
    path("producers/<int:pk>/products/new/", producer_views.product_new, name="product_new"),
    path("products/<int:pk>/", producer_views.product_detail, name="product"),
    path("products/<int:pk>/edit/", producer_views.product_edit, name="product_edit"),
    path("products/<int:pk>/submit/", producer_views.product_submit, name="product_submit"),
    path("products/<int:pk>/stock/", producer_views.product_stock, name="product_stock"),
    path("products/<int:pk>/hide/", producer_views.product_hide, name="product_hide"),
    path("products/<int:pk>/show/", producer_views.product_show, name="product_show"),
    path("products/<int:pk>/photos/", producer_views.photo_add, name="photo_add"),
    path("products/<int:pk>/certificates/new/", review_views.certificate_new, name="certificate_new"),
    path("photos/<int:pk>/edit/", producer_views.photo_edit, name="photo_edit"),
    path("photos/<int:pk>/move/", producer_views.photo_move, name="photo_move"),
    path("photos/<int:pk>/delete/", producer_views.photo_delete, name="photo_delete"),
    path("review/", review_views.review_home, name="review"),
    path("review/producers/<int:pk>/", review_views.review_producer, name="review_producer"),
    path("review/producers/<int:pk>/approve/", review_views.approve_producer, name="approve_producer"),
    path("review/producers/<int:pk>/refuse/", review_views.refuse_producer, name="refuse_producer"),
    path("review/versions/<int:pk>/", review_views.review_version, name="review_version"),
    path("review/versions/<int:pk>/approve/", review_views.approve_version, name="approve_version"),
    path("review/versions/<int:pk>/reject/", review_views.reject_version, name="reject_version"),
]
