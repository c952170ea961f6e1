"""The national host's read API of the published monthly figures, for supervising-unit staff:
``GET /api/v1/facts/monthly/``, one row per commune, source and month, from the rows that each
commune publishes through its outbox (``published.facts``): one query, no schema visited.

Staff read only the communes under their unit (and the units below it); everyone else gets an
empty list. Filters: ``source`` (repeatable, or comma-separated: the apps' names, e.g.
``onestop``), ``from`` and ``to`` (months, ``2026-11`` or ``11/2026``, both included), ``commune``
(repeatable, or comma-separated codes; a code that is not one of the caller's communes is refused
like an unknown one). Bad filters answer 400 with the error body ``{"code", "detail", "fields"}``.
"""
from __future__ import annotations

import datetime
import re

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, generics, serializers
from rest_framework.permissions import IsAuthenticated

from communes import modules
from published.models import MonthlyFacts

_MONTH_ISO = re.compile(r"^(\d{4})-(\d{1,2})$")
_MONTH_VN = re.compile(r"^(\d{1,2})/(\d{4})$")
MAX_VALUES = 200  # codes or sources in one filter


def parse_month(text: str) -> datetime.date | None:
    """The first day of the month written ``2026-11`` or ``11/2026``; None if it names none."""
    text = text.strip()
    match = _MONTH_ISO.match(text)
    if match:
        year, month = int(match.group(1)), int(match.group(2))
    else:
        match = _MONTH_VN.match(text)
        if not match:
            return None
        month, year = int(match.group(1)), int(match.group(2))
    if not (1 <= month <= 12 and 2000 <= year <= 2200):
        return None
    return datetime.date(year, month, 1)


def _values(request, name: str) -> list[str]:
    values = []
    for raw in request.query_params.getlist(name):
        values.extend(part.strip() for part in raw.split(",") if part.strip())
    return values


def source_titles() -> dict[str, str]:
    return {source.module: str(source.title or source.module) for source in modules.FACTS_SOURCES}


class MonthlyFactsSerializer(serializers.ModelSerializer):
    commune_code = serializers.CharField(source="commune.code")
    commune_name = serializers.SerializerMethodField()
    source_title = serializers.SerializerMethodField()
    month = serializers.SerializerMethodField()
    figures = serializers.DictField(child=serializers.JSONField(), help_text=gettext_lazy(
        "The source's figures for the month: names and numbers (counts, sums, hours)."))

    class Meta:
        model = MonthlyFacts
        fields = ["commune_code", "commune_name", "source", "source_title", "month", "figures", "version",
                  "published_at"]

    def get_commune_name(self, row) -> str:
        return str(row.commune)

    def get_source_title(self, row) -> str:
        return self.context.get("titles", {}).get(row.source, row.source)

    def get_month(self, row) -> str:
        return f"{row.month:%Y-%m}"


PARAMETERS = [
    OpenApiParameter("source", str, many=True, required=False, description=gettext_lazy(
        "A source of figures (an app: onestop, documents, broadcasting …); repeat it or separate with commas.")),
    OpenApiParameter("from", str, required=False, description=gettext_lazy("First month, yyyy-mm or mm/yyyy.")),
    OpenApiParameter("to", str, required=False, description=gettext_lazy("Last month, yyyy-mm or mm/yyyy.")),
    OpenApiParameter("commune", str, many=True, required=False, description=gettext_lazy(
        "A commune's code (5 digits), one of the caller's; repeat it or separate with commas.")),
]


class MonthlyFactsView(generics.ListAPIView):
    """The published figures of the caller's communes, per commune, source and month."""

    serializer_class = MonthlyFactsSerializer
    permission_classes = [IsAuthenticated]
    filter_backends: list = []

    @extend_schema(parameters=PARAMETERS)
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "titles": source_titles()}

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no user
            return MonthlyFacts.objects.none()
        filters, errors = self.filters(), {}
        queryset = MonthlyFacts.objects.filter(commune__supervising_unit_id__in=self.request.user.supervised_unit_ids())
        sources = _values(self.request, "source")
        if sources:
            known = source_titles()
            unknown = [name for name in sources if name not in known]
            if len(sources) > MAX_VALUES:
                errors["source"] = [_("Ask for at most %(count)s values at once.") % {"count": MAX_VALUES}]
            elif unknown:
                errors["source"] = [_("Unknown source: %(names)s. Sources: %(known)s.") % {
                    "names": ", ".join(unknown[:5]), "known": ", ".join(sorted(known))}]
            queryset = queryset.filter(source__in=sources)
        codes = _values(self.request, "commune")
        if codes:
            if len(codes) > MAX_VALUES:
                errors["commune"] = [_("Ask for at most %(count)s values at once.") % {"count": MAX_VALUES}]
            else:
                followed = set(self.request.user.supervised_communes().filter(code__in=codes)
                               .values_list("code", flat=True))
                outside = [code for code in codes if code not in followed]
                if outside:
                    errors["commune"] = [_("No commune with the code %(codes)s among the communes you follow.") % {
                        "codes": ", ".join(outside[:5])}]
            queryset = queryset.filter(commune__code__in=codes)
        errors.update(filters.pop("errors"))
        if errors:
            raise exceptions.ValidationError(errors)
        if filters["from"]:
            queryset = queryset.filter(month__gte=filters["from"])
        if filters["to"]:
            queryset = queryset.filter(month__lte=filters["to"])
        return queryset.select_related("commune").order_by("commune__code", "month", "source")

    def filters(self) -> dict:
        result, errors = {"from": None, "to": None}, {}
        for name in ("from", "to"):
            raw = self.request.query_params.get(name, "")
            if raw.strip():
                result[name] = parse_month(raw)
                if result[name] is None:
                    errors[name] = [_("Enter a month as yyyy-mm (e.g. 2026-11) or mm/yyyy.")]
        if result["from"] and result["to"] and result["to"] < result["from"]:
            errors["to"] = [_("The last month is before the first.")]
        result["errors"] = errors
        return result
