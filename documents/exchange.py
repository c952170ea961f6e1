"""Document exchange between the communes of one installation, and with supervising units.

How a document travels
----------------------
1. ``services.dispatch`` writes, in the sender's schema and in the dispatching transaction,
   one ``ExchangeJob(kind="deliver")`` per recipient commune (the outbox).
2. The job runs in the sender's schema: it reads the document and its files there, then, in
   the recipient's schema (``schema_context``) and a transaction of that schema only, creates
   an ``IncomingDocument`` (source electronic, state ``received``: waiting for the clerk's
   check and registration) with a copy of the files. The incoming document is keyed by the
   sender's message id (unique), so a re-run finds it and creates nothing. Back in the
   sender's schema, in a transaction of its own, the recipient line becomes ``sent``.
3. When the receiving clerk registers the document (``received``) or returns it with a reason
   (``returned``), an ``ExchangeJob(kind="status")`` is written in the receiver's schema in
   the same transaction; it runs there and updates the sender's recipient line in the
   sender's schema. Status updates only move forward, so repeats and reordering are harmless.
No transaction ever spans two schemas.

Supervising units have no schema: a document addressed to a unit is marked ``sent`` on
dispatch and the unit reads it through the national host's API
(``/api/v1/communes/<code>/documents/exchange/...``); a unit's document to a commune is
written straight into that commune's inbox by the same API.

The envelope
------------
Stored as JSON on the incoming document (``IncomingDocument.envelope``). Field names follow
the edXML packet of QCVN 102:2016/BTTTT where we are confident of them; the portal's own
additions are marked ``x-``::

    {
      "MessageHeader": {
        "From": {"OrganId": "000.00.X04630", "OrganName": "Ủy ban nhân dân xã Tú Lệ"},
        "To": [{"OrganId": "...", "OrganName": "..."}],
        "DocumentId": "<message id, a UUID>",
        "Code": {"CodeNumber": "05", "CodeNotation": "QĐ-UBND"},
        "PromulgationInfo": {"Place": "Tú Lệ", "PromulgationDate": "2026-03-05"},
        "DocumentType": {"TypeName": "Quyết định", "x-code": "quyet-dinh"},
        "Subject": "...",
        "SignerInfo": {"Competence": "TM. ỦY BAN NHÂN DÂN", "Position": "CHỦ TỊCH", "FullName": "..."},
        "DueDate": "2026-03-20" | null,
        "ToPlaces": {"Place": ["- Như trên;", "- Lưu: VT."]},
        "OtherInfo": {"Priority": 0..3, "PromulgationAmount": 1}
      },
      "TraceHeaderList": {"TraceHeader": [{"OrganId": "...", "Timestamp": "2026-03-05T09:30:00+07:00"}]},
      "Attachments": [{"ContentId": "att-0", "ContentType": "application/pdf",
                       "Description": "...", "AttachmentName": "..."}],
      "ArrivalDate": "...", "ArrivalNumber": 12   # set by the receiver when it registers
    }

Priority: 0 normal, 1 khẩn, 2 thượng khẩn, 3 hỏa tốc. OrganId is the commune's 13-character
agency identifier (``Commune.agency_code``); a commune without one is named
``000.00.X<code>`` (13 characters, local to the installation). Status messages carry
``{"status": "received"|"returned", "ArrivalNumber", "ArrivalDate", "Description", "Timestamp"}``.
"""
from __future__ import annotations

import logging
import posixpath

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils.translation import gettext as _
from django.utils import timezone
from django_tenants.utils import schema_context

from communes.models import Commune
from core.storage import earlier_final
from documents import files
from documents.models import (
    TZ, Confidentiality, DeliveryState, DocumentType, ExchangeJob, IncomingAttachment, IncomingDocument,
    IncomingState, OutgoingDocument, OutgoingRecipient, Urgency,
)
from documents.text import search_text
from jobs.exceptions import PermanentError
from jobs.services import enqueue

logger = logging.getLogger(__name__)

PRIORITY = {Urgency.NORMAL: 0, Urgency.URGENT: 1, Urgency.IMMEDIATE: 2, Urgency.FLASH: 3}
URGENCY_BY_PRIORITY = {value: key for key, value in PRIORITY.items()}
STATUS_ORDER = {DeliveryState.QUEUED: 0, DeliveryState.FAILED: 0, DeliveryState.SENT: 1,
                DeliveryState.RECEIVED: 2, DeliveryState.RETURNED: 2}


