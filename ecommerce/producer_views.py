"""The producers' pages of the OCOP marketplace, for a producer on a cheap phone (360 px, one
small stylesheet, no script framework):

* ``/ocop/producer/``: what waits for the producer (orders to confirm and to ship when the
  orders' pages exist, drafts to send, products sent back, certificates ending, listed products
  out of stock), then each of their producers with its products: state, stock, stars today.
* ``/ocop/producer/register/``: any logged-in person asks to register a producer; the economy
  officer approves it (``services.request_producer``; a citizen becomes its member and gets the
  producer role with the approval).
* ``/ocop/producers/<pk>/`` and ``…/edit/``: the producer's details; its members, the person who
  asked while it waits, and the commune's staff read them; the members and the economy officer
  change them.
* ``/ocop/producers/<pk>/products/new/``: a new product (its first version, a draft).
* ``/ocop/products/<pk>/``: a product: what buyers see (the approved version) and the change
  waiting for approval, the stock, the photos, the OCOP certificates with their end and the
  stars shown today (none, with the reason, once a certificate has expired).
* ``/ocop/products/<pk>/edit/``: the content, written as a new version: an approved product's
  change goes back for approval while the listing keeps the approved version (the page says
  so); ``…/submit/``, ``…/stock/``, ``…/hide/``, ``…/show/``, ``…/photos/`` (POST).
* ``/ocop/photos/<pk>/edit/``, ``…/move/``, ``…/delete/``: a photo's text, place and deletion.

Every change goes through ``ecommerce.services`` (or ``ecommerce.photos``), which check the role
and the producer again; a refusal comes back on the form with what was typed. Rows are found
through ``ecommerce.selectors``: another producer's row is a 404, as is a row of another commune
(each commune's schema holds its own rows only).
"""
from __future__ import annotations

from functools import wraps

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import OuterRef, Prefetch, Q, Subquery
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from communes.modules import InboxLine, Severity
from ecommerce import forms, permissions, photos, selectors, services
from ecommerce.models import (
    Certificate, Producer, ProducerMember, ProducerStatus, Product, ProductPhoto, ProductStatus,
    ProductVersion, VersionState,
)

EXPIRY_WARNING_DAYS = 90


# --- helpers -----------------------------------------------------------------------------------

def login_page(view):
    """A page for any logged-in person (the role checks are the services' and the querysets')."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        return view(request, *args, **kwargs)

    return wrapped


def url_or_none(name: str, *args) -> str | None:
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return None


def readable_producers(user):
    """The producers whose pages ``user`` may open: the commune's staff every one, a producer's
    member their own, the person who asked for a registration that one (whatever its state)."""
    staff_or_member = selectors.producers_for(user)
    if not getattr(user, "pk", None):
        return staff_or_member
    return Producer.objects.filter(
        Q(pk__in=staff_or_member.values("pk")) | Q(pk__in=ProducerMember.objects.filter(user_id=user.pk)
                                                      .values("producer_id"))).distinct()


def get_producer(request, pk) -> Producer:
    producer = readable_producers(request.user).select_related("village").filter(pk=pk).first()
    if producer is None:
        raise Http404
    return producer


def get_product(request, pk) -> Product:
    product = (selectors.products_for(request.user)
               .select_related("producer", "producer__village", "live_version", "live_version__group",
                               "live_version__subgroup", "pending_version").filter(pk=pk).first())
    if product is None:
        raise Http404
    return product


def may_write(user, producer: Producer) -> bool:
    return permissions.can(user, "product.write", producer) and producer.status != ProducerStatus.SUSPENDED


def masked_tax_code(value: str) -> str:
    """A household business's tax code may be its owner's 12-digit personal ID number: shown
    masked like every ID number ('001******789'); a company's 10-digit code as it is."""
    from population.validators import mask_id

    return mask_id(value) if len(value or "") == 12 else (value or "")


def refused_registration(producer: Producer) -> bool:
    """A suspension before any approval is the commune's refusal of the registration."""
    return producer.status == ProducerStatus.SUSPENDED and producer.approved_at is None


