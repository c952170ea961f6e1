"""The one-stop API of the national host: the figures of every commune the caller's supervising
unit holds (``GET /api/v1/onestop/statistics/?from=dd/mm/yyyy&to=dd/mm/yyyy``), one row per
commune and the totals. Staff of another province see none of them: their list is empty, and a
commune outside their unit answers 404 under ``/api/v1/communes/{code}/onestop/statistics/``.
No personal data leaves through here: only counts.
"""
from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from onestop import statistics
from onestop.api import PERIOD_PARAMETERS, OnestopNationalStatisticsSerializer, period


class NationalStatisticsView(APIView):
    """One row of figures per commune the caller's supervising unit holds, and the totals."""

    permission_classes = [IsAuthenticated]

    @extend_schema(parameters=PERIOD_PARAMETERS, responses=OnestopNationalStatisticsSerializer)
    def get(self, request, *args, **kwargs):
        from django_tenants.utils import tenant_context

        values = period(request)
        rows = []
        totals = statistics.empty_counts()
        for commune in request.user.supervised_communes().order_by("code"):
            with tenant_context(commune):
                figures = statistics.compute(values["date_from"], values["date_to"],
                                             procedure_code=values["procedure"] or None)
            row = {key: figures[key] for key in statistics.COUNT_KEYS}
            row["satisfaction_share"] = figures["satisfaction_share"]
            rows.append({"commune_code": commune.code, "commune_name": str(commune), **row})
            statistics.add_counts(totals, row)
        body = {"date_from": values["date_from"], "date_to": values["date_to"], "rows": rows, "totals": totals}
        return Response(OnestopNationalStatisticsSerializer(body).data)

