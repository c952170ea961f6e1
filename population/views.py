"""Pages of the residents' registry. Role checks live in population.permissions."""
from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from population import selectors, services
from population.forms import HouseholdForm, ImportForm, ResidentForm, VillageForm
from population.models import AccessLog, Household, Resident, Sex, Village
from population.permissions import can_write, read_required, sees_full_id_in_export, write_required
from population.reveal import log_id_search, reveal_id
from population.spreadsheet import COLUMNS, XLSX_CONTENT_TYPE

PAGE_SIZE = 50


def _int_param(request, name):
    value = request.GET.get(name, "")
    return int(value) if value.isdigit() and len(value) < 18 else None


def _page(request, queryset):
    return Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))


def _filters(request):
    village = _int_param(request, "village")
    sex = request.GET.get("sex") if request.GET.get("sex") in Sex.values else None
    q = request.GET.get("q", "").replace("\x00", "").strip()[: selectors.MAX_QUERY_LENGTH]
    return {"village": village, "sex": sex, "q": q}


def _query(filters) -> str:
    """The filters as a query string prefix for pagination links ('q=an&village=2&')."""
    params = {k: v for k, v in filters.items() if v}
    return urlencode(params) + "&" if params else ""


def _write_context(request):
    return {"can_write": can_write(request.user, request.commune)}


@read_required
def village_list(request):
    form = None
    if can_write(request.user, request.commune):
        form = VillageForm()
    return render(request, "population/village_list.html", {
        "villages": selectors.villages(), "form": form, **_write_context(request),
    })


@require_POST
@write_required
def village_create(request):
    form = VillageForm(request.POST)
    if form.is_valid():
        try:
            services.save_village(form.instance)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("The village was added."))
            return redirect("population:village-list")
    return render(request, "population/village_list.html", {
        "villages": selectors.villages(), "form": form, **_write_context(request),
    }, status=400)


@read_required
def household_list(request):
    filters = _filters(request)
    page = _page(request, selectors.households(village=filters["village"], q=filters["q"]))
    return render(request, "population/household_list.html", {
        "page": page, "filters": filters, "villages": Village.objects.order_by("name"),
        "pagination_query": _query(filters), **_write_context(request),
    })


@read_required
def household_detail(request, pk):
    household = get_object_or_404(Household.objects.select_related("village", "head"), pk=pk)
    members = household.members.order_by("birth_date", "pk")
    return render(request, "population/household_detail.html", {
        "household": household, "members": members, **_write_context(request),
    })


def _save_form(request, form, service, success_message):
    if form.is_valid():
        try:
            obj = service(form.instance)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, success_message)
            return obj
    return None


@require_http_methods(["GET", "POST"])
@write_required
def household_edit(request, pk=None):
    household = get_object_or_404(Household, pk=pk) if pk else None
    form = HouseholdForm(request.POST or None, instance=household)
    if request.method == "POST":
        saved = _save_form(request, form, services.save_household, _("The household was saved."))
        if saved:
            return redirect("population:household-detail", pk=saved.pk)
    return render(request, "population/form.html", {
        "form": form, "title": _("Edit household") if household else _("New household"),
        "cancel_url": reverse("population:household-detail", args=[household.pk]) if household else reverse("population:household-list"),
    }, status=400 if form.errors else 200)


@read_required
def resident_list(request):
    filters = _filters(request)
    qs = selectors.residents(village=filters["village"], sex=filters["sex"], q=filters["q"])
    page = _page(request, qs)
    if filters["q"]:
        services.log_access(
            request.user, action=AccessLog.Action.SEARCH, channel="page", object_type="resident",
            description=_("search “%(q)s”: %(count)d results") % {"q": filters["q"], "count": page.paginator.count},
        )
        log_id_search(page.object_list, filters["q"], request.user, channel="page")
    return render(request, "population/resident_list.html", {
        "page": page, "filters": filters, "villages": Village.objects.order_by("name"),
        "sexes": Sex.choices, "pagination_query": _query(filters), **_write_context(request),
    })


@read_required
def resident_detail(request, pk):
    resident = get_object_or_404(Resident.objects.select_related("household", "household__village"), pk=pk)
    services.log_access(request.user, action=AccessLog.Action.VIEW, channel="page", object_type="resident", object_id=resident.pk)
    full_id = reveal_id(resident, request.user, purpose=_("resident page"), channel="page")
    return render(request, "population/resident_detail.html", {
        "resident": resident, "full_id": full_id, **_write_context(request),
    })


@require_http_methods(["GET", "POST"])
@write_required
def resident_edit(request, pk=None):
    resident = get_object_or_404(Resident, pk=pk) if pk else None
    initial = {}
    household_id = _int_param(request, "household")
    if resident is None and household_id:
        initial["household"] = household_id
    form = ResidentForm(request.POST or None, instance=resident, initial=initial, reader=request.user, channel="page")
    if request.method == "POST":
        saved = _save_form(request, form, services.save_resident, _("The resident was saved."))
        if saved:
            return redirect("population:resident-detail", pk=saved.pk)
    return render(request, "population/form.html", {
        "form": form, "title": _("Edit resident") if resident else _("New resident"),
        "cancel_url": reverse("population:resident-detail", args=[resident.pk]) if resident else reverse("population:resident-list"),
    }, status=400 if form.errors else 200)


@require_http_methods(["GET", "POST"])
@write_required
def resident_import(request):
    report = None
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        report = services.import_residents(form.cleaned_data["file"])
        if report.ok:
            messages.success(request, _("Imported %(residents)d residents in %(households)d new households.") % {
                "residents": report.residents_created, "households": report.households_created})
            return redirect("population:resident-list")
    status = 400 if (form.errors or (report and not report.ok)) else 200
    return render(request, "population/import.html", {
        "form": form, "report": report, "columns": [header for _key, header in COLUMNS],
    }, status=status)


@read_required
def resident_export(request):
    filters = _filters(request)
    qs = selectors.residents(village=filters["village"], sex=filters["sex"], q=filters["q"])
    params = ", ".join(f"{k}={v}" for k, v in filters.items() if v)
    data = services.export_residents(
        qs, user=request.user, channel="page", parameters=params,
        mask_ids=not sees_full_id_in_export(request.user, request.commune),
    )
    response = HttpResponse(data, content_type=XLSX_CONTENT_TYPE)
    filename = f"nhan-khau-{timezone.localdate():%Y%m%d}.xlsx"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
