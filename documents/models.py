"""Official documents of a commune, after Decree 30/2020/NĐ-CP on clerical work (công tác văn thư).

Tenant models: every commune's schema holds its own catalogue, sequences, registers and
documents. Users are kept as foreign keys without a database constraint (users live in the
public schema; see ``core.history``).

* ``DocumentType``: the catalogue of types and abbreviations, as data with a version.
* ``NumberingPolicy``: the commune's numbering choice and letterhead (one row).
* ``NumberSequence``: one row per (year, sequence key); ``documents.numbering`` draws from it.
* ``SigningAuthority``: who signs which types, with which prefix, between which dates.
* ``OutgoingDocument`` (văn bản đi) with its attachments and electronic recipients.
* ``IncomingDocument`` (văn bản đến) with its attachments and handling events.
* ``ExchangeJob`` (the outbox between communes) and ``ReminderJob`` (deadline reminders),
  durable jobs; ``DocumentNotice`` is the in-portal notice a reminder leaves for a handler.
"""
from __future__ import annotations

import datetime
import uuid
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.history import tenant_history
from jobs.models import Job
from jobs.registry import register

TZ = ZoneInfo("Asia/Ho_Chi_Minh")

symbol_validator = RegexValidator(
    r"^[^\s/\-]+$", _("Use letters and digits only, without spaces, '/' or '-' (e.g. UBND)."),
)


def _user_fk(verbose_name, **kwargs):
    """A reference to a public user: no database constraint across schemas."""
    return models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=verbose_name, null=True, blank=True,
        on_delete=models.DO_NOTHING, related_name="+", db_constraint=False, **kwargs,
    )


class Urgency(models.TextChoices):
    """Độ khẩn."""

    NORMAL = "normal", _("Normal")
    URGENT = "urgent", _("Urgent")  # Khẩn
    IMMEDIATE = "immediate", _("Immediate")  # Thượng khẩn
    FLASH = "flash", _("Flash")  # Hỏa tốc


class Confidentiality(models.TextChoices):
    """Độ mật (Law 29/2018/QH14 on state secrets)."""

    NONE = "none", _("Not classified")
    CONFIDENTIAL = "confidential", _("Confidential")  # Mật
    SECRET = "secret", _("Secret")  # Tối mật
    TOP_SECRET = "top_secret", _("Top secret")  # Tuyệt mật


# The marks printed on documents and registers are legal words, not interface text.
URGENCY_MARKS = {Urgency.URGENT: "KHẨN", Urgency.IMMEDIATE: "THƯỢNG KHẨN", Urgency.FLASH: "HỎA TỐC"}
CONFIDENTIALITY_MARKS = {
    Confidentiality.CONFIDENTIAL: "MẬT", Confidentiality.SECRET: "TỐI MẬT", Confidentiality.TOP_SECRET: "TUYỆT MẬT",
}


class DocumentType(models.Model):
    """A type of document and its abbreviation (tên loại, chữ viết tắt), with a version.

    The catalogue is data: a later legal text adds rows with a new version and valid-from date
    and retires the old ones (``active``). The numbering key of a type is its ``code``, so a
    new version of a type keeps counting in the same sequence.
    """

    class Kind(models.TextChoices):
        ADMINISTRATIVE = "administrative", _("Administrative document")
        OFFICIAL_LETTER = "official_letter", _("Official letter")  # công văn
        COPY = "copy", _("Copy")  # bản sao

    code = models.SlugField(_("code"), max_length=40)
    name = models.CharField(_("name"), max_length=100)
    abbreviation = models.CharField(_("abbreviation"), max_length=10, blank=True)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.ADMINISTRATIVE)
    version = models.CharField(_("version"), max_length=40, default="30/2020/NĐ-CP")
    valid_from = models.DateField(_("valid from"), default=datetime.date(2020, 3, 5))
    active = models.BooleanField(_("active"), default=True)
    history = tenant_history()

    class Meta:
        verbose_name = _("document type")
        verbose_name_plural = _("document types")
        ordering = ["kind", "name"]
        constraints = [
            models.UniqueConstraint(fields=["code", "version"], name="documenttype_unique_code_version"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.abbreviation})" if self.abbreviation else self.name

    @property
    def is_official_letter(self) -> bool:
        return self.kind == self.Kind.OFFICIAL_LETTER

    @property
    def is_copy(self) -> bool:
        return self.kind == self.Kind.COPY

    def clean(self):
        if self.kind == self.Kind.OFFICIAL_LETTER and self.abbreviation:
            raise ValidationError({"abbreviation": _("An official letter has no type abbreviation.")})
        if self.kind != self.Kind.OFFICIAL_LETTER and not self.abbreviation:
            raise ValidationError({"abbreviation": _("Enter the abbreviation of this type.")})
        if self.abbreviation and not symbol_validator.regex.match(self.abbreviation):
            raise ValidationError({"abbreviation": symbol_validator.message})


