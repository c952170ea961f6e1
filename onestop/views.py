"""Officials' pages of the one-stop desk (``/onestop/…`` on a commune host).

The views are thin: role checks come from ``onestop.permissions``, every change of a dossier is
made by ``onestop.services``, the reads by ``onestop.selectors`` and ``onestop.statistics``, the
PDFs by ``onestop.pdf`` and ``onestop.registers``. A refusal of a service (ValidationError)
becomes the errors of the form on the page; a wrong role is a 403 page.
"""
from __future__ import annotations

import datetime
import mimetypes
from itertools import islice
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.storage import default_storage
from django.core.paginator import Paginator
from django.db import connection
from django.db.models import Q
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from communes.permissions import page_guard, user_names
from communes.second_factor import confirmation_redirect
from core.validation import error_code
from jobs import progress as job_progress
from workcalendar.services import day_bounds
from core import periods
from core.text import fold
from onestop import fees, forms, inbox, pdf, permissions, registers, selectors, services, statistics, vietqr
from onestop.models import (
    OPEN_STATES, Dossier, DossierState, FormKind, Handler, IssuedForm, Procedure, Rating, StepKind, TimeUnit,
)
from population import permissions as population_permissions
from population import selectors as population_selectors
from population import services as population_services
from population.models import AccessLog, Resident

PAGE_SIZE = 30
LIST_SIZE = 20
REGISTER_PAGE_ROWS = 500
PDF = "application/pdf"


# --- helpers ------------------------------------------------------------------------------------

# Page decorator: log in first, then a role for the action in the commune of the host.
page_requires = page_guard(permissions.require)


def _nav(user) -> dict:
    return {
        "intake": permissions.can(user, "dossier.intake"),
        "dossiers": permissions.can(user, "dossier.read"),
        "register": permissions.can(user, "register.read"),
        "statistics": permissions.can(user, "statistics.read"),
    }


CLOSED_STATES = (DossierState.REFUSED, DossierState.STOPPED, DossierState.WITHDRAWN)


def _render(request, template: str, context: dict, status: int = 200):
    context.setdefault("nav", _nav(request.user))
    context.setdefault("now", timezone.now())
    context.setdefault("open_states", [str(s) for s in OPEN_STATES])
    context.setdefault("closed_states", [str(s) for s in CLOSED_STATES])
    return render(request, template, context, status=status)


def _posted(request):
    return request.POST if request.method == "POST" else None


def _take(items, count: int = LIST_SIZE) -> list:
    return list(islice(items if items is not None else [], count))


def _count(items) -> int:
    if items is None:
        return 0
    count = getattr(items, "count", None)
    if callable(count):
        try:
            return count()
        except TypeError:
            pass
    return len(items)


def _errors_to_form(form, exc: ValidationError, field_for=None) -> None:
    """A service's refusal shown on the form: each message on its field, or on top."""
    if hasattr(exc, "error_dict"):
        for key, errors in exc.message_dict.items():
            field = field_for(key) if field_for else (key if key in form.fields else None)
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


def _commune():
    return getattr(connection, "tenant", None)


def _local_today() -> datetime.date:
    return timezone.localdate()


def _file_response(name: str, filename: str, content_type: str | None = None, attachment: bool = False):
    if not name or not default_storage.exists(name):
        raise Http404
    content_type = content_type or mimetypes.guess_type(name)[0] or "application/octet-stream"
    return FileResponse(default_storage.open(name, "rb"), content_type=content_type,
                        as_attachment=attachment, filename=filename)


def _bytes_response(data: bytes, content_type: str, filename: str, attachment: bool = False) -> HttpResponse:
    response = HttpResponse(data, content_type=content_type)
    disposition = "attachment" if attachment else "inline"
    response["Content-Disposition"] = f'{disposition}; filename="{filename}"'
    return response


def _dossier(request, pk) -> Dossier:
    return get_object_or_404(
        Dossier.objects.select_related("procedure", "procedure__sector", "current_step")
        .prefetch_related("procedure__steps"), pk=pk,
    )


def _filename(dossier, suffix: str, ext: str = "pdf") -> str:
    base = (dossier.code or f"ho-so-{dossier.pk}").replace("/", "-")
    return f"{base}-{suffix}.{ext}"


# --- home ---------------------------------------------------------------------------------------

# The work lists of the home page, in the order shown: (key of selectors.worklist, title).
WORKLIST_SECTIONS = [
    ("my_steps", gettext_lazy("My steps")),
    ("to_sign", gettext_lazy("Results to sign")),
    ("to_seal", gettext_lazy("Results for the agency's signature")),
    ("online_queue", gettext_lazy("Submitted online, waiting for the desk")),
    ("supplements", gettext_lazy("Waiting for a supplement")),
    ("to_return", gettext_lazy("Results to return")),
    ("overdue", gettext_lazy("Overdue")),
    ("due_soon", gettext_lazy("Due soon")),
]


