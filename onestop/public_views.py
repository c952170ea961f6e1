"""Citizens' pages of a commune host: the procedures, applying online, "my dossiers", the public
status lookup and the rating.

Light pages for cheap phones on slow networks: server-rendered, no script beyond a few bytes
inline, one small stylesheet. Every state change goes through ``onestop.services``; these views
only read, check the owner and show the services' messages.

* ``/`` (anonymous visitors and citizens without a role): a public home: search, lookup, sectors.
* ``/services/``: the procedures, searched without accents ("dang ky khai sinh") and by sector.
* ``/services/<code>/``: a procedure: documents, time, fee, templates, online level.
* ``/services/<code>/apply/`` and ``/my/dossiers/<pk>/edit/``: the online application (login).
* ``/my/dossiers/<pk>/sent/``: the confirmation once sent: the code, the expected appointment,
  what happens next.
* ``/my/dossiers/`` and ``/my/dossiers/<pk>/``: the citizen's own dossiers (another person's: 404).
* ``/my/dossiers/<pk>/withdraw/``: a page that asks to confirm, then the withdrawal (POST).
* ``/lookup/``: the status of a dossier by its code and the last four digits of the phone,
  throttled per client address and per (code, address) in PostgreSQL (``onestop.selectors``).
* ``/rate/<token>/``: the citizen's rating, once.
"""
from __future__ import annotations

import contextlib
import hashlib
import logging
import posixpath
import time
import uuid
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ValidationError
from django.db import DatabaseError, connection
from django.http import FileResponse, Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from communes.permissions import roles_for
from core.http import client_ip
from core.text import fold
from onestop import files, selectors, services
from onestop.models import (
    DONE_STATES, Dossier, DossierState, FormKind, Handler, IssuedForm, OnlineLevel, Procedure,
    RequiredDocument, Sector, SupplementPause, TimeUnit,
)
from onestop.public_forms import ApplicationForm, LookupForm, RatingForm, SupplementForm, validation_messages
from onestop.services import EDITABLE_STATES

logger = logging.getLogger(__name__)

# Forms the citizen may download (form 6, the control sheet, is the desk's own).
CITIZEN_FORMS = (FormKind.RECEIPT, FormKind.SUPPLEMENT, FormKind.REFUSAL, FormKind.APOLOGY, FormKind.STOP, FormKind.FEE_RECEIPT)
# A dossier is withdrawn by its citizen until the desk receives it (``services.withdraw``).
WITHDRAWABLE_STATES = (DossierState.DRAFT, DossierState.SUBMITTED, DossierState.INCOMPLETE)
LOCK_SECONDS = 60
LOCK_WAIT_SECONDS = 20
LOOKUP_UNAVAILABLE_RETRY_SECONDS = 30


# --- helpers ----------------------------------------------------------------------------------------

def current_procedures():
    return Procedure.objects.filter(is_current=True).select_related("sector")


def _number(value) -> str:
    """4 → '4', 0.5 → '0,5' (Vietnamese decimal comma)."""
    text = f"{value.normalize():f}" if hasattr(value, "normalize") else str(value)
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text.replace(".", ",")


def time_text(procedure) -> str:
    """The processing time in words: '3 working days', 'the same working day (until 15:00)'."""
    amount = procedure.time_amount or 0
    count = int(amount) if amount == int(amount) else 2  # a fraction reads as a plural
    if procedure.time_unit == TimeUnit.WORKING_HOURS:
        text = ngettext("%(n)s working hour", "%(n)s working hours", count) % {"n": _number(amount)}
    elif amount == 0:
        text = _("The same working day")
    else:
        text = ngettext("%(n)s working day", "%(n)s working days", count) % {"n": _number(amount)}
    if procedure.cutoff:
        text += " " + _("(received after %(time)s: from the next working day)") % {"time": procedure.cutoff.strftime("%H:%M")}
    return text


def fee_text(procedure) -> str:
    try:
        from onestop import fees

        return fees.describe(procedure)
    except Exception:  # noqa: BLE001 - the page shows the published wording instead
        logger.exception("fee description failed for %s", procedure.code)
        return procedure.fee_note or ""


def money(amount) -> str:
    from onestop import fees

    return fees.format_money(int(amount or 0))


