"""The vaccination pages of the health station's staff (tiêm chủng mở rộng).

* ``/health/records/<pk>/vaccinations/`` (``health:vaccinations``): the child's card, each dose
  of the schedule with its date given or its due date and its state, and the form to record a
  dose (POST, through ``health.vaccination.record_dose``; a refusal shows the form again with
  the message and what was typed).
* ``/health/vaccinations/due/?month=2026-12&village=<id>`` (``health:vaccinations_due``): the
  children due or overdue in the month, by village, as the station prints it before a
  vaccination day; ``…/due/pdf/`` and ``…/due/xlsx/`` are the same list as files, and
  ``…/due/remind/`` (POST) sends the SMS reminders of the month to the households.

Health staff only (``health.permissions``); every page and file is written in the access log.
"""
from __future__ import annotations

import datetime

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from communes.permissions import current_commune, page_guard
from core import periods
from core.phones import mask_phone
from health import access, permissions, vaccination
from health.models import HealthRecord
from health.schedule import get_schedule

# A schedule file that breaks its rules stops the portal here, when the URLs load.
get_schedule()

page_requires = page_guard(permissions.require)


class DoseForm(forms.Form):
    vaccine = forms.ChoiceField(label=gettext_lazy("Vaccine"),
                                error_messages={"required": gettext_lazy("Choose the vaccine."),
                                                "invalid_choice": gettext_lazy("Choose a vaccine of the schedule.")})
    dose = forms.TypedChoiceField(label=gettext_lazy("Dose"), coerce=int,
                                  choices=[(n, str(n)) for n in range(1, 6)],
                                  error_messages={"required": gettext_lazy("Choose the dose number."),
                                                  "invalid_choice": gettext_lazy("Choose a dose number of the schedule.")})
    given_on = periods.DateField(label=gettext_lazy("Date given"))
    lot_number = forms.CharField(label=gettext_lazy("Lot number"), max_length=50, required=False)
    place = forms.CharField(label=gettext_lazy("Place (when given elsewhere)"), max_length=200, required=False)
    reaction = forms.CharField(label=gettext_lazy("Reaction after the dose"), max_length=300, required=False,
                               widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        schedule = get_schedule()
        self.fields["vaccine"].choices = [("", _("Choose…"))] + [(v.code, v.name) for v in schedule.vaccines]
        most = max(len(v.doses) for v in schedule.vaccines)
        self.fields["dose"].choices = [(n, str(n)) for n in range(1, most + 1)]
        self.fields["given_on"].error_messages["required"] = _("Enter the date the dose was given.")


def _record(pk) -> HealthRecord:
    if pk > 2_147_483_647:  # beyond the column's range: no such record (not a database error)
        raise Http404
    return get_object_or_404(HealthRecord.objects.select_related("resident__household__village"), pk=pk)


@page_requires("record.read")
def record_vaccinations(request, pk):
    record = _record(pk)
    form = DoseForm(initial={"given_on": timezone.localdate()})
    if request.method == "POST":
        permissions.require(request.user, "record.write")
        form = DoseForm(request.POST)
        if form.is_valid():
            try:
                vaccination.record_dose(request.user, record, **form.cleaned_data)
            except ValidationError as exc:
                for name, errors in exc.message_dict.items():
                    form.add_error(name if name in form.fields else None, errors)
            else:
                messages.success(request, _("The dose was recorded."))
                return HttpResponseRedirect(reverse("health:vaccinations", args=[record.pk]))
    access.log_read(request.user, record, what="vaccinations")
    lines = vaccination.record_card(record)
    return render(request, "health/vaccination/card.html", {
        "record": record, "lines": lines, "next": vaccination.next_due(lines), "form": form,
        "schedule": get_schedule(), "can_write": permissions.can(request.user, "record.write"),
    }, status=400 if form.errors else 200)


def _month(request) -> datetime.date:
    token = (request.GET.get("month") or "").strip()
    if token:
        period = periods.parse(token)
        if period is None or period.kind != "month":
            raise ValidationError(_("Choose the month as yyyy-mm, e.g. 2026-12."))
        return period.date_from
    return timezone.localdate().replace(day=1)


def _village(request):
    from population.models import Village

    text = (request.GET.get("village") or "").strip()
    if not text:
        return None
    if not text.isdigit() or len(text) > 9:
        raise ValidationError(_("This village does not exist in the commune."))
    village = Village.objects.filter(pk=int(text)).first()
    if village is None:
        raise ValidationError(_("This village does not exist in the commune."))
    return village


def _due_context(request) -> dict:
    month = _month(request)
    village = _village(request)
    rows = vaccination.due_for_month(month, village_id=village.pk if village else None)
    if request.GET.get("overdue") == "1":
        rows = [row for row in rows if row.overdue]
    return {"month": month, "village": village, "rows": rows, "groups": vaccination.by_village(rows),
            "overdue_only": request.GET.get("overdue") == "1"}


def _query(context) -> str:
    from urllib.parse import urlencode

    params = {"month": context["month"].strftime("%Y-%m")}
    if context["village"]:
        params["village"] = context["village"].pk
    if context["overdue_only"]:
        params["overdue"] = "1"
    return urlencode(params)


@page_requires("record.read")
def vaccinations_due(request):
    from population.models import Village

    try:
        context = _due_context(request)
    except ValidationError as exc:
        return render(request, "health/vaccination/due.html", {
            "error": exc.messages[0], "villages": Village.objects.order_by("name"), "groups": [], "rows": [],
            "month": timezone.localdate().replace(day=1)}, status=400)
    rows = context["rows"]
    access.log_read(request.user, None, what=f"vaccinations due {context['month']:%m/%Y} ({len(rows)} children)")
    for row in rows:
        row.masked_phone = mask_phone(row.child.phone)
    context.update({
        "villages": Village.objects.order_by("name"), "query": _query(context),
        "can_write": permissions.can(request.user, "record.write"),
        "unsent": vaccination.unsent_reminders(context["month"]),
    })
    return render(request, "health/vaccination/due.html", context)


def _file_name(month: datetime.date, extension: str) -> str:
    commune = current_commune()
    return periods.file_name("tiem-chung-den-hen", commune, periods.month(month.year, month.month), extension)


@page_requires("record.export")
def vaccinations_due_pdf(request):
    from health import vaccination_pdf

    try:
        context = _due_context(request)
    except ValidationError as exc:
        return HttpResponse(exc.messages[0], status=400, content_type="text/plain; charset=utf-8")
    commune = current_commune()
    data = vaccination_pdf.render_due_list(context["groups"], context["month"],
                                           commune_name=commune.name if commune else "",
                                           village=context["village"].name if context["village"] else "")
    access.log_export(request.user, what=f"vaccinations due {context['month']:%m/%Y} (PDF)", count=len(context["rows"]))
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{_file_name(context["month"], "pdf")}"'
    return response


@page_requires("record.export")
def vaccinations_due_xlsx(request):
    from core import xlsx

    try:
        context = _due_context(request)
    except ValidationError as exc:
        return HttpResponse(exc.messages[0], status=400, content_type="text/plain; charset=utf-8")
    workbook = xlsx.new_workbook()
    workbook.remove(workbook.active)
    headings = [_("Village"), _("Child's name"), _("Birth date"), _("Head of household"), _("Phone"), _("Vaccine"),
                _("Due on"), _("Overdue")]
    lines = []
    for village, rows in context["groups"]:
        for row in rows:
            for due in row.doses:
                lines.append([village, row.child.name, row.child.birth_date, row.child.head,
                              mask_phone(row.child.phone), due.label, due.due_on, _("yes") if due.overdue else ""])
    xlsx.table_sheet(workbook, _("Vaccinations due"), headings, lines, number_formats={2: "dd/mm/yyyy", 6: "dd/mm/yyyy"},
                     widths=(20, 28, 12, 28, 14, 34, 12, 10))
    access.log_export(request.user, what=f"vaccinations due {context['month']:%m/%Y} (xlsx)", count=len(context["rows"]))
    response = HttpResponse(xlsx.save(workbook),
                            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response["Content-Disposition"] = f'attachment; filename="{_file_name(context["month"], "xlsx")}"'
    return response


@require_POST
@page_requires("record.write")
def vaccinations_remind(request):
    from urllib.parse import urlencode

    month_token = (request.POST.get("month") or "").strip()
    period = periods.parse(month_token) if month_token else periods.of_date("month", timezone.localdate())
    if period is None or period.kind != "month":
        raise Http404
    village_text = (request.POST.get("village") or "").strip()
    village_id = int(village_text) if village_text.isdigit() and len(village_text) < 10 else None
    result = vaccination.send_reminders(period.date_from, user=request.user, village_id=village_id)
    access.log_read(request.user, None, what=f"vaccination reminders {period.date_from:%m/%Y} "
                                             f"({result.households} households)")
    if result.households:
        messages.success(request, _("%(households)d SMS sent to households for %(doses)d doses.") % {
            "households": result.households, "doses": result.doses})
    else:
        messages.info(request, _("No new reminder to send: every household with a dose due this month was already "
                                 "reminded."))
    if result.no_phone:
        messages.warning(request, _("%(count)d households have no mobile phone in the registry: tell them another "
                                    "way.") % {"count": result.no_phone})
    params = {"month": period.date_from.strftime("%Y-%m")}
    if village_id:
        params["village"] = village_id
    return HttpResponseRedirect(reverse("health:vaccinations_due") + "?" + urlencode(params))