@page_requires("module.open")
def home(request):
    user = request.user
    sections = []
    if permissions.can(user, "dossier.read"):
        lists = selectors.worklist(user)
        for key, title in WORKLIST_SECTIONS:
            if key in lists:
                items = lists[key]
                sections.append({"key": key, "title": title, "count": _count(items), "items": _take(items)})
    return _render(request, "onestop/home.html", {
        "sections": sections, "counts": {s["key"]: s["count"] for s in sections},
        "has_work": any(s["count"] for s in sections),
        "can_read": permissions.can(user, "dossier.read"), "list_size": LIST_SIZE,
    })


# --- counter intake -----------------------------------------------------------------------------

def _procedures(q: str):
    queryset = Procedure.objects.filter(is_current=True).select_related("sector").order_by("sector__order", "code")
    q = (q or "").replace("\x00", "").strip()[:100]
    if not q:
        return queryset
    match = Q()
    for word in fold(q).split():
        match &= Q(search_text__icontains=word) | Q(name__icontains=word)
    return queryset.filter(match | Q(code__iexact=q) | Q(national_code__iexact=q))


@page_requires("dossier.intake")
def intake_start(request):
    form = forms.ProcedureSearchForm(request.GET or None)
    q = form.cleaned_data.get("q", "") if form.is_valid() else ""
    return _render(request, "onestop/intake_start.html", {
        "form": form, "procedures": _procedures(q), "q": q, "commune_handler": Handler.COMMUNE,
    })


def _resident_search(request, procedure):
    """The registry search of the intake page (each read is logged as the registry's pages do)."""
    if not population_permissions.can_read(request.user):
        return {"allowed": False}
    search = forms.ResidentSearchForm(request.GET or None)
    rq = search.cleaned_data.get("rq", "").strip() if search.is_valid() else ""
    results = []
    if rq:
        queryset = population_selectors.residents(q=rq)
        results = list(queryset[:LIST_SIZE])
        population_services.log_access(
            request.user, action=AccessLog.Action.SEARCH, channel="page", object_type="resident",
            description=_("one-stop intake (%(code)s): search “%(q)s”: %(count)d results") % {
                "code": procedure.code, "q": rq, "count": len(results)},
        )
        from population.reveal import log_id_search

        log_id_search(results, rq, request.user, channel="page")
    chosen = None
    resident_id = request.GET.get("resident", "")
    if resident_id.isdigit() and len(resident_id) < 18:
        chosen = Resident.objects.select_related("household", "household__village").filter(pk=int(resident_id)).first()
        if chosen is not None:
            population_services.log_access(
                request.user, action=AccessLog.Action.VIEW, channel="page", object_type="resident", object_id=chosen.pk,
                description=_("one-stop intake (%(code)s): applicant taken from the registry") % {"code": procedure.code},
            )
    return {"allowed": True, "form": search, "rq": rq, "results": results, "chosen": chosen}


def _applicant_from_resident(resident, user) -> dict:
    from population.reveal import reveal_id

    household = resident.household
    return {
        "resident_id": resident.pk, "applicant_name": resident.full_name,
        "applicant_id_number": reveal_id(resident, user, purpose=_("one-stop intake form"), channel="page"), "applicant_phone": resident.phone or household.phone or "",
        "applicant_address": population_selectors.postal_address(household),
    }


def _time_text(procedure) -> str:
    amount = procedure.time_amount.normalize() if procedure.time_amount is not None else 0
    amount = format(amount, "f").replace(".", ",")
    if procedure.time_unit == TimeUnit.WORKING_HOURS:
        return _("%(amount)s working hours") % {"amount": amount}
    if not procedure.time_amount and procedure.cutoff:
        return _("the same day (received before %(cutoff)s)") % {"cutoff": procedure.cutoff.strftime("%H:%M")}
    return _("%(amount)s working days") % {"amount": amount}