class NumberingPolicy(models.Model):
    """The commune's numbering choice and letterhead: exactly one row (``singleton`` = 1).

    ``mode``: administrative types share one sequence, or each type has its own; secret
    documents, copies and incoming documents always have their own sequences. ``secret_mark``
    ends every secret document's symbol, so that the secret sequence never repeats a number
    and symbol of the ordinary register.
    """

    class Mode(models.TextChoices):
        SHARED = "shared", _("One sequence for all administrative types")
        PER_TYPE = "per_type", _("One sequence per type")

    singleton = models.PositiveSmallIntegerField(default=1, unique=True, editable=False)
    mode = models.CharField(_("numbering"), max_length=10, choices=Mode.choices, default=Mode.SHARED)
    agency_symbol = models.CharField(
        _("agency symbol"), max_length=20, default="UBND", validators=[symbol_validator],
        help_text=_("Abbreviation of the issuing agency in document symbols, e.g. UBND."),
    )
    default_unit_code = models.CharField(
        _("default drafting unit"), max_length=20, default="VP", validators=[symbol_validator],
        help_text=_("Abbreviation of the drafting unit in official letters' symbols, e.g. VP."),
    )
    secret_mark = models.CharField(
        _("mark of secret documents"), max_length=10, default="M", validators=[symbol_validator],
        help_text=_("The last group of a secret document's symbol (e.g. 02/BC-UBND-M): secret documents are "
                    "numbered in a sequence of their own, and the mark keeps their numbers and symbols apart "
                    "from those of ordinary documents."),
    )
    parent_agency_line = models.CharField(
        _("governing agency line"), max_length=150, blank=True,
        help_text=_("Optional line above the agency's name in the letterhead."),
    )
    agency_name = models.CharField(
        _("agency name"), max_length=200, blank=True,
        help_text=_("The letterhead's agency name; a line break splits it. Empty: from the commune's name."),
    )
    place_name = models.CharField(
        _("place name"), max_length=100, blank=True,
        help_text=_("The place in the date line ('Tú Lệ, ngày …'). Empty: the commune's name."),
    )
    due_soon_days = models.PositiveSmallIntegerField(
        _("due soon (days)"), default=2, validators=[MaxValueValidator(60)],
        help_text=_("Incoming documents due within this many days are listed as due soon."),
    )
    default_handling_days = models.PositiveSmallIntegerField(
        _("default handling time (working days)"), default=10, validators=[MinValueValidator(0), MaxValueValidator(365)],
    )
    history = tenant_history()

    class Meta:
        verbose_name = _("numbering policy")
        verbose_name_plural = _("numbering policies")
        constraints = [models.CheckConstraint(condition=Q(singleton=1), name="numberingpolicy_singleton")]

    def __str__(self) -> str:
        return str(self._meta.verbose_name)


