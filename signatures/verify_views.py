"""Public signature check: anyone (no login) uploads a signed PDF and learns whether its
signatures are valid, who signed, when, and whether the document changed since.

Served on the national host and on every commune host: the page ``/verify/`` and the API
``POST /api/v1/verify/`` (multipart field ``file``). The PDF is parsed and verified in a separate,
limited process (``signatures.pdf.sandbox.verify_limited``) against the installation's trust
store only. Every check is logged (``truststore.VerificationLog``: digest and size, never the
file). Limits: the size is refused before anything is parsed (413), then the type (the
``%PDF-`` header), then the engine's own limits (time, memory, complexity). Requests are
throttled per client address (``XASO_VERIFY_RATE``, default 30/minute).
"""
from __future__ import annotations

import hashlib
import logging

from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler, SkipFile
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, serializers
from rest_framework.authentication import TokenAuthentication
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from core.http import client_ip
from core.throttle import DatabaseRateThrottle
from signatures import verify_report
from truststore import services as truststore

logger = logging.getLogger(__name__)

# Room for the multipart envelope (boundaries, headers, the CSRF token) around the file.
MULTIPART_ALLOWANCE = 64 * 1024
HEADER_WINDOW = 1024  # the %PDF- header may follow a little junk, as readers accept


def max_bytes() -> int:
    return int(settings.XASO_PDF_MAX_BYTES)


class VerifyThrottle(DatabaseRateThrottle):
    """Checks per client address (page and API share the budget), counted in PostgreSQL
    (``core.throttle``): one count for every process, atomic, and still counting while Redis is
    down. An empty ``XASO_VERIFY_RATE`` means no limit."""

    scope = "signatures.verify"
    rate = "XASO_VERIFY_RATE"

    def allow_request(self, request, view):
        if request.method != "POST" or not str(getattr(settings, "XASO_VERIFY_RATE", "") or "").strip():
            return True
        return super().allow_request(request, view)


class _SizeLimit(FileUploadHandler):
    """Drops an uploaded file as soon as it passes the limit (chunked bodies and lying
    Content-Length headers included): the rest of it is read and discarded, never stored, and
    the form's other fields are still parsed."""

    def __init__(self, request=None, limit: int = 0):
        super().__init__(request)
        self.limit = limit
        self.exceeded = False

    def receive_data_chunk(self, raw_data, start):
        if start + len(raw_data) > self.limit:
            self.exceeded = True
            raise SkipFile()  # the rest of the file is read and dropped; later fields still count
        return raw_data

    def file_complete(self, file_size):
        return None


class Rejected(Exception):
    def __init__(self, code: str, size: int = 0, digest: str = ""):
        super().__init__(code)
        self.code, self.size, self.digest = code, size, digest


def _install_size_limit(django_request) -> _SizeLimit:
    handler = _SizeLimit(django_request, max_bytes())
    django_request.upload_handlers.insert(0, handler)
    return handler


def _content_length(request) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


def _read_upload(upload, handler: _SizeLimit) -> tuple[bytes, str]:
    if handler.exceeded or upload.size > max_bytes():
        raise Rejected("too_large", size=upload.size)
    upload.seek(0)
    head = upload.read(HEADER_WINDOW)
    if b"%PDF-" not in head:
        upload.seek(0)
        raise Rejected("not_pdf", size=upload.size, digest=_digest(upload))
    upload.seek(0)
    data = upload.read(max_bytes() + 1)
    if len(data) > max_bytes():
        raise Rejected("too_large", size=len(data))
    return data, hashlib.sha256(data).hexdigest()


def _digest(upload) -> str:
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    return digest.hexdigest()


def _verify(pdf: bytes, roots: list[bytes]) -> dict:
    """The engine's report, from the limited process. ``PdfRejected`` → ``Rejected``."""
    from signatures.pdf.errors import PdfRejected
    from signatures.pdf.sandbox import verify_limited

    try:
        return verify_limited(
            pdf, roots, max_bytes=max_bytes(),
            seconds=settings.XASO_PDF_PARSE_SECONDS, memory_mb=settings.XASO_PDF_PARSE_MEMORY_MB,
        )
    except PdfRejected as exc:
        logger.info("verification refused: %s (%s)", exc.code, exc.detail)
        raise Rejected(exc.code) from None
    except Exception:  # the checker must answer, never fail the request
        logger.exception("verification failed unexpectedly")
        raise Rejected("malformed") from None


