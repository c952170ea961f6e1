"""The radio API of the national host: the month's figures of every commune the caller's
supervising unit holds (``GET /api/v1/radio/reports/?month=2026-11``), one row per commune and
the totals. Staff of another province see none of them (their list holds only their own
communes), and a commune outside their unit answers 404 under
``/api/v1/communes/{code}/radio/reports/``. Only figures leave through here.
"""
from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from broadcasting import reports
from broadcasting.api import RadioReportSerializer, ReportTotalsSerializer, month_of


class CommuneReportSerializer(RadioReportSerializer):
    commune_code = serializers.CharField()
    commune_name = serializers.CharField()


class NationalTotalsSerializer(ReportTotalsSerializer):
    communes = serializers.IntegerField()


class NationalReportSerializer(serializers.Serializer):
    month = serializers.CharField()
    rows = CommuneReportSerializer(many=True)
    totals = NationalTotalsSerializer()


def add_totals(totals: dict, row: dict, uptimes: list) -> None:
    for key in ("clusters", "online", "seconds_aired", "plays", "emergency_plays", "bulletins"):
        totals[key] += row[key]
    if row["uptime"] is not None:
        uptimes.append((row["uptime"], row["clusters"]))


class NationalReportView(APIView):
    """One report per commune the caller's supervising unit holds, and the totals."""

    permission_classes = [IsAuthenticated]

    @extend_schema(parameters=[OpenApiParameter("month", str, required=False, description="yyyy-mm or mm/yyyy")],
                   responses=NationalReportSerializer)
    def get(self, request, *args, **kwargs):
        from django_tenants.utils import tenant_context

        first = month_of(request)
        rows = []
        totals = {"communes": 0, "clusters": 0, "online": 0, "seconds_aired": 0.0, "hours_aired": 0.0, "plays": 0,
                  "emergency_plays": 0, "bulletins": 0, "uptime": None}
        uptimes: list = []
        for commune in request.user.supervised_communes().order_by("code"):
            with tenant_context(commune):
                report = reports.monthly_report(first)
            rows.append({"commune_code": commune.code, "commune_name": str(commune), **report})
            totals["communes"] += 1
            add_totals(totals, report["totals"], uptimes)
        totals["seconds_aired"] = round(totals["seconds_aired"], 2)
        totals["hours_aired"] = round(totals["seconds_aired"] / 3600, 2)
        weight = sum(w for _u, w in uptimes)
        if weight:
            totals["uptime"] = round(sum(u * w for u, w in uptimes) / weight, 4)
        return Response(NationalReportSerializer({"month": f"{first:%Y-%m}", "rows": rows, "totals": totals}).data)
