"""Pages of the documents app. Role checks come from documents.permissions; the rules and
every write are in documents.services."""
from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import connection
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from communes.permissions import user_names
from communes.second_factor import confirmation_redirect
from core import periods
from core.validation import error_code
from documents import files, forms, inbox, numbering, permissions, registers, selectors, services, signing
from documents.models import (
    IncomingAttachment, IncomingDocument, IncomingState, OutgoingAttachment, OutgoingDocument, SigningAuthority,
)
from documents import statistics
from documents.permissions import page_requires
from jobs import progress as job_progress

PAGE_SIZE = 30
REGISTER_PAGE_ROWS = 500


def _render(request, template: str, context: dict, status: int = 200):
    """render() with what the app's navigation needs."""
    user = request.user
    context.setdefault("nav", {
        "documents": permissions.has_role_for(user, "incoming.read"),
        "registers": permissions.has_role_for(user, "registers.read"),
        "statistics": permissions.has_role_for(user, "statistics.read"),
        "settings": permissions.has_role_for(user, "settings.manage"),
    })
    return render(request, template, context, status=status)


def _posted(request):
    """The POST data of a POST (even an empty one, so that it is validated), else None."""
    return request.POST if request.method == "POST" else None


def _page(request, queryset):
    return Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))


def _query(data: dict) -> str:
    params = {k: v for k, v in data.items() if v not in (None, "", False)}
    return urlencode(params) + "&" if params else ""


