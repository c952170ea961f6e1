"""The health station's monthly report in the API (``/api/v1/health/reports/monthly/?month=2026-11``
on a commune host): aggregate figures only, for health staff and the commune's leaders; a month
that names none is 400 with the error body ``{"code", "detail", "fields"}``. Not on the national
host: supervising units read the figures each commune publishes (``/api/v1/facts/monthly/``).
"""
from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from communes.permissions import current_commune
from health import permissions, reports


class HealthPermission(BasePermission):
    """The view's ``health_action`` (an action of ``health.permissions``) in the commune of the host."""

    def has_permission(self, request, view) -> bool:
        if current_commune() is None:
            return False
        return permissions.can(request.user, getattr(view, "health_action", ""))


class MonthlyReportView(APIView):
    """The station's monthly report: aggregate figures only, as flat keys of numbers."""

    permission_classes = [IsAuthenticated, HealthPermission]
    health_action = "report.read"

    @extend_schema(
        parameters=[OpenApiParameter("month", str, required=False, description=gettext_lazy(
            "The month, yyyy-mm or mm/yyyy (default: this month)."))],
        responses={200: {"type": "object"}},
    )
    def get(self, request):
        try:
            month = reports.parse_month((request.query_params.get("month") or "").replace("\x00", "")[:20])
        except DjangoValidationError as exc:
            raise ValidationError(exc.message_dict)
        if month > timezone.localdate().replace(day=1):
            raise ValidationError({"month": [_("The month has not begun yet.")]})
        data = reports.monthly_report(month)
        return Response({"month": f"{month:%Y-%m}", "layout": str(reports.FORMS_NOTE), "figures": reports.flat(data),
                         "doses": data["vaccination"]["doses"]})


