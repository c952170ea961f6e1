"""The pages of personal health records.

For the station's staff (``/health/records/…``, namespace ``health``): the list and search, a new
record for a resident of the registry, the record and its chronic conditions, its PDF, deletion on
the person's request, linking a citizen account, the coverage of the commune, and the import of
records from an .xlsx file. For the person (``/my-health/…``, namespace ``health_public``): the
records of the residents linked to their account, the form to link one, each record read-only and
as a PDF.

Every page that shows a record or part of it writes a line to the access log
(``health.access``); the list and its searches are logged as searches.
"""
from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from communes.permissions import current_commune, page_guard
from core import xlsx
from core.http import client_ip
from health import access, permissions, record_import, record_pdf, records
from health.models import ChronicCondition, HealthRecord, RecordImport
from health.record_form import RecordForm, sections_for
from population.models import Resident, Village

page_requires = page_guard(permissions.require)
PAGE_SIZE = 50


def _commune_name() -> str:
    commune = current_commune()
    return str(commune.name) if commune else ""


def _record(pk) -> HealthRecord:
    return get_object_or_404(HealthRecord.objects.select_related(
        "resident", "resident__household", "resident__household__village"), pk=pk)


def _village_id(request):
    value = request.GET.get("village") or ""
    return int(value) if value.isdigit() and len(value) < 10 else None


# --- the list --------------------------------------------------------------------------------------

@page_requires("record.read")
def record_list(request):
    query = (request.GET.get("q") or "").strip()[:100]
    village_id = _village_id(request)
    without = request.GET.get("without_record") == "1"
    items = (records.residents_without_record if without else records.records_for)(query=query, village_id=village_id)
    page = Paginator(items, PAGE_SIZE).get_page(request.GET.get("page"))
    access.log_search(request.user, query=" ".join(filter(None, [
        f"q={query}" if query else "", f"village={village_id}" if village_id else "",
        "without_record" if without else "", f"page={page.number}"])))
    params = "&".join(filter(None, [f"q={query}" if query else "", f"village={village_id}" if village_id else "",
                                    "without_record=1" if without else ""]))
    return render(request, "health/records/list.html", {
        "page": page, "query": query, "village_id": village_id, "without": without, "params": params,
        "villages": Village.objects.order_by("name"),
        "without_count": records.residents_without_record().count(),
        "can_write": permissions.can(request.user, "record.write"),
    })


# --- a new record, the record, its edit --------------------------------------------------------------

@page_requires("record.write")
@require_http_methods(["GET", "POST"])
def record_new(request):
    raw = request.POST.get("resident") or request.GET.get("resident") or ""
    resident = None
    if raw.isdigit() and len(raw) < 19:
        resident = Resident.objects.select_related("household", "household__village").filter(pk=int(raw)).first()
    if resident is None:
        query = (request.GET.get("q") or "").strip()[:100]
        found = records.residents_without_record(query=query)[:PAGE_SIZE] if query else []
        if query:
            access.log_search(request.user, query=f"new record: q={query}")
        return render(request, "health/records/choose.html", {"query": query, "found": found})
    existing = HealthRecord.objects.filter(resident=resident).first()
    form = RecordForm(request.POST or None, resident=resident,
                      initial={"opened_on": records.today()} if request.method == "GET" else None)
    duplicate = _("This resident already has a health record.") if existing else ""
    if request.method == "POST" and form.is_valid() and not existing:
        record = form.save(commit=False)
        record.resident = resident
        try:
            records.save_record(record)
        except ValidationError as exc:
            _apply(form, exc)
            duplicate = " ".join(exc.message_dict.get("resident", []))
        else:
            messages.success(request, _("The health record was created."))
            return redirect("health:record", record.pk)
    return render(request, "health/records/form.html", {
        "form": form, "resident": resident, "duplicate": duplicate, "existing": existing, "record": None})


def _apply(form, exc: ValidationError) -> None:
    for field, errors in exc.message_dict.items():
        for error in errors:
            form.add_error(field if field in form.fields else None, error)


@page_requires("record.read")
def record_detail(request, pk):
    record = _record(pk)
    access.log_read(request.user, record, what="record")
    return render(request, "health/records/detail.html", {
        "record": record, "sections": sections_for(record), "conditions": records.conditions_of(record)})


@page_requires("record.write")
@require_http_methods(["GET", "POST"])
def record_edit(request, pk):
    record = _record(pk)
    access.log_read(request.user, record, what="record (edit)")
    form = RecordForm(request.POST or None, instance=record)
    if request.method == "POST" and form.is_valid():
        try:
            records.save_record(form.instance)
        except ValidationError as exc:
            _apply(form, exc)
        else:
            messages.success(request, _("The health record was saved."))
            return redirect("health:record", record.pk)
    return render(request, "health/records/form.html", {"form": form, "resident": record.resident, "record": record})


# --- chronic conditions ---------------------------------------------------------------------------

