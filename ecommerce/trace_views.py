"""Trace pages: the public page of a stamp's code, and the producer's pages of its lots.

Public (commune host, citizens' layout, light: no script, a small inline map drawing):

* ``/t/`` and ``/t/?code=…``: type a code read on a stamp.
* ``/t/<code>/``: the trace page of a code; ``/01/<GTIN>/10/<lot>[/21/<item>]`` (GS1 Digital
  Link) shows the same page. A code that does not exist: a clear page, 404. Each opening is
  counted for the code and the day, unless it is a preview (``ecommerce.trace.is_preview``).

Producers and the economy officer (``/ocop/lots/…``, phone-first):

* ``lots/``: the lots of the products the person may read, newest first.
* ``lots/new/``: a new lot (its code, and item codes for a printed series).
* ``lots/<pk>/``: the lot: its codes and their scans, the chain of events (add one), more item
  codes, the stamp sheet (a PDF at once up to ``stamps.DIRECT_LIMIT`` stamps, a job beyond,
  whose progress the page shows, then the file).

Every write goes through ``ecommerce.services`` (role and producer checked there again).
"""
from __future__ import annotations

import datetime

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, IntegerField, Max, OuterRef, Q, Subquery, Sum
from django.db.models.functions import Coalesce
from django.http import FileResponse, Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy
from django.views.decorators.http import require_POST, require_safe

from communes.permissions import page_guard
from core.storage import exists, open_file
from documents.forms import DayFirstDateField, DayFirstDateTimeField
from ecommerce import permissions, selectors, services, stamps, trace
from ecommerce.models import Lot, Product, StampSheetJob, TraceCode, TraceEventKind, TraceScanDay
from jobs import progress as job_progress
from jobs.services import enqueue

page_requires = page_guard(permissions.require)
LOTS_PER_PAGE = 30
SCAN_DAYS = 14
RECENT_JOBS = 5


