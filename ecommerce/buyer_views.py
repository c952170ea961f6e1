"""Buyers' pages of the OCOP marketplace on a commune host: ordering, and the buyer's order page.

Light pages for phones (the citizens' layout, no script): every state change goes through
``ecommerce.services``; these views only read, check who is asking and show the services'
messages.

* ``/dat-hang/<product slug>/``: the order form of a listed product: quantity (from the minimum
  order up to the stock), name, mobile phone, e-mail (optional), delivery address, note. A
  citizen's account fills in what it knows; a guest orders with a name and a mobile number.
  The form carries a submission key: a double click or a resent form makes one order.
* ``/don-hang/<code>/da-dat/``: the confirmation once placed: the order code, the total, what
  happens next, and how to pay.
* ``/don-hang/<code>/``: the order's state, lines and events, how to pay, and a cancel button
  while the buyer may still cancel.
* ``/don-hang/<code>/huy/``: asks for the reason, then cancels (POST).
* ``/don-hang/<code>/vietqr.png``: the VietQR of the transfer to the producer's account.
* ``/don-hang/``: an order by its code and the last four digits of the buyer's phone, throttled
  as the one-stop status lookup is (per client address, per code and address, per address a day;
  counted in PostgreSQL by ``core.throttle``). An unknown code and a wrong phone get the same
  answer.
* ``/don-hang/cua-toi/``: the orders of the logged-in buyer.

Who may open an order: its buyer's account, or the browser that placed it or looked it up with
the code and the phone's last four digits (the codes are kept in the session). Anybody else is
sent to the lookup with the code filled in, whether or not the order exists.

**When the VietQR is shown.** Only once the producer has confirmed the order: confirming
reserves the stock, so what the buyer pays for is there. Before that, a transfer could pay for
goods that another buyer's confirmed order took, and would have to be refunded by hand; the
pages say so and tell the buyer that an SMS will come when it is time to pay.
"""
from __future__ import annotations

import hmac
import logging
import re
import uuid
from urllib.parse import urlencode

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DatabaseError, connection
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy
from django.views.decorators.cache import never_cache

from core import throttle
from core.http import client_ip
from core.phones import mask_phone, normalize_mobile
from core.validation import error_code
from ecommerce import payments, selectors, services
from ecommerce.models import Order, OrderState

logger = logging.getLogger(__name__)

SESSION_KEY = "ocop_orders"
MAX_SESSION_ORDERS = 20
CODE_RE = re.compile(r"^[0-9A-Z]{4,20}$")
LOOKUP_SCOPE = "ocop.order_lookup"  # per client address (XASO_LOOKUP_RATE)
LOOKUP_WRONG_SCOPE = "ocop.order_lookup.wrong"  # per (commune, code, address): XASO_LOOKUP_MAX_FAILURES an hour
LOOKUP_WRONG_DAY_SCOPE = "ocop.order_lookup.wrong-day"  # per address, every commune: XASO_LOOKUP_FAILURE_RATE
LOOKUP_WINDOW_SECONDS = 3600
UNAVAILABLE_RETRY_SECONDS = 30


# --- who may open an order ---------------------------------------------------------------------

def _session_codes(request) -> list[str]:
    codes = request.session.get(SESSION_KEY) or []
    return [str(code) for code in codes if isinstance(code, str)][:MAX_SESSION_ORDERS]


def remember(request, order) -> None:
    """This browser may open ``order`` from now on (it placed it, or gave its code and phone)."""
    codes = [code for code in _session_codes(request) if code != order.code]
    request.session[SESSION_KEY] = [order.code, *codes][:MAX_SESSION_ORDERS]


def _normalize_code(code) -> str:
    return re.sub(r"\s+", "", str(code or "")).upper()[:20]


def _by_this_browser(request, order) -> bool:
    return order.code in _session_codes(request)


def _is_account_buyer(request, order) -> bool:
    user = request.user
    return bool(user.is_authenticated and order.buyer_id and order.buyer_id == user.pk)


def _order_or_lookup(request, code):
    """(order, None) when the visitor may open the order; (None, a redirect to the lookup with the
    code filled in) otherwise, the same whether the order exists or not."""
    code = _normalize_code(code)
    order = Order.objects.select_related("producer").filter(code=code).first() if CODE_RE.match(code) else None
    if order is not None and (_is_account_buyer(request, order) or _by_this_browser(request, order)):
        return order, None
    return None, HttpResponseRedirect(reverse("ocop:order_lookup") + "?" + urlencode({"code": code}))


def _guest_checked(request, order) -> bool:
    """A guest's order opened by the browser that placed it or looked it up."""
    return order.buyer_id is None and _by_this_browser(request, order)


def may_cancel(request, order) -> bool:
    return order.state in services.BUYER_CANCELLABLE and (
        _is_account_buyer(request, order) or _guest_checked(request, order))


