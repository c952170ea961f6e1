"""School fees in the schools' API (``/api/v1/education/fees/…`` on a commune host).

* ``schools/{id}/items/``: GET the fee items of a semester (``?semester=<id>``, the current one by
  default) for the school's principal, vice-principals and accountant; POST adds one (principal,
  accountant): ``{"semester", "name", "amount", "classes": [ids], "grades": [6], "due_on", "note"}``.
* ``schools/{id}/invoices/``: GET the school's invoices (``?semester=``, ``?state=unpaid|paid|
  cancelled``, ``?class=<id>``), paginated; the read is written in the access log.
* ``invoices/{code}/``: GET one invoice, for the school's fee staff or the parent of the child.
* ``my-invoices/``: GET a parent's children's invoices, each with its VietQR payload.
* ``bank-notification/``: POST, the bank's signed notification (``education.fees``: statuses and
  bodies); no session, the signature is the credential.

A refusal is the project's error body ``{"code", "detail", "fields"}``; another school's staff get
403, an object of no school of theirs 404.
"""
from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from communes.permissions import current_commune
from core.api import Pagination, refusal_response
from education import access, fees, permissions
from education.models import FeeItem, Invoice, School, Semester

MAX_ID = 2_147_483_647


class FeeItemSerializer(serializers.ModelSerializer):
    classes = serializers.PrimaryKeyRelatedField(many=True, read_only=True)

    class Meta:
        model = FeeItem
        fields = ["id", "semester", "name", "amount", "classes", "due_on", "note"]


class FeeItemInputSerializer(serializers.Serializer):
    semester = serializers.IntegerField(min_value=1, max_value=MAX_ID, required=False)
    name = serializers.CharField(max_length=150)
    amount = serializers.IntegerField(min_value=1, max_value=fees.MAX_AMOUNT)
    classes = serializers.ListField(child=serializers.IntegerField(min_value=1, max_value=MAX_ID), required=False,
                                    default=list, max_length=200)
    grades = serializers.ListField(child=serializers.IntegerField(min_value=0, max_value=9), required=False,
                                   default=list, max_length=10)
    due_on = serializers.DateField(required=False, allow_null=True, default=None,
                                   input_formats=["%Y-%m-%d", "%d/%m/%Y"])
    note = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")


class FeeLineSerializer(serializers.Serializer):
    name = serializers.CharField()
    amount = serializers.IntegerField()


class SchoolFeePaymentSerializer(serializers.Serializer):
    receipt_number = serializers.CharField()
    amount = serializers.IntegerField()
    method = serializers.CharField()
    received_at = serializers.DateTimeField()


class FeeInvoiceSerializer(serializers.ModelSerializer):
    school = serializers.CharField(source="school.name")
    student = serializers.CharField(source="enrolment.student.resident.full_name")
    school_class = serializers.CharField(source="enrolment.school_class.name")
    semester_name = serializers.SerializerMethodField()
    remaining = serializers.SerializerMethodField()
    lines = FeeLineSerializer(many=True, read_only=True)
    payments = SchoolFeePaymentSerializer(many=True, read_only=True)
    vietqr_payload = serializers.SerializerMethodField()

    class Meta:
        model = Invoice
        fields = ["code", "school", "student", "school_class", "semester", "semester_name", "total", "state",
                  "due_on", "paid_at", "remaining", "lines", "payments", "vietqr_payload"]

    def get_semester_name(self, invoice) -> str:
        return f"{invoice.semester.year.name} HK{invoice.semester.number}"

    def get_remaining(self, invoice) -> int:
        return fees.remaining(invoice)

    def get_vietqr_payload(self, invoice) -> str | None:
        return fees.payload_for(invoice)


def _school(pk: int, user, action: str) -> School:
    school = School.objects.filter(pk=pk).first() if pk <= MAX_ID else None
    if school is None:
        raise NotFound(_("Not found."))
    if not permissions.can(user, action, school):
        raise PermissionDenied
    return school


def _semester(value):
    if value in (None, ""):
        found = fees.current_semester()
    else:
        try:
            number = int(value)
        except (TypeError, ValueError):
            number = 0
        found = Semester.objects.select_related("year").filter(pk=number).first() if 0 < number <= MAX_ID else None
    if found is None:
        raise DjangoValidationError({"semester": _("Choose a semester of the school years.")}, code="invalid")
    return found


def _invoices():
    return Invoice.objects.select_related("school", "semester__year", "enrolment__school_class",
                                          "enrolment__student__resident").prefetch_related("lines", "payments")


class _CommuneAPIView(APIView):
    """On the commune's host only: the national host's ``/api/v1/communes/<code>/…`` gets 404
    (supervising units read the published facts, never these)."""

    permission_classes = [IsAuthenticated]

    def initial(self, request, *args, **kwargs):
        if "commune_code" in self.kwargs or current_commune() is None:
            raise NotFound(_("Not found."))
        super().initial(request, *args, **kwargs)