def search_procedures(queryset, query: str):
    """Every word of the query, without accents, found in the code, name or sector."""
    words = fold(query).split()
    if not words:
        return list(queryset)
    found = []
    for procedure in queryset:
        # search_text is the folded code, national code, name and sector (kept by Procedure.save).
        if all(word in procedure.search_text for word in words):
            found.append(procedure)
    return found


def _own_dossier(request, pk) -> Dossier:
    """The logged-in citizen's dossier; anybody else's is 'not found'."""
    dossier = (
        Dossier.objects.select_related("procedure", "procedure__sector", "current_step")
        .filter(pk=pk, citizen_id=request.user.pk).first()
    )
    if dossier is None:
        raise Http404
    return dossier


def _file_response(name: str, filename: str, *, attachment: bool = True):
    if not files.exists(name):
        raise Http404
    return FileResponse(files.open_file(name), as_attachment=attachment, filename=filename)


def _shown_file_name(name: str) -> str:
    """'communes/c_x/onestop/dossiers/7/1a2b3c4d-giay-chung-sinh.pdf' → 'giay-chung-sinh.pdf'."""
    base = posixpath.basename(name or "")
    head, sep, rest = base.partition("-")
    return rest if sep and len(head) == 8 else base


def _download_name(dossier, suffix: str, name: str) -> str:
    extension = posixpath.splitext(name)[1] or ".pdf"
    return f"{dossier.code or dossier.pk}-{suffix}{extension}"


# --- public home and procedures -------------------------------------------------------------------

def home_section(request) -> dict:
    """The desk's part of the commune's public home (``communes.modules.PublicSection``): find
    a procedure, follow a dossier."""
    procedures = list(current_procedures())
    return {
        "sectors": _sectors_with_counts(procedures), "lookup_form": LookupForm(), "procedure_count": len(procedures),
    }


def _sectors_with_counts(procedures):
    counts: dict[int, int] = {}
    for procedure in procedures:
        counts[procedure.sector_id] = counts.get(procedure.sector_id, 0) + 1
    return [(sector, counts[sector.pk]) for sector in Sector.objects.filter(pk__in=counts)]


def procedure_list(request):
    query = (request.GET.get("q") or "").strip()[:200]
    sector_code = (request.GET.get("sector") or "").strip()[:40]
    procedures = list(current_procedures())
    sectors = _sectors_with_counts(procedures)
    sector = next((s for s, _count in sectors if s.code == sector_code), None)
    if sector is not None:
        procedures = [p for p in procedures if p.sector_id == sector.pk]
    procedures = search_procedures(procedures, query)
    rows = [{"procedure": p, "time": time_text(p)} for p in procedures]
    return render(request, "onestop/public/procedure_list.html", {
        "rows": rows, "query": query, "sectors": sectors, "sector": sector,
    })


def _procedure_or_404(code: str) -> Procedure:
    procedure = current_procedures().filter(code=code).first()
    if procedure is None:
        raise Http404
    return procedure


def is_official(request) -> bool:
    """Whether the visitor has a role in this commune: officials also see the catalogue's own
    notes on a procedure (what is not confirmed, where the facts were taken from), which are
    the desk's working notes and never shown to citizens."""
    user = getattr(request, "user", None)
    return bool(user is not None and user.is_authenticated and roles_for(user, getattr(request, "commune", None)))


def has_template(requirement, procedure) -> bool:
    """A paper to fill in that the page offers to download: the file the commune uploaded, or
    the declaration the portal prints from the online form's questions (``onestop.declaration``)."""
    from onestop import declaration

    return bool(requirement.template) or declaration.can_render(requirement, procedure)


def procedure_detail(request, code):
    procedure = _procedure_or_404(code)
    requirements = list(procedure.requirements.all())
    can_apply = can_apply_online(procedure)
    for requirement in requirements:
        requirement.has_template = has_template(requirement, procedure)
        requirement.filled_online = can_apply and services.filled_online(requirement, procedure)
    return render(request, "onestop/public/procedure_detail.html", {
        "procedure": procedure, "requirements": requirements, "time": time_text(procedure),
        "fee": fee_text(procedure), "steps": list(procedure.steps.all()),
        "can_apply": can_apply,
        "is_external": procedure.handler == Handler.EXTERNAL,
        "show_internal": is_official(request),
    })