def organ_id(commune: Commune) -> str:
    """The commune's agency identifier (13 characters)."""
    return (commune.agency_code or f"000.00.X{commune.code}")[:13]


def organ_name(commune: Commune) -> str:
    return f"Ủy ban nhân dân {commune.name_in_sentence}"


def this_commune() -> Commune:
    """The commune whose schema is in use (inside a job the tenant is only a schema name)."""
    tenant = getattr(connection, "tenant", None)
    if isinstance(tenant, Commune) and tenant.pk:
        return tenant
    return Commune.objects.get(schema_name=connection.schema_name)


def _iso(moment) -> str:
    return moment.astimezone(TZ).replace(microsecond=0).isoformat()


def build_envelope(doc: OutgoingDocument, recipient: OutgoingRecipient, sender: Commune) -> dict:
    code_number, _slash, code_notation = doc.number_symbol.partition("/")
    lines = list(doc.authority_lines or [])
    return {
        "MessageHeader": {
            "From": {"OrganId": organ_id(sender), "OrganName": organ_name(sender)},
            "To": [{"OrganId": recipient.organ_id, "OrganName": recipient.name}],
            "DocumentId": str(recipient.message_id),
            "Code": {"CodeNumber": code_number, "CodeNotation": code_notation},
            "PromulgationInfo": {
                "Place": doc.place_name, "PromulgationDate": doc.issued_on.isoformat() if doc.issued_on else None,
            },
            "DocumentType": {"TypeName": doc.doc_type.name, "x-code": doc.doc_type.code},
            "Subject": doc.subject,
            "SignerInfo": {
                "Competence": lines[0] if len(lines) > 1 else "",
                "Position": lines[-1] if lines else "",
                "FullName": doc.signer_name,
            },
            "DueDate": doc.reply_due.isoformat() if doc.reply_due else None,
            "ToPlaces": {"Place": doc.recipient_lines},
            "OtherInfo": {"Priority": PRIORITY.get(doc.urgency, 0), "PromulgationAmount": doc.copies_count},
        },
        "TraceHeaderList": {"TraceHeader": [{"OrganId": organ_id(sender), "Timestamp": _iso(timezone.now())}]},
        "Attachments": [
            {"ContentId": f"att-{index}", "ContentType": files.PDF_CONTENT_TYPE, "Description": attachment.title,
             "AttachmentName": posixpath.basename(attachment.signed_file or attachment.file)}
            for index, attachment in enumerate(doc.attachments.all())
        ],
    }


def new_deliver_job(recipient: OutgoingRecipient) -> ExchangeJob:
    """The outbox row for one recipient commune (saved by ``jobs.services.enqueue``)."""
    return ExchangeJob(
        kind=ExchangeJob.Kind.DELIVER, recipient=recipient, message_id=recipient.message_id,
        target_code=recipient.code,
    )


def report_status(doc: IncomingDocument, status: str) -> ExchangeJob | None:
    """In the receiver's transaction: tell the sender commune what became of its document."""
    if doc.exchange_message_id is None or doc.exchange_sender_kind != OutgoingRecipient.Kind.COMMUNE:
        return None
    payload = {"status": str(status), "Timestamp": _iso(timezone.now())}
    if status == DeliveryState.RECEIVED:
        payload.update({"ArrivalNumber": doc.incoming_number, "ArrivalDate": _iso(doc.arrived_at)})
    elif status == DeliveryState.RETURNED:
        payload["Description"] = doc.return_reason
    return enqueue(ExchangeJob(
        kind=ExchangeJob.Kind.STATUS, message_id=doc.exchange_message_id,
        target_code=doc.exchange_sender_code, payload=payload,
    ))


def run_job(job: ExchangeJob, ctx) -> dict:
    if job.kind == ExchangeJob.Kind.DELIVER:
        try:
            return deliver(job)
        except Exception as exc:  # show the last error on the recipient line, then let the job retry
            OutgoingRecipient.objects.filter(pk=job.recipient_id).update(error=str(exc)[:500])
            raise
    if job.kind == ExchangeJob.Kind.STATUS:
        return apply_status(job)
    raise PermanentError(f"Unknown exchange job kind {job.kind!r}")


def _target(code: str) -> Commune:
    commune = Commune.objects.filter(code=code).first()
    if commune is None:
        raise PermanentError(f"No commune with code {code} on this installation")
    return commune


