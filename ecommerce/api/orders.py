"""The orders of the OCOP marketplace in the REST API (``/api/v1/ocop/…`` on a commune host).

* ``orders/``: GET lists the caller's orders: those they placed with their account (a buyer,
  any logged-in user) and, for a producer's member, the orders of their producers; the economy
  officer and the leaders read every order of the commune, with the buyer's phone masked and
  without the address. ``?state=`` filters by state, ``?as=buyer`` or ``?as=producer`` keeps one
  side. POST places an order with the caller's account (a guest orders on the public page).
* ``orders/{id}/``: the order with its lines, its events (the buyer sees the public ones) and,
  once the producer has confirmed it, what the buyer needs to pay it by VietQR (``payment``).
  ``actions`` lists what the caller may do next.
* ``orders/{id}/confirm/``, ``pay/``, ``ship/`` (the producer's members), ``deliver/`` (the
  producer, or the buyer once it arrived), ``cancel/`` (the buyer before paying, the producer
  until shipping; a reason is required): each calls ``ecommerce.services``.
* ``bank-notifications/``: the bank's payment notifications for orders (no session: an HMAC
  signature, see ``ecommerce.payments``).

Another buyer's or another producer's order is 404, an action of another role 403; a refusal
of the services is 400 (bad input) or 409 (the order's state, not enough stock), with the
project's error body ``{"code", "detail", "fields"}``.
"""
from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Prefetch
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field, extend_schema_view
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from core.phones import mask_phone
from ecommerce import payments, permissions, selectors, services
from ecommerce.api import LOGGED_IN, MAX_DB_ID, OcopViewSet, refusal, require_commune
from ecommerce.models import Order, OrderEvent, OrderLine, OrderState

MAX_LINES = services.MAX_LINES


def _sees_everything(request, order) -> bool:
    """The buyer and the producer's members read the order whole; the commune's staff read it
    with the buyer's phone masked and without the address."""
    user = request.user
    return permissions.is_buyer(user, order) or (
        permissions.PRODUCER in permissions.user_roles(user) and order.producer_id in permissions.member_producer_ids(user))


def allowed_actions(user, order) -> list[str]:
    """What ``user`` may do next with ``order`` (as the services would allow it)."""
    producer = permissions.can(user, "order.manage", order.producer_id)
    buyer = permissions.is_buyer(user, order)
    result = []
    if producer and order.state == OrderState.PLACED:
        result.append("confirm")
    if producer and order.state == OrderState.CONFIRMED:
        result.append("pay")
    if producer and order.state == OrderState.PAID:
        result.append("ship")
    if (producer or buyer) and order.state == OrderState.SHIPPED:
        result.append("deliver")
    if (producer and order.state in services.PRODUCER_CANCELLABLE) or (
            buyer and order.state in services.BUYER_CANCELLABLE):
        result.append("cancel")
    return result


# --- serializers -------------------------------------------------------------------------------

class OrderLineSerializer(serializers.ModelSerializer):
    class Meta:
        model = OrderLine
        fields = ["product", "name", "unit", "unit_price", "quantity", "amount"]
        read_only_fields = fields


class OrderEventSerializer(serializers.ModelSerializer):
    kind_label = serializers.CharField(source="get_kind_display", read_only=True)

    class Meta:
        model = OrderEvent
        fields = ["kind", "kind_label", "at", "note"]
        read_only_fields = fields


class PaymentDetailsSerializer(serializers.Serializer):
    bank_bin = serializers.CharField(help_text=gettext_lazy("The bank's 6-digit BIN (NAPAS)."))
    account = serializers.CharField(help_text=gettext_lazy("The producer's account number."))
    account_name = serializers.CharField()
    amount = serializers.IntegerField(help_text=gettext_lazy("The order's total, in đồng."))
    purpose = serializers.CharField(help_text=gettext_lazy("The transfer's purpose: 'DH <order code>'."))
    payload = serializers.CharField(help_text=gettext_lazy("The VietQR payload (EMVCo) to draw as a QR code."))


class ProducerRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class OrderSerializer(serializers.ModelSerializer):
    state = serializers.CharField(read_only=True, help_text=gettext_lazy(
        "placed, confirmed, paid, shipped, delivered or cancelled."))
    state_label = serializers.CharField(source="get_state_display", read_only=True)
    producer = ProducerRefSerializer(read_only=True)
    buyer_phone = serializers.SerializerMethodField()

    class Meta:
        model = Order
        fields = ["id", "code", "state", "state_label", "producer", "buyer_name", "buyer_phone", "subtotal",
                  "shipping_fee", "total", "placed_at", "confirmed_at", "paid_at", "shipped_at", "delivered_at",
                  "cancelled_at"]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.STR)
    def get_buyer_phone(self, order) -> str:
        request = self.context.get("request")
        if request is not None and _sees_everything(request, order):
            return order.buyer_phone
        return mask_phone(order.buyer_phone)