def can_apply_online(procedure) -> bool:
    return procedure.takes_dossiers and procedure.online_level in (OnlineLevel.FULL, OnlineLevel.PARTIAL)


def requirement_template(request, code, pk):
    procedure = _procedure_or_404(code)
    requirement = get_object_or_404(RequiredDocument, pk=pk, procedure=procedure)
    if requirement.template:
        return _file_response(requirement.template.name, posixpath.basename(requirement.template.name))
    from onestop import declaration

    if not declaration.can_render(requirement, procedure):
        raise Http404
    response = HttpResponse(declaration.render(requirement, procedure), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{declaration.file_name(requirement, procedure)}"'
    return response


# --- applying online ------------------------------------------------------------------------------

class Busy(Exception):
    """The same application is being sent by another request (a double click)."""


@contextlib.contextmanager
def _application_lock(user, token):
    """One request at a time per application: a second click waits for the first one's outcome.

    A PostgreSQL advisory lock (held by this connection, released when it ends, whatever
    happens): the application needs the database anyway, and a lock kept in Redis would make the
    page fail while Redis is away."""
    digest = hashlib.sha256(f"onestop.apply:{connection.schema_name}:{user.pk}:{token}".encode()).digest()
    key = int.from_bytes(digest[:8], "big", signed=True)
    deadline = time.monotonic() + LOCK_WAIT_SECONDS
    with connection.cursor() as cursor:
        while True:
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [key])
            if cursor.fetchone()[0]:
                break
            if time.monotonic() > deadline:
                raise Busy
            time.sleep(0.1)
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [key])


def _token(value) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except (TypeError, ValueError):
        return uuid.uuid4()


@login_required
@never_cache
def apply(request, code):
    procedure = _procedure_or_404(code)
    return _application(request, procedure, None)


@login_required
@never_cache
def edit_dossier(request, pk):
    dossier = _own_dossier(request, pk)
    if dossier.state not in EDITABLE_STATES:
        if request.method == "POST" and dossier.submit_token == _token(request.POST.get("submit_token")):
            messages.info(request, _("Your application has already been sent."))  # a second click
        else:
            messages.info(request, _("This dossier has been sent and can no longer be changed."))
        return HttpResponseRedirect(reverse("services:my_dossier", args=[dossier.pk]))
    return _application(request, dossier.procedure, dossier)


def _application(request, procedure, dossier):
    if not can_apply_online(procedure):
        messages.info(request, _("This procedure cannot be applied for online. See where and how to apply below."))
        return HttpResponseRedirect(reverse("services:procedure", args=[procedure.code]))
    if request.method != "POST":
        form = ApplicationForm(procedure, initial=ApplicationForm.initial_for(procedure, user=request.user, dossier=dossier))
        return _application_page(request, procedure, dossier, form, token=uuid.uuid4())

    token = _token(request.POST.get("submit_token"))
    try:
        with _application_lock(request.user, token):
            return _handle_application(request, procedure, dossier, token)
    except Busy:
        messages.info(request, _("Your application is still being sent. Check “My dossiers” in a moment."))
        return HttpResponseRedirect(reverse("services:my_dossiers"))


