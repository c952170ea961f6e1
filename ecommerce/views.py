"""Officials' and producers' pages of the OCOP marketplace (``/ocop/…`` on a commune host).

Thin views: the role checks come from ``ecommerce.permissions``, the reads from
``ecommerce.selectors``. The overview is the module's home: what waits for the person (the
app's inbox lines), then the lists those lines open.
"""
from __future__ import annotations

from django.db.models import Count, Q
from django.shortcuts import render
from django.utils import timezone

from communes.permissions import page_guard
from ecommerce import permissions, selectors
from ecommerce.models import OrderState, ProducerStatus, ProductStatus

LIST_SIZE = 20
page_requires = page_guard(permissions.require)


@page_requires("module.open")
def home(request):
    user = request.user
    today = timezone.localdate()
    context: dict = {"today": today, "list_size": LIST_SIZE, "officer": permissions.sees_every_producer(user)}
    producers = selectors.producers_for(user)
    context["producer_counts"] = producers.aggregate(
        approved=Count("pk", filter=Q(status=ProducerStatus.APPROVED)),
        pending=Count("pk", filter=Q(status=ProducerStatus.PENDING)),
        suspended=Count("pk", filter=Q(status=ProducerStatus.SUSPENDED)),
    )
    context["product_counts"] = selectors.products_for(user).aggregate(
        published=Count("pk", filter=Q(status=ProductStatus.PUBLISHED)),
        pending=Count("pk", filter=Q(status=ProductStatus.PENDING)),
        draft=Count("pk", filter=Q(status=ProductStatus.DRAFT)),
        hidden=Count("pk", filter=Q(status=ProductStatus.HIDDEN)),
    )
    orders = selectors.orders_for(user)
    context["order_counts"] = orders.aggregate(
        placed=Count("pk", filter=Q(state=OrderState.PLACED)),
        confirmed=Count("pk", filter=Q(state=OrderState.CONFIRMED)),
        paid=Count("pk", filter=Q(state=OrderState.PAID)),
        shipped=Count("pk", filter=Q(state=OrderState.SHIPPED)),
    )
    if context["officer"]:
        context["producers_waiting"] = selectors.producers_waiting().select_related("village")[:LIST_SIZE]
        context["versions_waiting"] = selectors.versions_waiting()[:LIST_SIZE]
        context["certificates_expiring"] = [
            (certificate, (certificate.expires_on - today).days)
            for certificate in selectors.certificates_expiring(90, today)[:LIST_SIZE]
        ]
    if permissions.PRODUCER in permissions.user_roles(user):
        mine = permissions.member_producer_ids(user)
        context["my_producers"] = producers.filter(pk__in=mine)
        context["orders_to_confirm"] = orders.filter(producer_id__in=mine, state=OrderState.PLACED)[:LIST_SIZE]
        context["orders_to_ship"] = orders.filter(producer_id__in=mine, state=OrderState.PAID)[:LIST_SIZE]
    return render(request, "ecommerce/home.html", context)
