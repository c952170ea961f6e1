"""Writes on documents. Each state change happens here, in one function and one transaction,
with history (django-simple-history) and, for incoming documents, a handling event.

Outgoing flow: ``save_draft`` → ``submit`` (the draft PDF is frozen) → ``approve`` (or
``return_draft``) → ``sign_as_leader`` (a signing job; ``on_leader_signed`` moves to signed) →
``issue`` (number and date in a transaction that commits, then the fields are filled and the
agency's signatures requested; ``on_agency_signed`` moves to issued; ``apply_agency_signature``
retries) → ``dispatch`` (exchange jobs for electronic recipients) → ``file_document``;
``withdraw`` at any point keeps the register line.

Incoming flow: ``register_incoming`` (or ``register_received`` for an electronic document in
the inbox, or ``return_to_sender``) → ``present`` → ``assign`` → ``start`` → ``complete``,
with ``add_note`` and ``forward`` on the way.

Refusals are ``ValidationError`` with a code: ``wrong_state`` and ``already_issued`` are
conflicts with the document's state, the others bad input.
"""
from __future__ import annotations

import datetime
import logging
from functools import partial

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from communes.models import Commune, SupervisingUnit
from communes.permissions import OFFICIAL_ROLES, current_commune, members
from core.storage import earlier_final
from core.validation import error_code, refuse  # noqa: F401  (error_code: the API reads it here)
from documents import files, numbering, permissions, rendering, signing
from documents.models import (
    TZ, Confidentiality, DeliveryState, DocumentType, HandlingEvent, IncomingDocument,
    IncomingState, NumberingPolicy, OutgoingAttachment, OutgoingDocument, OutgoingRecipient, OutgoingState,
    SigningAuthority, URGENCY_MARKS, Urgency,
)
from documents.text import clean_multiline, clean_text, search_text
from jobs.services import enqueue

logger = logging.getLogger(__name__)

CONFLICT_CODES = frozenset({"wrong_state", "already_issued"})
MAX_BODY = 100_000
MAX_RECIPIENT_LINES = 60
MAX_ATTACHMENTS = 20
MAX_NOTE = 5000
ARRIVAL_CLOCK_SKEW = datetime.timedelta(minutes=10)


# --- small helpers -----------------------------------------------------------------------------

def _wrong_state(doc) -> ValidationError:
    return refuse(
        _("This action is not possible while the document is “%(state)s”.") % {"state": doc.get_state_display()},
        code="wrong_state",
    )


def now() -> datetime.datetime:
    return timezone.now()


def user_name(user) -> str:
    if user is None:
        return ""
    return (getattr(user, "full_name", "") or user.get_username()).strip()


def _save(doc, user, reason: str, update_fields=None) -> None:
    """Save with the history's author and reason."""
    doc._history_user = user if getattr(user, "pk", None) else None
    doc._change_reason = reason[:100]
    doc.save(update_fields=update_fields)


def _locked(model, pk):
    return model.objects.select_for_update().get(pk=pk)


def officials():
    """Officials of the current commune (who can receive a document to handle)."""
    return members(OFFICIAL_ROLES)


def leaders():
    """The chairman and vice-chairmen of the current commune."""
    return members(permissions.LEADERS)


def _official(user_id, field: str):
    try:
        user_id = int(user_id)
    except (TypeError, ValueError):
        user_id = 0
    if not 0 < user_id < 2**63:
        raise refuse(_("Choose an official of the commune."), field=field)
    user = officials().filter(pk=user_id).first()
    if user is None:
        raise refuse(_("This person is not an official of the commune."), field=field)
    return user


# --- settings: numbering policy, signing authorities -------------------------------------------

get_policy = numbering.get_policy


@transaction.atomic
def save_policy(policy: NumberingPolicy, *, user) -> NumberingPolicy:
    permissions.require(user, "settings.manage")
    policy.singleton = 1
    for name in ("agency_symbol", "default_unit_code", "secret_mark", "parent_agency_line", "place_name"):
        setattr(policy, name, clean_text(getattr(policy, name)))
    policy.agency_name = clean_multiline(policy.agency_name)
    policy.full_clean()
    _save(policy, user, "settings")
    return policy


@transaction.atomic
def save_authority(authority: SigningAuthority, *, user, document_types) -> SigningAuthority:
    permissions.require(user, "settings.manage")
    for name in ("title", "principal_title", "collective"):
        setattr(authority, name, clean_text(getattr(authority, name)).upper())
    types = list(document_types or [])
    if not types:
        raise refuse(_("Choose at least one document type."), field="document_types")
    if authority.user_id is None or not leaders().filter(pk=authority.user_id).exists():
        raise refuse(_("Only the chairman or a vice-chairman of the commune can hold a signing authority."), field="user")
    authority.full_clean()
    _save(authority, user, "authority")
    authority.document_types.set(types)
    return authority


@transaction.atomic
def end_authority(authority: SigningAuthority, *, user, last_day: datetime.date | None = None) -> SigningAuthority:
    permissions.require(user, "settings.manage")
    last_day = last_day or numbering.local_today()
    if last_day < authority.valid_from:
        last_day = authority.valid_from
    authority.valid_until = last_day
    _save(authority, user, "authority ended")
    return authority


# --- numbering -----------------------------------------------------------------------------------