def _handle_application(request, procedure, dossier, token):
    user = request.user
    # A second click of the same page: the application was already sent, or already saved.
    sent = Dossier.objects.filter(submit_token=token, citizen_id=user.pk).exclude(state=DossierState.DRAFT).first()
    if sent is not None:
        messages.info(request, _("Your application has already been sent."))
        return HttpResponseRedirect(reverse("services:my_dossier", args=[sent.pk]))
    if dossier is None:
        # A second "save" of the same page finds the draft its first one made (the page's key is
        # kept on the draft, so a restart or an outage of Redis cannot make a second draft).
        dossier = Dossier.objects.filter(submit_token=token, citizen_id=user.pk, state__in=EDITABLE_STATES).first()
    else:
        dossier = Dossier.objects.filter(pk=dossier.pk, citizen_id=user.pk).first()
        if dossier is None or dossier.state not in EDITABLE_STATES:
            return HttpResponseRedirect(reverse("services:my_dossiers"))

    form = ApplicationForm(procedure, request.POST)
    if not form.is_valid():
        return _application_page(request, procedure, dossier, form, token=token, status=200,
                                 kept=_kept_uploads(request, procedure),
                                 notice=_("Check the fields marked below. The files you chose are kept."))
    submitting = request.POST.get("action") == "submit"
    try:
        dossier = services.save_draft(
            citizen=user, procedure=procedure, applicant=form.applicant(), form_data=form.form_data(),
            dossier=dossier, delivery=form.cleaned_data["delivery"], delivery_address=form.cleaned_data["delivery_address"],
            page_token=token,
        )
    except ValidationError as error:
        _errors_to_form(form, error)
        return _application_page(request, procedure, dossier, form, token=token, kept=_kept_uploads(request, procedure))

    file_errors: dict[int | str, list[str]] = {}
    for document_id in request.POST.getlist("remove"):
        try:
            services.remove_file(dossier=dossier, user=user, document_id=int(document_id))
        except (ValueError, ValidationError) as error:
            file_errors.setdefault("remove", []).extend(validation_messages(error) if isinstance(error, ValidationError) else [])
    for requirement in procedure.requirements.all():
        if services.filled_online(requirement, procedure):
            continue  # the online form is this paper (see services.filled_online)
        kept = _restored_uploads(request, requirement)
        for upload in [*request.FILES.getlist(f"doc_{requirement.pk}"), *kept.values()]:
            try:
                services.add_file(dossier=dossier, user=user, requirement_id=requirement.pk, upload=upload)
            except ValidationError as error:
                file_errors.setdefault(requirement.pk, []).extend(
                    f"{upload.name}: {message}" for message in validation_messages(error)
                )
        _discard_kept(kept)
    if file_errors:
        return _application_page(
            request, procedure, dossier, ApplicationForm(procedure, initial=ApplicationForm.initial_for(procedure, dossier=dossier)),
            token=token, file_errors=file_errors,
            notice=_("Some files were not accepted (see below). The rest of the application was saved as a draft."),
        )
    if not submitting:
        messages.success(request, _("The draft is saved. You can finish and send it later from “My dossiers”."))
        return HttpResponseRedirect(reverse("services:edit_dossier", args=[dossier.pk]))
    try:
        dossier = services.submit(dossier=dossier, citizen=user, submit_token=token)
    except ValidationError as error:
        return _application_page(
            request, procedure, dossier, ApplicationForm(procedure, initial=ApplicationForm.initial_for(procedure, dossier=dossier)),
            token=token, submit_errors=validation_messages(error),
            notice=_("The application was saved as a draft but not sent yet."),
        )
    # The confirmation page: the code and the expected appointment at once.
    return HttpResponseRedirect(reverse("services:sent", args=[dossier.pk]))


def _kept_uploads(request, procedure) -> dict[int, list[tuple[str, str]]]:
    """The files chosen in an application that was refused, kept (core.uploads) so that the
    citizen does not choose them again: {requirement: [(token, file name)]}."""
    from core import uploads

    kept: dict[int, list[tuple[str, str]]] = {}
    for requirement in procedure.requirements.all():
        entries = [(token, upload.name) for token, upload in _restored_uploads(request, requirement).items()]
        for upload in request.FILES.getlist(f"doc_{requirement.pk}")[:20]:
            with contextlib.suppress(Exception):  # a file that cannot be kept is chosen again
                entries.append((uploads.keep(upload), posixpath.basename(upload.name or "")))
        if entries:
            kept[requirement.pk] = entries
    return kept


def _discard_kept(kept: dict) -> None:
    from core import uploads

    for token in kept:
        uploads.discard(token)


def _restored_uploads(request, requirement) -> dict:
    """{token: file} of the files of ``requirement`` kept from the refused application."""
    from core import uploads

    out = {}
    for token in request.POST.getlist(f"doc_{requirement.pk}{uploads.SUFFIX}")[:20]:
        upload = uploads.restore(token)
        if upload is not None:
            out[token] = upload
    return out