def _product_url(product) -> str:
    """The product's public page (the catalogue's), when it is installed."""
    try:
        return reverse("ocop:product", args=[product.slug])
    except NoReverseMatch:
        return ""


# --- ordering ----------------------------------------------------------------------------------

class OrderForm(forms.Form):
    """A buyer's order of one product. The services check everything again when it is placed."""

    quantity = forms.IntegerField(label=pgettext_lazy("order", "Quantity"), widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
                                  error_messages={"invalid": gettext_lazy("Enter the quantity as a whole number."),
                                                  "required": gettext_lazy("Enter the quantity.")})
    buyer_name = forms.CharField(label=gettext_lazy("Your full name"), max_length=200,
                                 widget=forms.TextInput(attrs={"autocomplete": "name"}),
                                 error_messages={"required": gettext_lazy("Enter your full name.")})
    buyer_phone = forms.CharField(
        label=gettext_lazy("Mobile phone"), max_length=20,
        help_text=gettext_lazy("We send the SMS about your order to it, e.g. 0912345678."),
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}),
        error_messages={"required": gettext_lazy("Enter your mobile phone number.")})
    buyer_email = forms.EmailField(label=gettext_lazy("E-mail (optional)"), required=False, max_length=254,
                                   widget=forms.EmailInput(attrs={"autocomplete": "email"}),
                                   error_messages={"invalid": gettext_lazy("Enter a valid e-mail address.")})
    delivery_address = forms.CharField(
        label=pgettext_lazy("order", "Delivery address"), max_length=300,
        help_text=gettext_lazy("House number, village, commune, district, province."),
        widget=forms.Textarea(attrs={"rows": 2, "autocomplete": "street-address"}),
        error_messages={"required": gettext_lazy("Enter the delivery address.")})
    note = forms.CharField(label=gettext_lazy("Note to the producer (optional)"), required=False, max_length=1000,
                           widget=forms.Textarea(attrs={"rows": 2}))
    submit_token = forms.UUIDField(widget=forms.HiddenInput, error_messages={
        "required": gettext_lazy("The form has expired: reload the page and send it again."),
        "invalid": gettext_lazy("The form has expired: reload the page and send it again.")})

    def __init__(self, *args, product, **kwargs):
        super().__init__(*args, **kwargs)
        self.product = product
        version = product.live_version
        self.maximum = max(0, min(product.stock, services.MAX_QUANTITY))
        widget = self.fields["quantity"].widget
        widget.attrs.update({"min": version.min_order, "max": max(self.maximum, version.min_order)})
        self.fields["quantity"].help_text = _("From %(min)s to %(max)s %(unit)s.") % {
            "min": version.min_order, "max": self.maximum, "unit": version.unit}
        for name in ("buyer_name", "buyer_phone", "buyer_email", "delivery_address", "note"):
            self.fields[name].widget.attrs.setdefault("maxlength", self.fields[name].max_length)

    def clean_quantity(self):
        quantity = self.cleaned_data["quantity"]
        version = self.product.live_version
        if quantity < version.min_order:
            raise forms.ValidationError(_("“%(name)s” is sold from %(min)d %(unit)s.") % {
                "name": version.name, "min": version.min_order, "unit": version.unit})
        if quantity > self.maximum:
            if self.maximum < services.MAX_QUANTITY:
                raise forms.ValidationError(_("Only %(stock)d %(unit)s of “%(name)s” are left.") % {
                    "stock": self.product.stock, "unit": version.unit, "name": version.name})
            raise forms.ValidationError(_("A quantity is a whole number from 1 to 100.000."))
        return quantity

    def clean_buyer_phone(self):
        phone = normalize_mobile(self.cleaned_data["buyer_phone"])
        if not phone:
            raise forms.ValidationError(_("Enter a Vietnamese mobile number of 10 digits, e.g. 0912345678."))
        return phone


SERVICE_FIELDS = {"lines": "quantity", "buyer_name": "buyer_name", "buyer_phone": "buyer_phone",
                  "buyer_email": "buyer_email", "delivery_address": "delivery_address", "note": "note"}


