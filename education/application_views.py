"""The pages of online enrolment in grade 1 and grade 6.

Citizens (``/school-enrolment/…`` on the commune's host, the citizens' layout, 360 px):

* ``school-enrolment/`` which schools take applications, for which grade and year, their
  catchment villages, the papers to attach, what happens next;
* ``school-enrolment/apply/`` the form (logged in): its submission key makes a second click find
  the first application; files that passed their checks are kept across a refusal;
* ``school-enrolment/applications/<pk>/sent/`` the confirmation panel with the reference and the
  expected answer date;
* ``school-enrolment/applications/`` and ``…/<pk>/`` the citizen's own applications (another
  person's: 404), with the state, the history, the school's note, the papers asked for, and
  withdrawing (``…/withdraw/``: a page that asks first).

School staff (``/schools/applications/…``, ``applications.decide`` of the application's school):
the list by state with filters, an application with its papers (each download logged) and the
decisions. Every page or file showing a child is written in the access log.
"""
from __future__ import annotations

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from core.phones import normalize_mobile
from core.validation import error_code
from education import applications, permissions
from education.application_forms import AdmitForm, ApplicationForm, NoteForm, PapersForm, errors_to_form
from education.models import Application, School
from population.models import AccessLog
from population.services import log_access

MAX_ID = 2_147_483_647
OBJECT_TYPE = "enrolment_application"


def log_read(user, application, *, channel="page", what="enrolment application"):
    return log_access(user, action=AccessLog.Action.VIEW, channel=channel, object_type=OBJECT_TYPE,
                      object_id=application.pk, description=what)


def _id(pk) -> int:
    if int(pk) > MAX_ID:
        raise Http404
    return int(pk)


def history(application) -> list[dict]:
    """The application's states in time, the notes the school wrote, and the papers the parent
    sent afterwards (history lines with the reason ``applications.PAPERS_REASON``)."""
    events = []
    previous = None
    for row in application.history.order_by("history_date", "history_id"):
        reason = row.history_change_reason or ""
        if reason.startswith(applications.PAPERS_REASON):
            events.append({"at": row.history_date, "code": "paper", "note": "",
                           "state": _("Paper sent: %(name)s") % {"name": reason[len(applications.PAPERS_REASON):]}})
            continue
        note = row.decision_note if row.state in ("needs_papers", "refused", "accepted") else ""
        if (row.state, note) != previous:  # a change of state, or papers asked for again
            events.append({"at": row.history_date, "code": row.state, "state": applications.state_label(row.state),
                           "note": note})
            previous = (row.state, note)
    return events


def _file(document, *, attachment=True):
    from core.storage import open_file

    try:
        handle = open_file(document.file)
    except OSError:
        raise Http404
    return FileResponse(handle, as_attachment=attachment, filename=document.name)


# --- citizens ---------------------------------------------------------------------------------

def enrolment_home(request):
    return render(request, "education/applications/public_home.html", {
        "schools": applications.open_schools(), "years": applications.open_years(),
        "answer_days": applications.ANSWER_WORKING_DAYS, "max_files": applications.MAX_FILES,
        "max_bytes": applications.MAX_BYTES,
    })


def _initial(user) -> dict:
    phone = normalize_mobile(user.get_username() or "") or normalize_mobile(getattr(user, "phone", "") or "") or ""
    return {"applicant_name": getattr(user, "full_name", "") or "", "applicant_phone": phone,
            "applicant_email": user.email or ""}


def _apply_page(request, form, key, *, status=200):
    return render(request, "education/applications/apply.html", {
        "form": form, "submission_key": key, "max_files": applications.MAX_FILES,
        "max_bytes": applications.MAX_BYTES, "open": bool(applications.open_years() and applications.open_schools()),
    }, status=status)