def latest_versions(products) -> dict[int, ProductVersion]:
    """The last version of each product (one query)."""
    ids = [p.pk for p in products]
    last = (ProductVersion.objects.filter(product_id=OuterRef("product_id")).order_by("-number").values("pk")[:1])
    return {v.product_id: v for v in ProductVersion.objects.filter(product_id__in=ids, pk=Subquery(last))}


def product_state(product: Product, latest: ProductVersion | None, producer: Producer) -> tuple[str, str]:
    """(label, css class) of a product's state as its producer reads it."""
    if product.status == ProductStatus.HIDDEN:
        return _("Hidden from buyers"), "muted"
    if product.status == ProductStatus.PUBLISHED:
        if producer.status != ProducerStatus.APPROVED:
            return _("Not shown: the producer is not approved"), "warn"
        if product.pending_version_id:
            return _("Listed · a change waits for approval"), "ok"
        if latest is not None and latest.state == VersionState.DRAFT:
            return _("Listed · a change is not sent yet"), "ok"
        if latest is not None and latest.state == VersionState.REJECTED:
            return _("Listed · the last change was sent back"), "warn"
        return _("Listed"), "ok"
    if product.status == ProductStatus.PENDING:
        return _("Waiting for the commune's approval"), "wait"
    if latest is not None and latest.state == VersionState.REJECTED:
        return _("Sent back by the commune: change it and send it again"), "warn"
    return _("Draft: not sent for approval"), "wait"


def product_rows(products, producer: Producer) -> list[dict]:
    products = list(products)
    latest = latest_versions(products)
    today = timezone.localdate()
    rows = []
    for product in products:
        version = product.live_version or latest.get(product.pk)
        label, css = product_state(product, latest.get(product.pk), producer)
        thumb = first_photo(product)
        rows.append({
            "product": product, "name": version.name if version else product.slug, "unit": version.unit if version else "",
            "price": version.price if version else None, "state": label, "state_class": css,
            "stars": getattr(product, "stars_today", 0), "latest": latest.get(product.pk),
            "thumb_webp": photos.variant_url(thumb, "webp", 320) if thumb else "",
            "thumb_jpeg": photos.variant_url(thumb, "jpeg", 320) if thumb else "", "today": today,
        })
    return rows


def with_first_photo(products):
    return products.prefetch_related(Prefetch("photos", ProductPhoto.objects.order_by("order", "pk"), to_attr="photo_list"))


def first_photo(product) -> ProductPhoto | None:
    listed = getattr(product, "photo_list", None)
    return listed[0] if listed else None


def photo_items(product: Product) -> list[dict]:
    """The product's photos in their order, with the addresses of their stored sizes."""
    items = []
    for photo in product.photos.order_by("order", "pk"):
        shown = photo.variant("jpeg", 640) or {}
        items.append({"photo": photo, "webp": photos.srcset(photo, "webp"), "jpeg": photos.variant_url(photo, "jpeg", 640),
                      "width": shown.get("width", 0), "height": shown.get("height", 0)})
    return items


def producer_lines(user, producer_ids: set[int]) -> list[InboxLine]:
    """What waits for a producer's member: their orders (when the orders' pages exist), then
    the products to act on. Lines with nothing in them are left out."""
    from communes.modules import tally

    lines: list[InboxLine] = []
    if url_or_none("ecommerce:orders"):
        from ecommerce import inbox

        lines += inbox.producer_lines(user)
    if not producer_ids:
        return [line for line in lines if line.count]
    here = reverse("ecommerce:producer_home")
    today = timezone.localdate()
    products = Product.objects.filter(producer_id__in=producer_ids)
    counts = tally(products, {
        "out_of_stock": Q(status=ProductStatus.PUBLISHED, stock=0),
    })
    drafts = ProductVersion.objects.filter(product__producer_id__in=producer_ids, state=VersionState.DRAFT).count()
    last = ProductVersion.objects.filter(product_id=OuterRef("pk")).order_by("-number").values("state")[:1]
    sent_back = products.annotate(last_state=Subquery(last)).filter(last_state=VersionState.REJECTED).count()
    ending = selectors.certificates_expiring(EXPIRY_WARNING_DAYS, today).filter(
        product__producer_id__in=producer_ids).count()
    lines += [
        InboxLine("ecommerce.sent_back", _("Products sent back by the commune"), sent_back, f"{here}#products",
                  Severity.DUE_SOON),
        InboxLine("ecommerce.drafts", _("Products or changes not sent for approval"), drafts, f"{here}#products"),
        InboxLine("ecommerce.certificates_ending", _("OCOP certificates ending within 90 days"), ending,
                  f"{here}#certificates", Severity.DUE_SOON),
        InboxLine("ecommerce.out_of_stock", _("Listed products out of stock"), counts["out_of_stock"][0],
                  f"{here}#products"),
    ]
    order = Severity.ORDER
    return sorted((line for line in lines if line.count), key=lambda line: order.get(line.severity, 9))


