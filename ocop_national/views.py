"""The national OCOP catalogue page (``/ocop/`` on the national host): every commune's listed
products, from the rows they publish (``ocop_national.catalogue``), searched without accents and
filtered like a commune's catalogue, plus province and commune. Each card links to the product's
page on its commune's own site. Light and phone-first: no script, one small stylesheet more."""
from __future__ import annotations

from urllib.parse import urlsplit

from django.core.paginator import Paginator
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ocop_national import catalogue

PAGE_SIZE = 24
FIELD_LABELS = {
    "q": _("Find a product"), "group": _("Product group"), "stars": _("OCOP stars"),
    "price_min": _("Price from (đồng)"), "price_max": _("Price up to (đồng)"), "province": _("Province"),
    "commune": _("Commune"), "village": _("Village"), "in_stock": _("In stock only"),
}


def card(row, today) -> dict:
    return {"row": row, "stars": catalogue.stars_on(row, today)}


MAX_KEPT_QUERY = 300  # characters of a query string whose page is kept


def catalogue_page(request):
    """The national catalogue's page. Its content depends only on the query, the published rows,
    the day and the language: it is kept under those (``catalogue.kept``; a writer that
    changes rows draws a new version) and only the layout is drawn on every request."""
    today = timezone.localdate()

    def content() -> dict:
        filters, errors = catalogue.parse(request.GET)
        page = Paginator(catalogue.products(filters, today), PAGE_SIZE).get_page(request.GET.get("page"))
        query = request.GET.copy()
        query.pop("page", None)
        facets = catalogue.kept("facets", today, catalogue.facets)
        cards = [card(row, today) for row in page.object_list]
        html = render_to_string("ocop_national/_catalogue.html", {
            "filters": filters, "raw": filters.raw, "errors": errors,
            "error_list": [(name, FIELD_LABELS.get(name, name), message) for name, messages in errors.items()
                           for message in messages],
            "page": page, "cards": cards, "query_string": query.urlencode(),
            "groups": facets["groups"], "provinces": facets["provinces"], "star_choices": catalogue.STAR_CHOICES,
            "communes": catalogue.communes_of(filters) if filters.province else [],
            "villages": catalogue.villages_of(filters.commune_id) if filters.commune_id else [],
            "filters_open": bool(errors) or any(filters.raw.get(name) for name in FIELD_LABELS if name != "q"),
        }, request=None)
        # The photos are served by each commune's own site: this page alone may show images
        # from the origins of the photos it lists.
        return {"html": html, "origins": sorted({o for o in (image_origin(c["row"].image_url) for c in cards) if o})}

    if len(request.META.get("QUERY_STRING", "")) <= MAX_KEPT_QUERY:
        pairs = [(name, value) for name, values in request.GET.lists() for value in values]
        drawn = catalogue.kept("page:" + catalogue.query_digest(pairs), today, content)
    else:
        drawn = content()
    response = render(request, "ocop_national/catalogue.html", {"content": mark_safe(drawn["html"])})  # noqa: S308
    if drawn["origins"]:
        response._csp_update = {"img-src": drawn["origins"]}
    return response


def image_origin(url: str) -> str:
    """``https://tule.example.vn`` of a photo's absolute address; empty for anything else."""
    parts = urlsplit(url or "")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return ""
    host = parts.hostname + (f":{parts.port}" if parts.port else "")
    return f"{parts.scheme}://{host}"