def _errors_to_form(form, exc: ValidationError, aliases: dict | None = None) -> None:
    """A service's refusal shown on the form (``aliases``: service field → form field)."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            field = (aliases or {}).get(field, field)
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


def _pdf_response(name: str, filename: str) -> FileResponse:
    if not files.exists(name):
        raise Http404
    return FileResponse(files.open_file(name), content_type=files.PDF_CONTENT_TYPE,
                        as_attachment=False, filename=filename)


# --- home --------------------------------------------------------------------------------------

@page_requires("module.open")
def home(request):
    context = {
        "can_documents": permissions.has_role_for(request.user, "incoming.read"),
        "can_register": permissions.has_role_for(request.user, "incoming.register"),
        "can_settings": permissions.has_role_for(request.user, "settings.manage"),
    }
    if context["can_documents"]:
        policy = numbering.get_policy()
        visible = permissions.incoming_visible_to(request.user, IncomingDocument.objects.all())
        context.update({
            "overdue_count": visible.filter(pk__in=selectors.overdue().values("pk")).count(),
            "due_soon_count": visible.filter(pk__in=selectors.due_soon(days=policy.due_soon_days).values("pk")).count(),
            "to_register_count": visible.filter(state=IncomingState.RECEIVED).count(),
            "mine": visible.filter(lead_handler_id=request.user.pk, state__in=["assigned", "in_progress"]).order_by("deadline")[:20],
            "notices": selectors.notices_for(request.user, unread_only=True)[:20],
        })
    return _render(request, "documents/home.html", context)


@require_POST
@page_requires("notices.read")
def notices_read(request):
    services.mark_notices_read(request.user)
    return redirect("documents:home")


# --- incoming ----------------------------------------------------------------------------------

def _incoming(request, pk) -> IncomingDocument:
    doc = get_object_or_404(IncomingDocument.objects.select_related("doc_type"), pk=pk)
    if not permissions.can_see_incoming(request.user, doc):
        raise Http404
    return doc


@page_requires("incoming.read")
def incoming_list(request):
    form = forms.IncomingFilterForm(request.GET or None)
    data = form.cleaned_data if form.is_valid() else {}
    policy = numbering.get_policy()
    view = data.get("view") or ""
    queryset = selectors.incoming_documents(
        request.user, q=data.get("q", ""), sender=data.get("sender", ""),
        state=IncomingState.RECEIVED if view == "to_register" else (data.get("state") or None),
        date_from=data.get("date_from"), date_to=data.get("date_to"), overdue_only=view == "overdue",
        due_soon_days=policy.due_soon_days if view == "due_soon" else None,
    )
    queryset = inbox.narrow(queryset, request.user, "incoming", view)
    page = _page(request, queryset)
    names = user_names(d.lead_handler_id for d in page)
    return _render(request, "documents/incoming_list.html", {
        "form": form, "page": page, "names": names, "now": timezone.now(),
        "query": _query({k: request.GET.get(k, "") for k in form.fields}),
        "can_register": permissions.has_role_for(request.user, "incoming.register"),
        "due_soon_days": policy.due_soon_days,
    }, status=400 if form.errors else 200)


@require_http_methods(["GET", "POST"])
@page_requires("incoming.register")
def incoming_create(request):
    form = forms.IncomingForm(_posted(request), request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            doc = services.register_incoming(form.instance, user=request.user, scan=form.cleaned_data.get("scan"))
        except ValidationError as exc:
            _errors_to_form(form, exc)
        else:
            messages.success(request, _("Registered with the incoming number %(number)02d.") % {"number": doc.incoming_number})
            return redirect("documents:incoming-detail", pk=doc.pk)
    return _render(request, "documents/form.html", {
        "form": form, "title": _("Register an incoming document"), "multipart": True,
        "cancel_url": reverse("documents:incoming-list"),
    }, status=400 if form.errors else 200)


@require_http_methods(["GET", "POST"])
@page_requires("incoming.edit")
def incoming_edit(request, pk):
    doc = _incoming(request, pk)
    if not permissions.can(request.user, "incoming.edit", doc):
        raise PermissionDenied
    form = forms.IncomingForm(_posted(request), request.FILES or None, instance=doc)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_incoming(form.instance, user=request.user, scan=form.cleaned_data.get("scan"))
        except ValidationError as exc:
            _errors_to_form(form, exc)
        else:
            messages.success(request, _("The registration was corrected."))
            return redirect("documents:incoming-detail", pk=doc.pk)
    return _render(request, "documents/form.html", {
        "form": form, "title": _("Correct the registration"), "multipart": True,
        "cancel_url": reverse("documents:incoming-detail", args=[doc.pk]),
    }, status=400 if form.errors else 200)


INCOMING_FORMS = {
    "present": forms.PresentForm, "assign": forms.AssignForm, "forward": forms.ForwardForm,
    "note": forms.TextForm, "complete": forms.CompleteForm, "return": forms.ReasonForm,
}


def _incoming_detail(request, doc, bound=None, status=200):
    actions = permissions.actions_for(request.user, doc)
    action_forms = {name: form_class() for name, form_class in INCOMING_FORMS.items() if name in actions}
    if bound:
        action_forms[bound[0]] = bound[1]
    ids = doc.handler_ids() | {doc.presented_to_id, doc.assigned_by_id}
    events = list(doc.events.all())
    ids |= {e.to_user_id for e in events}
    return _render(request, "documents/incoming_detail.html", {
        "doc": doc, "actions": actions, "forms": action_forms, "events": events,
        "names": user_names(ids), "attachments": doc.attachments.all(), "now": timezone.now(),
        "presentation_due": services.presentation_due(doc) if doc.state == IncomingState.REGISTERED else None,
    }, status=status)


@page_requires("incoming.read")
def incoming_detail(request, pk):
    return _incoming_detail(request, _incoming(request, pk))


@require_POST
@page_requires("incoming.read")
def incoming_action(request, pk, action):
    doc = _incoming(request, pk)
    if action not in permissions.actions_for(request.user, doc):
        raise PermissionDenied
    form_class = INCOMING_FORMS.get(action)
    form = form_class(request.POST) if form_class else None
    if form is not None and not form.is_valid():
        return _incoming_detail(request, doc, (action, form), status=400)
    data = form.cleaned_data if form else {}
    user = request.user
    try:
        if action == "register":
            doc = services.register_received(doc, user=user)
            message = _("Registered with the incoming number %(number)02d.") % {"number": doc.incoming_number}
        elif action == "return":
            services.return_to_sender(doc, user=user, reason=data["reason"])
            message = _("The document was returned to the sender.")
        elif action == "present":
            services.present(doc, user=user, leader_id=data["leader"])
            message = _("The document was presented.")
        elif action == "assign":
            services.assign(doc, user=user, lead_handler_id=data["lead_handler"], co_handler_ids=data["co_handlers"],
                            working_days=data["working_days"], deadline=data["deadline"], instruction=data["instruction"])
            message = _("The document was assigned.")
        elif action == "start":
            services.start(doc, user=user)
            message = _("Handling started.")
        elif action == "note":
            services.add_note(doc, user=user, text=data["text"])
            message = _("The note was added.")
        elif action == "forward":
            services.forward(doc, user=user, to_user_id=data["to_user"], text=data["text"])
            message = _("The document was forwarded.")
        elif action == "complete":
            services.complete(doc, user=user, note=data["note"])
            message = _("The document is completed.")
        else:
            raise Http404
    except ValidationError as exc:
        if form is None:
            messages.error(request, " ".join(exc.messages))
            return redirect("documents:incoming-detail", pk=doc.pk)
        _errors_to_form(form, exc)
        return _incoming_detail(request, _incoming(request, pk), (action, form), status=400)
    messages.success(request, message)
    return redirect("documents:incoming-detail", pk=doc.pk)


@page_requires("incoming.read")
def incoming_file(request, pk):
    doc = _incoming(request, pk)
    if doc.is_secret or not doc.scan:
        raise Http404
    return _pdf_response(doc.scan, f"van-ban-den-{doc.pk}.pdf")


@page_requires("incoming.read")
def incoming_attachment(request, pk, attachment_pk):
    doc = _incoming(request, pk)
    attachment = get_object_or_404(IncomingAttachment, pk=attachment_pk, document=doc)
    return _pdf_response(attachment.file, files.clean_filename(attachment.title))


# --- outgoing ----------------------------------------------------------------------------------

def _outgoing(request, pk) -> OutgoingDocument:
    doc = get_object_or_404(OutgoingDocument.objects.select_related("doc_type", "authority"), pk=pk)
    if not permissions.can_see_outgoing(request.user, doc):
        raise Http404
    return doc


@page_requires("outgoing.read")
def outgoing_list(request):
    form = forms.OutgoingFilterForm(request.GET or None)
    data = form.cleaned_data if form.is_valid() else {}
    queryset = selectors.outgoing_documents(
        request.user, q=data.get("q", ""), state=data.get("state") or None,
        date_from=data.get("date_from"), date_to=data.get("date_to"),
    )
    queryset = inbox.narrow(queryset, request.user, "outgoing", data.get("view") or "")
    return _render(request, "documents/outgoing_list.html", {
        "form": form, "page": _page(request, queryset),
        "query": _query({k: request.GET.get(k, "") for k in form.fields}),
        "can_draft": permissions.has_role_for(request.user, "outgoing.draft"),
    }, status=400 if form.errors else 200)


OUTGOING_ALIASES = {"electronic_recipients": "other_communes", "layout": "number_box"}


def _save_outgoing(request, form):
    data = form.cleaned_data
    return services.save_draft(
        form.instance, user=request.user, electronic_recipients=data.get("electronic_recipients", []),
        upload=data.get("upload"), layout=data.get("layout") or None,
    )


@require_http_methods(["GET", "POST"])
@page_requires("outgoing.draft")
def outgoing_create(request):
    form = forms.OutgoingForm(_posted(request), request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            doc = _save_outgoing(request, form)
        except ValidationError as exc:
            _errors_to_form(form, exc, OUTGOING_ALIASES)
        else:
            messages.success(request, _("The draft was saved."))
            return redirect("documents:outgoing-detail", pk=doc.pk)
    return _render(request, "documents/outgoing_form.html", {
        "form": form, "title": _("New outgoing document"), "cancel_url": reverse("documents:outgoing-list"),
    }, status=400 if form.errors else 200)


@require_http_methods(["GET", "POST"])
@page_requires("outgoing.draft")
def outgoing_edit(request, pk):
    doc = _outgoing(request, pk)
    if not permissions.can(request.user, "outgoing.draft", doc) or not doc.is_editable:
        raise PermissionDenied
    form = forms.OutgoingForm(_posted(request), request.FILES or None, instance=doc)
    if request.method == "POST" and form.is_valid():
        try:
            _save_outgoing(request, form)
        except ValidationError as exc:
            _errors_to_form(form, exc, OUTGOING_ALIASES)
        else:
            messages.success(request, _("The draft was saved."))
            return redirect("documents:outgoing-detail", pk=doc.pk)
    return _render(request, "documents/outgoing_form.html", {
        "form": form, "title": _("Edit the draft"), "doc": doc,
        "cancel_url": reverse("documents:outgoing-detail", args=[doc.pk]),
    }, status=400 if form.errors else 200)


PIN_ACTIONS = frozenset({"sign", "issue", "agency_sign"})
OUTGOING_FORMS = {
    "approve": forms.NoteForm, "return": forms.ReasonForm, "sign": forms.PinForm, "issue": forms.PinForm,
    "agency_sign": forms.PinForm, "dispatch": forms.DispatchForm, "file": forms.FileForm, "withdraw": forms.ReasonForm,
}


# Signatures waited for, by the purpose of their job: (panel heading, the state the document
# must be in for this signature to be asked again after a failure).
SIGNATURE_PANELS = {
    "leader": (gettext_lazy("Signature of the person with authority"), OutgoingDocument.State.APPROVED),
    "agency": (gettext_lazy("Issuing: the agency's signature"), OutgoingDocument.State.NUMBERED),
    "attachment": (gettext_lazy("Issuing: the agency's signature"), OutgoingDocument.State.NUMBERED),
}


def _next_step(doc, actions) -> job_progress.Outcome:
    """The document's new state after a signature, and what comes next (a link when this
    official takes it on this page)."""
    state = doc.get_state_display()
    State = OutgoingDocument.State
    if doc.state == State.SIGNED:
        return job_progress.Outcome(
            _("Signed. The document is now: %(state)s.") % {"state": state},
            _("the clerk issues it (number, date and the agency's signature)."),
            "#action-issue" if "issue" in actions else "", _("Issue"))
    if doc.state == State.NUMBERED:
        return job_progress.Outcome(
            _("Numbered %(number)s. The document is now: %(state)s.") % {"number": doc.number_symbol, "state": state},
            _("the agency's signature is added."), "#action-agency_sign" if "agency_sign" in actions else "",
            _("Apply the agency's signature"))
    if doc.state == State.ISSUED:
        return job_progress.Outcome(
            _("Issued with the number %(number)s. The document is now: %(state)s.") % {
                "number": doc.number_symbol, "state": state},
            _("send it to the recipients."), "#action-dispatch" if "dispatch" in actions else "",
            _("Send to the recipients"))
    return job_progress.Outcome(_("Done. The document is now: %(state)s.") % {"state": state})


def _delivery_progress(request, doc, actions) -> job_progress.Progress | None:
    """The panel of the deliveries to other communes after dispatching: while they go, and once
    they went when the page was sent here by the dispatch (``?sent=1``)."""
    from documents.models import ExchangeJob

    if doc.state not in (OutgoingDocument.State.DISPATCHED, OutgoingDocument.State.FILED):
        return None
    latest = {}
    for job in ExchangeJob.objects.filter(kind=ExchangeJob.Kind.DELIVER, recipient__document=doc).order_by("-pk")[:50]:
        latest.setdefault(job.recipient_id, job)
    jobs = list(latest.values())
    if not jobs or (all(job.is_finished for job in jobs) and not request.GET.get("sent")):
        return None
    url = reverse("documents:outgoing-detail", args=[doc.pk])
    return job_progress.Progress(
        jobs=jobs, label=_("Sending to the recipients"), page_url=f"{url}?sent=1",
        poll_url=f"{reverse('documents:outgoing-progress', args=[doc.pk])}?sent=1",
        outcome=job_progress.Outcome(
            _("Sent to the recipients. The document is now: %(state)s.") % {"state": doc.get_state_display()},
            _("file it in the archive when the matter is closed."), "#action-file" if "file" in actions else "",
            _("File in the archive")),
        advice=_("the recipients below say which delivery failed; tell the commune's administrator, or send the "
                 "document to that recipient another way."),
    )


def _outgoing_progress(request, doc, actions) -> job_progress.Progress | None:
    """The panel of the signature this document waits for, or of the one the page was sent to
    after asking for it (``?job=``), or of its deliveries; None when there is nothing to show."""
    delivery = _delivery_progress(request, doc, actions)
    if delivery is not None:
        return delivery
    latest = signing.latest_jobs(doc)
    pending = [job for job in latest if not job.is_finished]
    asked = signing.job_of(doc, request.GET.get("job")) if request.GET.get("job") else None
    if pending:
        jobs = pending
    elif asked is not None:
        # The action's jobs: the one asked for and, when issuing, the attachments' of the same moment.
        jobs = [asked] + [job for job in latest if job.pk != asked.pk and job.purpose == "attachment"
                          and asked.purpose == "agency" and job.created_at >= asked.created_at]
    else:
        failed = [job for job in latest if job.state == job.State.FAILED and job.purpose in SIGNATURE_PANELS
                  and doc.state == SIGNATURE_PANELS[job.purpose][1]]
        if not failed:
            return None
        jobs = failed[:1]
    main = jobs[0]
    page_url = f"{reverse('documents:outgoing-detail', args=[doc.pk])}?job={main.pk}"
    return job_progress.Progress(
        jobs=jobs, label=str(SIGNATURE_PANELS.get(main.purpose, (_("Signature"),))[0]), page_url=page_url,
        poll_url=f"{reverse('documents:outgoing-progress', args=[doc.pk])}?job={main.pk}",
        outcome=_next_step(doc, actions), advice=signing.failure_advice(),
    )


def _outgoing_detail(request, doc, bound=None, status=200):
    actions = permissions.actions_for(request.user, doc)
    action_forms = {name: form_class() for name, form_class in OUTGOING_FORMS.items() if name in actions}
    if bound:
        action_forms[bound[0]] = bound[1]
    if "edit" in actions and not doc.is_secret:
        action_forms["attachment"] = bound[1] if bound and bound[0] == "attachment" else forms.AttachmentForm()
    policy = numbering.get_policy()
    next_number = None
    if not doc.is_numbered and doc.state != OutgoingDocument.State.WITHDRAWN:
        key = numbering.sequence_key(doc.doc_type, secret=doc.is_secret, policy=policy)
        next_number = numbering.peek(numbering.local_today().year, key)
    progress = _outgoing_progress(request, doc, actions)
    if progress is not None and not progress.finished:
        # A signature is on its way: its progress stands where the PIN forms were.
        actions = actions - PIN_ACTIONS
    return _render(request, "documents/outgoing_detail.html", {
        "doc": doc, "actions": actions, "forms": action_forms, "next_number": next_number, "progress": progress,
        "number_line": numbering.number_line(doc.number_symbol) if doc.number_symbol else "",
        "date_line": numbering.date_line(doc.place_name, doc.issued_on) if doc.issued_on else "",
        "attachments": doc.attachments.all(), "recipients": doc.electronic_recipients.all(),
        "history": doc.history.order_by("-history_date")[:30],
        "names": user_names(h.history_user_id for h in doc.history.all()[:30]),
    }, status=status)


@page_requires("outgoing.read")
def outgoing_detail(request, pk):
    return _outgoing_detail(request, _outgoing(request, pk))


@page_requires("outgoing.read")
def outgoing_progress(request, pk):
    """The signature panel, polled by the page while the signature is on its way."""
    doc = _outgoing(request, pk)
    progress = _outgoing_progress(request, doc, permissions.actions_for(request.user, doc))
    if progress is None:
        return redirect("documents:outgoing-detail", pk=doc.pk)
    return job_progress.respond(request, progress)


@require_POST
@page_requires("outgoing.read")
def outgoing_action(request, pk, action):
    doc = _outgoing(request, pk)
    actions = permissions.actions_for(request.user, doc)
    if action == "attachment":
        if "edit" not in actions or doc.is_secret:
            raise PermissionDenied
        form = forms.AttachmentForm(request.POST, request.FILES)
    elif action not in actions or action == "edit":
        raise PermissionDenied
    else:
        form_class = OUTGOING_FORMS.get(action)
        form = form_class(request.POST) if form_class else None
    if form is not None and not form.is_valid():
        return _outgoing_detail(request, doc, (action, form), status=400)
    data = form.cleaned_data if form else {}
    user = request.user
    if action in PIN_ACTIONS:
        # Signing needs a session opened with the second factor (TOTP), not the password alone;
        # after the code the official comes back to the document's page (the action is POST only).
        confirm = confirmation_redirect(request, reverse("documents:outgoing-detail", args=[doc.pk]))
        if confirm is not None:
            return confirm
    try:
        if action == "attachment":
            services.add_attachment(doc, user=user, upload=data["file"], title=data["title"])
            message = _("The attachment was added.")
        elif action == "submit":
            services.submit(doc, user=user)
            message = _("The draft was sent for review.")
        elif action == "approve":
            services.approve(doc, user=user, note=data["note"])
            message = _("The draft was approved.")
        elif action == "return":
            services.return_draft(doc, user=user, reason=data["reason"])
            message = _("The draft was returned to the drafter.")
        elif action == "sign":
            job = services.sign_as_leader(doc, user, data["pin"])
            return _to_progress(doc, job)
        elif action == "issue":
            doc = services.issue(doc, user, data["pin"])
            if not doc.is_secret:
                return _to_progress(doc)
            message = _("Issued with the number %(number)s.") % {"number": doc.number_symbol}
        elif action == "agency_sign":
            services.apply_agency_signature(doc, user, data["pin"])
            return _to_progress(doc)
        elif action == "dispatch":
            services.dispatch(doc, user=user, day=data["day"], note=data["note"])
            if doc.electronic_recipients.filter(kind="commune").exists():
                # The deliveries to other communes are jobs: the page shows them going.
                return redirect(f"{reverse('documents:outgoing-detail', args=[pk])}?sent=1")
            message = _("The document was dispatched.")
        elif action == "file":
            services.file_document(doc, user=user, retention_years=data["retention_years"], archive_code=data["archive_code"])
            message = _("The document was filed.")
        elif action == "withdraw":
            services.withdraw(doc, user=user, reason=data["reason"])
            message = _("The document was withdrawn.")
        else:
            raise Http404
    except ValidationError as exc:
        if form is None:
            messages.error(request, " ".join(exc.messages))
            return redirect("documents:outgoing-detail", pk=pk)
        _errors_to_form(form, exc)
        doc = _outgoing(request, pk)
        if action in PIN_ACTIONS:
            advice = signing.refusal_advice(error_code(exc))
            if advice:
                form.add_error(None, advice)
            if action == "issue" and doc.state == OutgoingDocument.State.NUMBERED:
                action = "agency_sign"  # the number is kept: the signature is asked again there
        return _outgoing_detail(request, doc, (action, form), status=400)
    messages.success(request, message)
    return redirect("documents:outgoing-detail", pk=pk)


def _to_progress(doc, job=None):
    """After asking for a signature: the document's page, showing that signature's progress."""
    if getattr(job, "pk", None) is None:
        job = next((j for j in signing.latest_jobs(doc) if j.subject == f"documents.outgoing:{doc.pk}"), None)
    url = reverse("documents:outgoing-detail", args=[doc.pk])
    return redirect(f"{url}?job={job.pk}" if job is not None else url)


@require_POST
@page_requires("outgoing.draft")
def outgoing_attachment_remove(request, pk, attachment_pk):
    doc = _outgoing(request, pk)
    attachment = get_object_or_404(OutgoingAttachment, pk=attachment_pk, document=doc)
    try:
        services.remove_attachment(attachment, user=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("documents:outgoing-detail", pk=doc.pk)


@page_requires("outgoing.read")
def outgoing_preview(request, pk):
    doc = _outgoing(request, pk)
    if doc.is_secret:
        raise Http404
    try:
        pdf = services.preview_pdf(doc)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("documents:outgoing-detail", pk=doc.pk)
    response = HttpResponse(pdf, content_type=files.PDF_CONTENT_TYPE)
    response["Content-Disposition"] = f'inline; filename="du-thao-{doc.pk}.pdf"'
    return response


OUTGOING_FILES = {"draft": "draft_pdf", "leader-signed": "leader_signed_pdf", "numbered": "numbered_pdf", "issued": "issued_pdf"}


@page_requires("outgoing.read")
def outgoing_file(request, pk, kind):
    doc = _outgoing(request, pk)
    field = OUTGOING_FILES.get(kind)
    if field is None or doc.is_secret or not getattr(doc, field):
        raise Http404
    return _pdf_response(getattr(doc, field), f"van-ban-di-{doc.pk}-{kind}.pdf")


@page_requires("outgoing.read")
def outgoing_attachment(request, pk, attachment_pk):
    doc = _outgoing(request, pk)
    attachment = get_object_or_404(OutgoingAttachment, pk=attachment_pk, document=doc)
    return _pdf_response(attachment.signed_file or attachment.file, files.clean_filename(attachment.title))


# --- registers ---------------------------------------------------------------------------------

def _register(request, kind):
    form = forms.RegisterForm(request.GET or None)
    data = form.cleaned_data if form.is_valid() else {}
    args = (data.get("date_from"), data.get("date_to"))
    kwargs = {"secret": bool(data.get("secret")), "q": data.get("q", "")}
    queryset = selectors.outgoing_register(*args, **kwargs) if kind == registers.OUTGOING else \
        selectors.incoming_register(*args, **kwargs)
    return form, data, queryset


def _agency() -> str:
    return numbering.agency_name(numbering.get_policy())


def register_page(request, kind):
    form, data, queryset = _register(request, kind)
    register = registers.build(kind, queryset, date_from=data.get("date_from"), date_to=data.get("date_to"),
                               secret=bool(data.get("secret")), limit=REGISTER_PAGE_ROWS)
    return _render(request, "documents/register.html", {
        "form": form, "register": register, "kind": kind, "limit": REGISTER_PAGE_ROWS,
        "query": request.GET.urlencode() if not form.errors else "",
    }, status=400 if form.errors else 200)


def register_export(request, kind, fmt):
    form, data, queryset = _register(request, kind)
    if form.errors:
        return register_page(request, kind)
    register = registers.build(kind, queryset, date_from=data.get("date_from"), date_to=data.get("date_to"),
                               secret=bool(data.get("secret")))
    name = f"so-van-ban-{'di' if kind == registers.OUTGOING else 'den'}-{numbering.local_today():%Y%m%d}"
    if fmt == "pdf":
        response = HttpResponse(registers.to_pdf(register, _agency()), content_type=files.PDF_CONTENT_TYPE)
        response["Content-Disposition"] = f'attachment; filename="{name}.pdf"'
    else:
        response = HttpResponse(registers.to_xlsx(register, _agency()), content_type=registers.XLSX_CONTENT_TYPE)
        response["Content-Disposition"] = f'attachment; filename="{name}.xlsx"'
    return response


def register_view(kind, fmt=None):
    @page_requires("registers.read")
    def view(request):
        return register_export(request, kind, fmt) if fmt else register_page(request, kind)

    view.__name__ = f"register_{kind}_{fmt or 'page'}"
    return view


# --- statistics --------------------------------------------------------------------------------

def _statistics(request):
    form = periods.PeriodForm(request.GET or None, today=numbering.local_today())
    valid = form.is_valid() if form.is_bound else True
    period = form.get_period()
    figures = statistics.compute(period.date_from, period.date_to) if valid else None
    return form, period, figures


@page_requires("statistics.read")
def statistics_page(request):
    from core import charts

    form, period, figures = _statistics(request)
    context = {"form": form, "period": period, "figures": figures}
    if figures is not None:
        months = figures["by_month"]
        deadlines = figures["deadlines"]
        context.update({
            "on_time_percent": charts.percent(deadlines["on_time_share"]),
            "by_handler": [{**row, "on_time_percent": charts.percent(row["on_time_share"])}
                           for row in figures["by_handler"]],
            "months_chart": charts.column_chart(
                charts.month_labels([row["month"] for row in months]),
                [[row["received"] for row in months], [row["issued"] for row in months]],
                series=[_("documents received"), _("documents issued")],
                title=_("Documents received and issued per month"),
            ),
            "types_chart": charts.stacked_bar_chart(
                [(row["type"], [row["received"], row["issued"]]) for row in figures["by_type"]],
                series=[_("documents received"), _("documents issued")], title=_("Documents by type"),
            ) if figures["by_type"] else None,
            "deadlines_chart": charts.stacked_bar_chart(
                [(_("All handlers"), [deadlines["on_time"], deadlines["late"], deadlines["overdue"], deadlines["pending"]])]
                + [(row["handler_name"] or "–", [row["on_time"], row["late"], row["overdue"], row["pending"]])
                   for row in figures["by_handler"]],
                series=[_("by the deadline"), _("after the deadline"), _("overdue"), _("not yet due")],
                colours=["#00703c", "#f47738", "#d4351c", "#505a5f"],
                title=_("Incoming documents with a deadline"),
            ),
            "export_query": form.query(),
        })
    return _render(request, "documents/statistics.html", context, status=400 if form.errors else 200)


@page_requires("statistics.read")
def statistics_xlsx(request):
    form, period, figures = _statistics(request)
    if figures is None:
        return statistics_page(request)
    commune = connection.tenant
    response = HttpResponse(statistics.to_xlsx(figures, commune_name=str(commune), agency=_agency(), period=period),
                            content_type=registers.XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{periods.file_name("thong-ke-van-ban", commune, period, "xlsx")}"'
    return response


# --- settings ----------------------------------------------------------------------------------

@require_http_methods(["GET", "POST"])
@page_requires("settings.manage")
def settings_page(request):
    policy = numbering.get_policy()
    form = forms.PolicyForm(_posted(request), instance=policy)
    if request.method == "POST" and form.is_valid():
        try:
            services.save_policy(form.instance, user=request.user)
        except ValidationError as exc:
            _errors_to_form(form, exc)
        else:
            messages.success(request, _("The settings were saved."))
            return redirect("documents:settings")
    return _render(request, "documents/settings.html", {
        "form": form, "authority_form": forms.AuthorityForm(),
        "authorities": SigningAuthority.objects.select_related("user").prefetch_related("document_types"),
        "today": numbering.local_today(),
    }, status=400 if form.errors else 200)


@require_POST
@page_requires("settings.manage")
def authority_create(request):
    form = forms.AuthorityForm(request.POST)
    if form.is_valid():
        form.instance.user_id = form.cleaned_data["user"]
        try:
            services.save_authority(form.instance, user=request.user, document_types=form.cleaned_data["document_types"])
        except ValidationError as exc:
            _errors_to_form(form, exc)
        else:
            messages.success(request, _("The signing authority was added."))
            return redirect("documents:settings")
    return _render(request, "documents/settings.html", {
        "form": forms.PolicyForm(instance=numbering.get_policy()), "authority_form": form,
        "authorities": SigningAuthority.objects.select_related("user").prefetch_related("document_types"),
        "today": numbering.local_today(),
    }, status=400)


@require_POST
@page_requires("settings.manage")
def authority_end(request, pk):
    authority = get_object_or_404(SigningAuthority, pk=pk)
    services.end_authority(authority, user=request.user)
    messages.success(request, _("The signing authority ends today."))
    return redirect("documents:settings")
