"""REST API of digital signatures: certificates, signing jobs, signature images.

Served on a commune host under ``/api/v1/signatures/…`` (and routed on the national host under
``/api/v1/communes/{commune_code}/signatures/…``, where supervising units are refused: signing
is the commune's own business).
"""
from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import FileResponse, Http404
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import exceptions, mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from communes.second_factor import SecondFactorVerified
from core.api import CommuneScopedMixin
from core.parsers import JSONParser
from signatures import permissions, selectors, services
from signatures.models import CertificateKind, ImageKind, SignatureImage, SigningCertificate, SigningJob

MAX_UPLOAD = 25 * 1024 * 1024
REFUSAL_STATUS = {"no_authority": 403, "pin_locked": 423, "already_signed": 409}


def refused(exc: services.SigningRefused) -> exceptions.APIException:
    error = exceptions.APIException(detail=exc.message, code=exc.code)
    error.status_code = REFUSAL_STATUS.get(exc.code, 400)
    return error


def _read(upload, limit: int, field: str) -> bytes:
    if upload.size > limit:
        raise exceptions.ValidationError({field: [_("The file is too large.")]})
    return upload.read()


# --- serializers ----------------------------------------------------------------------------------

class GrantSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    user = serializers.IntegerField(source="user_id")
    failed_attempts = serializers.IntegerField()
    locked_until = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()


class CertificateSerializer(serializers.ModelSerializer):
    owner = serializers.IntegerField(source="owner_user_id", read_only=True, allow_null=True)
    status = serializers.CharField(read_only=True)
    expires_soon = serializers.BooleanField(read_only=True)
    days_left = serializers.IntegerField(read_only=True)
    grants = serializers.SerializerMethodField()

    class Meta:
        model = SigningCertificate
        fields = [
            "id", "kind", "owner", "subject", "organisation", "title", "issuer", "serial", "fingerprint",
            "not_before", "not_after", "backend", "active", "status", "expires_soon", "days_left", "grants",
            "created_at",
        ]
        read_only_fields = fields

    @extend_schema_field(GrantSerializer(many=True))
    def get_grants(self, certificate):
        request = self.context.get("request")
        grants = certificate.grants.all()  # prefetched by the view
        if request is not None and not permissions.can_manage(request.user, getattr(request, "commune", None)):
            grants = [grant for grant in grants if grant.user_id == request.user.pk]
        return GrantSerializer(grants, many=True).data


class CertificateImportSerializer(serializers.Serializer):
    file = serializers.FileField(help_text=gettext_lazy("The PKCS#12 file (.p12 or .pfx)."))
    passphrase = serializers.CharField(required=False, allow_blank=True, max_length=200, default="",
                                       style={"input_type": "password"})
    kind = serializers.ChoiceField(choices=CertificateKind.choices)
    holder = serializers.IntegerField(min_value=1, max_value=2**63 - 1,
                                      help_text=gettext_lazy("User id of the owner (personal) or of a clerk (agency)."))
    pin = serializers.CharField(max_length=12, write_only=True, style={"input_type": "password"},
                                help_text=gettext_lazy("The holder's PIN, 6 to 12 digits."))


class SigningJobSerializer(serializers.ModelSerializer):
    certificate = serializers.IntegerField(source="certificate_id", read_only=True)
    requested_by = serializers.IntegerField(source="requested_by_id", read_only=True, allow_null=True)
    message = serializers.SerializerMethodField()
    waiting_for_phone = serializers.BooleanField(source="is_waiting_for_phone", read_only=True)
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = SigningJob
        fields = [
            "id", "state", "purpose", "subject", "certificate", "requested_by", "field_name", "progress_percent",
            "progress_message", "message", "waiting_for_phone", "waiting_reason", "error", "attempts",
            "download_url", "created_at", "updated_at", "finished_at",
        ]
        read_only_fields = fields

    def get_message(self, job) -> str:
        return services.job_status(job)["message"]

    def get_download_url(self, job) -> str | None:
        if job.state != SigningJob.State.SUCCEEDED or not job.output_name:
            return None
        try:
            return reverse("signing-job-download", kwargs={"pk": job.pk})
        except NoReverseMatch:
            return None


