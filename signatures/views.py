"""Pages: my certificates and signature image, the commune's certificates (administrator),
signing jobs with a progress panel polled by htmx, downloads of signed files."""
from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from communes.second_factor import second_factor_required
from jobs import progress
from signatures import progress as signing_progress
from signatures import permissions, selectors, services
from signatures.forms import (
    ChangePinForm, GrantForm, ImageForm, ImportForm, OwnImportForm, RemoteForm, SignUploadForm,
)
from signatures.models import Backend, CertificateKind, ImageKind, KeyGrant, SigningCertificate, SigningJob
from signatures.permissions import manager_required, module_required, signer_required

MAX_UPLOAD_READ = 25 * 1024 * 1024


def _commune(request):
    return getattr(request, "commune", None)


def _add_errors(form, exc: ValidationError):
    for field, errors in exc.message_dict.items():
        form.add_error(field if field in form.fields else None, errors)


def _read_upload(form, name: str, limit: int) -> bytes:
    upload = form.cleaned_data.get(name)
    if upload is None:
        return b""
    if upload.size > limit:
        raise ValidationError({name: _("The file is too large.")})
    return upload.read()


# --- my signature ---------------------------------------------------------------------------

@module_required
def mine(request):
    user = request.user
    certificates = list(selectors.own_certificates(user))
    grants = {g.certificate_id: g for g in selectors.own_grants(user)}
    for certificate in certificates:
        certificate.my_grant = grants.get(certificate.pk)
    return render(request, "signatures/mine.html", {
        "certificates": certificates,
        "image": services.active_image(ImageKind.SIGNATURE, user.pk),
        "image_form": ImageForm(),
        "import_form": OwnImportForm() if permissions.may_hold_personal(user, _commune(request)) else None,
        "jobs": selectors.visible_jobs(user, _commune(request)).filter(requested_by_id=user.pk)[:10],
        "can_manage": permissions.can_manage(user, _commune(request)),
        "can_sign": permissions.can_sign(user, _commune(request)),
    })


@signer_required
@require_POST
def upload_image(request):
    form = ImageForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            data = _read_upload(form, "file", services.MAX_IMAGE_BYTES + 1)
            services.save_signature_image(data=data, kind=ImageKind.SIGNATURE, owner_user_id=request.user.pk,
                                          actor=request.user)
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, _("Your signature image is saved."))
            return redirect("signatures:mine")
    return render(request, "signatures/image_form.html", {"form": form, "kind": ImageKind.SIGNATURE}, status=400)


@second_factor_required
@signer_required
@require_http_methods(["GET", "POST"])
def import_own(request):
    if not permissions.may_hold_personal(request.user, _commune(request)):
        raise PermissionDenied
    form = OwnImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            certificate = services.import_pkcs12(
                file_bytes=_read_upload(form, "file", services.MAX_PKCS12_BYTES + 1),
                passphrase=form.cleaned_data["passphrase"], kind=CertificateKind.PERSONAL,
                owner_user_id=request.user.pk, grants={request.user.pk: form.cleaned_data["pin"]}, actor=request.user,
            )
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, _("The certificate of %(subject)s is imported.") % {"subject": certificate.subject})
            return redirect("signatures:mine")
    return render(request, "signatures/import.html", {"form": form, "own": True},
                  status=400 if form.errors else 200)


@second_factor_required
@module_required
@require_http_methods(["GET", "POST"])
def change_pin(request, pk):
    grant = get_object_or_404(KeyGrant.objects.select_related("certificate"), pk=pk, user_id=request.user.pk)
    form = ChangePinForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.change_pin(grant, old_pin=form.cleaned_data["old_pin"], new_pin=form.cleaned_data["new_pin"])
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, _("Your PIN is changed."))
            return redirect("signatures:mine")
    return render(request, "signatures/change_pin.html", {"form": form, "grant": grant},
                  status=400 if form.errors else 200)