def assign_number(doc: OutgoingDocument, *, on: datetime.date | None = None, policy: NumberingPolicy | None = None) -> OutgoingDocument:
    """Give ``doc`` its number, symbol and date, inside the issuing transaction.

    The sequence row stays locked until that transaction ends, so concurrent issuers queue;
    the unique constraints of ``OutgoingDocument`` stop a duplicate even from other code.
    """
    if doc.number is not None:
        raise refuse(_("This document already has the number %(number)s.") % {"number": doc.number_symbol}, code="already_issued")
    policy = policy or get_policy()
    day = on or numbering.local_today()
    key = numbering.sequence_key(doc.doc_type, secret=doc.is_secret, policy=policy)
    number = numbering.draw(day.year, key)
    unit = (doc.drafting_unit or policy.default_unit_code) if doc.doc_type.is_official_letter else ""
    text = numbering.number_symbol(number, doc.doc_type, policy.agency_symbol, unit,
                                   policy.secret_mark if doc.is_secret else "")
    if OutgoingDocument.objects.filter(number_year=day.year, number_symbol=text).exclude(pk=doc.pk).exists():
        # Only a drafting unit or a mark chosen to look like another symbol gets here; the
        # refusal rolls back the issuing transaction, the drawn number with it.
        raise refuse(_("The number and symbol %(number)s is already in this year's registers: change the drafting "
                       "unit or the mark of secret documents in the numbering settings.") % {"number": text},
                     code="number_taken")
    doc.number, doc.number_year, doc.sequence_key = number, day.year, key
    doc.number_symbol = text
    doc.issued_on = day
    doc.place_name = numbering.place_name(policy)
    doc.numbered_at = now()
    return doc


def assign_incoming_number(doc: IncomingDocument, *, on: datetime.date | None = None) -> IncomingDocument:
    """The incoming number (số đến): one yearly sequence for paper and electronic documents."""
    day = on or numbering.local_today()
    doc.incoming_number = numbering.draw(day.year, numbering.INCOMING)
    doc.incoming_year = day.year
    return doc


# --- outgoing: drafts ------------------------------------------------------------------------

def _outgoing_search_text(doc: OutgoingDocument) -> str:
    return search_text(doc.number_symbol, doc.doc_type.name if doc.doc_type_id else "", doc.subject,
                       doc.signer_name, doc.recipients_text)


def _resolve_recipients(values, *, secret: bool) -> list[dict]:
    """Electronic recipients as [{kind, code}] → checked [{kind, code, name, organ_id}]."""
    from documents.exchange import organ_id

    resolved: list[dict] = []
    if not values:
        return resolved
    if secret:
        raise refuse(_("A secret document never leaves the commune electronically."), field="electronic_recipients")
    here = current_commune()
    for value in values:
        kind, code = (value.get("kind"), str(value.get("code", "")).strip()) if isinstance(value, dict) else (None, "")
        if kind == OutgoingRecipient.Kind.COMMUNE:
            commune = Commune.objects.filter(code=code).first()
            if commune is None or (here is not None and commune.pk == here.pk):
                raise refuse(_("No other commune with the code %(code)s on this installation.") % {"code": code[:10]},
                             field="electronic_recipients")
            entry = {"kind": kind, "code": commune.code, "name": str(commune), "organ_id": organ_id(commune)}
        elif kind == OutgoingRecipient.Kind.UNIT:
            unit = SupervisingUnit.objects.filter(code=code).first()
            if unit is None or here is None or unit.pk not in _units_above(here):
                raise refuse(_("The unit %(code)s does not supervise this commune.") % {"code": code[:10]},
                             field="electronic_recipients")
            entry = {"kind": kind, "code": unit.code, "name": unit.name, "organ_id": ""}
        else:
            raise refuse(_("An electronic recipient is a commune or a supervising unit."), field="electronic_recipients")
        if all((e["kind"], e["code"]) != (entry["kind"], entry["code"]) for e in resolved):
            resolved.append(entry)
    return resolved


def _units_above(commune: Commune) -> set[int]:
    ids: set[int] = set()
    unit = commune.supervising_unit
    while unit is not None and unit.pk not in ids:
        ids.add(unit.pk)
        unit = unit.parent
    return ids


def unit_choices() -> list[tuple[str, str]]:
    """The supervising units above the current commune, as (code, name): electronic recipients."""
    here = current_commune()
    if here is None:
        return []
    return [(unit.code, unit.name) for unit in SupervisingUnit.objects.filter(pk__in=_units_above(here)).order_by("code")]


def _validate_draft(doc: OutgoingDocument) -> None:
    errors: dict[str, str] = {}
    if not doc.subject:
        errors["subject"] = _("Write the subject of the document.")
    if doc.doc_type_id is None or not DocumentType.objects.filter(pk=doc.doc_type_id, active=True).exists():
        errors["doc_type"] = _("Choose an active document type.")
    if len(doc.body) > MAX_BODY:
        errors["body"] = _("The body is too long (at most %(max)d characters).") % {"max": MAX_BODY}
    if len(doc.recipient_lines) > MAX_RECIPIENT_LINES:
        errors["recipients_text"] = _("At most %(max)d recipient lines.") % {"max": MAX_RECIPIENT_LINES}
    if doc.urgency not in Urgency.values:
        errors["urgency"] = _("Choose a valid urgency.")
    if doc.confidentiality not in Confidentiality.values:
        errors["confidentiality"] = _("Choose a valid confidentiality.")
    if doc.authority_id and doc.doc_type_id:
        if not SigningAuthority.objects.filter(pk=doc.authority_id, document_types=doc.doc_type_id).exists():
            errors["authority"] = _("This signer has no authority for this type of document.")
    if errors:
        raise ValidationError(errors)