def _errors_to_form(form, exc: ValidationError) -> None:
    """A service's refusal shown on the form: each message on its field, or on top."""
    if hasattr(exc, "error_dict"):
        for key, errors in exc.message_dict.items():
            form.add_error(key if key in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


# --- public pages ------------------------------------------------------------------------------

class CodeForm(forms.Form):
    code = forms.CharField(
        label=gettext_lazy("Code on the stamp"), max_length=40,
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"}),
        help_text=gettext_lazy("The 8 letters and digits printed under the QR code."),
    )


def _not_found(request, typed: str = ""):
    form = CodeForm(initial={"code": typed})
    return render(request, "ecommerce/trace/not_found.html", {"form": form, "typed": typed}, status=404)


def _trace_response(request, code: TraceCode):
    page = trace.page_for(code)
    trace.record_scan(request, code)
    response = render(request, "ecommerce/trace/page.html", {"page": page, "preview": trace.is_preview(request, code)})
    response["Cache-Control"] = "no-cache"
    return response


@require_safe
def lookup(request):
    """``/t/``: a form for the code read on a stamp; ``?code=…`` opens its page."""
    typed = request.GET.get("code", "")
    if typed:
        code = trace.normalize_code(typed)
        if code and TraceCode.objects.filter(code=code).exists():
            return redirect("ocop:trace", code=code)
        return _not_found(request, typed[:40])
    return render(request, "ecommerce/trace/lookup.html", {"form": CodeForm()})


@require_safe
def trace_code(request, code: str):
    normalized = trace.normalize_code(code)
    if normalized and normalized != code:  # typed in lower case, or with a dash
        target = reverse("ocop:trace", kwargs={"code": normalized})
        query = request.GET.urlencode()
        return HttpResponseRedirect(f"{target}?{query}" if query else target)
    found = trace.find_code(normalized) if normalized else None
    if found is None:
        return _not_found(request, code[:40])
    return _trace_response(request, found)


@require_safe
def trace_gs1(request, gtin: str, lot: str, serial: str | None = None):
    """A GS1 Digital Link (``/01/{GTIN}/10/{lot}``, ``…/21/{item}``): the same page as the code's."""
    found = trace.find_gs1(gtin, lot, serial)
    if found is None:
        return _not_found(request)
    return _trace_response(request, found)


# --- the producer's pages ----------------------------------------------------------------------

def readable_lots(user):
    """The lots of the products ``user`` may read (a producer's own, every one for the staff)."""
    return Lot.objects.filter(product__in=selectors.products_for(user))


def writable_products(user):
    """The products whose lots ``user`` may write, with their names, for a choice."""
    products = selectors.products_for(user).select_related("live_version", "producer").order_by("producer__name", "pk")
    return [p for p in products if permissions.can(user, "lot.write", p.producer_id)]


def _lot(request, pk) -> Lot:
    lot = (readable_lots(request.user).select_related("product", "product__producer", "product__live_version")
           .filter(pk=pk).first())
    if lot is None:
        raise Http404
    return lot


def _product_label(product: Product) -> str:
    return f"{trace.product_name(product)} – {product.producer.name}"


class LotForm(forms.Form):
    product = forms.TypedChoiceField(label=gettext_lazy("Product"), coerce=int)
    number = forms.CharField(label=gettext_lazy("Lot number"), max_length=20,
                             help_text=gettext_lazy("Letters, digits, dots, dashes: e.g. NEP-2026-10. Printed on the pack."))
    produced_on = DayFirstDateField(label=gettext_lazy("Harvest or production date"))
    best_before = DayFirstDateField(label=gettext_lazy("Best before (optional)"), required=False)
    quantity = forms.CharField(label=gettext_lazy("Quantity"), max_length=15,
                               widget=forms.TextInput(attrs={"inputmode": "numeric"}))
    unit = forms.CharField(label=gettext_lazy("Unit"), max_length=50,
                           help_text=gettext_lazy("E.g. kg, hộp 500 g, chai 500 ml."))
    input_notes = forms.CharField(label=gettext_lazy("Inputs (seeds, fertilisers, treatments)"), required=False,
                                  max_length=services.MAX_TEXT, widget=forms.Textarea(attrs={"rows": 3}))
    item_codes = forms.IntegerField(
        label=gettext_lazy("Item codes for a printed series (optional)"), required=False, min_value=0,
        max_value=services.MAX_ITEM_CODES,
        help_text=gettext_lazy("One code per pack, numbered 1, 2 …; leave empty to print the lot's code only."),
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}))

    def __init__(self, *args, products=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["product"].choices = [("", "—")] + [(p.pk, _product_label(p)) for p in products]


class EventForm(forms.Form):
    kind = forms.ChoiceField(label=pgettext_lazy("trace event", "What happened"), choices=TraceEventKind.choices,
                             widget=forms.RadioSelect)
    at = DayFirstDateTimeField(label=gettext_lazy("When"))
    place = forms.CharField(label=pgettext_lazy("trace event", "Where"), max_length=200, required=False)
    note = forms.CharField(label=gettext_lazy("Note"), max_length=services.MAX_TEXT, required=False,
                           widget=forms.Textarea(attrs={"rows": 2}))


class SeriesForm(forms.Form):
    count = forms.IntegerField(label=gettext_lazy("How many item codes"), min_value=1,
                               max_value=services.MAX_ITEM_CODES,
                               widget=forms.NumberInput(attrs={"inputmode": "numeric"}))


class StampForm(forms.Form):
    LOT, ITEMS = "lot", "items"
    what = forms.ChoiceField(label=gettext_lazy("What to print"), widget=forms.RadioSelect, choices=[
        (LOT, gettext_lazy("The lot's code, in copies (the same code on every pack)")),
        (ITEMS, gettext_lazy("Items of the printed series (one code per pack)")),
    ], initial=LOT)
    copies = forms.IntegerField(label=gettext_lazy("Copies"), required=False, min_value=1, max_value=stamps.MAX_COPIES,
                                initial=stamps.PER_PAGE, help_text=gettext_lazy("40 fill an A4 sheet."),
                                widget=forms.NumberInput(attrs={"inputmode": "numeric"}))
    serial_from = forms.IntegerField(label=gettext_lazy("From item number"), required=False, min_value=1,
                                     widget=forms.NumberInput(attrs={"inputmode": "numeric"}))
    serial_to = forms.IntegerField(label=gettext_lazy("To item number"), required=False, min_value=1,
                                   widget=forms.NumberInput(attrs={"inputmode": "numeric"}))

    def selection(self, lot) -> stamps.Selection:
        data = self.cleaned_data
        if data["what"] == self.ITEMS:
            return stamps.selection(lot, serial_from=data.get("serial_from") or 1,
                                    serial_to=data.get("serial_to") or "")
        return stamps.selection(lot, copies=data.get("copies") or stamps.PER_PAGE)


@page_requires("product.read")
def lots(request):
    user = request.user
    scans = (TraceScanDay.objects.filter(code__lot=OuterRef("pk")).order_by().values("code__lot")
             .annotate(total=Sum("count")).values("total"))
    items = (TraceCode.objects.filter(lot=OuterRef("pk"), serial__isnull=False).order_by().values("lot")
             .annotate(n=Count("pk")).values("n"))
    rows = (readable_lots(user).select_related("product", "product__producer", "product__live_version")
            .annotate(scans=Coalesce(Subquery(scans, output_field=IntegerField()), 0),
                      items=Coalesce(Subquery(items, output_field=IntegerField()), 0))
            .order_by("-produced_on", "-pk"))
    products = selectors.products_for(user).select_related("live_version", "producer").order_by("producer__name", "pk")
    product_id = request.GET.get("product", "")
    if product_id.isdigit() and len(product_id) < 19:
        rows = rows.filter(product_id=int(product_id))
    page = Paginator(rows, LOTS_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "ecommerce/trace/lots.html", {
        "page": page, "products": [(p.pk, _product_label(p)) for p in products], "product_id": product_id,
        "can_write": bool(writable_products(user)),
    })


@page_requires("lot.write")
def lot_new(request):
    products = writable_products(request.user)
    if not products:
        messages.info(request, _("There is no product to record a lot for: add a product first."))
        return redirect("ecommerce:lots")
    initial = {}
    if request.GET.get("product", "").isdigit():
        initial["product"] = request.GET["product"]
    form = LotForm(request.POST or None, products=products, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        product = next(p for p in products if p.pk == data["product"])
        try:
            lot = services.create_lot(
                request.user, product, number=data["number"], produced_on=data["produced_on"],
                quantity=data["quantity"], unit=data["unit"], input_notes=data["input_notes"],
                best_before=data["best_before"], item_codes=data["item_codes"] or 0)
        except ValidationError as exc:
            _errors_to_form(form, exc)
        else:
            messages.success(request, _("Lot %(number)s is recorded with its trace code.") % {"number": lot.number})
            return redirect("ecommerce:lot", pk=lot.pk)
    return render(request, "ecommerce/trace/lot_form.html", {"form": form}, status=400 if form.errors else 200)


def _stamp_jobs(lot) -> list[StampSheetJob]:
    return list(lot.stamp_jobs.order_by("-pk")[:RECENT_JOBS])


def _job_progress(lot) -> job_progress.Progress | None:
    running = [job for job in _stamp_jobs(lot) if not job.is_finished]
    if not running:
        return None
    return job_progress.Progress(
        jobs=running, label=_("Preparing the stamp sheet"), page_url=reverse("ecommerce:lot", args=[lot.pk]),
        poll_url=reverse("ecommerce:lot_stamps_progress", args=[lot.pk]),
        advice=_("print the sheet again below; if it fails again, tell the commune's administrator."))


def _lot_page(request, lot: Lot, *, event_form=None, series_form=None, stamp_form=None, status: int = 200):
    today = timezone.localdate()
    codes = lot.codes.all()
    lot_code = codes.filter(serial__isnull=True).first()
    items = codes.filter(serial__isnull=False).aggregate(n=Count("pk"), last=Max("serial"))
    days = (TraceScanDay.objects.filter(code__lot=lot, day__gt=today - datetime.timedelta(days=SCAN_DAYS))
            .values("day").annotate(total=Sum("count")).order_by("-day"))
    scan_totals = TraceScanDay.objects.filter(code__lot=lot).aggregate(
        total=Coalesce(Sum("count"), 0), today=Coalesce(Sum("count", filter=Q(day=today)), 0))
    top_codes = (TraceScanDay.objects.filter(code__lot=lot).values("code__code", "code__serial")
                 .annotate(total=Sum("count")).order_by("-total", "code__serial")[:10])
    can_write = permissions.can(request.user, "lot.write", lot.product.producer_id)
    preview = None
    if lot_code is not None:
        lot_code.lot = lot
        preview = f"{trace.public_path(lot_code)}?{urlencode({trace.PREVIEW_PARAM: 1})}"
    now = timezone.localtime()
    return render(request, "ecommerce/trace/lot.html", {
        "lot": lot, "product_name": trace.product_name(lot.product), "lot_code": lot_code,
        "item_count": items["n"], "last_item": items["last"] or 0, "preview_url": preview,
        "events": lot.events.order_by("at", "pk"), "scan_days": list(days), "scan_totals": scan_totals,
        "top_codes": top_codes, "can_write": can_write, "jobs": _stamp_jobs(lot), "progress": _job_progress(lot),
        "event_form": event_form or EventForm(initial={"at": now.replace(second=0, microsecond=0)}),
        "series_form": series_form or SeriesForm(), "stamp_form": stamp_form or StampForm(),
        "direct_limit": stamps.DIRECT_LIMIT, "per_page": stamps.PER_PAGE,
    }, status=status)


@page_requires("product.read")
def lot_detail(request, pk):
    return _lot_page(request, _lot(request, pk))


def _writable_lot(request, pk) -> Lot:
    lot = _lot(request, pk)
    if not permissions.can(request.user, "lot.write", lot.product.producer_id):
        raise PermissionDenied
    return lot


@require_POST
@page_requires("lot.write")
def lot_event(request, pk):
    lot = _writable_lot(request, pk)
    form = EventForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.add_trace_event(request.user, lot, kind=data["kind"], at=data["at"], place=data["place"],
                                     note=data["note"])
        except ValidationError as exc:
            _errors_to_form(form, exc)
        else:
            messages.success(request, _("The step is added to the lot's chain."))
            return redirect(f"{reverse('ecommerce:lot', args=[lot.pk])}#events")
    return _lot_page(request, lot, event_form=form, status=400)


@require_POST
@page_requires("lot.write")
def lot_series(request, pk):
    lot = _writable_lot(request, pk)
    form = SeriesForm(request.POST)
    if form.is_valid():
        try:
            created = services.issue_item_codes(request.user, lot, form.cleaned_data["count"])
        except ValidationError as exc:
            _errors_to_form(form, exc)
        else:
            messages.success(request, _("Item codes %(first)s to %(last)s are issued: print their stamps below.") % {
                "first": created[0].serial, "last": created[-1].serial})
            return redirect(f"{reverse('ecommerce:lot', args=[lot.pk])}#stamps")
    return _lot_page(request, lot, series_form=form, status=400)


def _pdf(data: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    return response


@require_POST
@page_requires("lot.write")
def lot_stamps(request, pk):
    """The stamp sheet: the PDF at once for a short one, a job for a long series."""
    lot = _writable_lot(request, pk)
    form = StampForm(request.POST)
    if form.is_valid():
        try:
            chosen = form.selection(lot)
            if chosen.count <= stamps.DIRECT_LIMIT:
                return _pdf(stamps.render_lot(lot, chosen), stamps.file_name(lot, chosen))
            trace.base_url()  # refuse before queueing when the commune has no address
            enqueue(StampSheetJob(lot=lot, copies=chosen.copies, serial_from=chosen.serial_from,
                                  serial_to=chosen.serial_to, requested_by=request.user))
        except ValidationError as exc:
            _errors_to_form(form, exc)
        else:
            messages.info(request, _("The sheet of %(count)s stamps is being prepared: it appears on this page when "
                                     "it is ready.") % {"count": f"{chosen.count:,}".replace(",", ".")})
            return redirect(f"{reverse('ecommerce:lot', args=[lot.pk])}#stamps")
    return _lot_page(request, lot, stamp_form=form, status=400)


@page_requires("product.read")
def lot_stamps_progress(request, pk):
    lot = _lot(request, pk)
    progress = _job_progress(lot)
    if progress is None:
        return redirect(f"{reverse('ecommerce:lot', args=[lot.pk])}#stamps")
    return job_progress.respond(request, progress)


@page_requires("product.read")
def lot_stamp_file(request, pk, job_pk):
    lot = _lot(request, pk)
    job = get_object_or_404(StampSheetJob, pk=job_pk, lot=lot)
    if not job.file or not exists(job.file):
        raise Http404
    chosen = stamps.Selection(copies=job.copies, serial_from=job.serial_from, serial_to=job.serial_to)
    response = FileResponse(open_file(job.file), as_attachment=True, filename=stamps.file_name(lot, chosen),
                            content_type="application/pdf")
    response["Cache-Control"] = "private, no-store"
    return response