@second_factor_required
@signer_required
@require_http_methods(["GET", "POST"])
def sign_upload(request):
    certificates = list(services.usable_certificates(request.user))
    form = SignUploadForm(request.POST or None, request.FILES or None, certificates=certificates)
    if request.method == "POST" and form.is_valid():
        certificate = next(c for c in certificates if c.pk == form.cleaned_data["certificate"])
        try:
            job = services.sign_uploaded_pdf(
                user=request.user, certificate=certificate, pin=form.cleaned_data["pin"],
                data=_read_upload(form, "file", MAX_UPLOAD_READ), filename=form.cleaned_data["file"].name,
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as exc:
            _add_errors(form, exc)
        except services.SigningRefused as exc:
            form.add_error("pin" if exc.code in ("wrong_pin", "pin_locked") else None, exc.message)
        else:
            return redirect("signatures:job", pk=job.pk)
    return render(request, "signatures/sign.html", {"form": form, "certificates": certificates},
                  status=400 if form.errors else 200)


# --- the commune's certificates (administrator) -----------------------------------------------

@manager_required
def commune(request):
    certificates = list(selectors.commune_certificates())
    owners = selectors.users_by_id([c.owner_user_id for c in certificates])
    for certificate in certificates:
        certificate.owner = owners.get(certificate.owner_user_id)
    return render(request, "signatures/commune.html", {
        "certificates": certificates,
        "seal": services.active_image(ImageKind.SEAL),
        "seal_form": ImageForm(),
        "events": selectors.events(50),
    })


@manager_required
@require_http_methods(["GET", "POST"])
def import_certificate(request):
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        kind = data["kind"]
        try:
            certificate = services.import_pkcs12(
                file_bytes=_read_upload(form, "file", services.MAX_PKCS12_BYTES + 1), passphrase=data["passphrase"],
                kind=kind, owner_user_id=data["holder"] if kind == CertificateKind.PERSONAL else None,
                grants={data["holder"]: data["pin"]}, actor=request.user,
            )
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, _("The certificate of %(subject)s is imported.") % {"subject": certificate.subject})
            return redirect("signatures:certificate", pk=certificate.pk)
    return render(request, "signatures/import.html", {"form": form, "own": False},
                  status=400 if form.errors else 200)


@manager_required
@require_http_methods(["GET", "POST"])
def register_remote(request):
    form = RemoteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        personal = data["kind"] == CertificateKind.PERSONAL
        try:
            certificate = services.register_csc_certificate(
                kind=data["kind"], service_url=data["service_url"], credential_id=data["credential_id"],
                token_setting=data["token_setting"].strip(), owner_user_id=data["holder"] if personal else None,
                grant_user_ids=[data["holder"]], actor=request.user,
            )
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, _("The remote certificate of %(subject)s is registered.") % {"subject": certificate.subject})
            return redirect("signatures:certificate", pk=certificate.pk)
    return render(request, "signatures/register_remote.html", {"form": form}, status=400 if form.errors else 200)


@manager_required
@require_POST
def upload_seal(request):
    form = ImageForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            services.save_signature_image(data=_read_upload(form, "file", services.MAX_IMAGE_BYTES + 1),
                                          kind=ImageKind.SEAL, actor=request.user)
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, _("The commune's seal is saved."))
            return redirect("signatures:commune")
    return render(request, "signatures/image_form.html", {"form": form, "kind": ImageKind.SEAL}, status=400)


def _certificate_for_page(request, pk) -> SigningCertificate:
    certificate = get_object_or_404(SigningCertificate, pk=pk)
    if not permissions.can_view_certificate(request.user, certificate, _commune(request)):
        raise Http404
    return certificate


@module_required
def certificate_detail(request, pk):
    certificate = _certificate_for_page(request, pk)
    manage = permissions.can_manage(request.user, _commune(request))
    grants = selectors.grants_of(certificate)
    grant_form = None
    if manage and certificate.kind == CertificateKind.AGENCY and certificate.active:
        grant_form = GrantForm(holders=[g for g in grants if g.encrypted_key is not None],
                               needs_pin=certificate.backend == Backend.SOFTWARE)
    return render(request, "signatures/certificate.html", {
        "certificate": certificate, "grants": grants if manage else [g for g in grants if g.user_id == request.user.pk],
        "owner": selectors.users_by_id([certificate.owner_user_id]).get(certificate.owner_user_id),
        "manage": manage, "grant_form": grant_form,
    })