def save_draft(doc: OutgoingDocument, *, user, electronic_recipients=None, upload=None,
               layout: dict | None = None) -> OutgoingDocument:
    """Create or edit a draft. ``electronic_recipients``: [{kind, code}] (None: unchanged);
    ``upload``: a PDF replacing the composed text (its field boxes in ``layout`` or defaults)."""
    creating = doc.pk is None
    if creating:
        permissions.require(user, "outgoing.draft")
        doc.created_by = user
        doc.state = OutgoingState.DRAFT
    else:
        permissions.require(user, "outgoing.draft", doc)
        if not doc.is_editable:
            raise _wrong_state(doc)
    doc.subject = clean_text(doc.subject)
    doc.body = clean_multiline(doc.body)
    doc.recipients_text = clean_multiline(doc.recipients_text)
    doc.drafting_unit = clean_text(doc.drafting_unit)
    doc.archive_holder = clean_text(doc.archive_holder)
    doc.note = clean_text(doc.note)
    _validate_draft(doc)
    recipients = None
    if electronic_recipients is not None:
        recipients = _resolve_recipients(electronic_recipients, secret=doc.is_secret)
    elif doc.is_secret and doc.pk and doc.electronic_recipients.exists():
        raise refuse(_("A secret document never leaves the commune electronically."), field="electronic_recipients")
    pdf = None
    if upload is not None:
        if doc.is_secret:
            raise refuse(_("A secret document cannot have files in the portal."), field="upload")
        data, info = _read_pdf(upload, "upload")
        box_layout = _checked_layout(layout) if layout else rendering.default_upload_layout(
            info.get("pages"), info.get("page_sizes"))
        pdf = (data, box_layout)
    doc.full_clean(exclude=["doc_type", "authority", "created_by", "signer", "approved_by", "issued_by"])
    with transaction.atomic():
        if not creating:
            current = _locked(OutgoingDocument, doc.pk)
            if current.state != OutgoingState.DRAFT:
                raise _wrong_state(current)
        if pdf is not None:
            doc.draft_source = OutgoingDocument.DraftSource.UPLOADED
            doc.layout = pdf[1]
        doc.search_text = _outgoing_search_text(doc)
        _save(doc, user, "draft created" if creating else "draft edited")
        if pdf is not None:
            with_fields = signing.add_text_fields(pdf[0], pdf[1])
            doc.draft_pdf = files.save_final(f"documents/outgoing/{doc.pk}/upload.pdf", with_fields)
            _save(doc, user, "draft uploaded")
        if recipients is not None:
            doc.electronic_recipients.all().delete()
            OutgoingRecipient.objects.bulk_create([OutgoingRecipient(document=doc, **entry) for entry in recipients])
        doc.full_clean(exclude=["doc_type", "authority", "created_by", "signer", "approved_by", "issued_by"])
    return doc


def _read_pdf(upload, field: str):
    """An uploaded PDF, checked; its refusal is reported on ``field``."""
    try:
        return files.read_upload(upload)
    except ValidationError as exc:
        raise ValidationError({field: exc.error_list}) from exc


def _checked_layout(layout: dict) -> dict:
    checked = {}
    for name in ("number", "date", "signature", "seal"):
        value = layout.get(name)
        if value is None:
            continue
        box = signing.Box.from_json(value)
        if box is None or box.page < 0 or box.page > 2000:
            raise refuse(_("The position of the %(name)s field is not valid.") % {"name": name}, field="layout")
        x1, y1, x2, y2 = box.box
        if not (0 <= x1 < x2 <= 2000 and 0 <= y1 < y2 <= 2000):
            raise refuse(_("The position of the %(name)s field is not valid.") % {"name": name}, field="layout")
        checked[name] = box.to_json()
    if "signature" in checked and "seal" not in checked:
        signature = signing.Box.from_json(checked["signature"])
        checked["seal"] = signing.Box(signature.page, rendering.seal_box(signature.box)).to_json()
    defaults = rendering.default_upload_layout()
    for name in ("number", "date", "signature", "seal"):
        checked.setdefault(name, defaults[name])
    return checked


def add_attachment(doc: OutgoingDocument, *, user, upload, title: str = "") -> OutgoingAttachment:
    permissions.require(user, "outgoing.draft", doc)
    if doc.is_secret:
        raise refuse(_("A secret document can have no attachment and no electronic recipient."), field="file")
    if not doc.is_editable:
        raise _wrong_state(doc)
    data, info = _read_pdf(upload, "file")
    title = clean_text(title) or files.clean_filename(getattr(upload, "name", ""))
    with transaction.atomic():
        current = _locked(OutgoingDocument, doc.pk)
        if current.state != OutgoingState.DRAFT:
            raise _wrong_state(current)
        if current.attachments.count() >= MAX_ATTACHMENTS:
            raise refuse(_("At most %(max)d attachments.") % {"max": MAX_ATTACHMENTS}, field="file")
        name = files.save_final(f"documents/outgoing/{doc.pk}/attachments/{files.clean_filename(getattr(upload, 'name', ''))}", data)
        return OutgoingAttachment.objects.create(
            document=current, title=title[:300], file=name, position=current.attachments.count(),
            page_size=(info.get("page_sizes") or [[]])[0],
        )


@transaction.atomic
def remove_attachment(attachment: OutgoingAttachment, *, user) -> None:
    doc = _locked(OutgoingDocument, attachment.document_id)
    permissions.require(user, "outgoing.draft", doc)
    if doc.state != OutgoingState.DRAFT:
        raise _wrong_state(doc)
    attachment.delete()  # the file itself is final and stays in storage


def draft_content(doc: OutgoingDocument, policy: NumberingPolicy | None = None) -> rendering.DraftContent:
    policy = policy or get_policy()
    authority = doc.authority
    lines = authority.lines() if authority else list(doc.authority_lines or [])
    signer = user_name(authority.user) if authority and authority.user_id else doc.signer_name
    return rendering.DraftContent(
        agency_lines=numbering.agency_name(policy).split("\n"),
        parent_line=policy.parent_agency_line,
        type_title="" if doc.doc_type.is_official_letter else doc.doc_type.name,
        is_letter=doc.doc_type.is_official_letter,
        subject=doc.subject, body=doc.body, signer_name=signer, authority_lines=lines,
        recipients=_recipient_lines(doc), urgency_mark=URGENCY_MARKS.get(doc.urgency, ""),
    )