@require_http_methods(["GET", "POST"])
@page_requires("dossier.intake")
def intake(request, code):
    procedure = get_object_or_404(Procedure, code=code, is_current=True)
    if procedure.handler != Handler.COMMUNE:
        raise Http404
    residents = {"allowed": False}
    initial = {}
    if request.method == "GET":
        residents = _resident_search(request, procedure)
        if residents.get("chosen"):
            initial = _applicant_from_resident(residents["chosen"], request.user)
    form = forms.IntakeForm(_posted(request), request.FILES or None, procedure=procedure, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            dossier = services.counter_intake(user=request.user, procedure=procedure, **form.service_arguments())
        except ValidationError as exc:
            _errors_to_form(form, exc, form.field_for)
        else:
            if dossier.state == DossierState.INCOMPLETE:
                messages.warning(request, _("The dossier was not received: form 2 lists what is to be completed."))
            elif dossier.state == DossierState.REFUSED:
                messages.warning(request, _("The dossier was refused: form 3 gives the reason."))
            else:
                messages.success(request, _("The dossier was received with the code %(code)s.") % {"code": dossier.code})
            return redirect("onestop:dossier", pk=dossier.pk)
    return _render(request, "onestop/intake.html", {
        "procedure": procedure, "form": form, "residents": residents,
        "fee_text": fees.describe(procedure), "time_text": _time_text(procedure),
    }, status=400 if form.errors else 200)


# --- lists --------------------------------------------------------------------------------------

@page_requires("dossier.read")
def online_queue(request):
    dossiers = selectors.staff_dossiers(request.user)
    waiting = dossiers.filter(state=DossierState.SUBMITTED).order_by("submitted_at", "pk")
    incomplete = dossiers.filter(state=DossierState.INCOMPLETE).order_by("-updated_at")
    return _render(request, "onestop/online_queue.html", {
        "page": Paginator(waiting, PAGE_SIZE).get_page(request.GET.get("page")),
        "incomplete": incomplete[:LIST_SIZE], "can_intake": permissions.can(request.user, "dossier.intake"),
    })


@page_requires("dossier.read")
def dossier_list(request):
    form = forms.DossierFilterForm(request.GET or None)
    data = form.cleaned_data if form.is_valid() else {}
    queryset = selectors.staff_dossiers(request.user).exclude(state=DossierState.DRAFT)
    q = (data.get("q") or "").replace("\x00", "").strip()
    if q:
        queryset = queryset.filter(Q(code__icontains=q) | Q(applicant_name__icontains=q) | Q(applicant_phone__endswith=q))
    if data.get("state"):
        queryset = queryset.filter(state=data["state"])
    queryset = inbox.narrow(queryset, request.user, data.get("view") or "")
    # Received dossiers by their day of receipt, the others by the day they were created.
    start, end = day_bounds(data.get("date_from"), data.get("date_to"))
    if start:
        queryset = queryset.filter(Q(received_at__gte=start) | Q(received_at__isnull=True, created_at__gte=start))
    if end:
        queryset = queryset.filter(Q(received_at__lt=end) | Q(received_at__isnull=True, created_at__lt=end))
    params = {k: request.GET.get(k, "") for k in form.fields if request.GET.get(k)}
    return _render(request, "onestop/dossier_list.html", {
        "form": form, "page": Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page")),
        "query": urlencode(params) + "&" if params else "", "now": timezone.now(),
    }, status=400 if form.errors else 200)


# --- dossier detail and actions -----------------------------------------------------------------

ACTION_FORMS = {
    "receive": None, "ask_completion": forms.ItemsForm, "refuse": forms.ReasonForm,
    "hand_over": forms.HandOverForm, "request_supplement": forms.ItemsForm, "supplement_arrived": forms.NoteForm,
    "prepare_result": forms.PrepareResultForm, "extend": forms.ExtendForm, "stop": forms.ReasonForm,
    "sign_leader": forms.PinForm, "sign_agency": forms.PinForm, "return": forms.ReturnForm, "payment": forms.PaymentForm,
    "add_file": forms.AddFileForm,
}
MULTIPART_ACTIONS = frozenset({"add_file"})
FILE_STATES = (DossierState.SUBMITTED, DossierState.RECEIVED, DossierState.IN_PROGRESS, DossierState.SUPPLEMENT)
PIN_ACTIONS = frozenset({"sign_leader", "sign_agency"})
# action: (heading, button, shown as a secondary (cautious) action)
ACTION_LABELS = {
    "receive": (gettext_lazy("Checked: receive the dossier (form 1)"), gettext_lazy("Receive"), False),
    "ask_completion": (gettext_lazy("Ask the applicant to complete the dossier (form 2)"), gettext_lazy("Send form 2"), False),
    "refuse": (gettext_lazy("Refuse to receive the dossier (form 3)"), gettext_lazy("Refuse"), True),
    "hand_over": (gettext_lazy("Hand over to the next step"), gettext_lazy("Hand over"), False),
    "prepare_result": (gettext_lazy("Prepare the result document"), gettext_lazy("Prepare"), False),
    "sign_leader": (gettext_lazy("Sign the result as the leader"), gettext_lazy("Sign"), False),
    "sign_agency": (gettext_lazy("Apply the agency's signature to the result"), gettext_lazy("Apply the agency's signature"), False),
    "request_supplement": (gettext_lazy("Request a supplement (the clock stops)"), gettext_lazy("Request"), False),
    "supplement_arrived": (gettext_lazy("The supplement arrived (the clock runs again)"), gettext_lazy("Record"), False),
    "return": (gettext_lazy("Return the result"), gettext_lazy("Returned"), False),
    "payment": (gettext_lazy("Record the payment of the fee"), gettext_lazy("Record the payment"), False),
    "add_file": (gettext_lazy("Attach a scanned paper"), gettext_lazy("Attach"), False),
    "extend": (gettext_lazy("Apology and new date (form 4)"), gettext_lazy("Issue form 4"), True),
    "stop": (gettext_lazy("Stop the dossier (form 5)"), gettext_lazy("Stop"), True),
}


def _next_step(dossier):
    return services.next_step(dossier, dossier.current_step) if dossier.current_step else None


def may_act(user, dossier, action: str) -> bool:
    """Does the user's role allow ``action`` on this dossier at all? (No: 403.)"""
    can = permissions.can
    step = dossier.current_step
    if action in ("receive", "ask_completion", "refuse"):
        return can(user, "dossier.intake")
    if action == "hand_over":
        return permissions.is_staff(user) and (step is None or permissions.may_do_step(user, step))
    if action == "prepare_result":
        return bool(permissions.user_roles(user) & ({permissions.SPECIALIST} | permissions.LEADERS))
    if action == "add_file":
        return can(user, "dossier.intake") or can(user, "dossier.supplement_receive")
    return can(user, {
        "request_supplement": "dossier.supplement", "supplement_arrived": "dossier.supplement_receive",
        "extend": "dossier.extend", "stop": "dossier.stop", "sign_leader": "result.sign_leader",
        "sign_agency": "result.sign_agency", "return": "dossier.return", "payment": "dossier.payment",
    }[action])


def actions_for(user, dossier) -> list[str]:
    """The actions the page offers this user on this dossier now: the role allows them and the
    dossier is in a state where the service would take them."""
    state = dossier.state
    step = dossier.current_step
    mine = dossier.current_handler_id in (None, user.pk)
    signing = services.signing_step(dossier)
    at_signing = step is not None and signing is not None and step.pk == signing.pk
    offered: list[str] = []
    if state == DossierState.SUBMITTED:
        offered += ["receive", "ask_completion", "refuse"]
    elif state == DossierState.INCOMPLETE:
        offered.append("refuse")
    if state in (DossierState.RECEIVED, DossierState.IN_PROGRESS):
        following = _next_step(dossier)
        if step is not None and not at_signing and following is not None and following.kind != StepKind.RETURN \
                and mine and permissions.may_do_step(user, step):
            offered.append("hand_over")
        if not dossier.leader_signed_pdf:
            if step is not None and step.kind != StepKind.RECEIVE and permissions.may_do_step(user, step):
                offered.append("prepare_result")
            offered.append("request_supplement")
        if state == DossierState.IN_PROGRESS and at_signing and mine and not dossier.leader_signed_pdf:
            offered.append("sign_leader")
        if state == DossierState.IN_PROGRESS and dossier.leader_signed_pdf and not dossier.signed_result:
            offered.append("sign_agency")
    if state == DossierState.SUPPLEMENT:
        offered.append("supplement_arrived")
    if state in OPEN_STATES:
        offered += ["extend", "stop"]
    if state == DossierState.RESULT_READY:
        offered.append("return")
    if state in services.PAYABLE_STATES and services.outstanding_fee(dossier) > 0:
        offered.append("payment")
    if state in FILE_STATES:
        offered.append("add_file")
    return [action for action in offered if may_act(user, dossier, action)]


def _action_form(action: str, dossier, data=None, files=None):
    form_class = ACTION_FORMS[action]
    if form_class is None:
        return None
    if form_class is forms.AddFileForm:
        return form_class(data, files, procedure=dossier.procedure)
    if form_class is forms.HandOverForm:
        step = _next_step(dossier)
        form = form_class(data, step_role=step.role if step else None)
        people = [value for value, _label in form.fields["to_user"].choices if value != ""]
        if len(people) == 1:  # the one person who can take the next step
            form.initial["to_user"] = people[0]
        return form
    if form_class is forms.ReturnForm:
        return form_class(data, initial={"delivery": dossier.delivery})
    if form_class is forms.PaymentForm:
        return form_class(data, initial={"amount": services.outstanding_fee(dossier)})
    if action == "prepare_result":
        return form_class(data, initial={"result_number": dossier.result_number})
    return form_class(data)


def _vietqr(dossier):
    """The VietQR payload of the unpaid fee (as printed on form 1), when the commune has an account."""
    return pdf.vietqr_payload(dossier, _commune())


def _revealed_id(dossier, user) -> str:
    from population.reveal import reveal_id

    return reveal_id(dossier, user, purpose=_("dossier page"), channel="page")


# The role's main next action, in the order of the dossier's life: the first of these that the
# official may take is the card open by default (never a refusal, form 4 or form 5).
MAIN_ACTIONS = ("receive", "sign_leader", "sign_agency", "hand_over", "supplement_arrived", "payment", "return",
                "prepare_result")


def main_action(actions) -> str | None:
    return next((action for action in MAIN_ACTIONS if action in actions), None)


# Signatures of the result, by the purpose of their job: (heading of the panel, signed already?).
SIGNATURE_PANELS = {
    "leader": (gettext_lazy("Signature of the result by the leader"), lambda d: bool(d.leader_signed_pdf)),
    "agency": (gettext_lazy("The agency's signature on the result"), lambda d: bool(d.signed_result)),
}


def _signing_subjects(dossier) -> list[str]:
    return [f"{services.SUBJECT_PREFIX}:{dossier.pk}"]


def _signed_next_step(dossier, actions) -> job_progress.Outcome:
    """The dossier's state after a signature of its result, and what comes next."""
    state = dossier.get_state_display()
    if dossier.state == DossierState.RESULT_READY:
        if services.outstanding_fee(dossier) > 0:
            return job_progress.Outcome(
                _("The result is signed. The dossier is now: %(state)s.") % {"state": state},
                _("collect the fee, then return the result to the applicant."),
                "#action-payment" if "payment" in actions else "", _("Record the payment"))
        return job_progress.Outcome(
            _("The result is signed. The dossier is now: %(state)s.") % {"state": state},
            _("return the result to the applicant."), "#action-return" if "return" in actions else "",
            _("Return the result"))
    if dossier.leader_signed_pdf and not dossier.signed_result:
        return job_progress.Outcome(
            _("Signed by the leader. The dossier is now: %(state)s.") % {"state": state},
            _("the clerk adds the agency's signature to the result."),
            "#action-sign_agency" if "sign_agency" in actions else "", _("Apply the agency's signature"))
    return job_progress.Outcome(_("Done. The dossier is now: %(state)s.") % {"state": state})


def _signing_progress(request, dossier, actions) -> job_progress.Progress | None:
    """The panel of the signature this dossier's result waits for, or of the one the page was
    sent to after asking for it (``?job=``); None when there is nothing to show."""
    from signatures import progress as signing_progress

    subjects = _signing_subjects(dossier)
    latest = signing_progress.latest_jobs(subjects)
    pending = [job for job in latest if not job.is_finished]
    asked = signing_progress.job_of(request.GET.get("job"), subjects) if request.GET.get("job") else None
    if pending:
        jobs = pending
    elif asked is not None:
        jobs = [asked]
    else:
        jobs = [job for job in latest if job.state == job.State.FAILED and job.purpose in SIGNATURE_PANELS
                and dossier.state == DossierState.IN_PROGRESS and not SIGNATURE_PANELS[job.purpose][1](dossier)][:1]
        if not jobs:
            return None
    main = jobs[0]
    page_url = f"{reverse('onestop:dossier', args=[dossier.pk])}?job={main.pk}"
    return job_progress.Progress(
        jobs=jobs, label=str(SIGNATURE_PANELS.get(main.purpose, (_("Signature"),))[0]), page_url=page_url,
        poll_url=f"{reverse('onestop:dossier-progress', args=[dossier.pk])}?job={main.pk}",
        outcome=_signed_next_step(dossier, actions), advice=signing_progress.failure_advice(),
    )


def _detail(request, dossier, bound=None, status=200):
    user = request.user
    actions = actions_for(user, dossier)
    progress = _signing_progress(request, dossier, actions)
    if progress is not None and not progress.finished:
        # A signature is on its way: its progress stands where the PIN forms were.
        actions = [action for action in actions if action not in PIN_ACTIONS]
    action_forms = {name: _action_form(name, dossier) for name in actions}
    if bound:
        action_forms[bound[0]] = bound[1]
        if bound[0] not in actions:
            actions.append(bound[0])
    events = list(dossier.events.select_related("from_step", "to_step").order_by("at", "pk"))
    names = user_names([dossier.received_by_id, dossier.current_handler_id]
                        + [e.actor_id for e in events] + [e.to_user_id for e in events])
    next_step = _next_step(dossier)
    labels = {str(spec.get("name")): spec.get("label") or spec.get("name") for spec in dossier.procedure.form_fields or []
              if isinstance(spec, dict)}
    application = [(labels.get(key, key), value) for key, value in (dossier.form_data or {}).items()]
    main = main_action(actions)
    # The main action first, the cautious ones (refusal, forms 4 and 5) last; the main one open,
    # or the one whose form came back with errors.
    ordered = sorted(actions, key=lambda name: (name != main, ACTION_LABELS[name][2]))
    cards = [{
        "name": name, "form": action_forms[name], "heading": ACTION_LABELS[name][0], "button": ACTION_LABELS[name][1],
        "danger": ACTION_LABELS[name][2], "url": reverse("onestop:dossier-action", args=[dossier.pk, name]),
        "multipart": name in MULTIPART_ACTIONS,
        "open": bool(bound and bound[0] == name) if bound else name == main,
    } for name in ordered]
    return _render(request, "onestop/dossier_detail.html", {
        "dossier": dossier, "procedure": dossier.procedure, "actions": actions, "cards": cards,
        "application": application,
        "documents": dossier.documents.select_related("requirement"), "events": events, "progress": progress, "issued": dossier.forms.order_by("created_at", "pk"),
        "pending_forms": services.pending_forms(dossier), "form_progress": _form_progress(dossier),
        "pauses": dossier.pauses.all(), "extensions": dossier.extensions.all(),
        "payments": dossier.payments.all(), "next_step": next_step,
        "received_by_name": names.get(dossier.received_by_id, ""), "handler_name": names.get(dossier.current_handler_id, ""),
        "vietqr_payload": _vietqr(dossier), "now": timezone.now(),
        # The officers who take dossiers in see the applicant's full ID number, read through
        # the logged reveal; everyone else the masked one.
        "full_id": _revealed_id(dossier, user) if permissions.can(user, "dossier.intake") else "",
        "rating": Rating.objects.filter(dossier=dossier).first(),
    }, status=status)


@page_requires("dossier.read")
def dossier_detail(request, pk):
    dossier = _dossier(request, pk)
    # The page shows the applicant's personal data (ID number, phone): every read is logged.
    population_services.log_access(
        request.user, action=AccessLog.Action.VIEW, channel="page", object_type="onestop.dossier",
        object_id=dossier.pk, description=dossier.code or "",
    )
    return _detail(request, dossier)


def _run_action(request, dossier, action: str, data: dict) -> str:
    """Call the service of ``action``; returns the message to show."""
    user = request.user
    if action == "receive":
        dossier = services.receive(dossier=dossier, user=user)
        return _("The dossier was received with the code %(code)s.") % {"code": dossier.code}
    if action == "ask_completion":
        services.ask_completion(dossier=dossier, user=user, items=data["items"], note=data["note"])
        return _("The applicant was asked to complete the dossier (form 2).")
    if action == "refuse":
        services.refuse(dossier=dossier, user=user, reason=data["reason"])
        return _("The dossier was refused (form 3).")
    if action == "hand_over":
        dossier = services.hand_over(dossier=dossier, user=user, to_user_id=data["to_user"], note=data["note"])
        return _("The dossier was handed over.")
    if action == "request_supplement":
        services.request_supplement(dossier=dossier, user=user, items=data["items"], reason=data["note"])
        return _("A supplement was requested; the clock stops until it arrives.")
    if action == "supplement_arrived":
        services.supplement_arrived(dossier=dossier, user=user, note=data["note"])
        return _("The supplement was recorded; the clock runs again.")
    if action == "prepare_result":
        services.prepare_result(dossier=dossier, user=user, result_number=data["result_number"])
        return _("The result document was prepared.")
    if action == "extend":
        services.extend(dossier=dossier, user=user, new_due_at=data["new_due_at"], reason=data["reason"])
        return _("The apology with the new date (form 4) was issued.")
    if action == "stop":
        services.stop(dossier=dossier, user=user, reason=data["reason"])
        return _("The dossier was stopped (form 5).")
    if action == "return":
        services.return_result(dossier=dossier, user=user, delivery=data["delivery"])
        return _("The result was returned.")
    if action == "payment":
        payment = services.record_payment(dossier=dossier, user=user, method=data["method"],
                                          amount=data.get("amount"), reference=data.get("reference") or None)
        return _("The payment was recorded (receipt %(number)s).") % {"number": getattr(payment, "receipt_number", "")}
    if action == "add_file":
        services.add_file(dossier=dossier, user=user, requirement_id=data.get("requirement"), upload=data["file"],
                          is_supplement=dossier.state == DossierState.SUPPLEMENT)
        return _("The scan was attached.")
    raise Http404


@require_POST
@page_requires("dossier.read")
def dossier_action(request, pk, action):
    if action not in ACTION_FORMS:
        raise Http404
    dossier = _dossier(request, pk)
    if not may_act(request.user, dossier, action):
        raise PermissionDenied
    form = _action_form(action, dossier, request.POST, request.FILES)
    if form is not None and not form.is_valid():
        return _detail(request, dossier, (action, form), status=400)
    if action in PIN_ACTIONS:
        # Signing needs a session opened with the second factor (TOTP), not the password alone.
        confirm = confirmation_redirect(request, reverse("onestop:dossier", args=[pk]))
        if confirm is not None:
            return confirm
    try:
        if action in PIN_ACTIONS:
            sign = services.sign_result_leader if action == "sign_leader" else services.sign_result_agency
            job = sign(dossier=dossier, user=request.user, pin=form.cleaned_data["pin"])
            # The page shows the signature's progress, then the new state and the next step.
            return redirect(f"{reverse('onestop:dossier', args=[pk])}?job={job.pk}")
        message = _run_action(request, dossier, action, form.cleaned_data if form is not None else {})
    except ValidationError as exc:
        dossier = _dossier(request, pk)
        if form is None:
            messages.error(request, " ".join(exc.messages))
            return redirect("onestop:dossier", pk=pk)
        _errors_to_form(form, exc)
        if action in PIN_ACTIONS:
            from signatures.progress import refusal_advice

            advice = refusal_advice(error_code(exc))
            if advice:
                form.add_error(None, advice)
        return _detail(request, dossier, (action, form), status=400)
    messages.success(request, message)
    return redirect("onestop:dossier", pk=pk)


@page_requires("dossier.read")
def dossier_progress(request, pk):
    """The signature panel, polled by the dossier's page while a signature is on its way."""
    dossier = _dossier(request, pk)
    progress = _signing_progress(request, dossier, actions_for(request.user, dossier))
    if progress is None:
        return redirect("onestop:dossier", pk=pk)
    return job_progress.respond(request, progress)


# --- files of a dossier -------------------------------------------------------------------------

def _form_progress(dossier) -> job_progress.Progress | None:
    """The panel of the forms still being rendered (form 1 right after receipt), or None."""
    pending = services.pending_forms(dossier)
    if not pending:
        return None
    return job_progress.Progress(
        jobs=pending, label=_("Preparing %(form)s") % {"form": pending[0].get_kind_display()},
        page_url=reverse("onestop:dossier", args=[dossier.pk]),
        poll_url=reverse("onestop:forms-progress", args=[dossier.pk]),
        advice=_("open the form from the list above to prepare it again; if it fails again, tell the commune's "
                 "administrator."),
    )


@page_requires("dossier.read")
def forms_progress(request, pk):
    """The panel of the forms being rendered, polled by the dossier's page."""
    dossier = _dossier(request, pk)
    progress = _form_progress(dossier)
    if progress is None:
        return redirect("onestop:dossier", pk=pk)
    return job_progress.respond(request, progress)


@page_requires("dossier.read")
def pending_form(request, pk, job_pk):
    """A form still being rendered, opened from the dossier's page: rendered now when no
    worker has taken it yet (the citizen waits for the receipt at the desk)."""
    from onestop.models import FormJob

    dossier = _dossier(request, pk)
    job = get_object_or_404(FormJob, pk=job_pk, dossier=dossier)
    issued = services.form_now(job)
    if issued is None:
        messages.info(request, _("The form is still being prepared: it opens from this page in a moment."))
        return redirect("onestop:dossier", pk=pk)
    return _file_response(issued.file, _filename(dossier, f"mau-{issued.kind}"), PDF)


@page_requires("dossier.read")
def issued_form(request, pk, form_pk):
    dossier = _dossier(request, pk)
    issued = get_object_or_404(IssuedForm, pk=form_pk, dossier=dossier)
    return _file_response(issued.file, _filename(dossier, f"mau-{issued.kind}"), PDF)


@page_requires("dossier.read")
def dossier_file(request, pk, document_pk):
    dossier = _dossier(request, pk)
    document = get_object_or_404(dossier.documents, pk=document_pk)
    ext = mimetypes.guess_extension(document.content_type or "") or ".pdf"
    return _file_response(document.file, _filename(dossier, f"giay-to-{document.pk}", ext.lstrip(".")),
                          document.content_type or None)


RESULT_FILES = {"draft": "result_pdf", "leader-signed": "leader_signed_pdf", "signed": "signed_result"}


@page_requires("dossier.read")
def result_file(request, pk, kind):
    dossier = _dossier(request, pk)
    field = RESULT_FILES.get(kind)
    if field is None or not getattr(dossier, field):
        raise Http404
    return _file_response(getattr(dossier, field), _filename(dossier, f"ket-qua-{kind}"), PDF)


@page_requires("dossier.read")
def control_sheet(request, pk):
    """Form 6, the control sheet, as it stands now (printable)."""
    dossier = _dossier(request, pk)
    if not dossier.received_at:
        raise Http404
    data = pdf.render_form(FormKind.CONTROL.value, dossier, officer=request.user)
    return _bytes_response(data, PDF, _filename(dossier, "mau-6"))


@page_requires("dossier.read")
def vietqr_image(request, pk):
    dossier = _dossier(request, pk)
    payload = _vietqr(dossier)
    if not payload:
        raise Http404
    response = HttpResponse(vietqr.qr_png(payload), content_type="image/png")
    response["Cache-Control"] = "private, no-store"
    return response


# --- register (form 7) --------------------------------------------------------------------------

def _period(form) -> tuple[datetime.date, datetime.date]:
    data = form.cleaned_data if form.is_valid() else {}
    today = _local_today()
    date_to = data.get("date_to") or today
    date_from = data.get("date_from") or date_to.replace(day=1)
    return date_from, date_to


def _register_queryset(date_from, date_to):
    start, end = day_bounds(date_from, date_to)
    return Dossier.objects.filter(received_at__gte=start, received_at__lt=end).order_by("received_at", "pk")


@page_requires("register.read")
def register_page(request):
    form = forms.RegisterForm(request.GET or None)
    date_from, date_to = _period(form)
    queryset = _register_queryset(date_from, date_to)
    total = queryset.count() if not form.errors else 0
    rows = registers.register_rows(queryset[:REGISTER_PAGE_ROWS]) if total else []
    keys = registers.KEYS
    table = [{"dossier_id": row.get("dossier_id"), "cells": [row.get(key, "") for key in keys]} for row in rows]
    query = urlencode({"date_from": f"{date_from:%d/%m/%Y}", "date_to": f"{date_to:%d/%m/%Y}"})
    return _render(request, "onestop/register.html", {
        "form": form, "table": table, "total": total, "columns": registers.HEADINGS,
        "code_column": keys.index("code"), "date_from": date_from, "date_to": date_to, "query": query,
        "limit": REGISTER_PAGE_ROWS,
    }, status=400 if form.errors else 200)


def _register_export(request, fmt: str):
    form = forms.RegisterForm(request.GET or None)
    if form.errors:
        return register_page(request)
    date_from, date_to = _period(form)
    rows = registers.register_rows(_register_queryset(date_from, date_to))
    commune = _commune()
    name = f"so-theo-doi-ho-so-{date_from:%Y%m%d}-{date_to:%Y%m%d}"
    if fmt == "pdf":
        data = pdf.render_register(rows, commune_name=str(commune), date_from=date_from, date_to=date_to)
        return _bytes_response(data, PDF, f"{name}.pdf", attachment=True)
    data = registers.to_xlsx(rows, commune_name=str(commune), date_from=date_from, date_to=date_to)
    return _bytes_response(data, registers.XLSX_CONTENT_TYPE, f"{name}.xlsx", attachment=True)


@page_requires("register.read")
def register_pdf(request):
    return _register_export(request, "pdf")


@page_requires("register.read")
def register_xlsx(request):
    return _register_export(request, "xlsx")


# --- statistics ---------------------------------------------------------------------------------

def _percent(share) -> str | None:
    """0.9612 → '96,1'; 1.0 → '100' (the share of satisfied ratings in per cent); None when nobody rated."""
    if share is None:
        return None
    text = f"{share * 100:.1f}".replace(".", ",")
    return text[:-2] if text.endswith(",0") else text


def _statistics(request):
    """The form, its period and the figures of the statistics page and its workbook."""
    form = forms.StatisticsForm(request.GET or None, today=_local_today())
    valid = form.is_valid() if form.is_bound else True
    period = form.get_period()
    if not valid:
        return form, period, None, None
    data = form.cleaned_data if form.is_bound else {}
    filters = {"procedure_code": data.get("procedure") or None, "officer_id": data.get("officer")}
    figures = statistics.compute(period.date_from, period.date_to, **filters)
    months = statistics.monthly(period, **filters) if len(period.months()) > 1 else []
    return form, period, figures, months


def _filter_labels(form) -> tuple[str, str]:
    data = form.cleaned_data if form.is_bound and form.is_valid() else {}
    labels = []
    for name in ("procedure", "officer"):
        value = data.get(name)
        labels.append(next((str(label) for key, label in form.fields[name].choices
                            if value not in (None, "") and str(key) == str(value)), ""))
    return labels[0], labels[1]


@page_requires("statistics.read")
def statistics_page(request):
    from core import charts

    form, period, figures, months = _statistics(request)
    context = {"form": form, "period": period, "date_from": period.date_from, "date_to": period.date_to,
               "figures": figures, "by_procedure": None, "by_officer": None}
    if figures is not None:
        series = [_("early"), _("on time"), _("late")]
        colours = ["#00703c", "#1d70b8", "#d4351c"]
        by_procedure = [{**row, "label": f"{row['procedure_code']} – {row['procedure_name']}",
                         "percent": _percent(row.get("satisfaction_share")),
                         "on_time_percent": charts.percent(statistics.on_time_share(row))}
                        for row in figures["by_procedure"]]
        by_officer = [{**row, "label": row["officer_name"] or "–", "percent": _percent(row.get("satisfaction_share")),
                       "on_time_percent": charts.percent(statistics.on_time_share(row))}
                      for row in figures["by_officer"]]
        results = [(_("All procedures"), [figures["early"], figures["on_time"], figures["late"]])]
        results += [(row["label"], [row["early"], row["on_time"], row["late"]]) for row in by_procedure]
        month_rows = [{**row, "on_time_percent": charts.percent(statistics.on_time_share(row))} for row in months]
        context.update({
            "satisfaction_percent": _percent(figures["satisfaction_share"]),
            "on_time_percent": charts.percent(statistics.on_time_share(figures)),
            "by_procedure": by_procedure, "by_officer": by_officer, "months": month_rows,
            "results_chart": charts.stacked_bar_chart(
                results, series=series, colours=colours, title=_("Dossiers resolved early, on time and late")),
            "received_chart": charts.bar_chart(
                [(row["label"], row["received"]) for row in by_procedure], title=_("Dossiers received by procedure")),
            "months_chart": charts.column_chart(
                charts.month_labels([row["month"] for row in months]),
                [[row["received"] for row in months], [row["early"] + row["on_time"] for row in months],
                 [row["late"] for row in months]],
                series=[_("received"), _("resolved by the appointment"), _("late")],
                colours=["#505a5f", "#00703c", "#d4351c"], title=_("Dossiers per month"),
            ) if months else None,
            "export_query": form.query() + _statistics_filters_query(form),
        })
    return _render(request, "onestop/statistics.html", context, status=400 if form.errors else 200)


def _statistics_filters_query(form) -> str:
    data = form.cleaned_data if form.is_bound and form.is_valid() else {}
    extra = {key: data.get(key) for key in ("procedure", "officer") if data.get(key) not in (None, "")}
    return ("&" + urlencode(extra)) if extra else ""


@page_requires("statistics.read")
def statistics_xlsx(request):
    form, period, figures, months = _statistics(request)
    if figures is None:
        return statistics_page(request)
    if not months:  # a period within one month: that month's line is the period's figures
        months = [{"month": period.date_from.replace(day=1), **figures}]
    commune = _commune()
    procedure_label, officer_label = _filter_labels(form)
    data = statistics.to_xlsx(figures, months, commune_name=str(commune), period=period,
                              procedure_label=procedure_label, officer_label=officer_label)
    return _bytes_response(data, registers.XLSX_CONTENT_TYPE,
                           periods.file_name("thong-ke-mot-cua", commune, period, "xlsx"), attachment=True)
