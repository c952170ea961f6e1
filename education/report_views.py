"""The report cards' pages (``/schools/reports/…``): the classes of the person's schools, a class's
PDFs (ask for the cards or the result sheet of a period), a job's page (its progress, then the PDF
and the next step: the principal's digital signature, or printing and signing by hand), the
downloads, and one student's card. Thin views: the rules are in ``education.report_cards``; each
view takes the school from the object and checks ``permissions.can``."""
from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from education import access, permissions, report_cards
from education.models import Enrolment, Period, ReportCardJob, SchoolClass
from jobs import progress as job_progress
from jobs.models import JobState

page_requires = permissions.page_requires


def _pdf(data: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    return response


def _class_for(user, pk, action="reports.make") -> SchoolClass:
    school_class = get_object_or_404(SchoolClass.objects.select_related("school", "year"), pk=pk)
    if not permissions.can(user, action, school_class.school):
        raise Http404
    return school_class


def _job_for(user, pk) -> ReportCardJob:
    job = report_cards.job_for(user, pk)
    if job is None:
        raise Http404
    return job


class RequestForm(forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("What"), choices=ReportCardJob.Kind.choices)
    period = forms.ChoiceField(label=gettext_lazy("Period"), choices=())

    def __init__(self, *args, school_class=None, **kwargs):
        super().__init__(*args, **kwargs)
        labels = dict(Period.choices)
        self.fields["period"].choices = [(p, labels[p]) for p in report_cards.periods_for(school_class)]
        self.fields["period"].initial = Period.YEAR


class SignForm(forms.Form):
    pin = forms.CharField(label=gettext_lazy("PIN of your certificate"), max_length=32,
                          widget=forms.PasswordInput(attrs={"autocomplete": "off", "inputmode": "numeric"}))


@page_requires("module.open")
def index(request):
    """The current classes of the schools where the person makes report cards."""
    schools = [s for s in permissions.schools_for(request.user).order_by("name")
               if permissions.can(request.user, "reports.make", s)]
    if not schools:
        raise Http404
    classes = SchoolClass.objects.filter(school__in=schools, year__current=True).select_related(
        "school", "year").order_by("school__name", "grade", "name")
    unsigned = []
    if request.GET.get("unsigned"):
        unsigned = list(ReportCardJob.objects.filter(
            school_class__school__in=[s for s in schools if permissions.can(request.user, "reports.sign", s)],
            state=JobState.SUCCEEDED, signed=False).exclude(file="").select_related("school_class")[:50])
    return render(request, "education/reports/index.html", {"classes": classes, "unsigned": unsigned})


@page_requires("module.open")
@require_http_methods(["GET", "POST"])
def class_reports(request, class_id):
    school_class = _class_for(request.user, class_id)
    form = RequestForm(request.POST or None, school_class=school_class)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                job, created = report_cards.request_job(request.user, school_class, form.cleaned_data["kind"],
                                                        form.cleaned_data["period"])
            except ValidationError as exc:
                for key, errors in (exc.message_dict.items() if hasattr(exc, "error_dict")
                                    else [(None, exc.messages)]):
                    for error in errors:
                        form.add_error(key if key in form.fields else None, error)
                status = 400
            else:
                if not created:
                    messages.info(request, _("The same PDF is already being made: here is its progress."))
                return redirect("education:reports_job", pk=job.pk)
        else:
            status = 400
    enrolments = Enrolment.objects.filter(school_class=school_class, status__in=report_cards.LISTED_STATUSES) \
        .select_related("student__resident").order_by("number", "pk")
    access.log_class_read(request.user, school_class, what="report cards page")
    return render(request, "education/reports/class.html", {
        "school_class": school_class, "form": form, "jobs": report_cards.jobs_of_class(school_class),
        "enrolments": enrolments,
    }, status=status)


def _progress(request, job) -> job_progress.Progress:
    page_url = reverse("education:reports_job", args=[job.pk])
    jobs = [job]
    signing = [s for s in report_cards.signing_jobs(job)[:1] if not s.is_finished]
    jobs += signing
    can_sign = report_cards.can_sign(request.user, job)
    if job.signed:
        outcome = job_progress.Outcome(title=_("Made and signed by the principal."),
                                       next_step=_("print the signed PDF or send it on."),
                                       next_url=reverse("education:reports_pdf", args=[job.pk]) + "?signed=1",
                                       next_label=_("Signed PDF"))
    elif job.kind == ReportCardJob.Kind.REPORT_CARDS or can_sign:
        outcome = job_progress.Outcome(
            title=_("The PDF is made."),
            next_step=_("digital signature by the principal (or print the PDF for a handwritten signature)."),
            next_url=reverse("education:reports_job", args=[job.pk]) + "#sign" if can_sign else "",
            next_label=_("Sign"))
    else:
        outcome = job_progress.Outcome(title=_("The PDF is made."), next_step=_("print it."))
    label = _("%(kind)s of class %(name)s") % {"kind": job.get_kind_display(), "name": job.school_class.name}
    return job_progress.Progress(jobs=jobs, label=label, page_url=page_url,
                                 poll_url=reverse("education:reports_poll", args=[job.pk]), outcome=outcome)


@page_requires("module.open")
def job_page(request, pk):
    job = _job_for(request.user, pk)
    can_sign = report_cards.can_sign(request.user, job)
    certificate = report_cards.certificate_of(request.user) if can_sign else None
    signing = report_cards.signing_jobs(job)
    return render(request, "education/reports/job.html", {
        "job": job, "progress": _progress(request, job), "can_sign": can_sign, "certificate": certificate,
        "sign_form": SignForm(), "signing": signing[0] if signing else None,
        "signed_name": report_cards.signed_name(job),
        "is_principal": permissions.can(request.user, "reports.sign", job.school_class.school),
    })


@page_requires("module.open")
def job_poll(request, pk):
    job = _job_for(request.user, pk)
    return job_progress.respond(request, _progress(request, job))


@page_requires("module.open")
def job_pdf(request, pk):
    job = _job_for(request.user, pk)
    try:
        data, filename = report_cards.download(request.user, job, signed=bool(request.GET.get("signed")))
    except ValidationError:
        raise Http404 from None
    return _pdf(data, filename)


@page_requires("module.open")
@require_POST
def job_sign(request, pk):
    job = _job_for(request.user, pk)
    if not permissions.can(request.user, "reports.sign", job.school_class.school):
        raise Http404
    form = SignForm(request.POST)
    error = ""
    if form.is_valid():
        try:
            report_cards.sign(request.user, job, form.cleaned_data["pin"])
        except ValidationError as exc:
            error = exc.messages[0]
        else:
            messages.success(request, _("The signature is being made; the signed PDF is a new file."))
            return redirect("education:reports_job", pk=job.pk)
    else:
        error = _("Type the PIN of your certificate.")
    signing = report_cards.signing_jobs(job)
    return render(request, "education/reports/job.html", {
        "job": job, "progress": _progress(request, job), "can_sign": report_cards.can_sign(request.user, job),
        "certificate": report_cards.certificate_of(request.user), "sign_form": form, "sign_error": error,
        "signing": signing[0] if signing else None, "signed_name": report_cards.signed_name(job),
        "is_principal": True,
    }, status=400)


@page_requires("module.open")
def student_card(request, enrolment_id):
    enrolment = get_object_or_404(Enrolment.objects.select_related("school_class__school", "student__resident"),
                                  pk=enrolment_id)
    if not permissions.can(request.user, "reports.make", enrolment.school_class.school):
        raise Http404
    data, filename = report_cards.student_card(request.user, enrolment)
    return _pdf(data, filename)