def _recipient_lines(doc: OutgoingDocument) -> list[str]:
    lines = doc.recipient_lines
    if not any(line.lstrip("-–+ ").startswith("Lưu") for line in lines):
        unit = doc.drafting_unit or ""
        lines.append(f"Lưu: VT{', ' + unit if unit else ''}.")
    return lines


def preview_pdf(doc: OutgoingDocument) -> bytes:
    """The draft as it would be frozen now (composed), or the uploaded file."""
    if doc.is_secret:
        raise refuse(_("A secret document cannot have files in the portal."))
    if doc.draft_source == OutgoingDocument.DraftSource.UPLOADED and doc.draft_pdf:
        return files.read(doc.draft_pdf)
    return rendering.render_draft(draft_content(doc), title=doc.subject).pdf


def _freeze_draft(doc: OutgoingDocument) -> None:
    """Write the PDF that reviewers read and the leader signs (a new file at each submission)."""
    if doc.draft_source == OutgoingDocument.DraftSource.UPLOADED:
        if not doc.draft_pdf:
            raise refuse(_("Upload the PDF of the draft first."), field="upload")
        return
    rendered = rendering.render_draft(draft_content(doc), title=doc.subject)
    pdf = signing.add_text_fields(rendered.pdf, rendered.layout)
    doc.layout = rendered.layout
    doc.draft_pdf = files.save_final(f"documents/outgoing/{doc.pk}/draft.pdf", pdf)


def submit(doc: OutgoingDocument, *, user) -> OutgoingDocument:
    """Draft → in review. The composed draft is rendered to PDF here and frozen."""
    permissions.require(user, "outgoing.draft", doc)
    with transaction.atomic():
        doc = _locked(OutgoingDocument, doc.pk)
        if doc.state != OutgoingState.DRAFT:
            raise _wrong_state(doc)
        if doc.authority_id is None:
            raise refuse(_("Choose who signs the document."), field="authority")
        _validate_draft(doc)
        authority = doc.authority
        doc.signer = authority.user
        doc.signer_name = user_name(authority.user)
        doc.authority_lines = authority.lines()
        if not doc.is_secret:
            _freeze_draft(doc)
        doc.state = OutgoingState.IN_REVIEW
        doc.review_note = ""
        _save(doc, user, "submitted")
    return doc


def approve(doc: OutgoingDocument, *, user, note: str = "") -> OutgoingDocument:
    permissions.require(user, "outgoing.review", doc)
    with transaction.atomic():
        doc = _locked(OutgoingDocument, doc.pk)
        if doc.state != OutgoingState.IN_REVIEW:
            raise _wrong_state(doc)
        doc.state = OutgoingState.APPROVED
        doc.approved_by = user
        doc.review_note = clean_multiline(note)[:MAX_NOTE]
        _save(doc, user, "approved")
    return doc


def return_draft(doc: OutgoingDocument, *, user, reason: str) -> OutgoingDocument:
    permissions.require(user, "outgoing.review", doc)
    reason = clean_multiline(reason)
    if not reason:
        raise refuse(_("Say what must be changed."), field="reason")
    with transaction.atomic():
        doc = _locked(OutgoingDocument, doc.pk)
        if doc.state not in (OutgoingState.IN_REVIEW, OutgoingState.APPROVED):
            raise _wrong_state(doc)
        doc.state = OutgoingState.DRAFT
        doc.review_note = reason[:MAX_NOTE]
        doc.approved_by = None
        _save(doc, user, "returned to the drafter")
    return doc


# --- outgoing: signatures and issuing ---------------------------------------------------------

def _signature_error(exc: signing.SignatureRefused, prefix: str = "") -> ValidationError:
    messages = {
        "wrong_pin": _("The PIN is wrong."),
        "pin_locked": _("The PIN is locked after too many wrong attempts."),
        "no_authority": _("You have no authority to sign this document."),
        "certificate_expired": _("Your certificate has expired."),
        "certificate_not_yet_valid": _("Your certificate is not valid yet."),
        "certificate_inactive": _("Your certificate is not active."),
        "untrusted": _("Your certificate is not trusted by this installation."),
        "already_signed": _("This file is already signed."),
    }
    message = exc.message or messages.get(exc.code) or _("The signature could not be made.")
    field = "pin" if exc.code in ("wrong_pin", "pin_locked") else None
    return refuse(f"{prefix}{message}", code=exc.code or "signature_refused", field=field)


def sign_as_leader(doc: OutgoingDocument, user, pin: str):
    """Ask for the leader's personal signature on the frozen draft (a signing job)."""
    permissions.require(user, "outgoing.sign", doc)
    doc.refresh_from_db()
    if doc.state != OutgoingState.APPROVED:
        raise _wrong_state(doc)
    if doc.is_secret:
        raise refuse(_("A secret document is signed on paper."), code="wrong_state")
    today = numbering.local_today()
    authority = doc.authority
    if authority is None or authority.user_id != user.pk:
        raise refuse(_("This draft names another signer: return it to change the signer."), code="no_authority")
    if not authority.is_valid_on(today) or not authority.document_types.filter(pk=doc.doc_type_id).exists():
        raise refuse(_("You have no authority to sign this type of document today."), code="no_authority")
    if not doc.draft_pdf:
        raise refuse(_("The draft has no PDF to sign."), code="wrong_state")
    try:
        return signing.request_leader_signature(doc, user, pin)
    except signing.SignatureRefused as exc:
        raise _signature_error(exc) from exc