def _errors_to_form(form, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for field, field_messages in error.message_dict.items():
            target = SERVICE_FIELDS.get(field)
            for message in field_messages:
                form.add_error(target if target in form.fields else None, message)
    else:
        for message in error.messages:
            form.add_error(None, message)


def _listed_product(slug):
    product = selectors.listed_products().filter(slug=str(slug)[:80]).first()
    if product is None:
        raise Http404
    return product


@never_cache
def order_new(request, slug):
    product = _listed_product(slug)
    version = product.live_version
    user = request.user if request.user.is_authenticated else None
    if request.method == "POST":
        form = OrderForm(request.POST, product=product)
        stale_token = False
        if form.is_valid():
            data = form.cleaned_data
            try:
                order = services.place_order(
                    lines=[(product, data["quantity"])], buyer=user, buyer_name=data["buyer_name"],
                    buyer_phone=data["buyer_phone"], buyer_email=data["buyer_email"],
                    delivery_address=data["delivery_address"], note=data["note"], submit_token=data["submit_token"],
                )
            except ValidationError as error:
                _errors_to_form(form, error)
                stale_token = error_code(error) in ("invalid_token", "duplicate_token")
            else:
                remember(request, order)
                return HttpResponseRedirect(reverse("ocop:order_placed", args=[order.code]))
        if "submit_token" in form.errors or stale_token:
            # A fresh key for the next try; everything typed stays.
            data = form.data.copy()
            data["submit_token"] = str(uuid.uuid4())
            form.data = data
    else:
        initial = {"quantity": version.min_order, "submit_token": uuid.uuid4()}
        if user is not None:
            initial.update(buyer_name=getattr(user, "full_name", "") or "", buyer_email=user.email or "",
                           buyer_phone=normalize_mobile(getattr(user, "phone", "")) or "")
        form = OrderForm(initial=initial, product=product)
    available = product.stock >= version.min_order
    return render(request, "ecommerce/buyer/order_form.html", {
        "product": product, "version": version, "form": form, "available": available,
        "product_url": _product_url(product), "guest": user is None,
        "login_url": reverse("login") + "?" + urlencode({"next": request.get_full_path()}),
    })


def _page_context(request, order) -> dict:
    lines = list(order.lines.order_by("pk"))
    return {
        "order": order, "lines": lines, "payment": payments.transfer_details(order),
        "phone": mask_phone(order.buyer_phone), "may_cancel": may_cancel(request, order),
        "account_order": order.buyer_id is not None, "commune_phone": getattr(getattr(request, "commune", None), "phone", ""),
        "states": OrderState,
        "login_to_cancel": bool(order.state in services.BUYER_CANCELLABLE and order.buyer_id
                                and not _is_account_buyer(request, order)),
    }


@never_cache
def order_placed(request, code):
    """The confirmation once the order is placed (GOV.UK's confirmation panel)."""
    order, redirect = _order_or_lookup(request, code)
    if redirect is not None:
        return redirect
    return render(request, "ecommerce/buyer/placed.html", _page_context(request, order))


@never_cache
def order_page(request, code):
    order, redirect = _order_or_lookup(request, code)
    if redirect is not None:
        return redirect
    context = _page_context(request, order)
    context["events"] = list(order.events.filter(public=True).order_by("at", "pk"))
    return render(request, "ecommerce/buyer/order.html", context)


class CancelForm(forms.Form):
    reason = forms.CharField(label=gettext_lazy("Why do you cancel the order?"), max_length=services.MAX_REASON,
                             widget=forms.Textarea(attrs={"rows": 3}),
                             error_messages={"required": gettext_lazy("Give the reason for cancelling.")})


@never_cache
def order_cancel(request, code):
    """Cancelling asks for the reason first (GET), then cancels (POST)."""
    order, redirect = _order_or_lookup(request, code)
    if redirect is not None:
        return redirect
    if not may_cancel(request, order):
        if order.state in services.BUYER_CANCELLABLE and order.buyer_id:
            messages.info(request, _("Log in with the account that placed the order to cancel it."))
        else:
            messages.info(request, _("This order can no longer be cancelled here: call the producer."))
        return HttpResponseRedirect(reverse("ocop:order", args=[order.code]))
    form = CancelForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.cancel_order(request.user, order, form.cleaned_data["reason"],
                                  guest_checked=_guest_checked(request, order))
        except ValidationError as error:
            _errors_to_form(form, error)
        except PermissionDenied:
            form.add_error(None, _("Log in with the account that placed the order to cancel it."))
        else:
            messages.success(request, _("The order has been cancelled."))
            return HttpResponseRedirect(reverse("ocop:order", args=[order.code]))
    return render(request, "ecommerce/buyer/cancel.html", {"order": order, "form": form})


def order_vietqr(request, code):
    order, redirect = _order_or_lookup(request, code)
    if redirect is not None:
        raise Http404
    details = payments.transfer_details(order)
    if details is None:
        raise Http404
    from core import vietqr

    response = HttpResponse(vietqr.qr_png(details["payload"], box_size=5), content_type="image/png")
    response["Cache-Control"] = "private, max-age=300"
    return response


@login_required
@never_cache
def my_orders(request):
    orders = selectors.orders_of_buyer(request.user).select_related("producer").order_by("-placed_at", "-pk")[:100]
    return render(request, "ecommerce/buyer/my_orders.html", {"orders": orders})


# --- lookup by code and phone ------------------------------------------------------------------

class LookupForm(forms.Form):
    code = forms.CharField(
        label=gettext_lazy("Order code"), max_length=20,
        help_text=gettext_lazy("As in the SMS and on the confirmation page, e.g. 7KMX4TQA."),
        widget=forms.TextInput(attrs={"autocapitalize": "characters", "autocomplete": "off", "spellcheck": "false"}),
        error_messages={"required": gettext_lazy("Enter the order code.")})
    phone_last4 = forms.CharField(
        label=gettext_lazy("Last four digits of the phone number given with the order"), max_length=4,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "pattern": "[0-9]{4}", "autocomplete": "off", "size": 6}),
        error_messages={"required": gettext_lazy("Enter the last four digits of the phone number.")})

    def clean_code(self):
        code = _normalize_code(self.cleaned_data["code"])
        if not CODE_RE.match(code):
            raise forms.ValidationError(_("An order code has letters and digits only, e.g. 7KMX4TQA."))
        return code

    def clean_phone_last4(self):
        value = self.cleaned_data["phone_last4"].strip()
        if not re.fullmatch(r"\d{4}", value):
            raise forms.ValidationError(_("Enter the last four digits of the phone number."))
        return value


