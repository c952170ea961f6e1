"""The one-stop desk (bộ phận một cửa) of a commune: the procedure catalogue and the dossiers.

Decree 118/2025/NĐ-CP and Circular 03/2025/TT-VPCP (forms 1–7). Tenant models: every
commune's schema holds its own catalogue (loaded from ``onestop/data/procedures.yaml``) and its
own dossiers. Users are kept as foreign keys without a database constraint (users live in the
public schema; see ``core.history``).

* ``Sector`` (lĩnh vực) and ``Procedure`` (thủ tục hành chính), one row per version, with its
  ``RequiredDocument`` lines and ordered ``ProcedureStep``s. A dossier keeps the version it was
  received under.
* ``Dossier`` (hồ sơ) with its documents, events (the hand-overs of form 6), supplement pauses,
  extensions (form 4), generated forms, payments and the citizen's rating.
* ``DossierCounter``: one row per (day, prefix) from which dossier codes are drawn.
* ``FormJob``: a form being rendered for a dossier (form 1 at receipt), a durable job.
* ``BankNotification``: every payment notification the bank sent, kept once per transaction.
"""
from __future__ import annotations

import uuid

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.history import tenant_history
from jobs.models import Job
from jobs.registry import register


def _user_fk(verbose_name, **kwargs):
    """A reference to a public user: no database constraint across schemas."""
    return models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=verbose_name, null=True, blank=True,
        on_delete=models.DO_NOTHING, related_name="+", db_constraint=False, **kwargs,
    )


# --- Catalogue ---------------------------------------------------------------------------------

class Sector(models.Model):
    """Lĩnh vực: a sector of procedures (civil status, certification …)."""

    code = models.CharField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=200)
    order = models.PositiveIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("sector")
        verbose_name_plural = _("sectors")
        ordering = ["order", "name"]

    def __str__(self) -> str:
        return self.name


class TimeUnit(models.TextChoices):
    WORKING_DAYS = "working_days", _("working days")
    WORKING_HOURS = "working_hours", _("working hours")


class OnlineLevel(models.TextChoices):
    FULL = "full", _("Fully online")  # toàn trình
    PARTIAL = "partial", _("Partly online")  # một phần
    NONE = "none", _("At the desk only")


class Handler(models.TextChoices):
    """Who takes the dossier: the People's Committee, or another agency the portal links to."""

    COMMUNE = "commune", _("People's Committee of the commune")
    EXTERNAL = "external", _("Another agency (link only)")