def _errors_to_form(form, error: ValidationError):
    names = {"name": "applicant_name", "phone": "applicant_phone", "email": "applicant_email",
             "id_number": "applicant_id_number", "address": "applicant_address"}
    if hasattr(error, "message_dict"):
        for field, field_messages in error.message_dict.items():
            target = names.get(field, field)
            if target not in form.fields:
                target = f"f_{field}" if f"f_{field}" in form.fields else None
            for message in field_messages:
                form.add_error(target, message)
    else:
        for message in error.messages:
            form.add_error(None, message)


def _application_page(request, procedure, dossier, form, *, token, status=200, notice="", file_errors=None,
                      submit_errors=None, kept=None):
    documents = list(dossier.documents.all()) if dossier is not None and dossier.pk else []
    for document in documents:
        document.display_name = _shown_file_name(document.file)
    requirements = []
    for requirement in procedure.requirements.all():
        requirements.append({
            "requirement": requirement, "filled_online": services.filled_online(requirement, procedure),
            "documents": [d for d in documents if d.requirement_id == requirement.pk and d.file],
            "errors": (file_errors or {}).get(requirement.pk, []),
            "kept": (kept or {}).get(requirement.pk, []),
        })
    action = (reverse("services:edit_dossier", args=[dossier.pk]) if dossier is not None and dossier.pk
              else reverse("services:apply", args=[procedure.code]))
    return render(request, "onestop/public/apply.html", {
        "procedure": procedure, "dossier": dossier, "form": form, "requirements": requirements,
        "submit_token": token, "action": action, "notice": notice,
        "remove_errors": (file_errors or {}).get("remove", []), "submit_errors": submit_errors or [],
        "max_size": files.max_bytes(), "accepted": files.accepted_names(), "fee": fee_text(procedure),
        "time": time_text(procedure),
    }, status=status)


# --- my dossiers ----------------------------------------------------------------------------------

@login_required
@never_cache
def my_dossiers(request):
    dossiers = selectors.citizen_dossiers(request.user)
    return render(request, "onestop/public/my_dossiers.html", {"dossiers": dossiers})


def _payment(dossier, commune) -> dict | None:
    """What the citizen needs to pay the fee by bank transfer (VietQR), when it is due."""
    if not dossier.fee_amount or dossier.fee_paid_at or not dossier.received_at or dossier.state in (
        DossierState.REFUSED, DossierState.STOPPED, DossierState.WITHDRAWN,
    ):
        return None
    info = {"amount": money(dossier.fee_amount), "qr": False}
    if commune is not None and commune.bank_bin and commune.bank_account:
        from onestop import vietqr

        info.update({
            "qr": True, "account": commune.bank_account, "account_name": commune.bank_account_name,
            "purpose": vietqr.purpose_for(dossier.code), "payload": _vietqr_payload(dossier, commune),
        })
    return info


def _vietqr_payload(dossier, commune) -> str:
    from onestop import vietqr

    return vietqr.build_payload(
        bank_bin=commune.bank_bin, account=commune.bank_account, amount=int(dossier.fee_amount),
        purpose=vietqr.purpose_for(dossier.code),
    )


@login_required
@never_cache
def my_dossier(request, pk):
    dossier = _own_dossier(request, pk)
    return _dossier_page(request, dossier, SupplementForm())


def _dossier_page(request, dossier, supplement_form, *, supplement_errors=None, status=200):
    pause = None
    if dossier.state == DossierState.SUPPLEMENT:
        pause = SupplementPause.objects.filter(dossier=dossier, ended_at__isnull=True).first()
    forms = [f for f in dossier.forms.all() if f.kind in CITIZEN_FORMS]
    timeline = selectors.public_timeline(dossier) if dossier.state != DossierState.DRAFT else []
    rating_open = (dossier.state in DONE_STATES and not _is_rated(dossier))
    return render(request, "onestop/public/my_dossier.html", {
        "dossier": dossier, "documents": list(dossier.documents.all()), "issued_forms": forms, "timeline": timeline,
        "pause": pause, "supplement_form": supplement_form, "supplement_errors": supplement_errors or [],
        "payment": _payment(dossier, getattr(request, "commune", None)),
        "result_ready": selectors.result_available(dossier),
        "editable": dossier.state in EDITABLE_STATES, "rating_open": rating_open,
        "expected": selectors.expected_due(dossier) if dossier.state == DossierState.SUBMITTED else None,
        "withdrawable": dossier.state in WITHDRAWABLE_STATES,
        "fee": money(dossier.fee_amount) if dossier.fee_amount else "",
        "max_size": files.max_bytes(), "accepted": files.accepted_names(),
    }, status=status)


