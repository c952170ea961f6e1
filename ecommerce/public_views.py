"""The commune's public OCOP catalogue (citizens' layout, phone-first, no script): the listed
products with search and filters, and each product's page.

* ``/san-pham/`` (``ocop:catalogue``): the products listed to buyers
  (``selectors.listed_products``), searched without accents ("nep tu le" finds "Gạo nếp Tú
  Lệ"), filtered by group, stars shown today, village and price range, 20 a page. A filter
  that cannot be read is named at the top and beside its field, keeps what was typed, and is
  left out of the search instead of failing it.
* ``/san-pham/<slug>/`` (``ocop:product``): the approved (live) version of a listed product:
  price per unit, minimum order, stock state, season, the producer and its village, the OCOP
  certificate and its stars (none, with the reason, once it expired or was revoked), the photos
  in the sizes stored (``srcset``, loaded lazily), a link to order it when the order form is
  there, and its schema.org Product data (``ecommerce.jsonld``). A product that is not listed
  (hidden, waiting, its producer suspended) is not found.
* ``home_section``: the catalogue's part of the commune's public home (``PublicSection``).

What these pages show depends only on the listed products (their public rows), the day (the
stars and the season of the day), the language and the query: it is drawn once and kept in the
shared cache under the commune's catalogue version (``ocop_national.kept``), which every change
of a product's public row renews (``ecommerce.publishing.refresh``); only the layout around it
is drawn for a logged-in visitor; for anyone else the whole page is kept, with their own CSRF
token put in on each request (``_respond``). Figures in bench/README.md (OCOP).

The pages read only; every change goes through ``ecommerce.services``. A commune's pages read
its own schema, so they never show another commune's products.
"""
from __future__ import annotations

import datetime
import hashlib

from django import forms
from django.core.paginator import Paginator
from django.db import connection
from django.db.models import Max
from django.http import HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from communes.modules import public_layout
from ecommerce import jsonld, publishing, selectors
from ecommerce.models import ProductGroup, ProductPhoto
from ocop_national import kept
from population.models import Village

PAGE_SIZE = 20
HOME_PRODUCTS = 4
MAX_QUERY_LENGTH = 100
CARD_WIDTH = 320
STAR_CHOICES = (3, 4, 5)


# --- the filters ---------------------------------------------------------------------------------

def read_price(text: str) -> int | None:
    """'120.000', '120 000', '120000 đ' → 120000; None when empty; ValueError otherwise."""
    digits = str(text or "").strip().lower().replace("đ", "").replace(".", "").replace(" ", "")
    digits = digits.replace("\u00a0", "").replace(",", "")
    if not digits:
        return None
    if not digits.isascii() or not digits.isdigit() or len(digits) > 12:
        raise ValueError(text)
    value = int(digits)
    if value > 1_000_000_000:
        raise ValueError(text)
    return value


class PriceField(forms.CharField):
    def __init__(self, **kwargs):
        super().__init__(required=False, max_length=20, **kwargs)
        self.widget.attrs.update({"inputmode": "numeric", "autocomplete": "off"})

    def clean(self, value):
        value = super().clean(value)
        try:
            return read_price(value)
        except ValueError:
            raise forms.ValidationError(
                _("Enter a price in đồng as a whole number, e.g. 150.000."), code="invalid_price") from None