class Procedure(models.Model):
    """Thủ tục hành chính: one version of an administrative procedure.

    ``fee_rule`` is a small rule (see ``onestop.fees``): ``{"kind": "free"}``,
    ``{"kind": "fixed", "amount": 10000}`` or ``{"kind": "per_page", "first_pages": 2,
    "first_page_amount": 2000, "next_page_amount": 1000, "cap": 200000}``, with optional
    ``"online_amount"``. ``form_fields`` lists what the applicant fills in online:
    ``[{"name", "label", "type" (text|textarea|date|number|select), "required", "choices"}]``.
    ``result_template`` is the body of the result document, with ``{field}`` placeholders taken
    from the dossier (applicant_name, code, received_date …, and the form fields).
    """

    code = models.CharField(_("code"), max_length=40, db_index=True)
    national_code = models.CharField(_("national procedure code"), max_length=60, blank=True)
    version = models.PositiveIntegerField(_("version"), default=1)
    valid_from = models.DateField(_("valid from"))
    is_current = models.BooleanField(_("offered now"), default=True)
    name = models.CharField(_("name"), max_length=300)
    sector = models.ForeignKey(Sector, verbose_name=_("sector"), on_delete=models.PROTECT, related_name="procedures")
    agency = models.CharField(_("agency"), max_length=300, blank=True)
    legal_basis = models.JSONField(_("legal basis"), default=list, blank=True)
    published_by = models.CharField(
        _("published by"), max_length=300, blank=True,
        help_text=_("The decision that published this procedure, or the source it was taken from."),
    )
    verified = models.BooleanField(_("time and fee confirmed"), default=False)
    verification_note = models.TextField(_("what is not confirmed"), blank=True)
    time_amount = models.DecimalField(_("processing time"), max_digits=6, decimal_places=2, default=0)
    time_unit = models.CharField(_("time unit"), max_length=20, choices=TimeUnit.choices, default=TimeUnit.WORKING_DAYS)
    cutoff = models.TimeField(
        _("cut-off hour"), null=True, blank=True,
        help_text=_("Dossiers received after this hour count from the next working day."),
    )
    time_note = models.TextField(_("processing time as published"), blank=True)
    fee_rule = models.JSONField(_("fee rule"), default=dict, blank=True)
    fee_note = models.TextField(_("fee as published"), blank=True)
    exemptions = models.JSONField(_("exemptions"), default=list, blank=True)
    result_type = models.CharField(_("result"), max_length=300, blank=True)
    result_title = models.CharField(_("title of the result document"), max_length=200, blank=True)
    result_template = models.TextField(_("body of the result document"), blank=True)
    online_level = models.CharField(_("online level"), max_length=10, choices=OnlineLevel.choices, default=OnlineLevel.PARTIAL)
    handler = models.CharField(_("handled by"), max_length=10, choices=Handler.choices, default=Handler.COMMUNE)
    external_url = models.URLField(_("where to apply"), blank=True)
    form_fields = models.JSONField(_("fields of the application"), default=list, blank=True)
    search_text = models.TextField(_("search text"), blank=True, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    history = tenant_history()

    class Meta:
        verbose_name = _("procedure")
        verbose_name_plural = _("procedures")
        ordering = ["sector__order", "code", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["code", "version"], name="procedure_code_version"),
            models.UniqueConstraint(fields=["code"], condition=Q(is_current=True), name="procedure_one_current"),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    def save(self, *args, **kwargs):
        from onestop.catalogue import search_text_for

        self.search_text = search_text_for(self.name, self.code, self.sector.name if self.sector_id else "", self.national_code)
        super().save(*args, **kwargs)

    @property
    def takes_dossiers(self) -> bool:
        return self.handler == Handler.COMMUNE and self.is_current


class CopyKind(models.TextChoices):
    ORIGINAL = "original", _("original")  # bản chính
    COPY = "copy", _("copy")  # bản sao
    CERTIFIED_COPY = "certified_copy", _("certified copy")  # bản sao chứng thực
    ORIGINAL_OR_COPY = "either", _("original or certified copy")
    FORM = "form", _("form to fill in")  # tờ khai


class RequiredDocument(models.Model):
    """A line of the procedure's dossier (thành phần hồ sơ)."""

    procedure = models.ForeignKey(Procedure, verbose_name=_("procedure"), on_delete=models.CASCADE, related_name="requirements")
    order = models.PositiveIntegerField(_("order"), default=0)
    name = models.CharField(_("name"), max_length=500)
    copy_kind = models.CharField(_("kind"), max_length=20, choices=CopyKind.choices, default=CopyKind.ORIGINAL)
    count = models.PositiveSmallIntegerField(_("number of copies"), default=1)
    required = models.BooleanField(_("required"), default=True)
    condition = models.CharField(_("when needed"), max_length=300, blank=True)
    template = models.FileField(_("template file"), upload_to="onestop/templates/", blank=True)

    class Meta:
        verbose_name = _("required document")
        verbose_name_plural = _("required documents")
        ordering = ["procedure", "order", "pk"]

    def __str__(self) -> str:
        return self.name


class StepKind(models.TextChoices):
    RECEIVE = "receive", _("Receive")
    PROCESS = "process", _("Process")
    APPROVE = "approve", _("Approve")
    SIGN = "sign", _("Sign")
    RETURN = "return", _("Return the result")


class ProcedureStep(models.Model):
    """One step of the procedure's processing, in order, with its role and duration.

    The durations share out the procedure's time; they are what form 6 compares each hand-over
    with. ``role`` is a ``communes.Role`` value, or "leader" for the chairman or a vice-chairman.
    """

    procedure = models.ForeignKey(Procedure, verbose_name=_("procedure"), on_delete=models.CASCADE, related_name="steps")
    order = models.PositiveIntegerField(_("order"))
    kind = models.CharField(_("kind"), max_length=10, choices=StepKind.choices)
    name = models.CharField(_("name"), max_length=200)
    role = models.CharField(_("role"), max_length=30)
    duration_hours = models.DecimalField(_("duration (working hours)"), max_digits=6, decimal_places=2, default=0)

    class Meta:
        verbose_name = _("processing step")
        verbose_name_plural = _("processing steps")
        ordering = ["procedure", "order"]
        constraints = [models.UniqueConstraint(fields=["procedure", "order"], name="procedurestep_order")]

    def __str__(self) -> str:
        return f"{self.order}. {self.name}"


# --- Dossiers ----------------------------------------------------------------------------------

class Channel(models.TextChoices):
    COUNTER = "counter", _("At the desk")
    ONLINE = "online", _("Online")


class DossierState(models.TextChoices):
    DRAFT = "draft", _("Draft")  # online, not sent yet
    SUBMITTED = "submitted", _("Submitted, waiting for the desk")
    INCOMPLETE = "incomplete", _("To be completed (form 2)")  # before receipt
    RECEIVED = "received", _("Received")
    IN_PROGRESS = "in_progress", _("Being processed")
    SUPPLEMENT = "supplement", _("Waiting for a supplement")  # clock paused
    RESULT_READY = "result_ready", _("Result ready")
    RETURNED = "returned", _("Result returned")
    REFUSED = "refused", _("Refused (form 3)")
    STOPPED = "stopped", _("Stopped (form 5)")
    WITHDRAWN = "withdrawn", _("Withdrawn by the applicant")


OPEN_STATES = (DossierState.RECEIVED, DossierState.IN_PROGRESS, DossierState.SUPPLEMENT)
DONE_STATES = (DossierState.RESULT_READY, DossierState.RETURNED)


class Delivery(models.TextChoices):
    COUNTER = "counter", _("Collect at the desk")
    POST = "post", _("By post")
    ONLINE = "online", _("Download online")


class Dossier(models.Model):
    """Hồ sơ thủ tục hành chính: one application, from the draft or the desk to the result.

    ``due_at`` is the appointment given on form 1, moved only by supplement pauses: the
    statistics measure early, on time and late against it. ``extended_due_at`` is the new date
    of form 4 (told to the citizen; it never makes a late result on time).
    """

    code = models.CharField(_("dossier code"), max_length=40, unique=True, null=True, blank=True)
    procedure = models.ForeignKey(Procedure, verbose_name=_("procedure"), on_delete=models.PROTECT, related_name="dossiers")
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    state = models.CharField(_("state"), max_length=20, choices=DossierState.choices, default=DossierState.DRAFT, db_index=True)

    applicant_name = models.CharField(_("applicant's full name"), max_length=200)
    applicant_id_number = models.CharField(_("personal ID number"), max_length=12, blank=True)
    applicant_phone = models.CharField(_("phone"), max_length=20, blank=True)
    applicant_email = models.EmailField(_("e-mail"), blank=True)
    applicant_address = models.CharField(_("address"), max_length=300, blank=True)
    resident_id = models.BigIntegerField(_("resident in the registry"), null=True, blank=True)
    citizen = _user_fk(_("citizen account"))
    form_data = models.JSONField(_("application"), default=dict, blank=True)
    page_count = models.PositiveIntegerField(_("pages (for the fee)"), default=0)
    copy_count = models.PositiveIntegerField(_("copies (for the fee)"), default=1)
    fee_exempt_reason = models.CharField(_("fee exemption"), max_length=200, blank=True)

    submit_token = models.UUIDField(_("submission key"), null=True, blank=True, unique=True)
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    received_at = models.DateTimeField(_("received at"), null=True, blank=True, db_index=True)
    received_by = _user_fk(_("received by"))
    due_at = models.DateTimeField(_("appointment"), null=True, blank=True)
    original_due_at = models.DateTimeField(_("appointment given at receipt"), null=True, blank=True)
    extended_due_at = models.DateTimeField(_("new date (form 4)"), null=True, blank=True)
    current_step = models.ForeignKey(
        ProcedureStep, verbose_name=_("current step"), null=True, blank=True, on_delete=models.PROTECT, related_name="+",
    )
    current_handler = _user_fk(_("current handler"))
    step_started_at = models.DateTimeField(_("step started at"), null=True, blank=True)
    completed_at = models.DateTimeField(_("result ready at"), null=True, blank=True, db_index=True)
    returned_at = models.DateTimeField(_("returned at"), null=True, blank=True)
    closed_reason = models.TextField(_("reason (refusal or stop)"), blank=True)
    missing_items = models.JSONField(_("missing or to complete (form 2)"), default=list, blank=True)

    delivery = models.CharField(_("how the result is returned"), max_length=10, choices=Delivery.choices, default=Delivery.COUNTER)
    delivery_address = models.CharField(_("postal address"), max_length=300, blank=True)
    result_number = models.CharField(_("result number"), max_length=60, blank=True)
    result_data = models.JSONField(_("result details"), default=dict, blank=True)
    result_pdf = models.CharField(_("result (unsigned)"), max_length=300, blank=True)
    result_layout = models.JSONField(_("result layout"), default=dict, blank=True)
    leader_signed_pdf = models.CharField(_("result signed by the leader"), max_length=300, blank=True)
    signed_result = models.CharField(_("signed result"), max_length=300, blank=True)
    signer_id = models.BigIntegerField(_("signed by"), null=True, blank=True)

    fee_amount = models.PositiveIntegerField(_("fee (đồng)"), default=0)
    fee_paid_at = models.DateTimeField(_("fee paid at"), null=True, blank=True)

    rating_token = models.UUIDField(_("rating key"), default=uuid.uuid4, unique=True, editable=False)
    lookup_failures = models.PositiveIntegerField(_("wrong lookups"), default=0, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    history = tenant_history(excluded_fields=["lookup_failures", "updated_at"])

    class Meta:
        verbose_name = _("dossier")
        verbose_name_plural = _("dossiers")
        ordering = ["-received_at", "-created_at"]
        indexes = [models.Index(fields=["state", "due_at"], name="dossier_state_due")]
        constraints = [
            models.CheckConstraint(
                condition=Q(state__in=["draft", "submitted", "incomplete", "refused", "withdrawn"]) | Q(code__isnull=False),
                name="dossier_code_once_received",
            ),
        ]

    def __str__(self) -> str:
        return self.code or f"#{self.pk}"

    @property
    def masked_id_number(self) -> str:
        value = self.applicant_id_number or ""
        return ("*" * (len(value) - 4) + value[-4:]) if len(value) > 4 else value


class DossierDocument(models.Model):
    """A paper of the dossier: ticked on the checklist at the desk, or uploaded online."""

    dossier = models.ForeignKey(Dossier, verbose_name=_("dossier"), on_delete=models.CASCADE, related_name="documents")
    requirement = models.ForeignKey(
        RequiredDocument, verbose_name=_("required document"), null=True, blank=True, on_delete=models.PROTECT, related_name="+",
    )
    name = models.CharField(_("name"), max_length=500)
    provided = models.BooleanField(_("provided"), default=False)
    copy_kind = models.CharField(_("kind"), max_length=20, choices=CopyKind.choices, blank=True)
    count = models.PositiveSmallIntegerField(_("copies"), default=1)
    file = models.CharField(_("file"), max_length=300, blank=True)
    content_type = models.CharField(_("file type"), max_length=50, blank=True)
    size = models.PositiveIntegerField(_("size (bytes)"), default=0)
    is_supplement = models.BooleanField(_("sent as a supplement"), default=False)
    uploaded_by = _user_fk(_("uploaded by"))
    uploaded_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("dossier document")
        verbose_name_plural = _("dossier documents")
        ordering = ["dossier", "pk"]


class EventKind(models.TextChoices):
    SUBMITTED = "submitted", _("Submitted online")
    INCOMPLETE = "incomplete", _("Asked to complete the dossier (form 2)")
    RECEIVED = "received", _("Received (form 1)")
    REFUSED = "refused", _("Refused (form 3)")
    HANDOVER = "handover", _("Handed over")
    SUPPLEMENT_REQUESTED = "supplement_requested", _("Supplement requested")
    SUPPLEMENT_RECEIVED = "supplement_received", _("Supplement received")
    EXTENDED = "extended", _("Apology and new date (form 4)")
    STOPPED = "stopped", _("Stopped (form 5)")
    RESULT_PREPARED = "result_prepared", _("Result prepared")
    LEADER_SIGNED = "leader_signed", _("Signed by the leader")
    RESULT_READY = "result_ready", _("Result ready")
    RETURNED = "returned", _("Result returned")
    PAID = "paid", _("Fee paid")
    RATED = "rated", _("Rated by the applicant")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class DossierEvent(models.Model):
    """A line of the dossier's history; the hand-overs are the lines of form 6.

    A hand-over records the step left and the step entered, who gave and who took it, when,
    and whether the step left was finished within its time (``step_due_at``).
    """

    dossier = models.ForeignKey(Dossier, verbose_name=_("dossier"), on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(_("kind"), max_length=30, choices=EventKind.choices)
    at = models.DateTimeField(_("at"), db_index=True)
    actor = _user_fk(_("by"))
    actor_name = models.CharField(_("by (name)"), max_length=200, blank=True)
    from_step = models.ForeignKey(ProcedureStep, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    to_step = models.ForeignKey(ProcedureStep, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    to_user = _user_fk(_("to"))
    to_user_name = models.CharField(_("to (name)"), max_length=200, blank=True)
    step_started_at = models.DateTimeField(_("step started at"), null=True, blank=True)
    step_due_at = models.DateTimeField(_("step due at"), null=True, blank=True)
    note = models.TextField(_("note"), blank=True)
    public = models.BooleanField(_("shown on the status page"), default=True)

    class Meta:
        verbose_name = _("dossier event")
        verbose_name_plural = _("dossier events")
        ordering = ["dossier", "at", "pk"]


class SupplementPause(models.Model):
    """The clock stops from the supplement request until the supplement arrives."""

    dossier = models.ForeignKey(Dossier, verbose_name=_("dossier"), on_delete=models.CASCADE, related_name="pauses")
    started_at = models.DateTimeField(_("requested at"))
    ended_at = models.DateTimeField(_("supplement received at"), null=True, blank=True)
    items = models.JSONField(_("what is asked"), default=list)
    reason = models.TextField(_("reason"), blank=True)
    requested_by = _user_fk(_("requested by"))

    class Meta:
        verbose_name = _("supplement pause")
        verbose_name_plural = _("supplement pauses")
        ordering = ["dossier", "started_at"]
        constraints = [
            models.UniqueConstraint(fields=["dossier"], condition=Q(ended_at__isnull=True), name="one_open_pause"),
        ]


class Extension(models.Model):
    """Form 4: the apology and the new date, when a dossier will be late."""

    dossier = models.ForeignKey(Dossier, verbose_name=_("dossier"), on_delete=models.CASCADE, related_name="extensions")
    new_due_at = models.DateTimeField(_("new date"))
    reason = models.TextField(_("reason"))
    created_at = models.DateTimeField(_("created at"))
    created_by = _user_fk(_("by"))

    class Meta:
        verbose_name = _("extension")
        verbose_name_plural = _("extensions")
        ordering = ["dossier", "created_at"]


class FormKind(models.TextChoices):
    RECEIPT = "1", _("Form 1: receipt and appointment")
    SUPPLEMENT = "2", _("Form 2: request to complete the dossier")
    REFUSAL = "3", _("Form 3: refusal to receive")
    APOLOGY = "4", _("Form 4: apology and new date")
    STOP = "5", _("Form 5: notice of stopping")
    CONTROL = "6", _("Form 6: control sheet")
    FEE_RECEIPT = "fee", _("Fee receipt")


class IssuedForm(models.Model):
    """A form as it was given to the citizen (a PDF written once)."""

    dossier = models.ForeignKey(Dossier, verbose_name=_("dossier"), on_delete=models.CASCADE, related_name="forms")
    kind = models.CharField(_("form"), max_length=4, choices=FormKind.choices)
    file = models.CharField(_("file"), max_length=300)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    created_by = _user_fk(_("by"))

    class Meta:
        verbose_name = _("issued form")
        verbose_name_plural = _("issued forms")
        ordering = ["dossier", "created_at", "pk"]


@register
class FormJob(Job):
    """Renders a form of a dossier and keeps it as the dossier's ``IssuedForm`` (a durable job:
    the row is the truth). Form 1 is issued so at receipt: the intake answers as soon as the
    dossier is saved, and the officer's page shows the form's progress, then the PDF."""

    dossier = models.ForeignKey(Dossier, verbose_name=_("dossier"), on_delete=models.CASCADE, related_name="form_jobs")
    kind = models.CharField(_("form"), max_length=4, choices=FormKind.choices)
    issued_by = _user_fk(_("issuing officer"))
    issued_form = models.OneToOneField(IssuedForm, verbose_name=_("issued form"), null=True, blank=True,
                                       on_delete=models.SET_NULL, related_name="job")

    class Meta(Job.Meta):
        verbose_name = _("form to issue")
        verbose_name_plural = _("forms to issue")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.dossier_id}"

    def run(self, ctx):
        from onestop.services import run_form_job

        return run_form_job(self, ctx)


class PaymentMethod(models.TextChoices):
    CASH = "cash", _("Cash at the desk")
    VIETQR = "vietqr", _("Bank transfer (VietQR), marked by the officer")
    BANK = "bank", _("Bank transfer (VietQR), notified by the bank")


class Payment(models.Model):
    """A fee payment. A bank transaction is counted once (``reference`` is unique)."""

    dossier = models.ForeignKey(Dossier, verbose_name=_("dossier"), on_delete=models.PROTECT, related_name="payments")
    amount = models.PositiveIntegerField(_("amount (đồng)"))
    method = models.CharField(_("method"), max_length=10, choices=PaymentMethod.choices)
    reference = models.CharField(_("bank reference"), max_length=100, null=True, blank=True, unique=True)
    received_at = models.DateTimeField(_("received at"))
    recorded_by = _user_fk(_("recorded by"))
    receipt_number = models.CharField(_("receipt number"), max_length=40, blank=True)

    class Meta:
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        ordering = ["dossier", "received_at"]


class BankNotification(models.Model):
    """A payment notification from the bank, kept once per transaction id (replays do nothing)."""

    transaction_id = models.CharField(_("transaction id"), max_length=100, unique=True)
    received_at = models.DateTimeField(_("received at"), auto_now_add=True)
    payload = models.JSONField(_("payload"))
    outcome = models.CharField(_("outcome"), max_length=30)
    dossier = models.ForeignKey(Dossier, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("bank notification")
        verbose_name_plural = _("bank notifications")
        ordering = ["-received_at"]


class Rating(models.Model):
    """The citizen's rating of the service, once per dossier."""

    class Score(models.IntegerChoices):
        VERY_SATISFIED = 3, _("Very satisfied")
        SATISFIED = 2, _("Satisfied")
        NOT_SATISFIED = 1, _("Not satisfied")

    dossier = models.OneToOneField(Dossier, verbose_name=_("dossier"), on_delete=models.CASCADE, related_name="rating")
    score = models.PositiveSmallIntegerField(_("rating"), choices=Score.choices,
                                             validators=[MinValueValidator(1), MaxValueValidator(3)])
    comment = models.TextField(_("comment"), blank=True, max_length=1000)
    created_at = models.DateTimeField(_("rated at"), auto_now_add=True)

    class Meta:
        verbose_name = _("rating")
        verbose_name_plural = _("ratings")

    @property
    def satisfied(self) -> bool:
        return self.score >= self.Score.SATISFIED


class DossierCounter(models.Model):
    """The last sequence number of dossier codes per day (locked while a code is drawn)."""

    day = models.DateField(_("day"))
    prefix = models.CharField(_("prefix"), max_length=40)
    last = models.PositiveIntegerField(_("last number"), default=0)

    class Meta:
        verbose_name = _("dossier counter")
        verbose_name_plural = _("dossier counters")
        constraints = [models.UniqueConstraint(fields=["day", "prefix"], name="dossiercounter_day_prefix")]