class FeeItemsView(_CommuneAPIView):

    @extend_schema(responses={200: FeeItemSerializer(many=True)},
                   parameters=[OpenApiParameter("semester", int, required=False)])
    def get(self, request, pk):
        school = _school(pk, request.user, "fees.read")
        try:
            semester = _semester(request.query_params.get("semester"))
        except DjangoValidationError as exc:
            return refusal_response(exc)
        items = FeeItem.objects.filter(school=school, semester=semester).prefetch_related("classes")
        return Response(FeeItemSerializer(items, many=True).data)

    @extend_schema(request=FeeItemInputSerializer, responses={201: FeeItemSerializer})
    def post(self, request, pk):
        school = _school(pk, request.user, "fees.manage")
        data = FeeItemInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        try:
            semester = _semester(values.pop("semester", None))
            item = fees.save_fee_item(request.user, school, semester=semester, **values)
        except DjangoValidationError as exc:
            return refusal_response(exc)
        return Response(FeeItemSerializer(item).data, status=201)


class InvoicesView(_CommuneAPIView):
    @extend_schema(responses={200: FeeInvoiceSerializer(many=True)}, parameters=[
        OpenApiParameter("semester", int, required=False), OpenApiParameter("state", str, required=False,
                                                                            enum=Invoice.State.values),
        OpenApiParameter("class", int, required=False), OpenApiParameter("page", int, required=False)])
    def get(self, request, pk):
        school = _school(pk, request.user, "fees.read")
        try:
            semester = _semester(request.query_params.get("semester"))
        except DjangoValidationError as exc:
            return refusal_response(exc)
        queryset = _invoices().filter(school=school, semester=semester).order_by(
            "enrolment__school_class__grade", "enrolment__school_class__name", "enrolment__number", "code")
        state = request.query_params.get("state")
        if state:
            if state not in Invoice.State.values:
                return refusal_response(DjangoValidationError({"state": _("Choose unpaid, paid or cancelled.")},
                                                              code="invalid"))
            queryset = queryset.filter(state=state)
        class_id = request.query_params.get("class")
        if class_id:
            if not class_id.isdigit() or int(class_id) > MAX_ID:
                return refusal_response(DjangoValidationError({"class": _("Choose a class of the school.")},
                                                              code="invalid"))
            queryset = queryset.filter(enrolment__school_class_id=int(class_id))
        paginator = Pagination()
        page = paginator.paginate_queryset(queryset, request, view=self)
        access.log_export(request.user, channel="api", what=f"fee invoices of {school.name}", count=len(page))
        return paginator.get_paginated_response(FeeInvoiceSerializer(page, many=True).data)


class InvoiceView(_CommuneAPIView):
    @extend_schema(responses={200: FeeInvoiceSerializer})
    def get(self, request, code):
        invoice = _invoices().filter(code=str(code)[:20]).first()
        if invoice is None:
            raise NotFound(_("Not found."))
        if not permissions.can(request.user, "fees.read", invoice.school):
            if fees.invoice_for_parent(request.user, invoice.code) is None:
                if permissions.schools_for(request.user).exists():
                    raise PermissionDenied
                raise NotFound(_("Not found."))
        access.log_read(request.user, invoice.enrolment.student, channel="api", what="fee invoice")
        return Response(FeeInvoiceSerializer(invoice).data)


class MyInvoicesView(_CommuneAPIView):
    @extend_schema(responses={200: FeeInvoiceSerializer(many=True)})
    def get(self, request):
        invoices = list(fees.invoices_of_parent(request.user).prefetch_related("lines", "payments"))
        for student_id in {i.enrolment.student_id for i in invoices}:
            access.log_read(request.user, student_id, channel="api", what="fee invoices (parent)")
        return Response(FeeInvoiceSerializer(invoices, many=True).data)


class BankNotificationView(APIView):
    """The bank's notification of a transfer paying a school fee: JSON signed with HMAC-SHA256
    (``X-Xaso-Signature``) under the commune's secret of the label ``education-fees``."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    parser_classes: list = []

    def initial(self, request, *args, **kwargs):
        if "commune_code" in self.kwargs or current_commune() is None:
            raise NotFound(_("Not found."))
        super().initial(request, *args, **kwargs)

    @extend_schema(request={"application/json": OpenApiTypes.OBJECT}, responses={200: OpenApiTypes.OBJECT},
                   parameters=[OpenApiParameter("X-Xaso-Signature", str, location=OpenApiParameter.HEADER,
                                                required=True)])
    def post(self, request, *args, **kwargs):
        status_code, body = fees.handle_bank_notification(request._request.body,
                                                          request.headers.get("X-Xaso-Signature", ""))
        return Response(body, status=status_code)