def stars_context(product: Product) -> dict:
    """The stars the product shows today and why none (an expired certificate says its date)."""
    today = timezone.localdate()
    shown = selectors.stars_now(product, today)
    return {"stars_now": shown, "certificate_now": selectors.current_certificate(product, today)}


# --- the producer's home -------------------------------------------------------------------------

@login_page
def producer_home(request):
    user = request.user
    mine = Producer.objects.filter(members__user_id=user.pk).select_related("village").distinct().order_by("name")
    member_of = {p.pk for p in mine if permissions.can(user, "product.read", p)}
    today = timezone.localdate()
    producers = []
    for producer in mine:
        products = with_first_photo(selectors.with_stars(
            Product.objects.filter(producer=producer).select_related("live_version", "pending_version"), today))
        producers.append({
            "producer": producer, "rows": product_rows(products.order_by("-created_at"), producer),
            "refused": refused_registration(producer), "can_write": may_write(user, producer),
            "acts": producer.pk in member_of,
        })
    ending = (selectors.certificates_expiring(EXPIRY_WARNING_DAYS, today)
              .filter(product__producer_id__in=member_of))
    return render(request, "ecommerce/producer/home.html", {
        "producers": producers,
        "lines": producer_lines(user, member_of),
        "certificates_ending": [(c, (c.expires_on - today).days) for c in ending],
        "staff": permissions.sees_every_producer(user),
        "orders_url": url_or_none("ecommerce:orders"),
    })


# --- producers -----------------------------------------------------------------------------------

def _producer_initial(producer: Producer) -> dict:
    return {name: getattr(producer, name) for name in (
        "kind", "name", "representative", "phone", "email", "address", "tax_code", "description", "bank_bin",
        "bank_account", "bank_account_name")} | {"village": producer.village_id}


@login_page
@require_http_methods(["GET", "POST"])
def register(request):
    """Ask to register a producer."""
    form = forms.ProducerForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            producer = services.request_producer(request.user, **form.values())
        except ValidationError as exc:
            forms.show_refusal(form, exc)
        else:
            if producer.status == ProducerStatus.PENDING:
                messages.success(request, _("The registration was sent. The commune's economy officer checks it; "
                                            "you will see the answer on this page."))
            return redirect("ecommerce:producer", producer.pk)
    waiting = Producer.objects.filter(members__user_id=request.user.pk, status=ProducerStatus.PENDING).distinct()
    return render(request, "ecommerce/producer/register.html", {"form": form, "waiting": waiting},
                  status=400 if form.errors else 200)


@login_page
def producer_detail(request, pk):
    producer = get_producer(request, pk)
    user = request.user
    today = timezone.localdate()
    products = with_first_photo(selectors.with_stars(
        Product.objects.filter(producer=producer).select_related("live_version", "pending_version"), today))
    acts = permissions.can(user, "product.read", producer)
    return render(request, "ecommerce/producer/producer_detail.html", {
        "producer": producer,
        "tax_code": masked_tax_code(producer.tax_code),
        "bank": forms.bank_name(producer.bank_bin),
        "rows": product_rows(products.order_by("-created_at"), producer) if acts else [],
        "acts": acts,
        "can_edit": services.may_edit_producer(user, producer) and producer.status != ProducerStatus.SUSPENDED,
        "can_write": may_write(user, producer),
        "refused": refused_registration(producer),
        "officer": permissions.can(user, "producer.approve"),
    })