def _is_rated(dossier) -> bool:
    from onestop.models import Rating

    return Rating.objects.filter(dossier=dossier).exists()


@login_required
@require_POST
def send_supplement(request, pk):
    """The citizen sends the supplement asked for: the files, then the clock starts again."""
    dossier = _own_dossier(request, pk)
    form = SupplementForm(request.POST)
    if dossier.state != DossierState.SUPPLEMENT:
        messages.info(request, _("No supplement is asked for this dossier now."))
        return HttpResponseRedirect(reverse("services:my_dossier", args=[dossier.pk]))
    uploads = request.FILES.getlist("files")
    errors: list[str] = []
    if not uploads:
        errors.append(_("Choose at least one file to send."))
    if not form.is_valid():
        errors.extend(validation_messages(ValidationError(form.errors)))
    if not errors:
        for upload in uploads:
            try:
                services.add_file(dossier=dossier, user=request.user, requirement_id=None, upload=upload, is_supplement=True)
            except ValidationError as error:
                errors.extend(f"{upload.name}: {message}" for message in validation_messages(error))
    if not errors:
        try:
            services.supplement_arrived(dossier=dossier, user=request.user, note=form.cleaned_data.get("note", ""))
        except ValidationError as error:
            errors.extend(validation_messages(error))
    if errors:
        dossier.refresh_from_db()
        return _dossier_page(request, dossier, form, supplement_errors=errors)
    messages.success(request, _("The supplement has been sent. Processing starts again from now."))
    return HttpResponseRedirect(reverse("services:my_dossier", args=[dossier.pk]))


@login_required
def download_result(request, pk):
    dossier = _own_dossier(request, pk)
    if not selectors.result_available(dossier):
        raise Http404
    return _file_response(dossier.signed_result, _download_name(dossier, "ket-qua", dossier.signed_result))


@login_required
def download_form(request, pk, form_pk):
    dossier = _own_dossier(request, pk)
    issued = IssuedForm.objects.filter(pk=form_pk, dossier=dossier, kind__in=CITIZEN_FORMS).first()
    if issued is None:
        raise Http404
    return _file_response(issued.file, _download_name(dossier, f"mau-{issued.kind}", issued.file))


@login_required
def download_document(request, pk, document_pk):
    dossier = _own_dossier(request, pk)
    document = dossier.documents.filter(pk=document_pk).exclude(file="").first()
    if document is None:
        raise Http404
    return _file_response(document.file, posixpath.basename(document.file))


@login_required
def vietqr_image(request, pk):
    dossier = _own_dossier(request, pk)
    commune = getattr(request, "commune", None)
    payment = _payment(dossier, commune)
    if payment is None or not payment["qr"]:
        raise Http404
    from onestop import vietqr

    response = HttpResponse(vietqr.qr_png(payment["payload"], box_size=5), content_type="image/png")
    response["Cache-Control"] = "private, max-age=300"
    return response


@login_required
@never_cache
def sent(request, pk):
    """The confirmation once the application is sent (GOV.UK's confirmation page): the dossier's
    code, the expected appointment, what happens next and where to follow it. A dossier that was
    not sent (a draft) opens its own page instead."""
    dossier = _own_dossier(request, pk)
    if dossier.submitted_at is None or dossier.state in (DossierState.DRAFT, DossierState.WITHDRAWN) or not dossier.code:
        return HttpResponseRedirect(reverse("services:my_dossier", args=[dossier.pk]))
    return render(request, "onestop/public/sent.html", {
        "dossier": dossier, "expected": selectors.expected_due(dossier),
        "lookup_url": reverse("services:lookup") + "?" + urlencode({"code": dossier.code}),
        "commune_phone": getattr(getattr(request, "commune", None), "phone", ""),
    })