@login_required
@never_cache
def apply(request):
    if request.method != "POST":
        initial = _initial(request.user)
        grade = request.GET.get("grade")
        if grade in ("1", "6"):
            initial["grade"] = int(grade)
        school = request.GET.get("school")
        if school and school.isdigit() and int(school) <= MAX_ID:
            initial["school"] = int(school)
        return _apply_page(request, ApplicationForm(initial=initial), uuid.uuid4().hex)
    key = str(request.POST.get("submission_key") or "")[:64] or uuid.uuid4().hex
    earlier = Application.objects.filter(submission_key=key, applicant_id=request.user.pk).first()
    if earlier is not None:  # a second click of the same page
        messages.info(request, _("Your application has already been sent."))
        return HttpResponseRedirect(reverse("education_public:application_sent", args=[earlier.pk]))
    form = ApplicationForm(request.POST, request.FILES)
    if form.is_valid():
        data = form.cleaned_data
        try:
            application, _created = applications.submit(
                request.user, school=data["school"], year=data["year"], grade=data["grade"],
                child_name=data["child_name"], child_birth_date=data["child_birth_date"],
                child_sex=data["child_sex"], previous_school=data["previous_school"],
                applicant_name=data["applicant_name"], applicant_phone=data["applicant_phone"],
                applicant_email=data["applicant_email"], papers=form.papers(), submission_key=key)
        except ValidationError as error:
            errors_to_form(form, error)
        else:
            return HttpResponseRedirect(reverse("education_public:application_sent", args=[application.pk]))
    return _apply_page(request, form, key)


def _own(request, pk) -> Application:
    application = Application.objects.select_related("school", "year", "village").filter(
        pk=_id(pk), applicant_id=request.user.pk).first()
    if application is None:
        raise Http404
    return application


@login_required
@never_cache
def sent(request, pk):
    application = _own(request, pk)
    return render(request, "education/applications/sent.html", {
        "application": application, "expected": applications.expected_answer(application),
        "age_note": applications.age_note(application)})


@login_required
@never_cache
def my_applications(request):
    return render(request, "education/applications/mine.html", {
        "applications": applications.mine(request.user).order_by("-submitted_at")})


def _missing_initial(application) -> dict:
    missing = applications.missing_papers(application)
    return {"kind": missing[0]} if missing else {}


def _my_page(request, application, papers_form=None, *, status=200):
    return render(request, "education/applications/my_application.html", {
        "application": application, "history": history(application),
        "documents": application.documents.order_by("uploaded_at", "pk"),
        "papers_form": papers_form or PapersForm(initial=_missing_initial(application)),
        "expected": applications.expected_answer(application),
        "open": application.state in applications.OPEN_STATES,
        "missing": [applications.kind_label(k) for k in applications.missing_papers(application)],
        "withdrawable": application.state in applications.WITHDRAWABLE,
        "age_note": applications.age_note(application)}, status=status)


@login_required
@never_cache
def my_application(request, pk):
    application = _own(request, pk)
    if request.method == "POST":
        form = PapersForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                applications.send_papers(request.user, application,
                                         [(form.cleaned_data["kind"], f) for f in form.cleaned_data["files"]])
            except ValidationError as error:
                if error_code(error) == "state":  # decided meanwhile: nothing to send any more
                    for message in error.messages:
                        messages.error(request, message)
                    return HttpResponseRedirect(reverse("education_public:my_application", args=[application.pk]))
                errors_to_form(form, error)
            else:
                messages.success(request, _("The papers were sent to the school."))
                return HttpResponseRedirect(reverse("education_public:my_application", args=[application.pk]))
        return _my_page(request, application, form)
    return _my_page(request, application)


@login_required
@never_cache
def my_document(request, pk, doc):
    application = _own(request, pk)
    document = get_object_or_404(application.documents, pk=_id(doc))
    return _file(document)


@login_required
@never_cache
def withdraw(request, pk):
    application = _own(request, pk)
    if application.state not in applications.WITHDRAWABLE:
        messages.info(request, _("This application can no longer be withdrawn."))
        return HttpResponseRedirect(reverse("education_public:my_application", args=[application.pk]))
    if request.method != "POST" or request.POST.get("confirm") != "yes":
        return render(request, "education/applications/withdraw.html", {"application": application})
    try:
        applications.withdraw(request.user, application)
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    else:
        messages.success(request, _("The application has been withdrawn."))
    return HttpResponseRedirect(reverse("education_public:my_application", args=[application.pk]))


# --- school staff --------------------------------------------------------------------------------

page_requires = permissions.page_requires


def _deciding_schools(user):
    return [s for s in permissions.schools_for(user).order_by("name") if permissions.can(user, "applications.decide", s)]


@page_requires("module.open")
def staff_index(request):
    schools = _deciding_schools(request.user)
    if not schools:
        raise PermissionDenied
    if len(schools) == 1:
        return HttpResponseRedirect(reverse("education:applications_school", args=[schools[0].pk]))
    return render(request, "education/applications/staff_index.html", {
        "schools": [(s, applications.counts(s)) for s in schools]})