class ConditionForm(forms.Form):
    icd10 = forms.CharField(label=gettext_lazy("ICD-10 code"), max_length=10,
                            help_text=gettext_lazy("e.g. I10 for hypertension, E11 for type 2 diabetes"))
    diagnosed_on = forms.DateField(label=gettext_lazy("Diagnosed on"))
    programme = forms.ChoiceField(label=gettext_lazy("Programme"), choices=ChronicCondition.Programme.choices,
                                  required=False)
    note = forms.CharField(label=gettext_lazy("Note"), max_length=300, required=False)


@page_requires("record.write")
@require_http_methods(["GET", "POST"])
def record_conditions(request, pk):
    record = _record(pk)
    access.log_read(request.user, record, what="chronic conditions")
    form = ConditionForm(request.POST if request.POST.get("action") == "add" else None)
    if request.method == "POST" and request.POST.get("action") == "close":
        raw = request.POST.get("condition") or ""
        condition = record.conditions.filter(pk=int(raw)).first() if raw.isdigit() and len(raw) < 19 else None
        if condition is None:
            raise Http404
        records.close_condition(condition)
        messages.success(request, _("The condition was closed: it stays in the record's history."))
        return redirect("health:record_conditions", record.pk)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            records.add_condition(record, icd10_code=data["icd10"], diagnosed_on=data["diagnosed_on"],
                                  programme=data["programme"], note=data["note"])
        except ValidationError as exc:
            _apply(form, exc)
        else:
            messages.success(request, _("The condition was added."))
            return redirect("health:record_conditions", record.pk)
    return render(request, "health/records/conditions.html", {
        "record": record, "conditions": records.conditions_of(record), "form": form})


# --- PDF, deletion, link ---------------------------------------------------------------------------

def _pdf_response(record) -> HttpResponse:
    response = HttpResponse(record_pdf.render(record, commune_name=_commune_name()), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="ho-so-suc-khoe-{record.pk}.pdf"'
    response["Cache-Control"] = "private, no-store"
    return response


@page_requires("record.export")
def record_pdf_view(request, pk):
    record = _record(pk)
    access.log_read(request.user, record, what="record PDF")
    return _pdf_response(record)


@page_requires("record.write")
@require_http_methods(["GET", "POST"])
def record_delete(request, pk):
    record = _record(pk)
    access.log_read(request.user, record, what="record (deletion)")
    refusal = records.deletion_refusal(record)
    if request.method == "POST" and request.POST.get("confirm") == "yes":
        try:
            records.delete_record(record)
        except ValidationError as exc:
            refusal = exc.messages[0]
        else:
            messages.success(request, _("The health record of %(name)s and all its rows were deleted at the "
                                        "person's request.") % {"name": record.resident.full_name})
            return redirect("health:records")
    return render(request, "health/records/delete.html", {"record": record, "refusal": refusal},
                  status=409 if request.method == "POST" and refusal else 200)


class StationLinkForm(forms.Form):
    account = forms.CharField(label=gettext_lazy("The citizen's user name or phone number"), max_length=150)


@page_requires("record.write")
@require_http_methods(["GET", "POST"])
def record_link(request, pk):
    record = _record(pk)
    access.log_read(request.user, record, what="citizen links")
    form = StationLinkForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            records.link_by_station(record, form.cleaned_data["account"], request.user)
        except ValidationError as exc:
            _apply(form, exc)
        else:
            messages.success(request, _("The account can now read this record on the commune's site."))
            return redirect("health:record", record.pk)
    from django.contrib.auth import get_user_model

    links = list(record.resident.health_links.order_by("linked_at"))
    users = get_user_model().objects.in_bulk([link.user_id for link in links])
    for link in links:
        link.account = users.get(link.user_id)
    return render(request, "health/records/link.html", {"record": record, "form": form, "links": links})


# --- coverage ---------------------------------------------------------------------------------------

@page_requires("report.read")
def coverage(request):
    if request.GET.get("format") == "xlsx":
        access.log_export(request.user, what="coverage of health records (figures)")
        response = HttpResponse(records.coverage_workbook(_commune_name()), content_type=xlsx.CONTENT_TYPE)
        response["Content-Disposition"] = 'attachment; filename="do-bao-phu-ho-so-suc-khoe.xlsx"'
        return response
    lines, total = records.coverage()
    return render(request, "health/records/coverage.html", {
        "lines": lines, "total": total, "staff": permissions.can(request.user, "record.read")})


# --- import -----------------------------------------------------------------------------------------

class ImportForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("Excel file (.xlsx, at most 5 MB)"))


class ImportChoiceForm(forms.Form):
    mode = forms.ChoiceField(label=gettext_lazy("What to write"), choices=RecordImport.Mode.choices,
                             widget=forms.RadioSelect)


@page_requires("record.export")
@require_http_methods(["GET", "POST"])
def import_start(request):
    form = ImportForm(request.POST or None, request.FILES or None)
    problem = ""
    if request.method == "POST" and form.is_valid():
        try:
            checked = record_import.check_file(form.cleaned_data["file"], request.user)
        except record_import.FileRefused as refused:
            problem = refused.message
        else:
            access.log_search(request.user, query=f"import check: {checked.rows} rows")
            return redirect("health:record_import_detail", checked.pk)
    imports = RecordImport.objects.order_by("-created_at", "-pk")[:10]
    return render(request, "health/records/import.html", {"form": form, "problem": problem, "imports": imports},
                  status=400 if problem else 200)


