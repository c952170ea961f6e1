"""The programmes' pages for the station's staff (``/health/…``): the hypertension and diabetes
follow-up with a person's readings and chart, antenatal care, and children's growth.

Thin views: the rules are in ``health.programmes``; every page that shows a person's data logs
the read (``health.access``), and the lists log which records they showed.
"""
from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _

from communes.permissions import page_guard
from core import charts
from health import access, permissions, programmes
from health import growth as standards
from health.models import ChronicCondition, HealthRecord, Pregnancy
from health.programme_forms import (
    AntenatalVisitForm, GrowthForm, PregnancyEndForm, PregnancyForm, ReadingForm, apply_refusal,
)
from population.models import Village

page_requires = page_guard(permissions.require)

RECORDS = HealthRecord.objects.select_related("resident__household__village")


def _write_allowed(request) -> None:
    permissions.require(request.user, "record.write")


def _village_filter(request) -> tuple[int | None, list]:
    villages = list(Village.objects.order_by("name"))
    raw = request.GET.get("village", "")
    village_id = int(raw) if raw.isdigit() and len(raw) < 10 and any(v.pk == int(raw) for v in villages) else None
    return village_id, villages


def _log_list(request, what: str, record_ids) -> None:
    """One line for a list of people: what it was and which records it showed."""
    ids = sorted({int(i) for i in record_ids})
    access.log_read(request.user, "", what=f"{what}: {len(ids)} records ({', '.join(map(str, ids))})")


def _reading_chart(readings, record) -> dict:
    bp = [r for r in readings if r.systolic is not None]
    glucose = [r for r in readings if r.glucose_mmol is not None]
    name = record.resident.full_name
    result = {}
    if bp:
        result["bp"] = charts.line_chart(
            [(_("Systolic"), [(r.taken_on, r.systolic) for r in bp]),
             (_("Diastolic"), [(r.taken_on, r.diastolic) for r in bp])],
            title=_("Blood pressure of %(name)s (mmHg)") % {"name": name}, unit="mmHg",
            targets=[(_("Target systolic below 140"), programmes.BP_TARGET[0]),
                     (_("Target diastolic below 90"), programmes.BP_TARGET[1])])
    if glucose:
        result["glucose"] = charts.line_chart(
            [(_("Blood glucose"), [(r.taken_on, r.glucose_mmol) for r in glucose])],
            title=_("Blood glucose of %(name)s (mmol/l)") % {"name": name}, unit="mmol/l",
            targets=[(_("Fasting 7,0 mmol/l"), programmes.GLUCOSE_TARGET)])
    return result


@page_requires("record.read")
def chronic(request):
    village_id, villages = _village_filter(request)
    programme = request.GET.get("programme", "")
    if programme not in programmes.PROGRAMMES:
        programme = ""
    overdue_only = request.GET.get("overdue") == "1"
    rows = programmes.chronic_rows(village_id=village_id, programme=programme)
    if overdue_only:
        rows = [row for row in rows if row.overdue]
    groups = []
    for value, label in ChronicCondition.Programme.choices:
        if value in programmes.PROGRAMMES and (not programme or programme == value):
            group_rows = [row for row in rows if row.programme == value]
            groups.append({"value": value, "label": label, "rows": group_rows,
                           "overdue": sum(1 for row in group_rows if row.overdue)})
    _log_list(request, "chronic follow-up list", [row.record.pk for row in rows])
    return render(request, "health/programmes/chronic.html", {
        "groups": groups, "villages": villages, "filters": {"village": village_id, "programme": programme,
                                                            "overdue": overdue_only},
        "programme_choices": [(v, l) for v, l in ChronicCondition.Programme.choices if v],
        "overdue_days": programmes.OVERDUE_DAYS,
    })


@page_requires("record.read")
def readings(request, pk: int):
    record = get_object_or_404(RECORDS, pk=pk)
    form = ReadingForm(initial={"taken_on": programmes.today()})
    if request.method == "POST":
        _write_allowed(request)
        form = ReadingForm(request.POST)
        if form.is_valid():
            try:
                programmes.add_reading(record, user=request.user, **form.cleaned_data)
            except ValidationError as exc:
                apply_refusal(form, exc)
            else:
                messages.success(request, _("The reading was recorded."))
                return redirect("health:readings", pk=record.pk)
    access.log_read(request.user, record, what="programme readings")
    rows = list(record.readings.order_by("taken_on", "pk"))
    return render(request, "health/programmes/readings.html", {
        "record": record, "form": form, "readings": list(reversed(rows)), "charts": _reading_chart(rows, record),
        "programmes": programmes.programmes_of(record), "overdue_days": programmes.OVERDUE_DAYS,
        "bp_target": programmes.BP_TARGET, "glucose_target": programmes.GLUCOSE_TARGET,
    }, status=400 if request.method == "POST" else 200)


@page_requires("record.read")
def pregnancies(request):
    village_id, villages = _village_filter(request)
    today = programmes.today()
    under_care = list(programmes.pregnancies_under_care(village_id=village_id))
    for pregnancy in under_care:
        pregnancy.weeks = programmes.weeks_of_pregnancy(pregnancy, today)
    start, end = programmes.month_bounds(today)
    this_month = [p for p in under_care if start <= p.expected_delivery <= end]
    _log_list(request, "pregnancies under care", [p.record_id for p in under_care])
    return render(request, "health/programmes/pregnancies.html", {
        "pregnancies": under_care, "this_month": this_month, "month": start, "today": today,
        "villages": villages, "filters": {"village": village_id},
    })