@page_requires("module.open")
def staff_school(request, school_id):
    school = get_object_or_404(School, pk=_id(school_id))
    if not permissions.can(request.user, "applications.decide", school):
        raise PermissionDenied
    filters = {k: str(request.GET.get(k) or "")[:100] for k in ("state", "grade", "catchment", "q")}
    rows = applications.for_school(school, state=filters["state"], grade=filters["grade"],
                                   catchment=filters["catchment"], query=filters["q"])
    if request.GET.get("papers") == "1":
        rows = rows.filter(pk__in=applications.papers_received(school).values("pk"))
    rows = list(rows[:300])
    if filters["q"]:
        from education import access

        access.log_search(request.user, query=f"enrolment applications: {filters['q']}")
    log_access(request.user, action=AccessLog.Action.VIEW, channel="page", object_type=OBJECT_TYPE,
               description=f"list of {len(rows)} enrolment applications of school {school.pk}")
    counts = applications.counts(school)
    return render(request, "education/applications/staff_school.html", {
        "school": school, "rows": rows, "filters": filters,
        "state_counts": [(applications.state_label(v), counts.get(v, 0)) for v in Application.State.values],
        "states": [(value, applications.state_label(value)) for value in Application.State.values]})


def _staff_application(request, pk) -> Application:
    application = get_object_or_404(Application.objects.select_related("school", "year", "village", "household",
                                                                       "enrolment__school_class"), pk=_id(pk))
    if not permissions.can(request.user, "applications.decide", application.school):
        raise PermissionDenied
    return application


def _staff_page(request, application, *, note_form=None, refuse_form=None, admit_form=None, status=200):
    log_read(request.user, application)
    return render(request, "education/applications/staff_detail.html", {
        "application": application, "history": history(application),
        "documents": application.documents.order_by("uploaded_at", "pk"),
        "note_form": note_form or NoteForm(prefix="papers"), "refuse_form": refuse_form or NoteForm(prefix="refuse"),
        "admit_form": admit_form or AdmitForm(application, prefix="admit"),
        "age_note": applications.age_note(application), "open": application.state in applications.OPEN_STATES,
        "missing": [applications.kind_label(k) for k in applications.missing_papers(application)],
        "papers_waiting": applications.papers_received(application.school).filter(pk=application.pk).exists(),
    }, status=status)


@page_requires("module.open")
def staff_detail(request, pk):
    return _staff_page(request, _staff_application(request, pk))


@page_requires("module.open")
def staff_document(request, pk, doc):
    application = _staff_application(request, pk)
    document = get_object_or_404(application.documents, pk=_id(doc))
    log_read(request.user, application, what=f"paper {document.kind} of an enrolment application")
    return _file(document)


@require_POST
@page_requires("module.open")
def staff_action(request, pk, action):
    application = _staff_application(request, pk)
    user = request.user
    forms = {}
    try:
        if action == "check":
            applications.start_checking(user, application)
            done = _("Checking started.")
        elif action == "papers":
            form = forms["note_form"] = NoteForm(request.POST, prefix="papers")
            if not form.is_valid():
                raise ValidationError(_("Write which papers are needed."))
            applications.ask_papers(user, application, form.cleaned_data["note"])
            done = _("The parent was asked for the papers.")
        elif action == "refuse":
            form = forms["refuse_form"] = NoteForm(request.POST, prefix="refuse")
            if not form.is_valid():
                raise ValidationError(_("Write the reason for the refusal."))
            applications.refuse(user, application, form.cleaned_data["note"])
            done = _("The application was refused; the parent is told.")
        elif action == "admit":
            form = forms["admit_form"] = AdmitForm(application, request.POST, prefix="admit")
            if not form.is_valid():
                raise ValidationError(_("Choose a class of the list, or none."))
            applications.admit(user, application, school_class=form.cleaned_data["school_class"],
                               note=form.cleaned_data["note"])
            done = _("The child was admitted; the parent is told.")
        else:
            raise Http404
    except ValidationError as error:
        form = next(iter(forms.values()), None)
        if form is not None:
            for message in (error.messages if not hasattr(error, "error_dict") else
                            [m for ms in error.message_dict.values() for m in ms]):
                form.add_error(None, message)
        else:
            for message in error.messages:
                messages.error(request, message)
        application.refresh_from_db()
        return _staff_page(request, application, status=200, **forms)
    messages.success(request, done)
    return HttpResponseRedirect(reverse("education:applications_detail", args=[application.pk]))
