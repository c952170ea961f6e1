"""Producers' and the economy officer's page of the marketplace feeds (``/ocop/feeds/``): the
addresses of the CSV and JSON feeds to give a marketplace (the commune's, or one producer's),
and the stock file: upload a CSV of ``sku`` and ``stock`` (the feed's CSV, edited, will do),
checked whole, written all or nothing, with the bad lines listed (``ecommerce.feeds``).
"""
from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import render
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from communes.permissions import page_guard
from core.links import commune_base_url
from ecommerce import feeds, permissions, selectors

page_requires = page_guard(permissions.require)


class StockFileForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("Stock file (CSV)"),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["file"].help_text = _("Columns “sku” and “stock”; at most %(max)s and %(lines)s lines.") % {
            "max": filesizeformat(feeds.MAX_STOCK_FILE_BYTES), "lines": "5.000"}

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > feeds.MAX_STOCK_FILE_BYTES:
            raise forms.ValidationError(_("The file is too large: at most %(max)s.") % {
                "max": filesizeformat(feeds.MAX_STOCK_FILE_BYTES)})
        return upload


def _api_url(name: str) -> str:
    return f"{commune_base_url()}{reverse(name)}"


def _page(request, *, form=None, report=None, status: int = 200):
    user = request.user
    mine = selectors.producers_for(user).filter(pk__in=permissions.member_producer_ids(user)).order_by("name")
    csv_url, json_url = _api_url("ocop-feed-csv"), _api_url("ocop-feed-json")
    return render(request, "ecommerce/feeds/feeds.html", {
        "csv_url": csv_url, "json_url": json_url, "fields": feeds.FIELDS,
        "listed": selectors.listed_products().count(),
        "producers": [(p, f"{csv_url}?producer={p.slug}", f"{json_url}?producer={p.slug}") for p in mine],
        "can_import": permissions.can(user, "product.write"),
        "form": form or StockFileForm(), "report": report,
    }, status=status)


@page_requires("product.read")
def feeds_page(request):
    return _page(request)


@require_POST
@page_requires("product.write")
def stock_import(request):
    form = StockFileForm(request.POST, request.FILES)
    if not form.is_valid():
        return _page(request, form=form, status=400)
    upload = form.cleaned_data["file"]
    try:
        lines = feeds.parse_csv(upload.read(feeds.MAX_STOCK_FILE_BYTES + 1))
        report = feeds.import_stock(request.user, lines)
    except ValidationError as exc:
        form.add_error("file", exc.messages)
        return _page(request, form=form, status=400)
    if not report.ok:
        form.add_error("file", _("Nothing was changed: %(count)s lines have errors.") % {"count": len(report.errors)})
        return _page(request, form=form, report=report, status=400)
    messages.success(request, _("The stock of %(count)s products is updated.") % {"count": len(report.changes)})
    return _page(request, report=report)