def _subject_pk(job, prefix: str) -> int:
    subject = str(getattr(job, "subject", ""))
    if not subject.startswith(prefix + ":"):
        raise ValueError(f"Unexpected subject {subject!r}")
    return int(subject.split(":", 1)[1])


def _job_user(job):
    user_id = getattr(job, "requested_by_id", None)
    return get_user_model().objects.filter(pk=user_id).first() if user_id else None


@transaction.atomic
def on_leader_signed(job) -> None:
    """Called by the signing job in its final transaction: approved → signed."""
    doc = _locked(OutgoingDocument, _subject_pk(job, "documents.outgoing"))
    if doc.state != OutgoingState.APPROVED:
        logger.info("Outgoing %s: leader signature arrived in state %s; ignored", doc.pk, doc.state)
        return
    doc.leader_signed_pdf = job.output_name
    doc.state = OutgoingState.SIGNED
    doc.signed_at = now()
    _save(doc, _job_user(job), "signed by the leader")


def issue(doc: OutgoingDocument, clerk, pin: str = "", *, on: datetime.date | None = None) -> OutgoingDocument:
    """Number and date the signed document, then apply the agency's signature.

    1. One transaction (committed): lock the document, check it is signed and not yet
       numbered (a second clerk at the same moment waits for the lock, then is told it was
       already issued), draw the number. The number is kept whatever follows.
    2. Fill the number and date fields into a new file.
    3. Ask for the agency's signature on it and on each attachment. If that fails, the
       document stays numbered and ``apply_agency_signature`` tries again.
    A secret document gets its number and register line only (it was signed on paper).
    """
    permissions.require(clerk, "outgoing.issue", doc)
    doc.refresh_from_db()
    _check_issuable(doc)
    if not doc.is_secret:
        try:
            signing.check_agency_certificate(clerk)
        except signing.SignatureRefused as exc:
            raise _signature_error(exc) from exc
    with transaction.atomic():
        locked = _locked(OutgoingDocument, doc.pk)  # a second clerk waits here, then is refused
        _check_issuable(locked)
        if locked.is_secret and not locked.signer_name and locked.authority_id:
            locked.signer = locked.authority.user
            locked.signer_name = user_name(locked.authority.user)
            locked.authority_lines = locked.authority.lines()
        assign_number(locked, on=on)
        locked.issued_by = clerk
        locked.state = OutgoingState.ISSUED if locked.is_secret else OutgoingState.NUMBERED
        if locked.is_secret:
            locked.issued_at = now()
        locked.search_text = _outgoing_search_text(locked)
        try:
            with transaction.atomic():
                _save(locked, clerk, f"numbered {locked.number_symbol}")
        except IntegrityError as exc:  # the constraints caught a duplicate: nothing is kept
            raise refuse(_("This number is already taken: try again."), code="already_issued") from exc
    if locked.is_secret:
        return locked
    _finish_issue(locked, clerk, pin)
    locked.refresh_from_db()
    return locked


def _check_issuable(doc: OutgoingDocument) -> None:
    if doc.number is not None or doc.state in (OutgoingState.NUMBERED, OutgoingState.ISSUED,
                                               OutgoingState.DISPATCHED, OutgoingState.FILED):
        raise refuse(_("This document was already issued as %(number)s.") % {"number": doc.number_symbol or "–"},
                     code="already_issued")
    allowed = (OutgoingState.DRAFT, OutgoingState.IN_REVIEW, OutgoingState.APPROVED, OutgoingState.SIGNED) \
        if doc.is_secret else (OutgoingState.SIGNED,)
    if doc.state not in allowed:
        raise _wrong_state(doc)
    if not doc.is_secret and not doc.leader_signed_pdf:
        raise refuse(_("The leader's signed file is missing."), code="wrong_state")


def apply_agency_signature(doc: OutgoingDocument, clerk, pin: str = "") -> OutgoingDocument:
    """Retry the agency's signature of a numbered document (its number is kept)."""
    permissions.require(clerk, "outgoing.issue", doc)
    doc.refresh_from_db()
    if doc.state != OutgoingState.NUMBERED:
        raise _wrong_state(doc)
    _finish_issue(doc, clerk, pin)
    doc.refresh_from_db()
    return doc


def _finish_issue(doc: OutgoingDocument, clerk, pin: str) -> None:
    prefix = _("The number %(number)s is kept. ") % {"number": doc.number_symbol}
    try:
        if not doc.numbered_pdf:
            source = files.read(doc.leader_signed_pdf)
            number = numbering.number_line(doc.number_symbol)
            date = numbering.date_line(doc.place_name, doc.issued_on)
            wanted = f"documents/outgoing/{doc.pk}/numbered.pdf"
            # Filled by an earlier attempt that stopped before recording it: that file, not a second one.
            earlier = earlier_final(wanted, partial(_numbered_from, source, number, date))
            if earlier is not None:
                name = earlier.name
            else:
                name = files.save_final(wanted, signing.fill_text_fields(source, number=number, date=date))
            with transaction.atomic():
                locked = _locked(OutgoingDocument, doc.pk)
                if not locked.numbered_pdf:
                    locked.numbered_pdf = name
                    _save(locked, clerk, "number and date filled in")
                doc.numbered_pdf = locked.numbered_pdf
        signing.request_agency_signature(doc, clerk, pin)
        for attachment in doc.attachments.filter(signed_file=""):
            signing.request_attachment_signature(attachment, clerk, pin)
    except signing.SignatureRefused as exc:
        raise _signature_error(exc, prefix) from exc