@login_required
@never_cache
def withdraw(request, pk):
    """Withdrawing asks first: GET shows what is withdrawn and a button that POSTs with
    ``confirm``; a POST without it (an old page, a stray form) only shows the question again."""
    dossier = _own_dossier(request, pk)
    if dossier.state not in WITHDRAWABLE_STATES:
        messages.info(request, _("This dossier can no longer be withdrawn."))
        return HttpResponseRedirect(reverse("services:my_dossier", args=[dossier.pk]))
    if request.method != "POST" or request.POST.get("confirm") != "yes":
        return render(request, "onestop/public/withdraw.html", {"dossier": dossier})
    try:
        services.withdraw(dossier=dossier, citizen=request.user)
    except ValidationError as error:
        for message in validation_messages(error):
            messages.error(request, message)
    else:
        messages.success(request, _("The dossier has been withdrawn."))
    return HttpResponseRedirect(reverse("services:my_dossier", args=[dossier.pk]))


# --- public status lookup -------------------------------------------------------------------------

def _typed_code(request) -> str:
    """The code as the visitor typed it (shown again, never lost, whatever the answer)."""
    return str(request.POST.get("code") or "").strip()[:40]


@never_cache
def lookup(request):
    if request.method != "POST":
        form = LookupForm(initial={"code": (request.GET.get("code") or "").strip()[:40]})
        return render(request, "onestop/public/lookup.html", {"form": form})
    # The same budgets per client address as the API's lookups (counted in PostgreSQL).
    address = client_ip(request) or "unknown"
    try:
        decision = selectors.count_lookup(address)
        form = LookupForm(request.POST)
        if decision.allowed and not form.is_valid():
            return render(request, "onestop/public/lookup.html", {"form": form})
        dossier = selectors.lookup(form.cleaned_data["code"], form.cleaned_data["phone_last4"],
                                   address=address) if decision.allowed else None
    except selectors.LookupRefused as refused:
        decision = refused.decision
    except DatabaseError:
        # Nothing can be counted (or read): a clear answer, not an error page.
        logger.exception("Status lookup: the database did not answer")
        response = render(request, "onestop/public/lookup_unavailable.html", {"form": LookupForm(request.POST)}, status=503)
        response["Retry-After"] = str(LOOKUP_UNAVAILABLE_RETRY_SECONDS)
        return response
    if not decision.allowed:
        retry_after = max(1, int(decision.retry_after))
        response = render(request, "onestop/public/throttled.html", {
            "minutes": max(1, (retry_after + 59) // 60), "typed_code": _typed_code(request),
        }, status=429)
        response["Retry-After"] = str(retry_after)
        return response
    if dossier is None:
        # The same answer for an unknown code and for a wrong phone number.
        return render(request, "onestop/public/lookup.html", {"form": form, "not_found": True})
    return render(request, "onestop/public/status.html", {
        "dossier": dossier, "timeline": selectors.public_timeline(dossier),
        "expected": selectors.expected_due(dossier) if dossier.state == DossierState.SUBMITTED else None,
        "applicant": selectors.mask_name(dossier.applicant_name),
        "result_ready": dossier.state in DONE_STATES,
    })


# --- rating ---------------------------------------------------------------------------------------

@never_cache
def rate(request, token):
    dossier = Dossier.objects.select_related("procedure").filter(rating_token=token).first()
    if dossier is None:
        raise Http404
    if dossier.citizen_id and request.user.pk != dossier.citizen_id:
        # A dossier sent online is rated by its citizen only (see services.rate).
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        raise Http404
    context = {"dossier": dossier, "already": _is_rated(dossier), "open": dossier.state in DONE_STATES}
    form = RatingForm(request.POST or None)
    if request.method == "POST" and not context["already"] and context["open"] and form.is_valid():
        try:
            services.rate(token=token, score=form.cleaned_data["score"], comment=form.cleaned_data["comment"],
                          user=request.user)
        except ValidationError as error:
            context["already"] = _is_rated(dossier)
            if not context["already"]:
                for message in validation_messages(error):
                    form.add_error(None, message)
        else:
            return render(request, "onestop/public/rated.html", context)
    context["form"] = form
    return render(request, "onestop/public/rate.html", context)