class LookupRefused(Exception):
    def __init__(self, decision):
        super().__init__("order lookup throttled")
        self.decision = decision


def _code_key(code: str, address: str) -> str:
    return f"{connection.schema_name}:{code}:{address}"


def find_by_phone(code: str, phone_last4: str, address: str) -> Order | None:
    """The order with ``code`` whose buyer's phone ends with ``phone_last4``; None for an unknown
    code or a wrong phone. Each try counts against (code, address) before the phone is compared
    (``XASO_LOOKUP_MAX_FAILURES`` an hour; a right phone clears it), and a wrong one against the
    address for the day (``XASO_LOOKUP_FAILURE_RATE``): ``LookupRefused`` past either."""
    day_limit, day_window = throttle.parse_rate(settings.XASO_LOOKUP_FAILURE_RATE)
    key = _code_key(code, address)
    daily, per_code = throttle.hit_unless(LOOKUP_WRONG_SCOPE, key, int(settings.XASO_LOOKUP_MAX_FAILURES),
                                          LOOKUP_WINDOW_SECONDS, guard=(LOOKUP_WRONG_DAY_SCOPE, address, day_limit))
    if per_code is None:
        raise LookupRefused(daily)
    if not per_code.allowed:
        raise LookupRefused(per_code)
    order = Order.objects.filter(code=code).only("pk", "code", "buyer_phone", "buyer_id").first()
    expected = re.sub(r"\D", "", order.buyer_phone)[-4:] if order is not None else "----"
    if order is None or len(expected) != 4 or not hmac.compare_digest(expected, phone_last4):
        throttle.hit(LOOKUP_WRONG_DAY_SCOPE, address, day_limit, day_window)
        return None
    throttle.clear(LOOKUP_WRONG_SCOPE, key)
    return order


def _throttled(request, decision, typed_code: str):
    retry_after = max(1, int(decision.retry_after))
    response = render(request, "ecommerce/buyer/throttled.html", {
        "minutes": max(1, (retry_after + 59) // 60), "typed_code": typed_code,
    }, status=429)
    response["Retry-After"] = str(retry_after)
    return response


@never_cache
def order_lookup(request):
    if request.method != "POST":
        form = LookupForm(initial={"code": _normalize_code(request.GET.get("code"))})
        return render(request, "ecommerce/buyer/lookup.html", {"form": form})
    typed_code = _normalize_code(request.POST.get("code"))
    address = client_ip(request) or "unknown"
    form = LookupForm(request.POST)
    try:
        rate = str(settings.XASO_LOOKUP_RATE or "").strip()
        if rate:
            decision = throttle.check(LOOKUP_SCOPE, address, rate)
            if not decision.allowed:
                return _throttled(request, decision, typed_code)
        if not form.is_valid():
            return render(request, "ecommerce/buyer/lookup.html", {"form": form})
        order = find_by_phone(form.cleaned_data["code"], form.cleaned_data["phone_last4"], address)
    except LookupRefused as refused:
        return _throttled(request, refused.decision, typed_code)
    except DatabaseError:
        logger.exception("Order lookup: the database did not answer")
        response = render(request, "ecommerce/buyer/lookup.html", {"form": LookupForm(request.POST), "unavailable": True},
                          status=503)
        response["Retry-After"] = str(UNAVAILABLE_RETRY_SECONDS)
        return response
    if order is None:
        return render(request, "ecommerce/buyer/lookup.html", {"form": form, "not_found": True})
    remember(request, order)
    return HttpResponseRedirect(reverse("ocop:order", args=[order.code]))