@login_page
@require_http_methods(["GET", "POST"])
def producer_edit(request, pk):
    producer = get_producer(request, pk)
    if not services.may_edit_producer(request.user, producer) or producer.status == ProducerStatus.SUSPENDED:
        raise PermissionDenied
    form = forms.ProducerForm(request.POST or None, initial=_producer_initial(producer), current_bin=producer.bank_bin)
    if request.method == "POST" and form.is_valid():
        try:
            services.edit_producer(request.user, producer, **form.values())
        except ValidationError as exc:
            forms.show_refusal(form, exc)
        else:
            messages.success(request, _("The producer's details were saved."))
            return redirect("ecommerce:producer", producer.pk)
    return render(request, "ecommerce/producer/producer_form.html", {"form": form, "producer": producer},
                  status=400 if form.errors else 200)


# --- products ------------------------------------------------------------------------------------

@login_page
@require_http_methods(["GET", "POST"])
def product_new(request, pk):
    producer = get_producer(request, pk)
    if not permissions.can(request.user, "product.write", producer):
        raise PermissionDenied
    form = forms.ProductForm(request.POST or None, new=True, initial={"min_order": "1", "stock": "0"})
    if request.method == "POST" and form.is_valid():
        submit = request.POST.get("then") == "submit"
        try:
            product = services.create_product(
                request.user, producer, stock=form.cleaned_data.get("stock") or 0,
                gtin=form.cleaned_data.get("gtin") or "", submit=submit, **form.content())
        except ValidationError as exc:
            forms.show_refusal(form, exc)
        else:
            messages.success(request, _("The product was sent to the commune for approval.") if submit else
                             _("The product was saved as a draft. Add photos, then send it for approval."))
            return redirect("ecommerce:product", product.pk)
    return render(request, "ecommerce/producer/product_form.html", {
        "form": form, "producer": producer, "new": True,
    }, status=400 if form.errors else 200)


def _versions_context(product: Product) -> dict:
    open_version = services.open_version(product)
    last = product.versions.order_by("-number").first()
    return {
        "live": product.live_version,
        "pending": product.pending_version,
        "draft": open_version if open_version is not None and open_version.state == VersionState.DRAFT else None,
        "sent_back": last if last is not None and last.state == VersionState.REJECTED else None,
    }


@login_page
def product_detail(request, pk):
    return product_page(request, get_product(request, pk))


def product_page(request, product: Product, *, photo_form=None, stock_form=None, status=200):
    user = request.user
    producer = product.producer
    today = timezone.localdate()
    versions = _versions_context(product)
    shown = versions["live"] or versions["pending"] or versions["draft"] or versions["sent_back"] \
        or product.versions.order_by("-number").first()
    certificates = list(Certificate.objects.filter(product=product).order_by("-issued_on", "-pk"))
    rows = [(c, c.stars_now(today), (c.expires_on - today).days) for c in certificates]
    label, css = product_state(product, product.versions.order_by("-number").first(), producer)
    context = {
        "product": product, "producer": producer, "shown": shown, **versions, **stars_context(product),
        "state": label, "state_class": css,
        "certificates": rows, "warning_days": EXPIRY_WARNING_DAYS,
        "photos": photo_items(product),
        "max_photos": photos.max_photos(),
        "can_write": may_write(user, product.producer),
        "officer": permissions.can(user, "certificate.write"),
        "photo_form": photo_form or forms.PhotoForm(),
        "stock_form": stock_form or forms.StockForm(initial={"stock": product.stock}),
        "today": today,
    }
    return render(request, "ecommerce/producer/product_detail.html", context, status=status)


@login_page
@require_http_methods(["GET", "POST"])
def product_edit(request, pk):
    product = get_product(request, pk)
    if not may_write(request.user, product.producer):
        raise PermissionDenied
    base = services.open_version(product) or product.live_version or product.versions.order_by("-number").first()
    initial = {name: getattr(base, name) for name in forms.ProductForm.CONTENT if name not in ("group", "subgroup")}
    initial.update(group=base.group_id, subgroup=base.subgroup_id, price=f"{base.price:,}".replace(",", "."),
                   min_order=str(base.min_order))
    form = forms.ProductForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        submit = request.POST.get("then") == "submit"
        try:
            services.save_version(request.user, product, **form.content())
            if submit:
                services.submit_version(request.user, product)
        except ValidationError as exc:
            forms.show_refusal(form, exc)
        else:
            if submit and product.live_version_id:
                messages.success(request, _("The change was sent for approval. Until the commune approves it, "
                                            "buyers see the approved version."))
            elif submit:
                messages.success(request, _("The product was sent to the commune for approval."))
            else:
                messages.success(request, _("The change was saved as a draft: send it for approval when it is ready."))
            return redirect("ecommerce:product", product.pk)
    return render(request, "ecommerce/producer/product_form.html", {
        "form": form, "producer": product.producer, "product": product, "new": False,
        "live": product.live_version, "waiting": product.pending_version,
    }, status=400 if form.errors else 200)


