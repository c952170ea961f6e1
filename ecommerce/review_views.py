"""The economy officer's review pages of the OCOP marketplace (desktop, ``/ocop/review/…``):

* ``/ocop/review/``: what waits: producers asking for approval, new products and changes of
  listed products waiting, certificates ending within 90 days; each line opens the item.
* ``/ocop/review/producers/<pk>/``: a producer's registration, approved (its members get the
  producer role in the commune) or refused with a reason; an approved one may be suspended.
* ``/ocop/review/versions/<pk>/``: a submitted version beside the approved one that buyers see,
  the changed fields marked; approved (it becomes the listing) or sent back with a reason.
* ``/ocop/products/<pk>/certificates/new/``: the OCOP certificate of a product (its stars come
  from the score; it ends 36 months after issue unless the certificate says otherwise).

Reading is for the commune's staff (the economy officer, the chairman and vice-chairmen); the
actions are the economy officer's, in a session confirmed by the second factor (checked here as
the other apps' approving pages do, besides the middleware). Every row is looked up in the
current commune's schema: another commune's id is simply not there (404).
"""
from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_POST

from communes.permissions import page_guard, user_names
from communes.second_factor import confirmation_redirect
from ecommerce import forms, permissions, selectors, services
from ecommerce.models import Certificate, Producer, ProducerStatus, Product, ProductVersion, VersionState
from ecommerce.producer_views import masked_tax_code, photo_items, refused_registration, stars_context

page_requires = page_guard(permissions.require)
LIST_SIZE = 50
COMPARED = ("name", "group", "subgroup", "price", "unit", "min_order", "season_months", "description",
            "description_en")


def _confirmed(request, next_url: str):
    """An approving action needs a session confirmed by the second factor."""
    return confirmation_redirect(request, next_url)


# --- what waits ----------------------------------------------------------------------------------

@page_requires("producer.read")
def review_home(request):
    if not permissions.sees_every_producer(request.user):
        raise PermissionDenied
    today = timezone.localdate()
    return render(request, "ecommerce/review/home.html", {
        "producers": selectors.producers_waiting().select_related("village")[:LIST_SIZE],
        "versions": selectors.versions_waiting()[:LIST_SIZE],
        "certificates": [(c, (c.expires_on - today).days) for c in selectors.certificates_expiring(90, today)[:LIST_SIZE]],
        "officer": permissions.can(request.user, "producer.approve"),
        "recent": Producer.objects.filter(status=ProducerStatus.SUSPENDED).order_by("-suspended_at")[:10],
    })


# --- producers -----------------------------------------------------------------------------------

def _producer(pk) -> Producer:
    producer = Producer.objects.select_related("village", "household", "resident").filter(pk=pk).first()
    if producer is None:
        raise Http404
    return producer


@page_requires("producer.read")
def review_producer(request, pk):
    if not permissions.sees_every_producer(request.user):
        raise PermissionDenied
    return producer_page(request, _producer(pk))


def producer_page(request, producer: Producer, *, reason_form=None, status=200):
    member_ids = list(producer.members.values_list("user_id", flat=True))
    names = user_names(member_ids + [producer.registered_by_id, producer.approved_by_id, producer.suspended_by_id])
    return render(request, "ecommerce/review/producer.html", {
        "producer": producer, "tax_code": masked_tax_code(producer.tax_code), "bank": forms.bank_name(producer.bank_bin),
        "members": [names.get(pk, "") for pk in member_ids],
        "registered_by": names.get(producer.registered_by_id, ""),
        "products": selectors.with_stars(Product.objects.filter(producer=producer)
                                         .select_related("live_version", "pending_version")),
        "officer": permissions.can(request.user, "producer.approve"),
        "refused": refused_registration(producer),
        "reason_form": reason_form or forms.ReasonForm(),
    }, status=status)


@page_requires("producer.approve")
@require_POST
def approve_producer(request, pk):
    producer = _producer(pk)
    page = reverse("ecommerce:review_producer", args=[pk])
    confirm = _confirmed(request, page)
    if confirm is not None:
        return confirm
    try:
        producer, granted, left = services.approve_registration(request.user, producer)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect(page)
    messages.success(request, _("%(name)s is approved: its listed products are shown to buyers.") % {"name": producer.name})
    if granted:
        messages.success(request, ngettext(
            "%(count)d member received the producer role in the commune.",
            "%(count)d members received the producer role in the commune.", len(granted)) % {"count": len(granted)})
    if left:
        names = user_names(left)
        messages.warning(request, _("These members did not receive the producer role here, as they also belong to "
                                    "another commune or unit (or the commune's administrator switched it off): "
                                    "%(names)s. The installation's operators give it.") % {
            "names": ", ".join(names.get(pk, str(pk)) for pk in left)})
    return redirect(page)


@page_requires("producer.approve")
@require_POST
def refuse_producer(request, pk):
    """Refuse a registration, or suspend an approved producer (its products leave the listing)."""
    producer = _producer(pk)
    page = reverse("ecommerce:review_producer", args=[pk])
    confirm = _confirmed(request, page)
    if confirm is not None:
        return confirm
    form = forms.ReasonForm(request.POST)
    if form.is_valid():
        try:
            services.suspend_producer(request.user, producer, form.cleaned_data["reason"])
        except ValidationError as exc:
            forms.show_refusal(form, exc)
        else:
            if producer.approved_at is None:
                messages.success(request, _("The registration was refused; the producer reads the reason."))
            else:
                messages.success(request, _("The producer is suspended: its products are no longer shown."))
            return redirect(page)
    return producer_page(request, producer, reason_form=form, status=400)