class OrderDetailSerializer(OrderSerializer):
    lines = OrderLineSerializer(many=True, read_only=True)
    events = serializers.SerializerMethodField()
    delivery_address = serializers.SerializerMethodField()
    buyer_email = serializers.SerializerMethodField()
    payment = serializers.SerializerMethodField()
    actions = serializers.SerializerMethodField()

    class Meta(OrderSerializer.Meta):
        fields = [*OrderSerializer.Meta.fields, "buyer_email", "delivery_address", "note", "shipping_note",
                  "cancel_reason", "lines", "events", "payment", "actions"]
        read_only_fields = fields

    def _whole(self, order) -> bool:
        request = self.context.get("request")
        return request is not None and _sees_everything(request, order)

    @extend_schema_field(OrderEventSerializer(many=True))
    def get_events(self, order):
        request = self.context.get("request")
        events = list(order.events.all())
        manager = request is not None and permissions.can(request.user, "order.read", order.producer_id)
        if not manager:
            events = [event for event in events if event.public]
        return OrderEventSerializer(events, many=True).data

    @extend_schema_field(OpenApiTypes.STR)
    def get_delivery_address(self, order) -> str:
        return order.delivery_address if self._whole(order) else ""

    @extend_schema_field(OpenApiTypes.STR)
    def get_buyer_email(self, order) -> str:
        return order.buyer_email if self._whole(order) else ""

    @extend_schema_field(PaymentDetailsSerializer(allow_null=True))
    def get_payment(self, order):
        details = payments.transfer_details(order)
        return PaymentDetailsSerializer(details).data if details and self._whole(order) else None

    @extend_schema_field(serializers.ListField(child=serializers.ChoiceField(
        choices=["confirm", "pay", "ship", "deliver", "cancel"])))
    def get_actions(self, order) -> list[str]:
        request = self.context.get("request")
        return allowed_actions(request.user, order) if request is not None else []


class OrderLineInputSerializer(serializers.Serializer):
    product = serializers.IntegerField(min_value=1, max_value=MAX_DB_ID, help_text=gettext_lazy("The product's id."))
    quantity = serializers.IntegerField(min_value=1, max_value=services.MAX_QUANTITY)


class PlaceOrderSerializer(serializers.Serializer):
    lines = OrderLineInputSerializer(many=True, min_length=1, max_length=MAX_LINES)
    buyer_name = serializers.CharField(max_length=200, required=False, allow_blank=True, help_text=gettext_lazy(
        "The name on the delivery; the account's name by default."))
    buyer_phone = serializers.CharField(max_length=20, required=False, allow_blank=True, help_text=gettext_lazy(
        "A Vietnamese mobile number for the SMS; the account's by default."))
    buyer_email = serializers.CharField(max_length=254, required=False, allow_blank=True)
    delivery_address = serializers.CharField(max_length=300)
    note = serializers.CharField(max_length=1000, required=False, allow_blank=True)
    submit_token = serializers.UUIDField(required=False, allow_null=True, help_text=gettext_lazy(
        "A key of the client's choosing: sending the same order again with it returns the first one."))


class PayInputSerializer(serializers.Serializer):
    amount = serializers.IntegerField(min_value=1, max_value=10**13, help_text=gettext_lazy(
        "The amount received, in đồng: the order's total."))
    transaction_id = serializers.CharField(max_length=100, required=False, allow_blank=True, help_text=gettext_lazy(
        "The bank's transaction id, when the producer has it (a transaction counts once)."))


class ShipInputSerializer(serializers.Serializer):
    shipping_note = serializers.CharField(max_length=200, required=False, allow_blank=True, help_text=gettext_lazy(
        "The carrier and the tracking number."))


class CancelInputSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=services.MAX_REASON)


# --- view sets ---------------------------------------------------------------------------------

