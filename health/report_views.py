"""The station's monthly report (page, PDF, .xlsx) and the deaths register (``/health/reports/``,
``/health/deaths/``).

The report holds aggregates only: health staff and the commune's leaders read it
(``report.read``). Deaths name residents: health staff only, every list and search logged.
"""
from __future__ import annotations

import datetime

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import connection
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from communes.permissions import page_guard
from core import periods, xlsx
from core.periods import DateField
from core.text import clean_text
from health import access, deaths, permissions, report_pdf, reports

page_requires = page_guard(permissions.require)
MAX_ID = 2**63 - 1


def _month(request) -> tuple[datetime.date, str]:
    """The month asked (``?month=2026-11`` or ``11/2026``; this month by default) and the error of
    one that names none."""
    raw = (request.GET.get("month") or "").replace("\x00", "")[:20]
    try:
        month = reports.parse_month(raw)
    except ValidationError as exc:
        return timezone.localdate().replace(day=1), " ".join(exc.messages)
    if month > timezone.localdate().replace(day=1):
        return timezone.localdate().replace(day=1), _("The month has not begun yet.")
    return month, ""


def _neighbours(month: datetime.date) -> dict:
    previous = (month - datetime.timedelta(days=1)).replace(day=1)
    following = (month + datetime.timedelta(days=32)).replace(day=1)
    return {"previous": previous, "following": following if following <= timezone.localdate() else None}


@page_requires("report.read")
def report(request):
    month, error = _month(request)
    context = {"month": month, "month_text": request.GET.get("month", f"{month:%m/%Y}")[:20], "error": error,
               **_neighbours(month)}
    if not error:
        data = reports.monthly_report(month)
        context.update({"report": data, "sections": report_pdf.sections(data),
                        "charts": report_pdf.section_charts(data), "forms_note": reports.FORMS_NOTE,
                        "title": report_pdf.title(month)})
    return render(request, "health/reports/report.html", context, status=400 if error else 200)


def _file_response(content: bytes, content_type: str, month: datetime.date, extension: str) -> HttpResponse:
    period = periods.month(month.year, month.month)
    response = HttpResponse(content, content_type=content_type)
    name = periods.file_name("bao-cao-tram-y-te", connection.tenant, period, extension)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@page_requires("report.read")
def report_pdf_view(request):
    month, error = _month(request)
    if error:
        return report(request)
    content = report_pdf.to_pdf(reports.monthly_report(month), commune_name=str(connection.tenant), month=month)
    return _file_response(content, "application/pdf", month, "pdf")


@page_requires("report.read")
def report_xlsx(request):
    month, error = _month(request)
    if error:
        return report(request)
    period = periods.month(month.year, month.month)
    content = report_pdf.to_xlsx(reports.monthly_report(month), commune_name=str(connection.tenant), period=period)
    return _file_response(content, xlsx.CONTENT_TYPE, month, "xlsx")


# --- deaths -------------------------------------------------------------------------------------

class DeathForm(forms.Form):
    died_on = DateField(label=gettext_lazy("Date of death (dd/mm/yyyy)"))
    cause_icd10 = forms.CharField(label=gettext_lazy("Cause (ICD-10 code, if known)"), required=False, max_length=20)
    place = forms.CharField(label=gettext_lazy("Place"), required=False, max_length=deaths.MAX_PLACE)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["died_on"].error_messages["required"] = _("Enter the date of death as dd/mm/yyyy.")


@page_requires("record.read")
def death_list(request):
    month, error = _month(request)
    query = clean_text(request.GET.get("q", ""))[:100]
    found = deaths.find_residents(query) if query else None
    if query:
        access.log_search(request.user, query=f"deaths: {query}")
    rows = list(deaths.deaths_of_month(month))
    access.log_read(request.user, None, what=f"deaths of {month:%m/%Y} ({len(rows)})")
    return render(request, "health/reports/deaths.html", {
        "month": month, "month_text": request.GET.get("month", f"{month:%m/%Y}")[:20], "error": error,
        "rows": rows, "query": query, "found": found, **_neighbours(month),
    }, status=400 if error else 200)


@page_requires("record.write")
def death_new(request, resident_id: int):
    from population.models import Resident

    if resident_id > MAX_ID:
        raise Http404
    resident = Resident.objects.select_related("household__village").filter(pk=resident_id).first()
    if resident is None:
        raise Http404
    existing = deaths.Death.objects.filter(resident=resident).first()
    form = DeathForm(request.POST or None)
    if request.method == "POST" and existing is None and form.is_valid():
        try:
            death = deaths.record_death(request.user, resident, form.cleaned_data["died_on"],
                                        form.cleaned_data["cause_icd10"], form.cleaned_data["place"])
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(None if field == "__all__" else field, errors)
        else:
            messages.success(request, _("The death was recorded."))
            return redirect(f"{reverse('health:deaths')}?month={death.died_on:%Y-%m}")
    access.log_read(request.user, getattr(resident, "health_record", None),
                    what=f"death form of resident {resident.pk}")
    return render(request, "health/reports/death_form.html", {"form": form, "resident": resident,
                                                              "existing": existing},
                  status=400 if form.errors else 200)