def _log(request, channel: str, *, size: int, digest: str, outcome: dict) -> None:
    user = getattr(request, "user", None)
    try:
        host = request.get_host().split(":")[0]
    except Exception:  # noqa: BLE001 - the host was already accepted by the middleware
        host = ""
    commune = getattr(request, "commune", None)
    try:
        truststore.log_verification(
            host=host, schema_name=getattr(commune, "schema_name", "") or "", channel=channel,
            user_id=user.pk if getattr(user, "is_authenticated", False) else None,
            client_ip=client_ip(request), file_sha256=digest, file_size=size, outcome=outcome,
        )
    except Exception:  # the answer matters more than the log line; say so loudly
        logger.exception("could not write the verification log")


def check(request, upload, handler, channel: str) -> dict:
    """Size, type, verification and the log: the steps both faces share. Raises ``Rejected``."""
    try:
        pdf, digest = _read_upload(upload, handler)
        roots = truststore.trust_roots_der()
        try:
            presented = verify_report.present(_verify(pdf, roots), trust_configured=bool(roots))
        except Rejected as exc:
            exc.size, exc.digest = len(pdf), digest
            raise
    except Rejected as exc:
        _log(request, channel, size=exc.size, digest=exc.digest, outcome={"rejected": exc.code})
        raise
    _log(request, channel, size=len(pdf), digest=digest, outcome=verify_report.log_summary(presented))
    presented["file"] = {"name": getattr(upload, "name", "") or "", "size": len(pdf), "sha256": digest}
    return presented


# --- the page -------------------------------------------------------------------------------------

def _page(request, context: dict, status: int = 200):
    context.setdefault("max_bytes", max_bytes())
    return render(request, "signatures/verify.html", context, status=status)


@csrf_exempt  # the size limit must be installed before the CSRF check reads the body
@never_cache
def verify_page(request):
    if request.method == "POST":
        if not VerifyThrottle().allow_request(request, None):
            return _page(request, {"error": _("Too many checks from your connection. Wait a minute and try again."),
                                   "error_code": "throttled"}, status=429)
        length = _content_length(request)
        if length > max_bytes() + MULTIPART_ALLOWANCE:
            _log(request, "page", size=length, digest="", outcome={"rejected": "too_large"})
            return _too_large_page(request)
        request._xaso_size_limit = _install_size_limit(request)
    return _verify_page(request)


def _too_large_page(request):
    return _page(request, {"error": verify_report.rejection_message("too_large", max_bytes=max_bytes()),
                           "error_code": "too_large"}, status=413)


@csrf_protect
def _verify_page(request):
    if request.method != "POST":
        return _page(request, {})
    upload = request.FILES.get("file")
    handler = getattr(request, "_xaso_size_limit", None) or _SizeLimit(request, max_bytes())
    if upload is None:
        if handler.exceeded:
            _log(request, "page", size=_content_length(request), digest="", outcome={"rejected": "too_large"})
            return _too_large_page(request)
        return _page(request, {"error": _("Choose a PDF file to check."), "error_code": "invalid"}, status=400)
    try:
        result = check(request, upload, handler, "page")
    except Rejected as exc:
        return _page(request, {"error": verify_report.rejection_message(exc.code, max_bytes=max_bytes()),
                               "error_code": exc.code, "file_name": upload.name},
                     status=verify_report.rejection_status(exc.code))
    return _page(request, {"result": result})


# --- the API --------------------------------------------------------------------------------------

class PdfRejectedError(exceptions.APIException):
    """A PDF the checker refuses: 400, 413 or 422 with the usual error body."""

    def __init__(self, code: str):
        self.status_code = verify_report.rejection_status(code)
        super().__init__(detail=verify_report.rejection_message(code, max_bytes=max_bytes()), code=code)


class VerifyRequestSerializer(serializers.Serializer):
    file = serializers.FileField(help_text=gettext_lazy("The signed PDF file."))


# The answer's shape, for the OpenAPI description (the view returns verify_report.present()).
class VerifyTimestampSerializer(serializers.Serializer):
    time = serializers.DateTimeField(allow_null=True)
    time_display = serializers.CharField(help_text="dd/mm/yyyy HH:MM, Vietnam time")
    valid = serializers.BooleanField(allow_null=True)
    trusted = serializers.BooleanField(allow_null=True)
    message = serializers.CharField()