@extend_schema_view(list=extend_schema(parameters=[
    OpenApiParameter("state", str, required=False, enum=list(OrderState.values)),
    OpenApiParameter("as", str, required=False, enum=["buyer", "producer"],
                     description=gettext_lazy("Only the orders the caller placed (buyer), or only their producers' orders.")),
]))
class OrderViewSet(OcopViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    """Orders of the OCOP marketplace (đơn hàng) and their actions."""

    serializer_class = OrderSerializer
    http_method_names = ["get", "post", "head", "options"]
    action_permissions = {
        "list": LOGGED_IN, "retrieve": LOGGED_IN, "create": LOGGED_IN,
        "confirm": "order.manage", "pay": "order.manage", "ship": "order.manage",
        "deliver": LOGGED_IN, "cancel": LOGGED_IN,
    }

    def get_serializer_class(self):
        return OrderSerializer if self.action == "list" else OrderDetailSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Order.objects.none()
        user = self.request.user
        side = self.request.query_params.get("as", "") if self.action == "list" else ""
        if side not in ("", "buyer", "producer"):
            raise ValidationError({"as": [_("Choose buyer or producer.")]})
        if side == "buyer":
            queryset = selectors.orders_of_buyer(user)
        elif side == "producer":
            queryset = selectors.orders_for(user)
        else:
            queryset = selectors.orders_for(user) | selectors.orders_of_buyer(user)
        queryset = queryset.select_related("producer")
        if self.action == "list":
            state = self.request.query_params.get("state", "")
            if state:
                if state not in OrderState.values:
                    raise ValidationError({"state": [_("This state does not exist.")]})
                queryset = queryset.filter(state=state)
            return queryset.order_by("-placed_at", "-pk")
        return queryset.prefetch_related(Prefetch("lines", OrderLine.objects.order_by("pk")),
                                         Prefetch("events", OrderEvent.objects.order_by("at", "pk")))

    def _detail(self, order, status_code=status.HTTP_200_OK) -> Response:
        order = self.get_queryset().get(pk=order.pk)
        return Response(OrderDetailSerializer(order, context=self.get_serializer_context()).data, status=status_code)

    def _act(self, func, *args, **kwargs) -> Response:
        order = self.get_object()
        try:
            func(self.request.user, order, *args, **kwargs)
        except DjangoValidationError as exc:
            return refusal(exc)
        return self._detail(order)

    @extend_schema(request=PlaceOrderSerializer, responses={201: OrderDetailSerializer, 200: OrderDetailSerializer})
    def create(self, request, *args, **kwargs):
        """Place an order with the caller's account, from one producer. Sent again with the same
        ``submit_token``, it answers the first order (200) instead of placing another."""
        data = self.input(PlaceOrderSerializer)
        user = request.user
        try:
            order = services.place_order(
                lines=[(line["product"], line["quantity"]) for line in data["lines"]], buyer=user,
                buyer_name=data.get("buyer_name") or user.full_name or user.get_username(),
                buyer_phone=data.get("buyer_phone") or user.phone, buyer_email=data.get("buyer_email") or user.email,
                delivery_address=data["delivery_address"], note=data.get("note", ""),
                submit_token=data.get("submit_token"),
            )
        except DjangoValidationError as exc:
            return refusal(exc)
        return self._detail(order, status.HTTP_200_OK if getattr(order, "repeated", False) else status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=OrderDetailSerializer)
    @action(detail=True, methods=["post"])
    def confirm(self, request, pk=None):
        """Confirm the order: its quantities are taken from the stock (409 ``not_enough_stock``
        when a product has too little left; nothing is taken then)."""
        return self._act(services.confirm_order)

    @extend_schema(request=PayInputSerializer, responses=OrderDetailSerializer)
    @action(detail=True, methods=["post"])
    def pay(self, request, pk=None):
        """The producer saw the transfer: the order is paid (the amount must be its total)."""
        data = self.input(PayInputSerializer)
        return self._act(services.mark_paid, amount=data["amount"], transaction_id=data.get("transaction_id") or None)

    @extend_schema(request=ShipInputSerializer, responses=OrderDetailSerializer)
    @action(detail=True, methods=["post"])
    def ship(self, request, pk=None):
        data = self.input(ShipInputSerializer)
        return self._act(services.ship_order, data.get("shipping_note", ""))

    @extend_schema(request=None, responses=OrderDetailSerializer)
    @action(detail=True, methods=["post"])
    def deliver(self, request, pk=None):
        """The order arrived (the producer, or the buyer)."""
        return self._act(services.deliver_order)

    @extend_schema(request=CancelInputSerializer, responses=OrderDetailSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        """Cancel with a reason: the buyer before paying, the producer until shipping."""
        data = self.input(CancelInputSerializer)
        return self._act(services.cancel_order, data["reason"])


class BankNotificationView(APIView):
    """The bank's notification of a transfer for an order: JSON signed with HMAC-SHA256
    (``X-Xaso-Signature``) under the commune's marketplace secret. A replayed transaction
    answers ``{"status": "duplicate"}`` and records nothing."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    parser_classes: list = []

    def initial(self, request, *args, **kwargs):
        if "commune_code" in self.kwargs:
            raise NotFound(_("Not found."))
        super().initial(request, *args, **kwargs)
        require_commune()

    @extend_schema(request={"application/json": OpenApiTypes.OBJECT}, responses={200: OpenApiTypes.OBJECT},
                   parameters=[OpenApiParameter("X-Xaso-Signature", str, location=OpenApiParameter.HEADER,
                                                required=True)])
    def post(self, request, *args, **kwargs):
        raw = request._request.body
        status_code, body = payments.handle_bank_notification(raw, request.headers.get(payments.SIGNATURE_HEADER, ""))
        return Response(body, status=status_code)