@page_requires("record.write")
def pregnancy_new(request, pk: int):
    record = get_object_or_404(RECORDS, pk=pk)
    form = PregnancyForm(initial={"registered_on": programmes.today(), "gravida": 1, "para": 0})
    if request.method == "POST":
        form = PregnancyForm(request.POST)
        if form.is_valid():
            try:
                pregnancy = programmes.register_pregnancy(record, **form.cleaned_data)
            except ValidationError as exc:
                apply_refusal(form, exc)
            else:
                messages.success(request, _("The pregnancy was registered: expected delivery on %(date)s.")
                                 % {"date": pregnancy.expected_delivery.strftime("%d/%m/%Y")})
                return redirect("health:pregnancy", pk=pregnancy.pk)
    access.log_read(request.user, record, what="pregnancy registration")
    return render(request, "health/programmes/pregnancy_form.html", {
        "record": record, "form": form, "current": programmes.ongoing(record),
    }, status=400 if request.method == "POST" else 200)


@page_requires("record.read")
def pregnancy(request, pk: int):
    pregnancy = get_object_or_404(Pregnancy.objects.select_related("record__resident__household__village"), pk=pk)
    record = pregnancy.record
    form = AntenatalVisitForm(initial={"visited_on": programmes.today()})
    if request.method == "POST":
        _write_allowed(request)
        form = AntenatalVisitForm(request.POST)
        if form.is_valid():
            try:
                programmes.add_antenatal_visit(pregnancy, user=request.user, **form.cleaned_data)
            except ValidationError as exc:
                apply_refusal(form, exc)
            else:
                messages.success(request, _("The antenatal visit was recorded."))
                return redirect("health:pregnancy", pk=pregnancy.pk)
    access.log_read(request.user, record, what=f"pregnancy {pregnancy.pk} and antenatal visits")
    today = programmes.today()
    return render(request, "health/programmes/pregnancy.html", {
        "pregnancy": pregnancy, "record": record, "form": form,
        "visits": list(pregnancy.antenatal_visits.order_by("visited_on", "pk")),
        "weeks": programmes.weeks_of_pregnancy(pregnancy, pregnancy.ended_on or today),
    }, status=400 if request.method == "POST" else 200)


@page_requires("record.write")
def pregnancy_end(request, pk: int):
    pregnancy = get_object_or_404(Pregnancy.objects.select_related("record__resident__household__village"), pk=pk)
    if pregnancy.outcome:
        messages.info(request, _("This pregnancy has already ended."))
        return redirect("health:pregnancy", pk=pregnancy.pk)
    form = PregnancyEndForm(initial={"ended_on": programmes.today(), "children": 1})
    if request.method == "POST":
        form = PregnancyEndForm(request.POST)
        if form.is_valid():
            try:
                programmes.end_pregnancy(pregnancy, **form.cleaned_data)
            except ValidationError as exc:
                apply_refusal(form, exc)
            else:
                messages.success(request, _("The end of the pregnancy was recorded."))
                return redirect("health:pregnancy", pk=pregnancy.pk)
    access.log_read(request.user, pregnancy.record, what=f"pregnancy {pregnancy.pk} end")
    return render(request, "health/programmes/pregnancy_end.html", {
        "pregnancy": pregnancy, "record": pregnancy.record, "form": form,
    }, status=400 if request.method == "POST" else 200)


@page_requires("record.read")
def growth(request):
    village_id, villages = _village_filter(request)
    overview = programmes.growth_overview(village_id=village_id)
    _log_list(request, "growth of children under 5", [m.record_id for m in overview.latest])
    return render(request, "health/programmes/growth.html", {
        "overview": overview, "villages": villages, "filters": {"village": village_id},
    })


@page_requires("record.read")
def growth_new(request, pk: int):
    record = get_object_or_404(RECORDS, pk=pk)
    form = GrowthForm(initial={"measured_on": programmes.today()})
    if request.method == "POST":
        _write_allowed(request)
        form = GrowthForm(request.POST)
        if form.is_valid():
            try:
                measurement = programmes.record_growth(record, user=request.user, **form.cleaned_data)
            except ValidationError as exc:
                apply_refusal(form, exc)
            else:
                flags = [str(label) for flag, label in (
                    (measurement.underweight, _("underweight")), (measurement.stunted, _("stunted")),
                    (measurement.wasted, _("wasted"))) if flag]
                if flags:
                    messages.warning(request, _("The measurement was recorded. The child is %(flags)s: follow "
                                                "the nutrition counselling.") % {"flags": ", ".join(flags)})
                else:
                    messages.success(request, _("The measurement was recorded."))
                return redirect("health:growth_new", pk=record.pk)
    access.log_read(request.user, record, what="growth measurements")
    birth, today = record.resident.birth_date, programmes.today()
    return render(request, "health/programmes/growth_record.html", {
        "record": record, "form": form, "measurements": list(record.growth.order_by("-measured_on", "-pk")),
        "age_months": standards.completed_months(birth, today) if birth <= today else None,
        "under_five": standards.is_under_five(birth, today),
    }, status=400 if request.method == "POST" else 200)


def record_url(record_id: int) -> str:
    """The record's page when the records' pages are there, else its readings."""
    try:
        return reverse("health:record", args=[record_id])
    except NoReverseMatch:  # the record page belongs to the records' part of the app
        return reverse("health:readings", args=[record_id])