def _numbered_from(source: bytes, number: str, date: str, data: bytes) -> bool:
    """Whether ``data`` is ``source`` with the number and date filled in (an incremental update
    keeps the leader's signed bytes as they are)."""
    from signatures.pdf.fields import DATE_FIELD, NUMBER_FIELD, text_field_values

    if not data.startswith(source) or len(data) == len(source):
        return False
    values = text_field_values(data)
    return values.get(NUMBER_FIELD) == number and values.get(DATE_FIELD) == date


@transaction.atomic
def on_agency_signed(job) -> None:
    """Called by the signing job in its final transaction: numbered → issued."""
    doc = _locked(OutgoingDocument, _subject_pk(job, "documents.outgoing"))
    if doc.state != OutgoingState.NUMBERED:
        logger.info("Outgoing %s: agency signature arrived in state %s; ignored", doc.pk, doc.state)
        return
    doc.issued_pdf = job.output_name
    doc.state = OutgoingState.ISSUED
    doc.issued_at = now()
    _save(doc, _job_user(job), "issued")


@transaction.atomic
def on_attachment_signed(job) -> None:
    attachment = OutgoingAttachment.objects.select_for_update().get(pk=_subject_pk(job, "documents.attachment"))
    if not attachment.signed_file:
        attachment.signed_file = job.output_name
        attachment.save(update_fields=["signed_file"])


def dispatch(doc: OutgoingDocument, *, user, day: datetime.date | None = None, note: str = "") -> OutgoingDocument:
    """Issued → dispatched: the date of sending, and an outbox job per electronic recipient."""
    from documents.exchange import new_deliver_job

    permissions.require(user, "outgoing.dispatch", doc)
    with transaction.atomic():
        doc = _locked(OutgoingDocument, doc.pk)
        if doc.state != OutgoingState.ISSUED:
            raise _wrong_state(doc)
        if doc.attachments.filter(signed_file="").exists():
            raise refuse(_("The agency's signature of the attachments is not finished yet."), code="wrong_state")
        day = day or numbering.local_today()
        if doc.issued_on and day < doc.issued_on:
            raise refuse(_("The document cannot be sent before its date."), field="day")
        doc.state = OutgoingState.DISPATCHED
        doc.dispatched_on = day
        if note:
            doc.note = clean_text(note)[:500]
        _save(doc, user, "dispatched")
        for recipient in doc.electronic_recipients.select_for_update().filter(state=DeliveryState.QUEUED):
            if doc.is_secret:  # never: secret documents cannot have electronic recipients
                raise refuse(_("A secret document never leaves the commune electronically."))
            if recipient.kind == OutgoingRecipient.Kind.COMMUNE:
                enqueue(new_deliver_job(recipient))
            else:  # a supervising unit reads it through the national API
                recipient.state = DeliveryState.SENT
                recipient.sent_at = now()
                recipient.save(update_fields=["state", "sent_at"])
    return doc


def file_document(doc: OutgoingDocument, *, user, retention_years: int, archive_code: str = "") -> OutgoingDocument:
    """Issued or dispatched → filed in a file (hồ sơ) with its retention period."""
    permissions.require(user, "outgoing.file", doc)
    try:
        retention_years = int(retention_years)
    except (TypeError, ValueError):
        raise refuse(_("Enter the retention period in years (0 for permanent)."), field="retention_years")
    if not 0 <= retention_years <= 100:
        raise refuse(_("Enter the retention period in years (0 for permanent)."), field="retention_years")
    with transaction.atomic():
        doc = _locked(OutgoingDocument, doc.pk)
        if doc.state not in (OutgoingState.ISSUED, OutgoingState.DISPATCHED):
            raise _wrong_state(doc)
        doc.state = OutgoingState.FILED
        doc.retention_years = retention_years
        doc.archive_code = clean_text(archive_code)[:60]
        doc.filed_at = now()
        _save(doc, user, "filed")
    return doc


def withdraw(doc: OutgoingDocument, *, user, reason: str) -> OutgoingDocument:
    """Cancel a document. A numbered one keeps its number and register line, marked cancelled."""
    permissions.require(user, "outgoing.withdraw", doc)
    reason = clean_text(reason)
    if not reason:
        raise refuse(_("Give the reason for the withdrawal."), field="reason")
    with transaction.atomic():
        doc = _locked(OutgoingDocument, doc.pk)
        if doc.state == OutgoingState.WITHDRAWN:
            raise _wrong_state(doc)
        doc.state = OutgoingState.WITHDRAWN
        doc.withdrawn_reason = reason[:500]
        doc.withdrawn_at = now()
        _save(doc, user, "withdrawn")
    return doc


# --- incoming ----------------------------------------------------------------------------------

def _incoming_search_text(doc: IncomingDocument) -> str:
    return search_text(
        f"{doc.incoming_number:02d}" if doc.incoming_number else "", doc.original_number_symbol, doc.sender_org,
        doc.display_type, doc.subject,
    )


def _event(doc, kind, user, text: str = "", to_user=None) -> HandlingEvent:
    return HandlingEvent.objects.create(
        document=doc, kind=kind, user=user if getattr(user, "pk", None) else None, user_name=user_name(user),
        to_user=to_user, text=text[:MAX_NOTE],
    )


def _check_incoming(doc: IncomingDocument) -> None:
    errors: dict[str, str] = {}
    if not doc.sender_org:
        errors["sender_org"] = _("Enter the sender (the author of the document).")
    if not doc.subject:
        errors["subject"] = _("Write the subject of the document.")
    if doc.arrived_at is None:
        errors["arrived_at"] = _("Enter the date and time of arrival.")
    elif doc.arrived_at > now() + ARRIVAL_CLOCK_SKEW:
        errors["arrived_at"] = _("The arrival cannot be in the future.")
    if doc.document_date and doc.arrived_at and doc.document_date > numbering.local_date(doc.arrived_at):
        errors["document_date"] = _("The document cannot be dated after its arrival.")
    if doc.doc_type_id and not DocumentType.objects.filter(pk=doc.doc_type_id).exists():
        errors["doc_type"] = _("Choose a document type.")
    if errors:
        raise ValidationError(errors)