def _act(request, product: Product, action, success: str):
    try:
        action()
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, success)
    return redirect("ecommerce:product", product.pk)


@login_page
@require_POST
def product_submit(request, pk):
    product = get_product(request, pk)
    message = (_("The change was sent for approval. Until the commune approves it, buyers see the approved version.")
               if product.live_version_id else _("The product was sent to the commune for approval."))
    return _act(request, product, lambda: services.submit_version(request.user, product), message)


@login_page
@require_POST
def product_stock(request, pk):
    product = get_product(request, pk)
    form = forms.StockForm(request.POST)
    if form.is_valid():
        try:
            services.set_stock(request.user, product, form.cleaned_data["stock"])
        except ValidationError as exc:
            forms.show_refusal(form, exc)
        else:
            messages.success(request, _("The stock was saved."))
            return redirect("ecommerce:product", product.pk)
    return product_page(request, product, stock_form=form, status=400)


@login_page
@require_POST
def product_hide(request, pk):
    product = get_product(request, pk)
    form = forms.HideForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    return _act(request, product, lambda: services.hide_product(request.user, product, reason),
                _("The product is hidden from buyers."))


@login_page
@require_POST
def product_show(request, pk):
    product = get_product(request, pk)
    return _act(request, product, lambda: services.show_product(request.user, product),
                _("The product is shown again."))


# --- photos --------------------------------------------------------------------------------------

@login_page
@require_POST
def photo_add(request, pk):
    product = get_product(request, pk)
    form = forms.PhotoForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            photos.add_photo(request.user, product, form.cleaned_data["photo"], alt_text=form.cleaned_data["alt_text"])
        except ValidationError as exc:
            forms.show_refusal(form, exc)
        else:
            messages.success(request, _("The photo was added."))
            return redirect(reverse("ecommerce:product", args=[product.pk]) + "#photos")
    return product_page(request, product, photo_form=form, status=400)


def _photo(request, pk) -> ProductPhoto:
    photo = ProductPhoto.objects.select_related("product__producer").filter(
        pk=pk, product__in=selectors.products_for(request.user)).first()
    if photo is None:
        raise Http404
    return photo


def _back_to_photos(photo) -> str:
    return reverse("ecommerce:product", args=[photo.product_id]) + "#photos"


@login_page
@require_POST
def photo_edit(request, pk):
    photo = _photo(request, pk)
    form = forms.PhotoTextForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(m for errors in form.errors.values() for m in errors))
        return redirect(_back_to_photos(photo))
    try:
        photos.update_photo(request.user, photo, alt_text=form.cleaned_data["alt_text"])
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("The photo's text was saved."))
    return redirect(_back_to_photos(photo))


@login_page
@require_POST
def photo_move(request, pk):
    photo = _photo(request, pk)
    form = forms.PhotoMoveForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose a position from the list."))
        return redirect(_back_to_photos(photo))
    try:
        photos.move_photo(request.user, photo, form.cleaned_data["position"])
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect(_back_to_photos(photo))


@login_page
@require_http_methods(["GET", "POST"])
def photo_delete(request, pk):
    photo = _photo(request, pk)
    if not may_write(request.user, photo.product.producer):
        raise PermissionDenied
    if request.method == "POST":
        try:
            photos.delete_photo(request.user, photo)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("The photo was deleted."))
        return redirect(_back_to_photos(photo))
    return render(request, "ecommerce/producer/photo_delete.html", {
        "photo": photo, "product": photo.product, "thumb": photos.variant_url(photo, "jpeg", 320)})