class NumberSequence(models.Model):
    """The last number drawn in one sequence of one year.

    ``key``: ``shared``, ``type:<code>``, ``secret``, ``copy`` or ``incoming``. A number drawn
    in a committed transaction is never given back.
    """

    year = models.PositiveIntegerField(_("year"))
    key = models.CharField(_("sequence"), max_length=60)
    last_number = models.PositiveIntegerField(_("last number"), default=0)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("number sequence")
        verbose_name_plural = _("number sequences")
        ordering = ["-year", "key"]
        constraints = [models.UniqueConstraint(fields=["year", "key"], name="numbersequence_unique_year_key")]

    def __str__(self) -> str:
        return f"{self.year} {self.key}: {self.last_number}"


class AuthorityPrefix(models.TextChoices):
    NONE = "", _("None")
    TM = "TM.", _("TM. (on behalf of the collective)")
    KT = "KT.", _("KT. (for the head)")
    Q = "Q.", _("Q. (acting)")
    TL = "TL.", _("TL. (by order)")
    TUQ = "TUQ.", _("TUQ. (delegated)")


class SigningAuthority(models.Model):
    """Who may sign which document types, how, and between which dates (thẩm quyền ký)."""

    user = _user_fk(_("signer"))
    document_types = models.ManyToManyField(DocumentType, verbose_name=_("document types"), related_name="+")
    prefix = models.CharField(_("authority prefix"), max_length=5, choices=AuthorityPrefix.choices, blank=True)
    title = models.CharField(_("title"), max_length=100, help_text=_("e.g. CHỦ TỊCH, PHÓ CHỦ TỊCH"))
    principal_title = models.CharField(
        _("title of the head"), max_length=100, blank=True,
        help_text=_("After KT., TL., TUQ.: whose authority, e.g. CHỦ TỊCH."),
    )
    collective = models.CharField(
        _("collective line"), max_length=150, blank=True, help_text=_("e.g. ỦY BAN NHÂN DÂN (printed after TM.)"),
    )
    valid_from = models.DateField(_("valid from"))
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    history = tenant_history()

    class Meta:
        verbose_name = _("signing authority")
        verbose_name_plural = _("signing authorities")
        ordering = ["-valid_from", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_until__isnull=True) | Q(valid_until__gte=models.F("valid_from")),
                name="signingauthority_valid_range",
            ),
        ]

    def __str__(self) -> str:
        return " – ".join(line for line in self.lines() if line) + f" ({self.user})"

    def is_valid_on(self, day: datetime.date) -> bool:
        return self.valid_from <= day and (self.valid_until is None or day <= self.valid_until)

    def lines(self) -> list[str]:
        """The signer block's lines above the signature: 'TM. ỦY BAN NHÂN DÂN', 'KT. CHỦ TỊCH', ..."""
        title = self.title.upper()
        principal = (self.principal_title or title).upper()
        lines = []
        if self.collective and self.prefix in ("TM.", "KT.", "Q.", "TL.", "TUQ."):
            lines.append(f"TM. {self.collective.upper()}")
        if self.prefix == "TM.":
            lines.append(title)
        elif self.prefix == "Q.":
            lines.append(f"Q. {principal}")
        elif self.prefix in ("KT.", "TL.", "TUQ."):
            lines += [f"{self.prefix} {principal}", title]
        else:
            lines.append(title)
        return lines

    def clean(self):
        if self.valid_until and self.valid_from and self.valid_until < self.valid_from:
            raise ValidationError({"valid_until": _("The end date is before the start date.")})
        if self.prefix == "TM." and not self.collective:
            raise ValidationError({"collective": _("TM. signs on behalf of a collective: enter it.")})


class OutgoingState(models.TextChoices):
    DRAFT = "draft", _("Draft")
    IN_REVIEW = "in_review", _("In review")
    APPROVED = "approved", _("Approved")
    SIGNED = "signed", _("Signed by the leader")
    NUMBERED = "numbered", _("Numbered")
    ISSUED = "issued", _("Issued")
    DISPATCHED = "dispatched", _("Dispatched")
    FILED = "filed", _("Filed")
    WITHDRAWN = "withdrawn", _("Withdrawn")