class CatalogueFilterForm(forms.Form):
    """The catalogue's search and filters (a GET form: every field optional)."""

    q = forms.CharField(label=gettext_lazy("Find a product"), required=False, max_length=MAX_QUERY_LENGTH,
                        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off"}))
    group = forms.ChoiceField(label=gettext_lazy("Product group"), required=False)
    stars = forms.ChoiceField(label=gettext_lazy("OCOP stars"), required=False)
    village = forms.ChoiceField(label=gettext_lazy("Village"), required=False)
    price_min = PriceField(label=gettext_lazy("Price from (đồng)"))
    price_max = PriceField(label=gettext_lazy("Price up to (đồng)"))

    def __init__(self, *args, groups=(), villages=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["q"].widget.attrs["placeholder"] = _("e.g. gao nep, mat ong, che")
        self.fields["group"].choices = [("", _("All groups"))] + [(code, name) for code, name in groups]
        self.fields["stars"].choices = [("", _("Any"))] + [(str(n), _("%(n)d stars") % {"n": n}) for n in STAR_CHOICES]
        self.fields["village"].choices = [("", _("All villages"))] + [(str(pk), name) for pk, name in villages]
        for name in ("group", "stars", "village"):
            self.fields[name].error_messages["invalid_choice"] = {
                "group": _("Choose a product group from the list."),
                "stars": _("Choose 3, 4 or 5 stars."),
                "village": _("Choose a village from the list."),
            }[name]
        self.fields["q"].error_messages["max_length"] = _("Type at most %(max)d characters.") % {
            "max": MAX_QUERY_LENGTH}

    def clean(self):
        data = super().clean()
        low, high = data.get("price_min"), data.get("price_max")
        if low is not None and high is not None and high < low:
            self.add_error("price_max", _("The highest price is below the lowest price."))
        return data

    def values(self) -> dict:
        """The filters that could be read (an unreadable one is left out)."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return {name: data.get(name) for name in self.fields if name not in self.errors}


def _groups():
    return list(ProductGroup.objects.filter(active=True).order_by("order", "code"))


def _villages():
    """The villages whose producers have listed products."""
    producers = selectors.listed_products().values("producer__village_id")
    return list(Village.objects.filter(pk__in=producers).order_by("name"))


def filtered_products(values: dict, today: datetime.date):
    products = selectors.listed_products()
    if values.get("group"):
        products = products.filter(live_version__group__code=values["group"])
    if values.get("village"):
        products = products.filter(producer__village_id=int(values["village"]))
    if values.get("price_min") is not None:
        products = products.filter(live_version__price__gte=values["price_min"])
    if values.get("price_max") is not None:
        products = products.filter(live_version__price__lte=values["price_max"])
    if values.get("stars"):
        products = selectors.with_stars(products, today).filter(stars_today=int(values["stars"]))
    if values.get("q"):
        products = selectors.search(products, values["q"])
    return products.order_by("live_version__name", "pk")


# --- what a card and a page show -------------------------------------------------------------------

def stars_of(product_ids, today: datetime.date) -> dict[int, int]:
    """{product id: stars shown today} of the products with a valid certificate (one query)."""
    return dict(selectors.valid_certificates(today).filter(product_id__in=list(product_ids))
                .values("product_id").annotate(top=Max("stars")).values_list("product_id", "top"))


def first_photos(product_ids) -> dict[int, ProductPhoto]:
    return {photo.product_id: photo for photo in ProductPhoto.objects.filter(product_id__in=list(product_ids))
            .order_by("product_id", "order", "pk").distinct("product_id")}


def picture(photo: ProductPhoto | None, *, sizes: str = "100vw", fallback: int = 640) -> dict | None:
    """The sources of a <picture> from a photo's stored variants (``ecommerce.photos``): WebP and
    JPEG ``srcset``s ("url 320w, url 640w, …"), the JPEG fallback nearest ``fallback`` pixels,
    its size and the text for screen readers."""
    from ecommerce import photos

    if photo is None or not photo.variants:
        return None
    variant = photo.variant("jpeg", fallback) or photo.variant("webp", fallback)
    src = publishing.photo_url(photo, "jpeg", fallback)
    if variant is None or not src:
        return None
    return {
        "webp": photos.srcset(photo, "webp"), "jpeg": photos.srcset(photo, "jpeg"), "src": src,
        "width": variant.get("width") or "", "height": variant.get("height") or "", "sizes": sizes,
        "alt": photo.alt_text,
    }


def stock_text(product) -> tuple[str, str]:
    """(state, words) of a listed product's stock: in stock (the minimum order can be bought) or
    out of stock. The count itself is not shown: a page is kept until the state changes."""
    version = product.live_version
    if publishing.stock_state(product.stock, version.min_order) == "out_of_stock":
        return "out", _("Out of stock")
    return "in", _("In stock")


def season_text(version, today: datetime.date) -> tuple[str, bool]:
    """('September, October, November' or 'All year', whether it is in season this month)."""
    months = sorted(version.season_months or [])
    if not months:
        return _("All year"), True
    names = ", ".join(str(month) for month in months)
    return _("Months %(months)s") % {"months": names}, today.month in months


def order_url(slug: str) -> str:
    """The order form of the product, when the marketplace has one (``ocop:order_new``)."""
    try:
        return reverse("ocop:order_new", args=[slug])
    except NoReverseMatch:
        return ""


def cards(products, today: datetime.date) -> list[dict]:
    products = list(products)
    ids = [product.pk for product in products]
    stars = stars_of(ids, today) if ids else {}
    photos = first_photos(ids) if ids else {}
    rows = []
    for product in products:
        state, words = stock_text(product)
        rows.append({
            "product": product, "version": product.live_version, "stars": stars.get(product.pk, 0),
            "picture": picture(photos.get(product.pk), fallback=CARD_WIDTH, sizes="(max-width: 40rem) 100vw, 20rem"),
            "stock_state": state, "stock_text": words,
        })
    return rows


# --- pages ---------------------------------------------------------------------------------------

def _kept(part: str, today: datetime.date, make):
    """``make()`` kept (``ocop_national.kept``) under the commune's catalogue version (every
    change of a listed product draws a new one), the day (the stars of the day), the language and
    ``part``."""
    key = f"ocop:cat:{connection.schema_name}:{today.isoformat()}:{get_language()}:{part}"
    return kept.kept(publishing.catalogue_version_key(), key, make)


MAX_KEPT_QUERY = 300  # characters of a query string whose page is kept
# Stands for the visitor's CSRF token (the layout's language form) in a page kept whole.
TOKEN_MARK = "OCOPKEPTPAGECSRFTOKEN7F3A9C"


def _respond(request, today: datetime.date, part: str, template: str, context) -> HttpResponse:
    """The page ``template`` drawn with ``context()`` in the citizens' layout. For a visitor who is
    not logged in and has no message waiting, the layout does not depend on them but for their
    CSRF token: the whole page is kept (``_kept``: the catalogue version, the day, the language,
    ``part``, the address asked and the commune's own details the layout shows) with a mark
    where the token goes, and each visitor gets their own token put there."""
    from django.contrib import messages
    from django.middleware.csrf import get_token

    if request.user.is_authenticated or len(messages.get_messages(request)):
        return render(request, template, context())
    commune = getattr(request, "commune", None)
    details = repr([getattr(commune, name, "") for name in ("name", "kind", "note", "address", "phone")])
    path = request.get_full_path()
    shell = f"{part}:whole:{hashlib.sha256(f'{details}|{path}'.encode()).hexdigest()[:32]}"
    html = _kept(shell, today, lambda: render_to_string(
        template, {**context(), "csrf_token": TOKEN_MARK}, request))
    return HttpResponse(html.replace(TOKEN_MARK, get_token(request)))


def catalogue(request):
    """The catalogue's page. Its content (the form as typed with its errors, the cards, their
    count, the pages) depends only on the query, the commune's catalogue, the day and the
    language: it is kept under those (``_kept``) and drawn once until a listed product
    changes (``_respond`` keeps the whole page for a visitor who is not logged in)."""
    today = timezone.localdate()
    commune = getattr(request, "commune", None)

    def content() -> str:
        choices = _kept("choices", today, lambda: {
            "groups": [(g.code, g.name) for g in _groups()], "villages": [(v.pk, v.name) for v in _villages()]})
        form = CatalogueFilterForm(request.GET or None, groups=choices["groups"], villages=choices["villages"])
        values = form.values() if request.GET else {}
        query = request.GET.copy()
        query.pop("page", None)
        filtered = any(value not in (None, "") for value in values.values())
        # Every id that matches, in order, in one narrow query (a commune lists a few thousand
        # products at most: their count is the list's length), then the page's 20 rows whole.
        page = Paginator(list(filtered_products(values, today).values_list("pk", flat=True)), PAGE_SIZE).get_page(
            request.GET.get("page"))
        ids = list(page.object_list)
        rows = {row.pk: row for row in selectors.listed_products().filter(pk__in=ids)}
        return render_to_string("ecommerce/public/_catalogue.html", {
            "commune": commune, "form": form, "filtered": filtered, "page": page,
            "cards": cards([rows[pk] for pk in ids if pk in rows], today), "query_string": query.urlencode(),
            "filters_open": any(values.get(name) not in (None, "") for name in (
                "group", "stars", "village", "price_min", "price_max")) or bool(form.errors),
        }, request=None)

    if len(request.META.get("QUERY_STRING", "")) > MAX_KEPT_QUERY:
        return render(request, "ecommerce/public/catalogue.html", {
            "public_layout": public_layout(), "content": mark_safe(content())})  # noqa: S308 - our template's
    pairs = sorted((name, value) for name, values in request.GET.lists() for value in values)
    part = "page:" + hashlib.sha256(repr(pairs).encode()).hexdigest()[:32]
    return _respond(request, today, part, "ecommerce/public/catalogue.html", lambda: {
        "public_layout": public_layout(), "content": mark_safe(_kept(part, today, content))})  # noqa: S308


class _NotListed(Exception):
    """The product asked for is not listed (nothing is kept for it)."""


def product(request, slug: str):
    """A listed product's page: its content (no part of it depends on the visitor) is kept under
    the commune's catalogue version, the day and the language, as the catalogue's page."""
    today = timezone.localdate()
    slug = slug[:80]

    def content() -> dict:
        found = selectors.listed_products().filter(slug=slug).first()
        if found is None:
            raise _NotListed
        version = found.live_version
        certificate = selectors.current_certificate(found, today)
        stars = certificate.stars_now(today) if certificate is not None else None
        photos = list(ProductPhoto.objects.filter(product=found).order_by("order", "pk"))
        pictures = [p for p in (picture(photo, sizes="(max-width: 40rem) 100vw, 40rem") for photo in photos) if p]
        state, words = stock_text(found)
        season, in_season = season_text(version, today)
        english = (get_language() or "").startswith("en") and bool(version.description_en)
        data = jsonld.product(found, certificate=certificate, stars=stars, photos=photos)
        html = render_to_string("ecommerce/public/_product.html", {
            "commune": getattr(request, "commune", None), "product": found, "version": version,
            "producer": found.producer, "village": found.producer.village, "certificate": certificate,
            "stars": stars, "pictures": pictures, "stock_state": state, "stock_text": words, "season": season,
            "in_season": in_season, "seasonal": bool(version.season_months),
            "description": version.description_en if english else version.description,
            "order_url": order_url(found.slug) if state != "out" else "", "jsonld": jsonld.script_text(data),
        }, request=None)
        return {"title": version.name, "html": html}

    def page() -> dict:
        drawn = _kept(f"product:{slug}", today, content)
        return {"public_layout": public_layout(), "title": drawn["title"],
                "content": mark_safe(drawn["html"])}  # noqa: S308 - drawn by our template

    try:
        return _respond(request, today, f"product:{slug}", "ecommerce/public/product.html", page)
    except _NotListed:
        return render(request, "ecommerce/public/not_found.html", {"public_layout": public_layout()}, status=404)


def home_section(request) -> dict:
    """The catalogue's part of the commune's public home: the search and the latest products
    listed (kept per catalogue version and day, as the catalogue's page)."""
    today = timezone.localdate()

    def latest_cards() -> str:
        listed = selectors.listed_products()
        latest = list(listed.order_by("-published_at", "-pk")[:HOME_PRODUCTS])
        if not latest:
            return ""
        return render_to_string("ecommerce/public/_cards.html", {
            "cards": cards(latest, today), "count": listed.count(), "home": True}, request=None)

    return {"cards_html": mark_safe(_kept("home", today, latest_cards))}  # noqa: S308 - drawn by our template