class SignUploadSerializer(serializers.Serializer):
    file = serializers.FileField(help_text=gettext_lazy("The PDF to sign (invisible signature)."))
    certificate = serializers.IntegerField(min_value=1, max_value=2**63 - 1)
    pin = serializers.CharField(max_length=12, required=False, allow_blank=True, default="", write_only=True,
                                style={"input_type": "password"})
    reason = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class SignatureImageSerializer(serializers.ModelSerializer):
    owner = serializers.IntegerField(source="owner_user_id", read_only=True, allow_null=True)

    class Meta:
        model = SignatureImage
        fields = ["id", "kind", "owner", "width", "height", "sha256", "active", "created_at"]
        read_only_fields = fields


class SignatureImageUploadSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=ImageKind.choices, default=ImageKind.SIGNATURE)
    file = serializers.FileField(help_text=gettext_lazy("A transparent PNG of at most 1 MB."))


# --- views ------------------------------------------------------------------------------------------

class _Base(CommuneScopedMixin, viewsets.GenericViewSet):
    supervisor_can_read = False
    parser_classes = [MultiPartParser, FormParser, JSONParser]

    @property
    def commune(self):
        return getattr(self.request, "commune", None)


class CertificateViewSet(_Base, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    """Signing certificates: one's own (and the agency ones one holds), all of them for the
    commune administrator, who imports and deactivates them."""

    serializer_class = CertificateSerializer
    read_roles = permissions.MODULE_ROLES
    write_roles = permissions.ADMIN_ROLES
    filterset_fields = ["kind", "active", "backend"]
    ordering_fields = ["not_after", "created_at", "id"]

    def get_queryset(self):
        return selectors.visible_certificates(self.request.user, self.commune).prefetch_related("grants")

    @extend_schema(request={"multipart/form-data": CertificateImportSerializer},
                   responses={201: CertificateSerializer})
    def create(self, request, *args, **kwargs):
        """Import a PKCS#12 file (commune administrator)."""
        form = CertificateImportSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        try:
            certificate = services.import_pkcs12(
                file_bytes=_read(data["file"], services.MAX_PKCS12_BYTES + 1, "file"), passphrase=data["passphrase"],
                kind=data["kind"], owner_user_id=data["holder"] if data["kind"] == CertificateKind.PERSONAL else None,
                grants={data["holder"]: data["pin"]}, actor=request.user,
            )
        except DjangoValidationError as exc:
            raise exceptions.ValidationError(_field_errors(exc, {"owner": "holder", "grants": "holder"})) from None
        return Response(CertificateSerializer(certificate, context=self.get_serializer_context()).data,
                        status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={200: CertificateSerializer})
    @action(detail=True, methods=["post"])
    def deactivate(self, request, pk=None):
        """No further signature with this certificate (commune administrator)."""
        certificate = services.deactivate_certificate(self.get_object(), actor=request.user)
        return Response(CertificateSerializer(certificate, context=self.get_serializer_context()).data)


def _field_errors(exc: DjangoValidationError, rename: dict) -> dict:
    if not hasattr(exc, "error_dict"):
        return {"non_field_errors": exc.messages}
    out: dict = {}
    for field, messages in exc.message_dict.items():
        out.setdefault(rename.get(field, field), []).extend(messages)
    return out


class SigningJobViewSet(_Base, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    """Signing jobs and their progress; a signer may also sign a PDF of their own."""

    serializer_class = SigningJobSerializer
    read_roles = permissions.MODULE_ROLES
    write_roles = permissions.SIGNER_ROLES
    filterset_fields = ["state", "purpose"]
    ordering_fields = ["created_at", "id"]

    def get_queryset(self):
        return selectors.visible_jobs(self.request.user, self.commune)

    def get_permissions(self):
        # Signing with a session needs a login confirmed by the second factor.
        if self.action == "create":
            return [*super().get_permissions(), SecondFactorVerified()]
        return super().get_permissions()

    def get_object(self):
        job = super().get_object()
        if not permissions.can_view_job(self.request.user, job, self.commune):
            raise Http404
        return job

    @extend_schema(request={"multipart/form-data": SignUploadSerializer}, responses={201: SigningJobSerializer})
    def create(self, request, *args, **kwargs):
        """Sign a PDF with one of one's certificates (invisible signature); follow the job."""
        form = SignUploadSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        certificate = services.usable_certificates(request.user).filter(pk=data["certificate"]).first()
        if certificate is None:
            raise exceptions.ValidationError({"certificate": [_("You cannot sign with this certificate now.")]})
        try:
            job = services.sign_uploaded_pdf(
                user=request.user, certificate=certificate, pin=data["pin"],
                data=_read(data["file"], MAX_UPLOAD, "file"), filename=data["file"].name, reason=data["reason"],
            )
        except services.SigningRefused as exc:
            raise refused(exc) from None
        except DjangoValidationError as exc:
            raise exceptions.ValidationError(_field_errors(exc, {})) from None
        return Response(self.get_serializer(job).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    @action(detail=True, methods=["get"])
    def progress(self, request, pk=None):
        """A small status: state, progress, message, waiting for the phone."""
        return Response(services.job_status(self.get_object()))

    @extend_schema(responses={(200, "application/pdf"): OpenApiTypes.BINARY,
                              404: OpenApiResponse(description="Not signed yet")})
    @action(detail=True, methods=["get"], url_name="download")
    def download(self, request, pk=None):
        """The signed PDF."""
        found = services.signed_file(self.get_object())
        if found is None:
            raise exceptions.NotFound(_("The signed file is not ready."))
        handle, filename = found
        return FileResponse(handle, as_attachment=True, filename=filename, content_type="application/pdf")


class SignatureImageViewSet(_Base, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    """One's handwritten signature image; the commune's seal (uploaded by the administrator)."""

    serializer_class = SignatureImageSerializer
    read_roles = permissions.MODULE_ROLES
    write_roles = permissions.MODULE_ROLES
    filterset_fields = ["kind"]

    def get_queryset(self):
        return selectors.visible_images(self.request.user, self.commune)

    @extend_schema(request={"multipart/form-data": SignatureImageUploadSerializer},
                   responses={201: SignatureImageSerializer})
    def create(self, request, *args, **kwargs):
        """Upload one's signature (signers) or the seal (commune administrator)."""
        form = SignatureImageUploadSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        kind = form.validated_data["kind"]
        allowed = (permissions.can_manage(request.user, self.commune) if kind == ImageKind.SEAL
                   else permissions.can_sign(request.user, self.commune))
        if not allowed:
            raise exceptions.PermissionDenied()
        try:
            image = services.save_signature_image(
                data=_read(form.validated_data["file"], services.MAX_IMAGE_BYTES + 1, "file"), kind=kind,
                owner_user_id=request.user.pk if kind == ImageKind.SIGNATURE else None, actor=request.user,
            )
        except DjangoValidationError as exc:
            raise exceptions.ValidationError(_field_errors(exc, {"owner": "kind"})) from None
        return Response(self.get_serializer(image).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses={(200, "image/png"): OpenApiTypes.BINARY})
    @action(detail=True, methods=["get"])
    def content(self, request, pk=None):
        """The PNG."""
        image = self.get_object()
        try:
            handle = services._storage().open(image.file_name, "rb")
        except OSError:
            raise exceptions.NotFound() from None
        return FileResponse(handle, content_type="image/png")
