"""The marketplace's figures for a period, as the module registry's reporting facts
(``communes.modules.FactsSource``): counts and sums only, no personal data.

* ``products_3_stars``, ``products_4_stars``, ``products_5_stars``: listed products by the stars
  of their best certificate valid on the last day of the period;
* ``products_listed``: on the last day; ``producers_approved``: approved now, since before its end;
* ``orders_placed``, ``orders_delivered``, ``orders_cancelled``: in the period;
* ``revenue``: the payments received in the period (đồng), for orders not cancelled since.
"""
from __future__ import annotations

from django.db.models import Count, Q, Sum

from ecommerce import selectors
from ecommerce.models import Order, OrderPayment, OrderState, Producer, ProducerStatus
from workcalendar.services import day_bounds


def for_period(date_from, date_to) -> dict:
    start, end = day_bounds(date_from, date_to)
    stars = selectors.with_stars(selectors.listed_products(), on=date_to).aggregate(
        listed=Count("pk"), three=Count("pk", filter=Q(stars_today=3)), four=Count("pk", filter=Q(stars_today=4)),
        five=Count("pk", filter=Q(stars_today=5)),
    )
    orders = Order.objects.aggregate(
        placed=Count("pk", filter=Q(placed_at__gte=start, placed_at__lt=end)),
        delivered=Count("pk", filter=Q(delivered_at__gte=start, delivered_at__lt=end)),
        cancelled=Count("pk", filter=Q(cancelled_at__gte=start, cancelled_at__lt=end)),
    )
    revenue = (OrderPayment.objects.filter(paid_at__gte=start, paid_at__lt=end)
               .exclude(order__state=OrderState.CANCELLED).aggregate(total=Sum("amount"))["total"]) or 0
    return {
        "products_listed": stars["listed"], "products_3_stars": stars["three"], "products_4_stars": stars["four"],
        "products_5_stars": stars["five"],
        "producers_approved": Producer.objects.filter(status=ProducerStatus.APPROVED, approved_at__lt=end).count(),
        "orders_placed": orders["placed"], "orders_delivered": orders["delivered"],
        "orders_cancelled": orders["cancelled"], "revenue": int(revenue),
    }