@manager_required
@require_POST
def deactivate(request, pk):
    certificate = get_object_or_404(SigningCertificate, pk=pk)
    services.deactivate_certificate(certificate, actor=request.user)
    messages.success(request, _("The certificate is deactivated: no further signature can be made with it."))
    return redirect("signatures:certificate", pk=certificate.pk)


@manager_required
@require_POST
def add_grant(request, pk):
    certificate = get_object_or_404(SigningCertificate, pk=pk)
    grants = selectors.grants_of(certificate)
    needs_pin = certificate.backend == Backend.SOFTWARE
    form = GrantForm(request.POST, holders=[g for g in grants if g.encrypted_key is not None], needs_pin=needs_pin)
    if form.is_valid():
        data = form.cleaned_data
        try:
            if needs_pin:
                services.add_grant(certificate, data["user"], data["pin"], request.user, data["unlocking_pin"],
                                   unlocking_user_id=data["unlocking_user"])
            else:
                services.add_right(certificate, data["user"], actor=request.user)
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, _("The clerk may now use the commune's key."))
            return redirect("signatures:certificate", pk=certificate.pk)
    return render(request, "signatures/certificate.html", {
        "certificate": certificate, "grants": grants, "manage": True, "grant_form": form,
        "owner": None,
    }, status=400)


@manager_required
@require_POST
def revoke_grant(request, pk):
    grant = get_object_or_404(KeyGrant, pk=pk)
    certificate_pk = grant.certificate_id
    services.revoke_grant(grant, actor=request.user)
    messages.success(request, _("The key was taken away from this person."))
    return redirect("signatures:certificate", pk=certificate_pk)


@manager_required
@require_POST
def unlock_grant(request, pk):
    grant = get_object_or_404(KeyGrant, pk=pk)
    services.unlock_grant(grant, actor=request.user)
    messages.success(request, _("The PIN lock is lifted."))
    return redirect("signatures:certificate", pk=grant.certificate_id)


# --- signing jobs ---------------------------------------------------------------------------------

def _job_for_page(request, pk) -> SigningJob:
    job = get_object_or_404(SigningJob.objects.select_related("certificate"), pk=pk)
    if not permissions.can_view_job(request.user, job, _commune(request)):
        raise Http404
    return job


@module_required
def job_list(request):
    page = Paginator(selectors.visible_jobs(request.user, _commune(request)), 30).get_page(request.GET.get("page"))
    return render(request, "signatures/jobs.html", {"page": page})


def _progress(job) -> progress.Progress:
    """The job's panel (the pattern every page that starts a job shows): its progress, then the
    signed file to download, or what to do when it failed."""
    status = services.job_status(job)
    return progress.Progress(
        jobs=[job], label=_("Signature"), page_url=reverse("signatures:job", args=[job.pk]),
        poll_url=reverse("signatures:job-progress", args=[job.pk]),
        outcome=progress.Outcome(_("Signed."), _("download the signed file."),
                                 reverse("signatures:download", args=[job.pk]) if status["done"] else "",
                                 _("Download the signed file")),
        advice=_("sign the file again; if it fails again, tell %(who)s.") % {"who": signing_progress.managers_text()},
        note=_("Waiting for confirmation on your phone. Open the signing application and confirm this signature; "
               "this page updates by itself.") if status["waiting_for_phone"] else "",
    )


@module_required
def job_detail(request, pk):
    job = _job_for_page(request, pk)
    return render(request, "signatures/job.html", {"job": job, "progress": _progress(job)})


@module_required
def job_progress(request, pk):
    return progress.respond(request, _progress(_job_for_page(request, pk)))


@module_required
def download(request, pk):
    job = _job_for_page(request, pk)
    found = services.signed_file(job)
    if found is None:
        raise Http404
    handle, filename = found
    return FileResponse(handle, as_attachment=True, filename=filename, content_type="application/pdf")