# --- versions ------------------------------------------------------------------------------------

def _value(version: ProductVersion | None, field: str):
    if version is None:
        return None
    if field in ("group", "subgroup"):
        return getattr(version, f"{field}_id")
    value = getattr(version, field)
    return list(value or []) if field == "season_months" else value


def _display(version: ProductVersion | None, field: str) -> str:
    from ecommerce.templatetags.ocop_tags import format_dong

    if version is None:
        return ""
    value = getattr(version, field)
    if field == "price":
        return format_dong(value)
    if field == "season_months":
        return ", ".join(str(m) for m in value) if value else _("All year")
    if field in ("group", "subgroup"):
        return f"{value.code} {value.name}" if value is not None else "—"
    return str(value or "")


def compare(version: ProductVersion, live: ProductVersion | None) -> list[dict]:
    """The fields of ``version`` beside those of ``live`` (the approved version), each marked
    when it changed (every field of a product never approved is new)."""
    labels = {field: ProductVersion._meta.get_field(field).verbose_name for field in COMPARED}
    return [{
        "field": field, "label": labels[field], "new": _display(version, field), "old": _display(live, field),
        "changed": live is None or _value(version, field) != _value(live, field),
    } for field in COMPARED]


def _version(pk) -> ProductVersion:
    version = (ProductVersion.objects.select_related("product", "product__producer", "product__live_version",
                                                     "group", "subgroup").filter(pk=pk).first())
    if version is None:
        raise Http404
    return version


@page_requires("product.read")
def review_version(request, pk):
    if not permissions.sees_every_producer(request.user):
        raise PermissionDenied
    return version_page(request, _version(pk))


def version_page(request, version: ProductVersion, *, reason_form=None, status=200):
    product = version.product
    live = product.live_version if product.live_version_id != version.pk else None
    rows = compare(version, live)
    names = user_names([version.created_by_id, version.reviewed_by_id])
    return render(request, "ecommerce/review/version.html", {
        "version": version, "product": product, "producer": product.producer, "live": live, "rows": rows,
        "changed": sum(1 for row in rows if row["changed"]), "author": names.get(version.created_by_id, ""),
        "photos": photo_items(product),
        "certificates": Certificate.objects.filter(product=product).order_by("-issued_on"),
        "officer": permissions.can(request.user, "product.review"),
        "reason_form": reason_form or forms.ReasonForm(),
        "older": product.versions.exclude(pk=version.pk).filter(~Q(state=VersionState.DRAFT)).order_by("-number")[:10],
        **stars_context(product),
    }, status=status)


@page_requires("product.review")
@require_POST
def approve_version(request, pk):
    version = _version(pk)
    page = reverse("ecommerce:review_version", args=[pk])
    confirm = _confirmed(request, page)
    if confirm is not None:
        return confirm
    try:
        product = services.approve_version(request.user, version)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect(page)
    if product.producer.status != ProducerStatus.APPROVED:
        messages.warning(request, _("The version is approved; the product is shown once its producer is approved."))
    else:
        messages.success(request, _("Version %(number)d of “%(name)s” is approved: buyers see it now.") % {
            "number": version.number, "name": version.name})
    return redirect("ecommerce:review")


@page_requires("product.review")
@require_POST
def reject_version(request, pk):
    version = _version(pk)
    page = reverse("ecommerce:review_version", args=[pk])
    confirm = _confirmed(request, page)
    if confirm is not None:
        return confirm
    form = forms.ReasonForm(request.POST)
    if form.is_valid():
        try:
            services.reject_version(request.user, version, form.cleaned_data["reason"])
        except ValidationError as exc:
            forms.show_refusal(form, exc)
        else:
            messages.success(request, _("The version was sent back to the producer with the reason."))
            return redirect("ecommerce:review")
    return version_page(request, version, reason_form=form, status=400)


# --- certificates --------------------------------------------------------------------------------

@page_requires("certificate.write")
@require_http_methods(["GET", "POST"])
def certificate_new(request, pk):
    product = (Product.objects.select_related("producer", "live_version", "pending_version").filter(pk=pk).first())
    if product is None:
        raise Http404
    page = reverse("ecommerce:certificate_new", args=[pk])
    form = forms.CertificateForm(request.POST or None)
    if request.method == "POST":
        confirm = _confirmed(request, page)
        if confirm is not None:
            return confirm
        if form.is_valid():
            data = form.cleaned_data
            try:
                certificate = services.add_certificate(
                    request.user, product, number=data["number"], score=data["score"],
                    issuing_authority=data["issuing_authority"], issued_on=data["issued_on"],
                    expires_on=data.get("expires_on"))
            except ValidationError as exc:
                forms.show_refusal(form, exc)
            else:
                messages.success(request, _("Certificate %(number)s is recorded: valid until %(date)s.") % {
                    "number": certificate.number, "date": certificate.expires_on.strftime("%d/%m/%Y")})
                return redirect("ecommerce:product", product.pk)
    return render(request, "ecommerce/review/certificate_form.html", {
        "form": form, "product": product, "name": str(product),
        "months": _certificate_months(),
    }, status=400 if form.errors else 200)


def _certificate_months() -> int:
    from ecommerce.models import certificate_months

    return certificate_months()