def deliver(job: ExchangeJob) -> dict:
    """Put the document into the recipient commune's inbox (idempotent), then mark it sent."""
    sender = this_commune()
    recipient = OutgoingRecipient.objects.select_related("document", "document__doc_type").get(pk=job.recipient_id)
    doc = recipient.document
    if doc.confidentiality != Confidentiality.NONE:
        raise PermanentError("A secret document never leaves the commune")
    if doc.state not in (OutgoingDocument.State.DISPATCHED, OutgoingDocument.State.FILED):
        raise PermanentError(f"Document {doc.pk} is {doc.state}, not dispatched")
    envelope = build_envelope(doc, recipient, sender)
    main = (posixpath.basename(doc.issued_pdf), files.read(doc.issued_pdf)) if doc.issued_pdf else None
    attachments = [(a.title, posixpath.basename(a.signed_file or a.file), files.read(a.signed_file or a.file))
                   for a in doc.attachments.all()]
    target = _target(job.target_code)
    if target.pk == sender.pk:
        raise PermanentError("A commune does not send documents to itself")

    with schema_context(target.schema_name):
        with transaction.atomic():
            incoming = IncomingDocument.objects.filter(exchange_message_id=recipient.message_id).first()
            created = incoming is None
            if created:
                incoming = _create_incoming(doc, envelope, sender, target, main, attachments)
        incoming_id = incoming.pk

    with transaction.atomic():
        line = OutgoingRecipient.objects.select_for_update().get(pk=recipient.pk)
        if STATUS_ORDER[line.state] < STATUS_ORDER[DeliveryState.SENT]:
            line.state = DeliveryState.SENT
            line.sent_at = timezone.now()
            line.error = ""
            line.save(update_fields=["state", "sent_at", "error"])
    return {"incoming_id": incoming_id, "created": created, "target": target.code}


def _create_incoming(doc, envelope, sender, target, main, attachments) -> IncomingDocument:
    """In the recipient's schema and transaction."""
    arrived = timezone.now()
    envelope = {**envelope, "TraceHeaderList": {"TraceHeader": [
        *envelope["TraceHeaderList"]["TraceHeader"], {"OrganId": organ_id(target), "Timestamp": _iso(arrived)},
    ]}}
    doc_type = DocumentType.objects.filter(code=doc.doc_type.code, active=True).first()
    incoming = IncomingDocument(
        state=IncomingState.RECEIVED, source=IncomingDocument.Source.ELECTRONIC, arrived_at=arrived,
        sender_org=organ_name(sender), original_number_symbol=doc.number_symbol, document_date=doc.issued_on,
        doc_type=doc_type, type_name=doc.doc_type.name, subject=doc.subject, urgency=doc.urgency,
        sender_due_date=doc.reply_due, exchange_message_id=envelope["MessageHeader"]["DocumentId"],
        exchange_sender_kind=OutgoingRecipient.Kind.COMMUNE, exchange_sender_code=sender.code, envelope=envelope,
    )
    incoming.search_text = search_text(incoming.original_number_symbol, incoming.sender_org, incoming.type_name,
                                       incoming.subject)
    incoming._change_reason = "received electronically"
    incoming.save()
    # Named by the message id, not the row's id: a delivery whose transaction died after the
    # files were written finds them on its next run instead of writing them again.
    folder = f"documents/incoming/exchange-{envelope['MessageHeader']['DocumentId']}"
    if main is not None:
        incoming.scan = _final_copy(f"{folder}/{main[0]}", main[1])
        incoming.save(update_fields=["scan"])
    for position, (title, filename, data) in enumerate(attachments):
        IncomingAttachment.objects.create(
            document=incoming, title=title, position=position,
            file=_final_copy(f"{folder}/attachments/{position}/{filename}", data),
        )
    return incoming


def _final_copy(name: str, data: bytes) -> str:
    """Write ``data`` once under ``name``; the copy an interrupted attempt wrote is reused."""
    earlier = earlier_final(name, lambda found: found == data)
    return earlier.name if earlier is not None else files.save_final(name, data)


