"""What a signing job does when a worker runs it (``SigningJob.run``).

Steps, each one skipped when an earlier run already did it, so that running the job again never
adds a second signature:

a. the signed file exists (``output_name``) → return the result;
b. no prepared state → prepare the placeholder PDF (remote keys only: a PIN-protected key was
   prepared and used in the request);
c. no signature value → ask the remote service once (idempotency key = the job's), then collect;
   while the official has not confirmed, wait without holding a worker;
d. finish: timestamp, CMS into the placeholder, save the file once (``save_final``), record it
   and call ``on_done`` in the same transaction. The signed file's name follows from the job's
   idempotency key, so a run after a crash between the save and the commit finds it
   (``core.storage.earlier_final``) and records it instead of signing again.
"""
from __future__ import annotations

import base64
import datetime as dt
import logging
import posixpath
from functools import partial

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from core.storage import earlier_final
from jobs.exceptions import LeaseLost, PermanentError, RetryableError
from jobs.models import JobState
from signatures import services
from signatures.models import Backend, Outcome, SigningJob

logger = logging.getLogger(__name__)


def confirm_timeout_seconds() -> float:
    return float(getattr(settings, "XASO_CSC_CONFIRM_SECONDS", 900))


def _update(job: SigningJob, ctx, **fields) -> None:
    """Write fields of the running job, only while this worker holds it."""
    updated = SigningJob.objects.filter(pk=job.pk, lease_owner=ctx.worker_id, state=JobState.RUNNING).update(
        updated_at=timezone.now(), **fields,
    )
    if updated != 1:
        raise LeaseLost(job.pk)
    for name, value in fields.items():
        setattr(job, name, value)


def _fail(job: SigningJob, code: str, message: str) -> PermanentError:
    services._log(user=job.requested_by, certificate=job.certificate, subject=job.subject, purpose=job.purpose,
                  outcome=Outcome.FAILED, code=code, detail=message, job=job)
    return PermanentError(message)


def _result(job: SigningJob) -> dict:
    certificate = job.certificate
    return {
        "output_name": job.output_name, "field": job.field_name, "signer": certificate.subject,
        "fingerprint": certificate.fingerprint, "timestamped": bool(job.timestamp_url),
    }


def output_name_for(job: SigningJob) -> str:
    """The signed file's name: new (never the source's), and the same on every run of the job."""
    stem = posixpath.splitext(posixpath.basename(job.source_name))[0][:60] or "document"
    created = timezone.localtime(job.created_at)
    return f"signatures/signed/{created:%Y/%m}/{stem}-signed-{job.idempotency_key}.pdf"


def run_signing_job(job: SigningJob, ctx) -> dict:
    from signatures.pdf import pades

    storage = services._storage()
    # a. already done
    if job.output_name:
        if storage.exists(job.output_name) and pades.signature_fields(services.read_file(job.output_name)).get(job.field_name):
            return _result(job)
        raise _fail(job, "output_missing", _("The signed file has disappeared from the storage."))
    # b. prepare (remote keys)
    if not job.prepared_state or not job.prepared_name:
        if job.certificate.backend != Backend.CSC:
            raise _fail(job, "not_prepared", _("The signature was not prepared; ask for it again."))
        _prepare_remote(job, ctx)
    # c. the signature value (remote keys)
    if not job.signature_value:
        if job.certificate.backend != Backend.CSC:
            raise _fail(job, "no_signature", _("The signature value is missing; ask for it again."))
        _remote_signature(job, ctx)
    # d. finish
    return _finish(job, ctx)


def _prepare_remote(job: SigningJob, ctx) -> None:
    from signatures.pdf import pades

    certificate = job.certificate
    if not certificate.active:
        raise _fail(job, "certificate_inactive", services.refusal_message("certificate_inactive"))
    if not certificate.is_valid_at():
        raise _fail(job, "certificate_expired", services.refusal_message("certificate_expired"))
    ctx.progress(10, _("Preparing the file"))
    try:
        pdf = services.read_file(job.source_name)
    except OSError:
        raise _fail(job, "invalid_pdf", services.refusal_message("invalid_pdf")) from None
    if pades.signature_fields(pdf).get(job.field_name):
        raise _fail(job, "already_signed", services.refusal_message("already_signed"))
    try:
        prepared = pades.prepare(
            pdf, field=services.field_from_json(job.field_spec), appearance=services.appearance_from_json(job.appearance),
            signing_cert_der=certificate.cert_bytes, chain_der=certificate.chain_bytes, reason=job.reason,
            location=job.location,
        )
    except Exception as exc:  # noqa: BLE001 - the engine refuses the file: retrying cannot help
        raise _fail(job, "invalid_pdf", f"{services.refusal_message('invalid_pdf')} ({exc})") from None
    stem = posixpath.splitext(posixpath.basename(job.source_name))[0][:60] or "document"
    name = storage_save(f"signatures/prepared/{stem}-{job.idempotency_key}.pdf", prepared.pdf)
    _update(job, ctx, prepared_state=prepared.to_state(), prepared_name=name)


def storage_save(name: str, data: bytes) -> str:
    return services._storage().save(name, ContentFile(data))


