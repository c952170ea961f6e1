"""Producers' pages for their orders (``/ocop/orders/…`` on a commune host), phone-first: a
producer answers orders from a cheap phone.

* ``/ocop/orders/``: the orders, filtered by state (``?state=placed`` are the orders to
  confirm, ``?state=paid`` the paid ones to ship: the inbox lines open those), by producer for a
  member of several, and by code or buyer's name.
* ``/ocop/orders/<id>/``: the order with its buyer's delivery details, its lines, payments, the
  bank's notifications about it and its whole history, and the actions that fit its state:
  confirm (reserves the stock; a clear message and what to do when there is not enough),
  mark paid (the producer saw the transfer), ship (carrier and tracking number), deliver, cancel
  with a reason.
* ``POST /ocop/orders/<id>/<action>/``: the action, through ``ecommerce.services``; a refusal
  shows the order again with the message and what was typed.

A producer's member sees and acts on their producers' orders only (another producer's order is
404). The economy officer and the leaders read every order, with the buyer's phone masked and no
address, and act on none. Every change keeps its history (simple-history on the order, and the
order's events that the buyer sees too).
"""
from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Prefetch, Q
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from communes.permissions import page_guard
from core.phones import mask_phone
from core.validation import error_code
from ecommerce import payments, permissions, selectors, services
from ecommerce.models import OPEN_ORDER_STATES, BankNotification, OrderLine, OrderState

PAGE_SIZE = 20
page_requires = page_guard(permissions.require)
ACTIONS = ("confirm", "pay", "ship", "deliver", "cancel")

# The lists a producer works from, in the order of the work.
STATE_FILTERS = (
    ("placed", gettext_lazy("To confirm")),
    ("confirmed", gettext_lazy("Waiting for payment")),
    ("paid", gettext_lazy("To ship")),
    ("shipped", gettext_lazy("Shipped")),
    ("delivered", gettext_lazy("Delivered")),
    ("cancelled", gettext_lazy("Cancelled")),
)


class PayForm(forms.Form):
    amount = forms.CharField(label=gettext_lazy("Amount received (đồng)"), max_length=20,
                             widget=forms.TextInput(attrs={"inputmode": "numeric"}),
                             error_messages={"required": gettext_lazy("Enter the amount in đồng.")})
    transaction_id = forms.CharField(
        label=gettext_lazy("Bank transaction id (optional)"), max_length=100, required=False,
        help_text=gettext_lazy("As your bank's app shows it: a transaction counts once."))


class ShipForm(forms.Form):
    shipping_note = forms.CharField(label=gettext_lazy("Carrier and tracking number"), max_length=200, required=False,
                                    help_text=gettext_lazy("For example: Viettel Post, VD123456789."))


class CancelForm(forms.Form):
    reason = forms.CharField(label=gettext_lazy("Reason for cancelling (sent to the buyer)"),
                             max_length=services.MAX_REASON, widget=forms.Textarea(attrs={"rows": 2}),
                             error_messages={"required": gettext_lazy("Give the reason for cancelling.")})


FORMS = {"pay": PayForm, "ship": ShipForm, "cancel": CancelForm}


def _readable_order(request, pk):
    order = selectors.orders_for(request.user).select_related("producer").filter(pk=pk).first()
    if order is None:
        raise Http404
    return order


def _is_member(user, order) -> bool:
    return permissions.PRODUCER in permissions.user_roles(user) and order.producer_id in permissions.member_producer_ids(user)


def allowed_actions(user, order) -> list[str]:
    manager = permissions.can(user, "order.manage", order.producer_id)
    if not manager:
        return []
    by_state = {
        OrderState.PLACED: ["confirm", "cancel"], OrderState.CONFIRMED: ["pay", "cancel"],
        OrderState.PAID: ["ship", "cancel"], OrderState.SHIPPED: ["deliver"],
    }
    return by_state.get(order.state, [])