def _normalize_incoming(doc: IncomingDocument) -> None:
    for name in ("sender_org", "original_number_symbol", "subject", "type_name", "note"):
        setattr(doc, name, clean_text(getattr(doc, name)))
    if doc.doc_type_id and not doc.type_name:
        doc.type_name = doc.doc_type.name


def register_incoming(doc: IncomingDocument, *, user, scan=None) -> IncomingDocument:
    """Register an incoming document (paper, or electronic received outside the portal) with
    the next incoming number. ``scan``: the uploaded PDF, checked before anything is written."""
    permissions.require(user, "incoming.register")
    _normalize_incoming(doc)
    _check_incoming(doc)
    data = None
    if scan is not None:
        if doc.is_secret:
            raise refuse(_("A secret document cannot have files in the portal."), field="scan")
        data, _info = _read_pdf(scan, "scan")
    doc.full_clean(exclude=["doc_type", "presented_to", "lead_handler", "assigned_by", "registered_by"])
    with transaction.atomic():
        doc.state = IncomingState.REGISTERED
        doc.registered_by = user
        assign_incoming_number(doc)
        doc.search_text = _incoming_search_text(doc)
        _save(doc, user, "registered")
        if data is not None:
            doc.scan = files.save_final(f"documents/incoming/{doc.pk}/scan.pdf", data)
            _save(doc, user, "scan attached")
        _event(doc, HandlingEvent.Kind.REGISTERED, user, _("Incoming number %(number)02d") % {"number": doc.incoming_number})
    return doc


def update_incoming(doc: IncomingDocument, *, user, scan=None) -> IncomingDocument:
    """Correct the registration (before the leader's assignment); a new scan is a new file."""
    permissions.require(user, "incoming.edit", doc)
    _normalize_incoming(doc)
    _check_incoming(doc)
    data = None
    if scan is not None:
        if doc.is_secret:
            raise refuse(_("A secret document cannot have files in the portal."), field="scan")
        data, _info = _read_pdf(scan, "scan")
    if doc.is_secret and doc.scan:
        raise refuse(_("A secret document cannot have files in the portal."), field="confidentiality")
    doc.full_clean(exclude=["doc_type", "presented_to", "lead_handler", "assigned_by", "registered_by"])
    with transaction.atomic():
        current = _locked(IncomingDocument, doc.pk)
        if current.state not in (IncomingState.REGISTERED, IncomingState.PRESENTED):
            raise _wrong_state(current)
        if data is not None:
            doc.scan = files.save_final(f"documents/incoming/{doc.pk}/scan.pdf", data)
        doc.search_text = _incoming_search_text(doc)
        _save(doc, user, "registration corrected")
    return doc


def register_received(doc: IncomingDocument, *, user) -> IncomingDocument:
    """An electronic document in the inbox: checked by the clerk, registered with its number;
    the sender learns it was received."""
    from documents.exchange import report_status

    permissions.require(user, "incoming.register", doc)
    with transaction.atomic():
        doc = _locked(IncomingDocument, doc.pk)
        if doc.state != IncomingState.RECEIVED:
            raise _wrong_state(doc)
        doc.state = IncomingState.REGISTERED
        doc.registered_by = user
        assign_incoming_number(doc)
        doc.search_text = _incoming_search_text(doc)
        _save(doc, user, "registered")
        _event(doc, HandlingEvent.Kind.REGISTERED, user, _("Incoming number %(number)02d") % {"number": doc.incoming_number})
        report_status(doc, DeliveryState.RECEIVED)
    return doc


def return_to_sender(doc: IncomingDocument, *, user, reason: str) -> IncomingDocument:
    """Refuse an electronic document (invalid, not for this commune …) with a reason that
    travels back to the sender."""
    from documents.exchange import report_status

    permissions.require(user, "incoming.return", doc)
    reason = clean_text(reason)
    if not reason:
        raise refuse(_("Give the reason for returning the document."), field="reason")
    with transaction.atomic():
        doc = _locked(IncomingDocument, doc.pk)
        if doc.state != IncomingState.RECEIVED or doc.source != IncomingDocument.Source.ELECTRONIC:
            raise _wrong_state(doc)
        doc.state = IncomingState.RETURNED
        doc.return_reason = reason[:500]
        doc.returned_at = now()
        _save(doc, user, "returned to the sender")
        _event(doc, HandlingEvent.Kind.RETURNED, user, reason)
        report_status(doc, DeliveryState.RETURNED)
    return doc


def presentation_due(doc: IncomingDocument) -> datetime.datetime:
    """Present to the leader the same or the next working day: the end of the next working day."""
    from workcalendar.services import due_at

    return due_at(doc.arrived_at, working_days=1)


def present(doc: IncomingDocument, *, user, leader_id) -> IncomingDocument:
    permissions.require(user, "incoming.present", doc)
    leader = leaders().filter(pk=_official(leader_id, "leader").pk).first()
    if leader is None:
        raise refuse(_("Present the document to the chairman or a vice-chairman."), field="leader")
    with transaction.atomic():
        doc = _locked(IncomingDocument, doc.pk)
        if doc.state != IncomingState.REGISTERED:
            raise _wrong_state(doc)
        doc.state = IncomingState.PRESENTED
        doc.presented_to = leader
        doc.presented_at = now()
        _save(doc, user, "presented")
        _event(doc, HandlingEvent.Kind.PRESENTED, user, user_name(leader), to_user=leader)
    return doc