class VerifySignatureSerializer(serializers.Serializer):
    field = serializers.CharField()
    verdict = serializers.ChoiceField(choices=[verify_report.VALID, verify_report.UNTRUSTED,
                                               verify_report.CERTIFICATE_NOT_VALID, verify_report.MODIFIED,
                                               verify_report.INVALID])
    verdict_title = serializers.CharField()
    verdict_message = serializers.CharField()
    signer = serializers.CharField()
    organisation = serializers.CharField()
    signing_time = serializers.DateTimeField(allow_null=True, help_text="As stated by the signer (ISO 8601, +07:00).")
    signing_time_display = serializers.CharField()
    timestamp = VerifyTimestampSerializer(allow_null=True)
    intact = serializers.BooleanField()
    valid = serializers.BooleanField()
    integrity_message = serializers.CharField()
    trusted = serializers.BooleanField()
    trust_problem = serializers.CharField(allow_null=True)
    trust_message = serializers.CharField()
    cert_not_before = serializers.DateTimeField(allow_null=True)
    cert_not_after = serializers.DateTimeField(allow_null=True)
    cert_valid_at_signing = serializers.BooleanField(allow_null=True)
    validity_message = serializers.CharField()
    coverage = serializers.CharField()
    coverage_message = serializers.CharField()
    modification_level = serializers.ChoiceField(choices=["none", "lta_updates", "form_filling", "annotations", "other"])
    changes_permitted = serializers.BooleanField(allow_null=True)
    changes_message = serializers.CharField()
    problems = serializers.ListField(child=serializers.CharField())


class VerifyFileSerializer(serializers.Serializer):
    name = serializers.CharField()
    size = serializers.IntegerField()
    sha256 = serializers.CharField()


class VerifyResultSerializer(serializers.Serializer):
    verdict = serializers.ChoiceField(choices=[*verify_report.SEVERITY, verify_report.NO_SIGNATURES])
    verdict_title = serializers.CharField()
    verdict_message = serializers.CharField()
    signatures = VerifySignatureSerializer(many=True)
    revisions = serializers.IntegerField(allow_null=True)
    problems = serializers.ListField(child=serializers.CharField())
    problem_messages = serializers.ListField(child=serializers.CharField())
    notes = serializers.ListField(child=serializers.CharField(), help_text="Notes about the whole document.")
    file = VerifyFileSerializer()


class VerifyErrorSerializer(serializers.Serializer):
    code = serializers.CharField()
    detail = serializers.CharField()
    fields = serializers.DictField(child=serializers.ListField(child=serializers.CharField()))


class VerifyAPIView(APIView):
    """Check the digital signatures of a PDF (no login needed).

    Answers 200 with the overall verdict (``valid``, ``untrusted``, ``certificate_not_valid``,
    ``modified``, ``invalid`` or ``no_signatures``) and one entry per signature; 400 when the
    file is missing or not a PDF, 413 when it is too large, 422 when it cannot be checked
    (``encrypted``, ``malformed``, ``too_complex``, ``timeout``, ``memory``, ``bad_byte_range``,
    ``unsupported``), 429 when the client sends too many requests.
    """

    authentication_classes = [TokenAuthentication]
    permission_classes = [AllowAny]
    throttle_classes = [VerifyThrottle]
    parser_classes = [MultiPartParser, FormParser]

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)  # throttles first: a throttled body is never read
        if request.method == "POST":
            length = _content_length(request)
            if length > max_bytes() + MULTIPART_ALLOWANCE:
                _log(request, "api", size=length, digest="", outcome={"rejected": "too_large"})
                raise PdfRejectedError("too_large")
            self._size_limit = _install_size_limit(request._request)

    @extend_schema(
        summary=gettext_lazy("Check the digital signatures of a PDF"),
        request={"multipart/form-data": VerifyRequestSerializer},
        responses={200: VerifyResultSerializer, 400: VerifyErrorSerializer, 401: VerifyErrorSerializer,
                   413: VerifyErrorSerializer, 415: VerifyErrorSerializer, 422: VerifyErrorSerializer,
                   429: VerifyErrorSerializer},
        auth=[{}, {"tokenAuth": []}],
    )
    def post(self, request):
        handler = getattr(self, "_size_limit", None) or _SizeLimit(request._request, max_bytes())
        upload = request.data.get("file") if hasattr(request.data, "get") else None
        if upload is None or isinstance(upload, str):
            if handler.exceeded:
                _log(request, "api", size=_content_length(request), digest="", outcome={"rejected": "too_large"})
                raise PdfRejectedError("too_large")
            raise exceptions.ValidationError({"file": [_("Send the PDF file in the multipart field named file.")]})
        try:
            result = check(request, upload, handler, "api")
        except Rejected as exc:
            raise PdfRejectedError(exc.code) from None
        return Response(result)


verify_api = VerifyAPIView.as_view()