@page_requires("order.read")
def order_list(request):
    user = request.user
    orders = selectors.orders_for(user)
    producers = list(selectors.producers_for(user).filter(pk__in=orders.values("producer_id")).order_by("name"))
    producer_id = str(request.GET.get("producer") or "")
    producer = next((p for p in producers if str(p.pk) == producer_id), None)
    if producer is not None:
        orders = orders.filter(producer=producer)
    counts = orders.aggregate(**{key: Count("pk", filter=Q(state=key)) for key, _label in STATE_FILTERS})
    state = str(request.GET.get("state") or "")
    if state in OrderState.values:
        orders = orders.filter(state=state)
    elif state == "open":
        orders = orders.filter(state__in=OPEN_ORDER_STATES)
    else:
        state = ""
    query = str(request.GET.get("q") or "").strip()[:100]
    if query:
        orders = orders.filter(Q(code__iexact=query.replace(" ", "")) | Q(buyer_name__icontains=query))
    oldest_first = state in (OrderState.PLACED, OrderState.PAID, OrderState.CONFIRMED)
    orders = (orders.select_related("producer").prefetch_related(Prefetch("lines", OrderLine.objects.order_by("pk")))
              .order_by(*(("placed_at", "pk") if oldest_first else ("-placed_at", "-pk"))))
    page = Paginator(orders, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "ecommerce/orders/list.html", {
        "page": page, "state": state, "filters": [(key, label, counts[key]) for key, label in STATE_FILTERS],
        "producers": producers, "producer": producer, "query": query,
        "state_label": dict(STATE_FILTERS).get(state, _("Open orders") if state == "open" else _("All orders")),
        "member": permissions.PRODUCER in permissions.user_roles(user),
    })


def _detail_page(request, order, *, forms_in=None, problem: str = "", problem_code: str = "", status: int = 200):
    user = request.user
    order = selectors.order_detail(order.pk)
    member = _is_member(user, order)
    actions = allowed_actions(user, order)
    bound = forms_in or {}
    context = {
        "order": order, "member": member, "actions": actions,
        "lines": list(order.lines.all()), "events": list(order.events.all()), "order_payments": list(order.payments.all()),
        "notices": [(n, payments.outcome_label(n.outcome)) for n in BankNotification.objects.filter(order=order)],
        "phone": order.buyer_phone if member else mask_phone(order.buyer_phone),
        "pay_form": bound.get("pay") or PayForm(initial={"amount": f"{order.total:,}".replace(",", ".")}),
        "ship_form": bound.get("ship") or ShipForm(),
        "cancel_form": bound.get("cancel") or CancelForm(),
        "problem": problem, "not_enough_stock": problem_code == "not_enough_stock",
        "list_url": reverse("ecommerce:orders"), "states": OrderState,
        "transfer": payments.transfer_details(order) if member else None,
    }
    return render(request, "ecommerce/orders/detail.html", context, status=status)


@page_requires("order.read")
def order_detail(request, pk):
    return _detail_page(request, _readable_order(request, pk))


NEXT_STEPS = {
    "confirm": gettext_lazy("Order confirmed: its goods are taken from your stock. Next step: the buyer pays by "
                            "VietQR to your account; the order becomes paid when the bank tells us, or when you "
                            "mark it paid."),
    "pay": gettext_lazy("Payment recorded. Next step: ship the goods and write the carrier and tracking number."),
    "ship": gettext_lazy("Shipped: the buyer got an SMS. Next step: mark the order delivered when it arrives."),
    "deliver": gettext_lazy("Delivered: the order is complete."),
    "cancel": gettext_lazy("Order cancelled: the buyer got an SMS, and reserved goods are back in your stock."),
}


@require_POST
@page_requires("order.manage")
def order_action(request, pk, action):
    if action not in ACTIONS:
        raise Http404
    order = _readable_order(request, pk)
    user = request.user
    form = FORMS[action](request.POST) if action in FORMS else None
    if form is not None and not form.is_valid():
        return _detail_page(request, order, forms_in={action: form}, status=400)
    data = form.cleaned_data if form is not None else {}
    try:
        if action == "confirm":
            services.confirm_order(user, order)
        elif action == "pay":
            services.mark_paid(user, order, amount=data["amount"], transaction_id=data.get("transaction_id") or None)
        elif action == "ship":
            services.ship_order(user, order, data.get("shipping_note", ""))
        elif action == "deliver":
            services.deliver_order(user, order)
        else:
            services.cancel_order(user, order, data["reason"])
    except ValidationError as error:
        code = error_code(error)
        if form is not None and hasattr(error, "error_dict"):
            for field, field_messages in error.message_dict.items():
                for message in field_messages:
                    form.add_error(field if field in form.fields else None, message)
            return _detail_page(request, order, forms_in={action: form}, status=400)
        return _detail_page(request, order, forms_in={action: form} if form is not None else None,
                            problem=" ".join(error.messages), problem_code=code,
                            status=409 if code in services.CONFLICT_CODES else 400)
    messages.success(request, str(NEXT_STEPS[action]))
    return HttpResponseRedirect(reverse("ecommerce:order", args=[order.pk]))