@page_requires("record.export")
@require_http_methods(["GET", "POST"])
def import_detail(request, pk):
    checked = get_object_or_404(RecordImport, pk=pk)
    form = ImportChoiceForm(request.POST or None, initial={"mode": RecordImport.Mode.GOOD_ROWS})
    problem = ""
    if request.method == "POST":
        if request.POST.get("cancel"):
            record_import.cancel(checked)
            messages.info(request, _("The import was cancelled: nothing was written."))
            return redirect("health:record_import")
        if form.is_valid():
            try:
                done = record_import.write(checked, form.cleaned_data["mode"])
            except ValidationError as exc:
                problem = exc.messages[0]
            else:
                if done.state == RecordImport.State.WRITTEN:
                    messages.success(request, _("%(count)s health records were written.") % {"count": done.written})
                else:
                    messages.info(request, _("Nothing was written: some rows were refused. Correct them in the file "
                                             "and import it again."))
                return redirect("health:record_import_detail", done.pk)
    return render(request, "health/records/import_detail.html", {
        "checked": checked, "form": form, "problem": problem, "errors": checked.errors[:1000],
        "more_errors": max(0, len(checked.errors) - 1000)})


@page_requires("record.export")
def import_errors(request, pk):
    """The refused rows of an import as .xlsx (row, column, reason), to correct the file by."""
    checked = get_object_or_404(RecordImport, pk=pk)
    access.log_export(request.user, what=f"refused rows of the import {checked.pk} of health records",
                      count=len(checked.errors))
    response = HttpResponse(xlsx.refused_rows_workbook(checked.errors), content_type=xlsx.CONTENT_TYPE)
    response["Content-Disposition"] = f'attachment; filename="dong-bi-tu-choi-{checked.pk}.xlsx"'
    return response


@page_requires("record.export")
def import_template(request):
    access.log_export(request.user, what="template of the import of health records", count=0)
    response = HttpResponse(record_import.template_workbook(), content_type=xlsx.CONTENT_TYPE)
    response["Content-Disposition"] = 'attachment; filename="mau-nhap-ho-so-suc-khoe.xlsx"'
    return response


# --- the person's own records ------------------------------------------------------------------------

class CitizenLinkForm(forms.Form):
    personal_id = forms.CharField(label=gettext_lazy("Personal ID number (12 digits)"), max_length=14)
    birth_date = forms.DateField(label=gettext_lazy("Birth date"))


def _throttle(request):
    """Five attempts per 15 minutes per account and per client address."""
    from core import throttle

    decisions = [throttle.check(records.LINK_SCOPE, f"user:{request.user.pk}", records.LINK_RATE),
                 throttle.check(records.LINK_SCOPE, f"ip:{client_ip(request) or 'unknown'}", records.LINK_RATE)]
    refused = [d for d in decisions if not d.allowed]
    return max(refused, key=lambda d: d.retry_after) if refused else None


def _own_records(user):
    ids = permissions.linked_resident_ids(user)
    return list(HealthRecord.objects.select_related("resident", "resident__household__village")
                .filter(resident_id__in=ids).order_by("resident__search_name")), ids


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def my_health(request):
    own, linked = _own_records(request.user)
    form = CitizenLinkForm(request.POST or None)
    mismatch = throttled = ""
    if request.method == "POST":
        refused = _throttle(request)
        if refused is not None:
            from core.throttle import refusal_message

            throttled = refusal_message(refused)
        elif form.is_valid():
            try:
                records.link_by_id(request.user, form.cleaned_data["personal_id"], form.cleaned_data["birth_date"])
            except ValidationError as exc:
                mismatch = exc.messages[0]
            else:
                messages.success(request, _("Your account is linked: your health record is below when the station "
                                            "has opened one."))
                return redirect("health_public:my_health")
    for record in own:
        access.log_read(request.user, record, what="own record (list)")
    response = render(request, "health/public/my_health.html", {
        "records": own, "linked_without_record": len(linked) - len(own), "form": form, "mismatch": mismatch,
        "throttled": throttled}, status=429 if throttled else 200)
    return response


def _own_record(request, pk) -> HealthRecord:
    record = _record(pk)
    if not permissions.may_read_record(request.user, record) or record.resident_id not in \
            permissions.linked_resident_ids(request.user):
        raise PermissionDenied
    return record


@never_cache
@login_required
def my_health_record(request, pk):
    record = _own_record(request, pk)
    access.log_read(request.user, record, channel="page", what="own record")
    return render(request, "health/public/record.html", {
        "record": record, "sections": sections_for(record), "conditions": records.conditions_of(record)})


@never_cache
@login_required
def my_health_pdf(request, pk):
    record = _own_record(request, pk)
    access.log_read(request.user, record, channel="page", what="own record PDF")
    return _pdf_response(record)