def assign(doc: IncomingDocument, *, user, lead_handler_id, co_handler_ids=(), working_days=None,
           deadline: datetime.date | None = None, instruction: str = "") -> IncomingDocument:
    """The leader names the lead handler, co-handlers and the deadline (in working days from now,
    by ``workcalendar.services.due_at``, or a date: the end of that working day)."""
    from workcalendar.services import due_at, is_working_day

    permissions.require(user, "incoming.assign", doc)
    lead = _official(lead_handler_id, "lead_handler")
    co_ids: list[int] = []
    for value in co_handler_ids or []:
        co = _official(value, "co_handlers")
        if co.pk != lead.pk and co.pk not in co_ids:
            co_ids.append(co.pk)
    moment = now()
    if deadline is not None:
        if deadline < numbering.local_date(moment):
            raise refuse(_("The deadline cannot be in the past."), field="deadline")
        if not is_working_day(deadline):
            raise refuse(_("The deadline must be a working day."), field="deadline")
        due = due_at(datetime.datetime.combine(deadline, datetime.time(8, 0), TZ), working_days=0)
        days = None
    else:
        if working_days in (None, ""):
            working_days = get_policy().default_handling_days
        try:
            days = int(working_days)
        except (TypeError, ValueError):
            raise refuse(_("Enter the handling time in working days."), field="working_days")
        if not 0 <= days <= 365:
            raise refuse(_("The handling time is between 0 and 365 working days."), field="working_days")
        due = due_at(moment, working_days=days)
    with transaction.atomic():
        doc = _locked(IncomingDocument, doc.pk)
        if doc.state not in (IncomingState.REGISTERED, IncomingState.PRESENTED, IncomingState.ASSIGNED,
                             IncomingState.IN_PROGRESS):
            raise _wrong_state(doc)
        doc.state = IncomingState.ASSIGNED
        doc.lead_handler = lead
        doc.co_handler_ids = co_ids
        doc.handling_days = days
        doc.deadline = due
        doc.instruction = clean_multiline(instruction)[:MAX_NOTE]
        doc.assigned_by = user
        doc.assigned_at = moment
        doc.started_at = None
        _save(doc, user, "assigned")
        _event(doc, HandlingEvent.Kind.ASSIGNED, user, doc.instruction, to_user=lead)
    return doc


def start(doc: IncomingDocument, *, user) -> IncomingDocument:
    permissions.require(user, "incoming.handle", doc)
    with transaction.atomic():
        doc = _locked(IncomingDocument, doc.pk)
        if doc.state != IncomingState.ASSIGNED or doc.lead_handler_id != user.pk:
            raise _wrong_state(doc)
        doc.state = IncomingState.IN_PROGRESS
        doc.started_at = now()
        _save(doc, user, "handling started")
        _event(doc, HandlingEvent.Kind.STARTED, user)
    return doc


def add_note(doc: IncomingDocument, *, user, text: str) -> HandlingEvent:
    permissions.require(user, "incoming.note", doc)
    text = clean_multiline(text)
    if not text:
        raise refuse(_("Write the note."), field="text")
    if len(text) > MAX_NOTE:
        raise refuse(_("The note is too long (at most %(max)d characters).") % {"max": MAX_NOTE}, field="text")
    with transaction.atomic():
        doc = _locked(IncomingDocument, doc.pk)
        if doc.state not in (IncomingState.ASSIGNED, IncomingState.IN_PROGRESS):
            raise _wrong_state(doc)
        return _event(doc, HandlingEvent.Kind.NOTE, user, text)


def forward(doc: IncomingDocument, *, user, to_user_id, text: str = "") -> IncomingDocument:
    """The lead handler hands the document to another official (who becomes lead handler)."""
    permissions.require(user, "incoming.handle", doc)
    target = _official(to_user_id, "to_user")
    if target.pk == user.pk:
        raise refuse(_("Forward the document to someone else."), field="to_user")
    text = clean_multiline(text)[:MAX_NOTE]
    with transaction.atomic():
        doc = _locked(IncomingDocument, doc.pk)
        if doc.state not in (IncomingState.ASSIGNED, IncomingState.IN_PROGRESS) or doc.lead_handler_id != user.pk:
            raise _wrong_state(doc)
        doc.lead_handler = target
        doc.co_handler_ids = [pk for pk in doc.co_handler_ids or [] if pk != target.pk]
        doc.state = IncomingState.ASSIGNED
        doc.started_at = None
        _save(doc, user, "forwarded")
        _event(doc, HandlingEvent.Kind.FORWARDED, user, text, to_user=target)
    return doc


def complete(doc: IncomingDocument, *, user, note: str) -> IncomingDocument:
    permissions.require(user, "incoming.handle", doc)
    note = clean_multiline(note)
    if not note:
        raise refuse(_("Write how the document was handled."), field="note")
    with transaction.atomic():
        doc = _locked(IncomingDocument, doc.pk)
        if doc.state not in (IncomingState.ASSIGNED, IncomingState.IN_PROGRESS) or doc.lead_handler_id != user.pk:
            raise _wrong_state(doc)
        doc.state = IncomingState.COMPLETED
        doc.completed_at = now()
        doc.completion_note = note[:MAX_NOTE]
        if not doc.started_at:
            doc.started_at = doc.completed_at
        _save(doc, user, "completed")
        _event(doc, HandlingEvent.Kind.COMPLETED, user, note)
    return doc


def mark_notices_read(user) -> int:
    from documents.models import DocumentNotice

    return DocumentNotice.objects.filter(user_id=user.pk, read_at__isnull=True).update(read_at=now())