def _csc_key(job: SigningJob):
    from signatures.keys import CscKey

    certificate = job.certificate
    config = certificate.backend_config or {}
    client = services.csc_client(config.get("service_url", ""), config.get("token_setting", ""))
    return CscKey(client, config.get("credential_id", ""), cert_der=certificate.cert_bytes,
                  chain_der=certificate.chain_bytes, description=job.subject or job.source_name)


def _remote_signature(job: SigningJob, ctx) -> None:
    from signatures.keys import AuthorizationPending, AuthorizationRefused, KeyError_
    from signatures.pdf.pades import Prepared

    digest = Prepared.from_state(job.prepared_state, services.read_file(job.prepared_name)).to_be_signed_digest
    try:
        key = _csc_key(job)
        if not job.csc_request_id:
            if not job.certificate.active or not job.certificate.is_valid_at():
                raise _fail(job, "certificate_inactive", services.refusal_message("certificate_inactive"))
            ctx.progress(30, _("Asking the signing service"))
            request_id = key.request(digest, job.idempotency_key)
            _update(job, ctx, csc_request_id=request_id, csc_requested_at=timezone.now())
        signature = key.collect(job.csc_request_id, digest)
    except AuthorizationPending as pending:
        requested_at = job.csc_requested_at or timezone.now()
        if (timezone.now() - requested_at).total_seconds() > confirm_timeout_seconds():
            raise _fail(job, "not_confirmed", _("The signer did not confirm on their phone in time.")) from None
        _update(job, ctx, progress_percent=40,
                progress_message=str(_("Waiting for the signer to confirm on their phone."))[:255])
        retry = max(1.0, min(float(pending.retry_after or 5.0), 300.0))
        ctx.wait(str(_("confirmation on the signer's phone")), until=timezone.now() + dt.timedelta(seconds=retry))
    except AuthorizationRefused as exc:
        raise _fail(job, exc.code, _("The signer declined, or the confirmation expired.")) from None
    except KeyError_ as exc:
        if exc.retryable:
            raise RetryableError(f"{exc.code}: {exc.detail}") from None
        raise _fail(job, exc.code, _("The signing service refused the request (%(code)s).") % {"code": exc.code}) from None
    _update(job, ctx, signature_value=base64.b64encode(signature).decode("ascii"), progress_percent=60)


def _finish(job: SigningJob, ctx) -> dict:
    from signatures.pdf import pades
    from signatures.pdf.errors import SigningFailed

    certificate = job.certificate
    ctx.progress(70, _("Finishing the signature"))
    prepared = pades.Prepared.from_state(job.prepared_state, services.read_file(job.prepared_name))
    name = output_name_for(job)
    earlier = earlier_final(name, partial(_sound_output, prepared, job.field_name))
    reuse = earlier is not None
    signed = earlier.data if reuse else None
    if not reuse:
        try:
            signed = pades.finish(
                prepared, base64.b64decode(job.signature_value), signing_cert_der=certificate.cert_bytes,
                chain_der=certificate.chain_bytes, timestamp_url=job.timestamp_url or None,
                embed_validation_info=bool(getattr(settings, "XASO_SIGNING_EMBED_VALIDATION", False)),
                trust_roots_der=services.trust_roots() or None,
            )
        except SigningFailed as exc:
            if exc.retryable:
                raise RetryableError(f"{exc.code}: {exc.detail}") from None
            raise _fail(job, exc.code, _("The signature could not be finished (%(code)s).") % {"code": exc.code}) from None
        except (OSError, TimeoutError) as exc:
            raise RetryableError(str(exc)) from None
    ctx.check()
    with transaction.atomic():
        row = SigningJob.objects.select_for_update().select_related("certificate").get(pk=job.pk)
        if row.lease_owner != ctx.worker_id or row.state != JobState.RUNNING:
            raise LeaseLost(job.pk)
        if row.output_name:
            return _result(row)
        row.output_name = earlier.name if reuse else services.save_final(name, signed)
        row.progress_percent = 100
        row.progress_message = str(_("Signed."))[:255]
        row.save(update_fields=["output_name", "progress_percent", "progress_message", "updated_at"])
        services._log(user=row.requested_by, certificate=certificate, subject=row.subject, purpose=row.purpose,
                      outcome=Outcome.SIGNED, job=row)
        if row.on_done:
            import_string(row.on_done)(row)
        if row.prepared_name:  # the placeholder file is of no use once the signed file is recorded
            # A function with a __qualname__ (not a partial): Django names a robust callback that
            # raised by it (see jobs.services.JobMessage).
            prepared_name = row.prepared_name
            transaction.on_commit(lambda: _discard(prepared_name), robust=True)
    job.output_name = row.output_name
    return _result(row)


def _discard(name: str) -> None:
    try:
        services._storage().delete(name)
    except Exception:  # noqa: BLE001 - a leftover temporary file is harmless
        logger.warning("Could not remove %s", name)


def _sound_output(prepared, field_name: str, data: bytes) -> bool:
    """Whether ``data`` is the signed file this job makes from ``prepared``: the placeholder PDF's
    bytes up to the signature, and the signature field filled (an earlier run that saved it and
    died before recording it; ``core.storage.earlier_final``)."""
    from signatures.pdf import pades

    start = int(getattr(prepared, "reserved_start", 0) or 0)
    if not start or data[:start] != prepared.pdf[:start]:
        return False
    return bool(pades.signature_fields(data).get(field_name))