def apply_status(job: ExchangeJob) -> dict:
    """In the sender's schema: move its recipient line forward (received or returned)."""
    status = job.payload.get("status")
    if status not in (DeliveryState.RECEIVED, DeliveryState.RETURNED):
        raise PermanentError(f"Unknown delivery status {status!r}")
    sender = _target(job.target_code)
    with schema_context(sender.schema_name):
        with transaction.atomic():
            line = OutgoingRecipient.objects.select_for_update().filter(message_id=job.message_id).first()
            if line is None:
                raise PermanentError(f"No recipient line {job.message_id} in {sender.code}")
            if STATUS_ORDER[line.state] >= STATUS_ORDER[status]:
                return {"changed": False, "state": line.state}
            now = timezone.now()
            line.state = status
            if status == DeliveryState.RECEIVED:
                line.received_at = now
                number = job.payload.get("ArrivalNumber")
                line.arrival_number = number if isinstance(number, int) and number > 0 else None
            else:
                line.returned_at = now
                line.return_reason = str(job.payload.get("Description", ""))[:500]
            if line.sent_at is None:
                line.sent_at = now
            line.save()
            return {"changed": True, "state": line.state}


# --- supervising units (national host API) ------------------------------------------------------

def receive_from_unit(*, unit, subject: str, sender_org: str = "", original_number_symbol: str = "",
                      document_date=None, type_name: str = "", urgency: str = Urgency.NORMAL, due_date=None,
                      pdf: bytes | None = None, filename: str = "document.pdf", message_id=None) -> tuple[IncomingDocument, bool]:
    """A supervising unit's document into the current commune's inbox (one schema, one
    transaction). ``message_id`` makes a repeated call harmless. Returns (document, created)."""
    import uuid

    message_id = message_id or uuid.uuid4()
    with transaction.atomic():
        existing = IncomingDocument.objects.filter(exchange_message_id=message_id).first()
        if existing is not None:
            if existing.exchange_sender_kind != OutgoingRecipient.Kind.UNIT or existing.exchange_sender_code != unit.code:
                raise ValidationError({"message_id": [ValidationError(
                    _("This message id was already used for another document."), code="message_id_used")]})
            return existing, False
        here = this_commune()
        arrived = timezone.now()
        doc_type = DocumentType.objects.filter(name__iexact=type_name, active=True).first() if type_name else None
        envelope = {
            "MessageHeader": {
                "From": {"OrganId": "", "OrganName": sender_org or unit.name, "x-unit-code": unit.code},
                "To": [{"OrganId": organ_id(here), "OrganName": organ_name(here)}],
                "DocumentId": str(message_id),
                "Code": {"CodeNumber": original_number_symbol.partition("/")[0],
                         "CodeNotation": original_number_symbol.partition("/")[2]},
                "PromulgationInfo": {"PromulgationDate": document_date.isoformat() if document_date else None},
                "DocumentType": {"TypeName": type_name},
                "Subject": subject,
                "DueDate": due_date.isoformat() if due_date else None,
                "OtherInfo": {"Priority": PRIORITY.get(urgency, 0)},
            },
            "TraceHeaderList": {"TraceHeader": [{"OrganId": organ_id(here), "Timestamp": _iso(arrived)}]},
        }
        incoming = IncomingDocument(
            state=IncomingState.RECEIVED, source=IncomingDocument.Source.ELECTRONIC, arrived_at=arrived,
            sender_org=sender_org or unit.name, original_number_symbol=original_number_symbol,
            document_date=document_date, doc_type=doc_type, type_name=type_name, subject=subject, urgency=urgency,
            sender_due_date=due_date, exchange_message_id=message_id, exchange_sender_kind=OutgoingRecipient.Kind.UNIT,
            exchange_sender_code=unit.code, envelope=envelope,
        )
        incoming.search_text = search_text(original_number_symbol, incoming.sender_org, type_name, subject)
        incoming.full_clean(exclude=["doc_type", "presented_to", "lead_handler", "assigned_by", "registered_by"])
        incoming._change_reason = "received from a supervising unit"
        incoming.save()
        if pdf is not None:
            incoming.scan = _final_copy(f"documents/incoming/unit-{message_id}/{files.clean_filename(filename)}", pdf)
            incoming.save(update_fields=["scan"])
        return incoming, True


def acknowledge_by_unit(recipient: OutgoingRecipient) -> OutgoingRecipient:
    """The unit confirms it received a commune's document (sent → received)."""
    with transaction.atomic():
        line = OutgoingRecipient.objects.select_for_update().get(pk=recipient.pk)
        if STATUS_ORDER[line.state] < STATUS_ORDER[DeliveryState.RECEIVED] and line.state == DeliveryState.SENT:
            line.state = DeliveryState.RECEIVED
            line.received_at = timezone.now()
            line.save(update_fields=["state", "received_at"])
        return line