NUMBERED_STATES = frozenset({
    OutgoingState.NUMBERED, OutgoingState.ISSUED, OutgoingState.DISPATCHED, OutgoingState.FILED,
})
EDITABLE_STATES = frozenset({OutgoingState.DRAFT})


class OutgoingDocument(models.Model):
    """An outgoing document (văn bản đi): draft, review, signatures, number, dispatch, filing.

    Files are storage names written once with ``save_final``; each step writes a new file.
    A secret document (any classification) is a number and a register line only: no body,
    no file, no attachment, no electronic recipient (``clean`` refuses them).

    Two database constraints keep the registers right whatever the code does: a number is
    unique in its (year, sequence), and a number/symbol is unique in its year across the
    ordinary register and the register of secret documents (a secret document's symbol ends
    with the policy's ``secret_mark``).
    """

    State = OutgoingState

    class DraftSource(models.TextChoices):
        COMPOSED = "composed", _("Composed in the portal")
        UPLOADED = "uploaded", _("Uploaded PDF")

    doc_type = models.ForeignKey(DocumentType, verbose_name=_("type"), on_delete=models.PROTECT, related_name="+")
    subject = models.CharField(_("subject"), max_length=500)
    body = models.TextField(_("body"), blank=True)
    recipients_text = models.TextField(_("recipients"), blank=True, help_text=_("One recipient per line."))
    drafting_unit = models.CharField(_("drafting unit"), max_length=20, blank=True, validators=[symbol_validator])
    urgency = models.CharField(_("urgency"), max_length=10, choices=Urgency.choices, default=Urgency.NORMAL)
    confidentiality = models.CharField(
        _("confidentiality"), max_length=12, choices=Confidentiality.choices, default=Confidentiality.NONE,
    )
    authority = models.ForeignKey(
        SigningAuthority, verbose_name=_("signing authority"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="+",
    )
    # The signer block as signed (copied from the authority, so later edits of it change nothing).
    signer = _user_fk(_("signer"))
    signer_name = models.CharField(_("signer's name"), max_length=200, blank=True)
    authority_lines = models.JSONField(_("signer's title lines"), default=list, blank=True)
    state = models.CharField(_("state"), max_length=12, choices=OutgoingState.choices, default=OutgoingState.DRAFT)

    draft_source = models.CharField(_("draft"), max_length=10, choices=DraftSource.choices, default=DraftSource.COMPOSED)
    draft_pdf = models.CharField(_("draft PDF"), max_length=300, blank=True)
    leader_signed_pdf = models.CharField(_("PDF signed by the leader"), max_length=300, blank=True)
    numbered_pdf = models.CharField(_("PDF with number and date"), max_length=300, blank=True)
    issued_pdf = models.CharField(_("issued PDF"), max_length=300, blank=True)
    layout = models.JSONField(
        _("field positions"), default=dict, blank=True,
        help_text=_("Where the number, the date and the signatures go: {name: {page, box}}."),
    )

    number = models.PositiveIntegerField(_("number"), null=True, blank=True)
    number_year = models.PositiveIntegerField(_("year of the number"), null=True, blank=True)
    sequence_key = models.CharField(_("sequence"), max_length=60, blank=True)
    number_symbol = models.CharField(_("number and symbol"), max_length=60, blank=True)
    issued_on = models.DateField(_("date"), null=True, blank=True)
    place_name = models.CharField(_("place"), max_length=100, blank=True)

    reply_due = models.DateField(_("reply requested by"), null=True, blank=True)
    copies_count = models.PositiveSmallIntegerField(
        _("number of copies"), default=1, validators=[MinValueValidator(1), MaxValueValidator(9999)],
    )
    archive_holder = models.CharField(_("unit or person keeping the archive copy"), max_length=200, blank=True)
    dispatched_on = models.DateField(_("dispatched on"), null=True, blank=True)
    receipt_note = models.CharField(_("receipt"), max_length=200, blank=True)
    note = models.CharField(_("note"), max_length=500, blank=True)
    retention_years = models.PositiveSmallIntegerField(
        _("retention (years)"), null=True, blank=True, validators=[MaxValueValidator(100)],
        help_text=_("0 for permanent retention."),
    )
    archive_code = models.CharField(_("file code"), max_length=60, blank=True)
    filed_at = models.DateTimeField(_("filed at"), null=True, blank=True)
    review_note = models.TextField(_("review note"), blank=True)
    withdrawn_reason = models.CharField(_("reason for withdrawal"), max_length=500, blank=True)
    withdrawn_at = models.DateTimeField(_("withdrawn at"), null=True, blank=True)

    created_by = _user_fk(_("drafted by"))
    approved_by = _user_fk(_("approved by"))
    issued_by = _user_fk(_("issued by"))
    signed_at = models.DateTimeField(_("signed at"), null=True, blank=True)
    numbered_at = models.DateTimeField(_("numbered at"), null=True, blank=True)
    issued_at = models.DateTimeField(_("issued at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    search_text = models.TextField(_("text for search"), blank=True, editable=False)
    history = tenant_history(excluded_fields=["search_text"])

    class Meta:
        verbose_name = _("outgoing document")
        verbose_name_plural = _("outgoing documents")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["number_year", "sequence_key", "number"], condition=Q(number__isnull=False),
                name="outgoing_unique_number_in_sequence",
            ),
            models.UniqueConstraint(
                fields=["number_year", "number_symbol"], condition=Q(number__isnull=False),
                name="outgoing_unique_number_symbol_in_year",
            ),
            models.CheckConstraint(
                condition=Q(number__isnull=True) | (Q(number__gte=1) & Q(number_year__isnull=False) & ~Q(sequence_key="") & ~Q(number_symbol="")),
                name="outgoing_number_complete",
            ),
            models.CheckConstraint(
                condition=Q(confidentiality="none") | (
                    Q(body="") & Q(draft_pdf="") & Q(leader_signed_pdf="") & Q(numbered_pdf="") & Q(issued_pdf="")
                ),
                name="outgoing_secret_has_no_content",
            ),
        ]
        indexes = [models.Index(fields=["state"], name="outgoing_state"), models.Index(fields=["issued_on"], name="outgoing_issued_on")]

    def __str__(self) -> str:
        label = self.number_symbol or _("draft")
        return f"{label} – {self.doc_type.name} {self.subject[:60]}"

    @property
    def is_secret(self) -> bool:
        return self.confidentiality != Confidentiality.NONE

    @property
    def is_numbered(self) -> bool:
        return self.number is not None

    @property
    def is_editable(self) -> bool:
        return self.state in EDITABLE_STATES

    @property
    def recipient_lines(self) -> list[str]:
        return [line.strip() for line in (self.recipients_text or "").splitlines() if line.strip()]

    def clean(self):
        errors: dict[str, str] = {}
        if self.is_secret:
            if self.body.strip():
                errors["body"] = _("A secret document is registered without its content: leave the body empty.")
            if any([self.draft_pdf, self.leader_signed_pdf, self.numbered_pdf, self.issued_pdf]):
                errors["confidentiality"] = _("A secret document cannot have files in the portal.")
            if self.pk and (self.attachments.exists() or self.electronic_recipients.exists()):
                errors["confidentiality"] = _(
                    "A secret document can have no attachment and no electronic recipient."
                )
        if self.doc_type_id and self.drafting_unit and not self.doc_type.is_official_letter:
            self.drafting_unit = ""
        if errors:
            raise ValidationError(errors)


class OutgoingAttachment(models.Model):
    """A file attached to an outgoing document; the agency signs each one on issue."""

    document = models.ForeignKey(
        OutgoingDocument, verbose_name=_("document"), on_delete=models.CASCADE, related_name="attachments",
    )
    title = models.CharField(_("title"), max_length=300)
    file = models.CharField(_("file"), max_length=300)
    signed_file = models.CharField(_("signed file"), max_length=300, blank=True)
    page_size = models.JSONField(_("size of page 1"), default=list, blank=True, help_text=_("[width, height] in points."))
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ["document", "position", "pk"]

    def __str__(self) -> str:
        return self.title


class DeliveryState(models.TextChoices):
    QUEUED = "queued", _("Queued")
    SENT = "sent", _("Sent")  # in the recipient's inbox
    RECEIVED = "received", _("Received")  # registered by the recipient's clerk
    RETURNED = "returned", _("Returned")
    FAILED = "failed", _("Failed")


class OutgoingRecipient(models.Model):
    """An electronic recipient: another commune of this installation or a supervising unit."""

    class Kind(models.TextChoices):
        COMMUNE = "commune", _("Commune")
        UNIT = "unit", _("Supervising unit")

    document = models.ForeignKey(
        OutgoingDocument, verbose_name=_("document"), on_delete=models.CASCADE, related_name="electronic_recipients",
    )
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    code = models.CharField(_("code"), max_length=10, help_text=_("Commune code (5 digits) or supervising unit code."))
    name = models.CharField(_("name"), max_length=200)
    organ_id = models.CharField(_("agency identifier"), max_length=13, blank=True)
    message_id = models.UUIDField(_("message id"), default=uuid.uuid4, unique=True, editable=False)
    state = models.CharField(_("delivery"), max_length=10, choices=DeliveryState.choices, default=DeliveryState.QUEUED)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    received_at = models.DateTimeField(_("received at"), null=True, blank=True)
    arrival_number = models.PositiveIntegerField(_("incoming number at the recipient"), null=True, blank=True)
    returned_at = models.DateTimeField(_("returned at"), null=True, blank=True)
    return_reason = models.CharField(_("reason for return"), max_length=500, blank=True)
    error = models.CharField(_("error"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("electronic recipient")
        verbose_name_plural = _("electronic recipients")
        ordering = ["document", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["document", "kind", "code"], name="outgoingrecipient_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_state_display()})"


class IncomingState(models.TextChoices):
    RECEIVED = "received", _("Received, to register")  # electronic, awaiting the clerk
    REGISTERED = "registered", _("Registered")
    PRESENTED = "presented", _("Presented to the leader")
    ASSIGNED = "assigned", _("Assigned")
    IN_PROGRESS = "in_progress", _("In progress")
    COMPLETED = "completed", _("Completed")
    RETURNED = "returned", _("Returned to the sender")


OPEN_INCOMING_STATES = frozenset({IncomingState.ASSIGNED, IncomingState.IN_PROGRESS})


class IncomingDocument(models.Model):
    """An incoming document (văn bản đến): arrival, registration, presentation, handling.

    The incoming number is one yearly sequence for paper and electronic documents. A secret
    document is a register line only: no scanned file (``clean`` refuses one).
    """

    State = IncomingState

    class Source(models.TextChoices):
        PAPER = "paper", _("Paper")
        ELECTRONIC = "electronic", _("Electronic")

    state = models.CharField(_("state"), max_length=12, choices=IncomingState.choices, default=IncomingState.REGISTERED)
    source = models.CharField(_("source"), max_length=10, choices=Source.choices, default=Source.PAPER)
    arrived_at = models.DateTimeField(_("arrived at"))
    incoming_number = models.PositiveIntegerField(_("incoming number"), null=True, blank=True)
    incoming_year = models.PositiveIntegerField(_("year"), null=True, blank=True)
    sender_org = models.CharField(_("sender"), max_length=300)
    original_number_symbol = models.CharField(_("number and symbol"), max_length=60, blank=True)
    document_date = models.DateField(_("document date"), null=True, blank=True)
    doc_type = models.ForeignKey(
        DocumentType, verbose_name=_("type"), null=True, blank=True, on_delete=models.PROTECT, related_name="+",
    )
    type_name = models.CharField(_("type name"), max_length=100, blank=True)
    subject = models.CharField(_("subject"), max_length=500)
    urgency = models.CharField(_("urgency"), max_length=10, choices=Urgency.choices, default=Urgency.NORMAL)
    confidentiality = models.CharField(
        _("confidentiality"), max_length=12, choices=Confidentiality.choices, default=Confidentiality.NONE,
    )
    scan = models.CharField(_("scanned PDF"), max_length=300, blank=True)
    sender_due_date = models.DateField(_("reply requested by"), null=True, blank=True)

    presented_to = _user_fk(_("presented to"))
    presented_at = models.DateTimeField(_("presented at"), null=True, blank=True)
    lead_handler = _user_fk(_("lead handler"))
    co_handler_ids = models.JSONField(_("co-handlers"), default=list, blank=True)
    instruction = models.TextField(_("leader's instruction"), blank=True)
    handling_days = models.PositiveSmallIntegerField(_("handling time (working days)"), null=True, blank=True)
    deadline = models.DateTimeField(_("deadline"), null=True, blank=True)
    assigned_by = _user_fk(_("assigned by"))
    assigned_at = models.DateTimeField(_("assigned at"), null=True, blank=True)
    started_at = models.DateTimeField(_("handler acknowledged at"), null=True, blank=True)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    completion_note = models.TextField(_("result"), blank=True)
    note = models.CharField(_("note"), max_length=500, blank=True)

    exchange_message_id = models.UUIDField(_("exchange message id"), null=True, blank=True, unique=True, editable=False)
    exchange_sender_kind = models.CharField(_("sent by"), max_length=10, blank=True)
    exchange_sender_code = models.CharField(_("sender code"), max_length=10, blank=True)
    envelope = models.JSONField(_("envelope"), default=dict, blank=True)
    returned_at = models.DateTimeField(_("returned at"), null=True, blank=True)
    return_reason = models.CharField(_("reason for return"), max_length=500, blank=True)

    registered_by = _user_fk(_("registered by"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    search_text = models.TextField(_("text for search"), blank=True, editable=False)
    history = tenant_history(excluded_fields=["search_text"])

    class Meta:
        verbose_name = _("incoming document")
        verbose_name_plural = _("incoming documents")
        ordering = ["-arrived_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["incoming_year", "incoming_number"], condition=Q(incoming_number__isnull=False),
                name="incoming_unique_number_in_year",
            ),
            models.CheckConstraint(
                condition=Q(confidentiality="none") | Q(scan=""), name="incoming_secret_has_no_file",
            ),
        ]
        indexes = [
            models.Index(fields=["state", "deadline"], name="incoming_state_deadline"),
            models.Index(fields=["arrived_at"], name="incoming_arrived_at"),
        ]

    def __str__(self) -> str:
        number = f"{self.incoming_number:02d}" if self.incoming_number else "–"
        return f"{number} – {self.sender_org[:40]}: {self.subject[:60]}"

    @property
    def is_secret(self) -> bool:
        return self.confidentiality != Confidentiality.NONE

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_INCOMING_STATES

    @property
    def display_type(self) -> str:
        return self.doc_type.name if self.doc_type_id else self.type_name

    def handler_ids(self) -> set[int]:
        ids = {int(i) for i in (self.co_handler_ids or []) if str(i).isdigit()}
        if self.lead_handler_id:
            ids.add(self.lead_handler_id)
        return ids

    def clean(self):
        if self.is_secret and self.scan:
            raise ValidationError({"scan": _("A secret document cannot have files in the portal.")})


class IncomingAttachment(models.Model):
    """A further file of an incoming document (electronic documents may carry several)."""

    document = models.ForeignKey(
        IncomingDocument, verbose_name=_("document"), on_delete=models.CASCADE, related_name="attachments",
    )
    title = models.CharField(_("title"), max_length=300)
    file = models.CharField(_("file"), max_length=300)
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ["document", "position", "pk"]

    def __str__(self) -> str:
        return self.title


class HandlingEvent(models.Model):
    """One line of an incoming document's handling record (append-only)."""

    class Kind(models.TextChoices):
        REGISTERED = "registered", _("Registered")
        PRESENTED = "presented", _("Presented")
        ASSIGNED = "assigned", _("Assigned")
        STARTED = "started", _("Handling started")
        NOTE = "note", _("Note")
        FORWARDED = "forwarded", _("Forwarded")
        COMPLETED = "completed", _("Completed")
        RETURNED = "returned", _("Returned to the sender")

    document = models.ForeignKey(
        IncomingDocument, verbose_name=_("document"), on_delete=models.CASCADE, related_name="events",
    )
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    user = _user_fk(_("by"))
    user_name = models.CharField(_("by"), max_length=200, blank=True)
    to_user = _user_fk(_("to"))
    text = models.TextField(_("text"), blank=True)
    at = models.DateTimeField(_("time"), auto_now_add=True)

    class Meta:
        verbose_name = _("handling event")
        verbose_name_plural = _("handling events")
        ordering = ["document", "at", "pk"]

    def __str__(self) -> str:
        return f"{self.at:%d/%m/%Y %H:%M} {self.get_kind_display()}"


class DocumentNotice(models.Model):
    """A reminder left in the portal for a handler: a document is due soon or overdue."""

    class Kind(models.TextChoices):
        DUE_SOON = "due_soon", _("Due soon")
        OVERDUE = "overdue", _("Overdue")

    user = _user_fk(_("user"))
    document = models.ForeignKey(
        IncomingDocument, verbose_name=_("document"), on_delete=models.CASCADE, related_name="notices",
    )
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    day = models.DateField(_("day"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)

    class Meta:
        verbose_name = _("document notice")
        verbose_name_plural = _("document notices")
        ordering = ["-day", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["user", "document", "kind", "day"], name="documentnotice_once_a_day"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.document}"


@register
class ExchangeJob(Job):
    """The outbox between communes of this installation (see ``documents.exchange``).

    ``deliver`` lives in the sender's schema and puts the document into the recipient's inbox;
    ``status`` lives in the recipient's schema and carries its answer (received, returned)
    back to the sender. Each step commits in one schema at a time.
    """

    class Kind(models.TextChoices):
        DELIVER = "deliver", _("Deliver a document")
        STATUS = "status", _("Report a delivery status")

    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    recipient = models.ForeignKey(
        OutgoingRecipient, verbose_name=_("recipient"), null=True, blank=True,
        on_delete=models.CASCADE, related_name="jobs",
    )
    message_id = models.UUIDField(_("message id"))
    target_code = models.CharField(_("commune code"), max_length=10)
    payload = models.JSONField(_("payload"), default=dict, blank=True)

    class Meta(Job.Meta):
        verbose_name = _("document exchange")
        verbose_name_plural = _("document exchanges")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.message_id} → {self.target_code}"

    def run(self, ctx):
        from documents import exchange

        return exchange.run_job(self, ctx)


@register
class ReminderJob(Job):
    """Reminders of one day: a notice to the handlers of every due-soon or overdue document."""

    day = models.DateField(_("day"), unique=True)

    class Meta(Job.Meta):
        verbose_name = _("deadline reminder")
        verbose_name_plural = _("deadline reminders")

    def __str__(self) -> str:
        return f"{self._meta.verbose_name} {self.day:%d/%m/%Y}"

    def run(self, ctx):
        from documents import reminders

        return reminders.run_job(self, ctx)
