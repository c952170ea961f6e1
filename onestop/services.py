"""Writes on one-stop dossiers: the only place where a dossier changes state.

Each function takes the acting user, checks the role (``onestop.permissions``; a wrong role is
``PermissionDenied``) and the input (``ValidationError`` with a dict of field → message), then
does the change in one transaction: the dossier row (with history), a ``DossierEvent`` (the
hand-overs are the lines of form 6), the form given to the citizen (``IssuedForm``, a PDF
written once) and the message to the applicant (``onestop.notify``).

Flow at the desk: ``counter_intake`` (receive → form 1 with the dossier code and the
appointment; incomplete → form 2; refuse → form 3). Online: ``save_draft`` → ``add_file`` →
``submit`` → ``receive`` (form 1), ``ask_completion`` (form 2) or ``refuse`` (form 3).
Processing: ``hand_over`` from step to step (receive → process → approve → sign → return);
``request_supplement`` pauses the clock until ``supplement_arrived``; ``extend`` issues form 4
(the appointment used by the statistics is not moved); ``stop`` issues form 5. Result:
``prepare_result`` renders it, ``sign_result_leader`` then ``sign_result_agency`` sign it through
the signatures service (``on_leader_signed``, ``on_agency_signed`` finish in the signing job),
``return_result`` hands it over. ``record_payment`` (fee receipt), ``rate`` (once),
``withdraw`` (before receipt).

Refusals are ``ValidationError`` with a code: the codes in ``CONFLICT_CODES`` are conflicts
with the dossier's state (409 in the API), the others bad input (400).
"""
from __future__ import annotations

import datetime
import logging
import re
import uuid

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ImproperlyConfigured, PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from communes.permissions import current_commune, members
from core.phones import normalize_mobile
from core.text import clean_text
from core.validation import error_code  # noqa: F401  (the API reads it here)
from core.validation import refuse as _error
from onestop import fees, files, notify, permissions
from onestop.models import (
    DONE_STATES, OPEN_STATES, Channel, CopyKind, Delivery, Dossier, DossierCounter, DossierDocument, DossierEvent, DossierState,
    EventKind, Extension, FormKind, Handler, IssuedForm, OnlineLevel, Payment, PaymentMethod, Procedure, ProcedureStep, Rating,
    RequiredDocument, StepKind, SupplementPause,
)

logger = logging.getLogger(__name__)

CONFLICT_CODES = frozenset({"wrong_state", "already_signed", "already_paid", "already_rated", "not_signed"})
MAX_NOTE = 5000
MAX_REASON = 2000
MAX_ITEMS = 30
MAX_ITEM_LENGTH = 300
MAX_TEXT_FIELD = 500
MAX_TEXTAREA_FIELD = 5000
MAX_RESULT_FIELDS = 60
MAX_PAGES = 10000
MAX_COPIES = 1000

LEADER_FIELD = "xaso_onestop_leader"
AGENCY_FIELD = "xaso_onestop_agency"
LEADER_ON_DONE = "onestop.services.on_leader_signed"
AGENCY_ON_DONE = "onestop.services.on_agency_signed"
SUBJECT_PREFIX = "onestop.dossier"

# States where the citizen may still change their own application.
EDITABLE_STATES = (DossierState.DRAFT, DossierState.INCOMPLETE)


# --- small helpers -----------------------------------------------------------------------------

def _wrong_state(dossier) -> ValidationError:
    return _error(
        _("This action is not possible while the dossier is “%(state)s”.") % {"state": dossier.get_state_display()},
        code="wrong_state",
    )


def now() -> datetime.datetime:
    return timezone.now()


def user_name(user) -> str:
    if user is None:
        return ""
    return (getattr(user, "full_name", "") or user.get_username()).strip()


def _actor(user):
    return user if getattr(user, "pk", None) else None


def _save(dossier, user, reason: str) -> None:
    dossier._history_user = _actor(user)
    dossier._change_reason = reason[:100]
    dossier.save()


def _locked(pk) -> Dossier:
    return Dossier.objects.select_for_update().get(pk=pk)


def _local_date(moment: datetime.datetime) -> datetime.date:
    from workcalendar.services import to_local

    return to_local(moment).date()


def _event(dossier, kind, user, *, at=None, note: str = "", public: bool = True, **fields) -> DossierEvent:
    return DossierEvent.objects.create(
        dossier=dossier, kind=kind, at=at or now(), actor=_actor(user), actor_name=user_name(user)[:200],
        note=(note or "")[:MAX_NOTE], public=public, **fields,
    )


def _member(user_id, roles, field: str, message: str):
    try:
        user_id = int(user_id)
    except (TypeError, ValueError):
        user_id = 0
    user = members(roles).filter(pk=user_id).first() if 0 < user_id < 2**63 else None
    if user is None:
        raise _error(message, field=field)
    return user


def _is_owner(dossier, user) -> bool:
    return bool(getattr(user, "is_authenticated", False) and dossier.citizen_id and dossier.citizen_id == user.pk)


def _require_owner(dossier, user) -> None:
    if not _is_owner(dossier, user):
        raise PermissionDenied


def _clean_lines(values, field: str, message: str) -> list[str]:
    if isinstance(values, str):
        values = values.splitlines()
    items = [clean_text(v)[:MAX_ITEM_LENGTH] for v in (values or [])]
    items = [v for v in items if v]
    if not items:
        raise _error(message, field=field)
    if len(items) > MAX_ITEMS:
        raise _error(_("At most %(max)d items.") % {"max": MAX_ITEMS}, field=field)
    return items


def _clean_reason(reason, field: str = "reason", message: str | None = None) -> str:
    text = clean_text(reason)
    if not text:
        raise _error(message or _("Give the reason."), field=field)
    if len(text) > MAX_REASON:
        raise _error(_("The text is too long (at most %(max)d characters).") % {"max": MAX_REASON}, field=field)
    return text


def _uuid(value, field: str = "submit_token"):
    if value in (None, ""):
        return None
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except (TypeError, ValueError, AttributeError):
        raise _error(_("The form has expired: reload the page and send it again."), field=field) from None


# --- applicant and application -------------------------------------------------------------------

def clean_applicant(applicant: dict | None, *, partial: bool = False) -> dict:
    """The applicant's data as the model stores it. ``partial`` (a draft): only what is given
    is checked; otherwise the full name and a mobile phone are required."""
    applicant = applicant or {}
    name = clean_text(applicant.get("name"))
    id_number = re.sub(r"\s", "", clean_text(applicant.get("id_number")))
    phone_raw = clean_text(applicant.get("phone"))
    email = clean_text(applicant.get("email")).lower()
    address = clean_text(applicant.get("address"))
    errors: dict[str, str] = {}
    if not name and not partial:
        errors["applicant_name"] = _("Enter the applicant's full name.")
    elif len(name) > 200:
        errors["applicant_name"] = _("The name is too long (at most %(max)d characters).") % {"max": 200}
    if id_number:
        problems = _id_problems(id_number)
        if problems:
            errors["applicant_id_number"] = problems[0]
    phone = normalize_mobile(phone_raw)
    if phone is None:
        errors["applicant_phone"] = _(
            "This is not a Vietnamese mobile number: enter 10 digits starting with 03, 05, 07, 08 or 09.")
    elif not phone and not partial:
        errors["applicant_phone"] = _(
            "Enter the applicant's mobile phone: it receives the messages about the dossier and its last four "
            "digits open the status lookup.")
    if email:
        try:
            validate_email(email)
        except ValidationError:
            errors["applicant_email"] = _("This e-mail address is not valid.")
        if len(email) > 254:
            errors["applicant_email"] = _("This e-mail address is not valid.")
    if len(address) > 300:
        errors["applicant_address"] = _("The address is too long (at most %(max)d characters).") % {"max": 300}
    if errors:
        raise ValidationError(errors)
    return {
        "applicant_name": name, "applicant_id_number": id_number, "applicant_phone": phone or "",
        "applicant_email": email, "applicant_address": address,
    }


def _id_problems(id_number: str) -> list[str]:
    if not re.fullmatch(r"[0-9]{12}", id_number):
        return [_("The personal ID number has exactly 12 digits.")]
    from population.validators import check_personal_id

    return [message for _field, message in check_personal_id(id_number, None, None)]


def _field_choices(spec) -> list[str]:
    out = []
    for choice in spec.get("choices") or []:
        if isinstance(choice, (list, tuple)) and choice:
            out.append(str(choice[0]))
        elif isinstance(choice, dict):
            out.append(str(choice.get("value", "")))
        else:
            out.append(str(choice))
    return out


def _parse_date(value) -> datetime.date | None:
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    text = clean_text(value)
    for fmt in ("%d/%m/%Y", "%Y-%m-%d"):
        try:
            return datetime.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    return None


def clean_form_data(procedure: Procedure, data: dict | None, *, require: bool = False) -> dict:
    """Keep only the fields the procedure asks for (``procedure.form_fields``), checked by type.

    Dates are stored dd/mm/yyyy. With ``require``, every required field must be filled.
    """
    data = data or {}
    out: dict[str, str] = {}
    errors: dict[str, str] = {}
    for spec in procedure.form_fields or []:
        name = str(spec.get("name") or "")
        if not name:
            continue
        raw = data.get(name)
        kind = spec.get("type", "text")
        text = "" if raw is None else (raw if kind == "textarea" else clean_text(raw))
        if isinstance(text, str) and kind == "textarea":
            text = "\n".join(clean_text(line) for line in str(text).replace("\r", "").split("\n")).strip()
        if not text:
            if require and spec.get("required"):
                errors[name] = _("Fill in “%(label)s”.") % {"label": spec.get("label") or name}
            continue
        if kind == "date":
            day = _parse_date(text)
            if day is None:
                errors[name] = _("Enter the date as dd/mm/yyyy.")
                continue
            text = day.strftime("%d/%m/%Y")
        elif kind == "number":
            if not re.fullmatch(r"-?[0-9]{1,15}([.,][0-9]{1,6})?", text):
                errors[name] = _("Enter a number.")
                continue
        elif kind == "select":
            if text not in _field_choices(spec):
                errors[name] = _("Choose one of the values offered.")
                continue
        limit = MAX_TEXTAREA_FIELD if kind == "textarea" else MAX_TEXT_FIELD
        if len(text) > limit:
            errors[name] = _("The text is too long (at most %(max)d characters).") % {"max": limit}
            continue
        out[name] = text
    if errors:
        raise ValidationError(errors)
    return out


def _check_procedure(procedure: Procedure, *, online: bool = False) -> None:
    if procedure is None or not isinstance(procedure, Procedure):
        raise _error(_("Choose a procedure."), field="procedure")
    if procedure.handler == Handler.COMMUNE and not procedure.is_current:
        raise _error(_("This version of the procedure is no longer offered: start a new application."),
                     field="procedure")
    if not procedure.takes_dossiers:
        raise _error(_("This procedure is not taken at the commune's desk."), field="procedure")
    if online and procedure.online_level == OnlineLevel.NONE:
        raise _error(_("This procedure cannot be submitted online: bring the dossier to the one-stop desk."),
                     field="procedure")


def _clean_delivery(delivery, address) -> tuple[str, str]:
    delivery = delivery or Delivery.COUNTER
    if delivery not in Delivery.values:
        raise _error(_("Choose how the result is returned."), field="delivery")
    address = clean_text(address)
    if len(address) > 300:
        raise _error(_("The address is too long (at most %(max)d characters).") % {"max": 300}, field="delivery_address")
    return delivery, address


def _clean_count(value, field: str, minimum: int, maximum: int, message: str) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise _error(message, field=field) from None
    if not minimum <= number <= maximum:
        raise _error(message, field=field)
    return number


def _fee(dossier: Dossier) -> int:
    from onestop.fees import compute_fee

    try:
        return int(compute_fee(
            dossier.procedure, pages=dossier.page_count, copies=dossier.copy_count,
            online=dossier.channel == Channel.ONLINE, exempt=bool(dossier.fee_exempt_reason),
        ))
    except ValueError:
        logger.exception("Procedure %s: the fee rule is not valid", dossier.procedure_id)
        raise _error(_("The fee rule of this procedure is not valid: ask the commune administrator to correct it."),
                     field="procedure") from None


# --- forms, codes, steps -------------------------------------------------------------------------

def issue_form(dossier: Dossier, kind: str, user, extra: dict | None = None) -> IssuedForm:
    """Render form ``kind`` for the dossier, write the PDF once and keep it (in the caller's transaction)."""
    from onestop import pdf

    data = pdf.render_form(kind, dossier, officer=_actor(user), extra=extra)
    name = files.save_final(f"onestop/dossiers/{dossier.pk}/form-{kind}.pdf", data)
    return IssuedForm.objects.create(dossier=dossier, kind=kind, file=name, created_by=_actor(user))


def issue_form_later(dossier: Dossier, kind: str, user) -> "FormJob":
    """Queue form ``kind`` of the dossier as a durable job (in the caller's transaction; its
    message leaves once it commits): the caller answers without rendering the PDF, the worker
    renders it, and ``form_now`` renders it in the request that needs it before a worker has."""
    from jobs.services import enqueue
    from onestop.models import FormJob

    return enqueue(FormJob(dossier=dossier, kind=kind, issued_by=_actor(user)))


def run_form_job(job, ctx) -> dict:
    """``FormJob.run``: render the form and keep it, once. The job's row is locked while it
    works and records the ``IssuedForm`` in the transaction that creates it, so a job run again
    (a worker died after the commit, a message came twice) finds the form made and stops there."""
    from onestop.models import FormJob

    ctx.progress(10, _("Preparing the form"))
    with transaction.atomic():
        locked = FormJob.objects.select_for_update().get(pk=job.pk)
        if locked.issued_form_id is None:
            dossier = Dossier.objects.select_related("procedure").get(pk=locked.dossier_id)
            user = get_user_model().objects.filter(pk=locked.issued_by_id).first() if locked.issued_by_id else None
            issued = issue_form(dossier, locked.kind, user)
            FormJob.objects.filter(pk=locked.pk).update(issued_form=issued)
            locked.issued_form = issued
    return {"form": locked.issued_form_id}


def pending_forms(dossier) -> list:
    """The dossier's forms still being rendered (``FormJob``s not finished, or failed), oldest first."""
    from onestop.models import FormJob

    return list(FormJob.objects.filter(dossier=dossier, issued_form__isnull=True).order_by("pk"))


def form_now(job) -> IssuedForm | None:
    """The form of ``job`` for a request that needs it now (the officer prints form 1 while
    the citizen waits): rendered in this request when no worker has taken the job yet (the claim
    is the worker's own, so the form is made once), else the one a worker made. None while a
    worker is still rendering it. A job that failed is run again here."""
    from django.db import connection

    from jobs.models import JobState
    from jobs.services import execute
    from onestop.models import FormJob

    if job.issued_form_id is None and job.state in (JobState.QUEUED, JobState.FAILED):
        # Due now, whatever a retry's backoff said; a job that failed gets one more run, here.
        moment = now()
        FormJob.objects.filter(pk=job.pk, state__in=[JobState.QUEUED, JobState.FAILED], issued_form__isnull=True) \
            .update(state=JobState.QUEUED, run_after=moment, updated_at=moment)
        execute(FormJob, job.pk, connection.schema_name)
    job = FormJob.objects.select_related("issued_form").get(pk=job.pk)
    return job.issued_form


def agency_code(commune=None) -> str:
    """The commune's agency identifier, unique in the installation (a database constraint, and
    the derived one when none is set), so that dossier codes are unique in the installation."""
    from communes.services import derived_agency_code

    commune = commune or current_commune()
    if commune is None:
        return "XASO"
    return (commune.agency_code or "").strip() or derived_agency_code(commune.code)


def _counter_day(fmt: str, day: datetime.date) -> datetime.date:
    """The day that keys the sequence: the codes restart when the formatted date changes (every
    day with the default format, every year with ``{date:%Y}``, never without a date)."""
    def sample(d):
        return fmt.format(agency="A", date=d, seq=1)

    base = datetime.date(2001, 3, 14)
    if sample(base) != sample(base + datetime.timedelta(days=1)):
        return day
    if sample(base) != sample(datetime.date(2001, 4, 14)):
        return day.replace(day=1)
    if sample(base) != sample(datetime.date(2002, 3, 14)):
        return day.replace(month=1, day=1)
    return datetime.date(2000, 1, 1)


def draw_code(at: datetime.datetime) -> str:
    """The next dossier code (``settings.XASO_DOSSIER_CODE_FORMAT``), inside the receiving
    transaction: the counter row stays locked until it ends, so concurrent receipts queue and
    the sequence has neither gaps nor duplicates."""
    fmt = settings.XASO_DOSSIER_CODE_FORMAT
    agency = agency_code()
    day = _local_date(at)
    try:
        key_day = _counter_day(fmt, day)
    except (KeyError, ValueError, IndexError, AttributeError) as exc:
        raise ImproperlyConfigured(f"XASO_DOSSIER_CODE_FORMAT {fmt!r} is not valid: {exc}") from exc
    DossierCounter.objects.bulk_create([DossierCounter(day=key_day, prefix=agency, last=0)], ignore_conflicts=True)
    counter = DossierCounter.objects.select_for_update().get(day=key_day, prefix=agency)
    while True:
        counter.last += 1
        code = fmt.format(agency=agency, date=day, seq=counter.last)[:40]
        if not Dossier.objects.filter(code=code).exists():
            break
    counter.save(update_fields=["last"])
    return code


def _receipt_number(at: datetime.datetime) -> str:
    day = _local_date(at)
    prefix = f"BL-{agency_code()}"
    key = datetime.date(day.year, 1, 1)
    DossierCounter.objects.bulk_create([DossierCounter(day=key, prefix=prefix, last=0)], ignore_conflicts=True)
    counter = DossierCounter.objects.select_for_update().get(day=key, prefix=prefix)
    counter.last += 1
    counter.save(update_fields=["last"])
    return f"{counter.last:06d}/{day.year}"


def steps_of(dossier) -> list[ProcedureStep]:
    # The model orders steps by (procedure, order); .all() reuses a prefetch of procedure__steps.
    return list(dossier.procedure.steps.all())


def next_step(dossier, step) -> ProcedureStep | None:
    for candidate in steps_of(dossier):
        if step is None or candidate.order > step.order:
            return candidate
    return None


def _step_of_kind(dossier, kind) -> ProcedureStep | None:
    return next((s for s in steps_of(dossier) if s.kind == kind), None)


def step_due(step, start) -> datetime.datetime | None:
    """When a step started at ``start`` should be finished (its duration in working hours)."""
    from onestop.deadlines import step_due as due

    if step is None or start is None:
        return None
    return due(step, start)


def signing_step(dossier) -> ProcedureStep | None:
    """The step at which the leader signs: the "sign" step, or the "approve" step when the
    procedure has no separate signature step."""
    return _step_of_kind(dossier, StepKind.SIGN) or _step_of_kind(dossier, StepKind.APPROVE)


def at_signing_step(dossier) -> bool:
    step = signing_step(dossier)
    return step is not None and dossier.current_step_id == step.pk


def _processing_state(dossier) -> str:
    """The state a dossier goes back to after a pause: received until its first hand-over."""
    if dossier.events.filter(kind=EventKind.HANDOVER).exists():
        return DossierState.IN_PROGRESS
    return DossierState.RECEIVED


# --- the result document ---------------------------------------------------------------------------

def default_signer():
    """The chairman of the commune, or else a vice-chairman."""
    for role in (permissions.CHAIRMAN, permissions.VICE_CHAIRMAN):
        user = members([role]).first()
        if user is not None:
            return user
    return None


def signer_title_lines(user) -> list[str]:
    """The lines above the signature: the leader's signing authority where the commune keeps
    one (documents), else the usual ones for the chairman (TM. ỦY BAN NHÂN DÂN / CHỦ TỊCH) or a
    vice-chairman (KT. CHỦ TỊCH / PHÓ CHỦ TỊCH)."""
    if user is None:
        return ["TM. ỦY BAN NHÂN DÂN", "CHỦ TỊCH"]
    try:
        from documents.models import SigningAuthority

        today = timezone.localdate()
        for authority in SigningAuthority.objects.filter(user_id=user.pk).order_by("-valid_from"):
            if authority.is_valid_on(today):
                return authority.lines()
    except (ImportError, LookupError):
        pass
    roles = permissions.user_roles(user)
    if permissions.CHAIRMAN in roles:
        return ["TM. ỦY BAN NHÂN DÂN", "CHỦ TỊCH"]
    return ["TM. ỦY BAN NHÂN DÂN", "KT. CHỦ TỊCH", "PHÓ CHỦ TỊCH"]


def _render_result(dossier: Dossier, signer) -> None:
    """Render the result for ``signer`` and keep it on the (locked) dossier; saved by the caller."""
    from onestop import pdf

    name = user_name(signer)
    rendered = pdf.render_result(dossier, signer_name=name, signer_title_lines=signer_title_lines(signer))
    dossier.result_pdf = files.save_final(f"onestop/dossiers/{dossier.pk}/result.pdf", rendered.pdf)
    dossier.result_layout = {**rendered.layout, "signer_id": getattr(signer, "pk", None), "signer_name": name}


def _signer_for(dossier, user=None):
    """Who the result is rendered for: the leader given, the handler if a leader, the chairman."""
    for candidate in (user, getattr(dossier, "current_handler", None)):
        if candidate is not None and permissions.user_roles(candidate) & permissions.LEADERS:
            return candidate
    previous = (dossier.result_layout or {}).get("signer_id")
    if previous:
        user = members(permissions.LEADERS).filter(pk=previous).first()
        if user is not None:
            return user
    return default_signer()


# --- counter intake ------------------------------------------------------------------------------

def _checklist(procedure, checklist, uploads) -> tuple[list[dict], list[str]]:
    """The document lines from the checklist and the scans: ([{requirement, provided, count,
    copy_kind, files: [(data, type, name)]}], names of the required documents missing)."""
    requirements = {r.pk: r for r in procedure.requirements.all()}
    lines: dict[int, dict] = {}
    bad = _("The checklist names a document that this procedure does not require.")
    for key, value in (checklist or {}).items():
        try:
            pk = int(key)
        except (TypeError, ValueError):
            raise _error(bad, field="checklist") from None
        requirement = requirements.get(pk)
        if requirement is None:
            raise _error(bad, field="checklist")
        count, copy_kind = requirement.count, requirement.copy_kind
        if isinstance(value, dict):
            provided = bool(value.get("provided", True))
            if value.get("count") not in (None, ""):
                count = _clean_count(value.get("count"), "checklist", 1, 100,
                                     _("The number of copies of a document is between 1 and 100."))
            copy_kind = value.get("copy_kind") or copy_kind
        else:
            provided = bool(value) and value not in ("0", "false", "False", "off")
        lines[pk] = {"requirement": requirement, "provided": provided, "count": count, "copy_kind": copy_kind, "files": []}
    total = 0
    for key, items in (uploads or {}).items():
        try:
            pk = int(key)
        except (TypeError, ValueError):
            raise _error(bad, field="files") from None
        requirement = requirements.get(pk)
        if requirement is None:
            raise _error(bad, field="files")
        items = [items] if not isinstance(items, (list, tuple)) else list(items)
        line = lines.setdefault(pk, {"requirement": requirement, "provided": True, "count": requirement.count,
                                     "copy_kind": requirement.copy_kind, "files": []})
        for upload in items:
            if upload is None:
                continue
            try:
                data, content_type = files.read_upload(upload)
            except ValidationError as exc:
                message = _("“%(document)s”: %(problem)s") % {"document": requirement.name, "problem": exc.messages[0]}
                raise _error(message, code=exc.code or "invalid", field="files") from exc
            line["files"].append((data, content_type, files.clean_filename(getattr(upload, "name", ""), content_type)))
            line["provided"] = True
            total += 1
    if total > int(settings.XASO_DOSSIER_MAX_FILES):
        raise _error(_("At most %(max)d files per dossier.") % {"max": int(settings.XASO_DOSSIER_MAX_FILES)}, field="files")
    missing = [r.name for r in requirements.values()
               if r.required and not r.condition and not lines.get(r.pk, {}).get("provided")]
    ordered = sorted(lines.values(), key=lambda line: (line["requirement"].order, line["requirement"].pk))
    return ordered, missing


def _write_documents(dossier, lines, user, *, is_supplement=False) -> None:
    for line in lines:
        requirement = line["requirement"]
        common = dict(dossier=dossier, requirement=requirement, name=requirement.name[:500],
                      provided=line["provided"], copy_kind=line["copy_kind"] or "", count=line["count"],
                      is_supplement=is_supplement, uploaded_by=_actor(user))
        if not line["files"]:
            DossierDocument.objects.create(**common)
            continue
        for data, content_type, filename in line["files"]:
            name = files.save_final(f"onestop/dossiers/{dossier.pk}/{uuid.uuid4().hex[:8]}-{filename}", data)
            DossierDocument.objects.create(**common, file=name, content_type=content_type, size=len(data))


def missing_text(items) -> str:
    return "; ".join(items)


def counter_intake(*, user, procedure, applicant: dict, checklist: dict, files: dict | None = None,
                   form_data: dict | None = None, decision: str = "receive", missing: list[str] | None = None,
                   reason: str = "", delivery: str = "counter", delivery_address: str = "", page_count: int = 0,
                   copy_count: int = 1, fee_exempt_reason: str = "", resident_id: int | None = None,
                   submit_token=None) -> Dossier:
    """A dossier brought to the desk: checked against the checklist, then received (code, due,
    form 1), found incomplete (form 2, no code) or refused (form 3). The same ``submit_token``
    twice gives back the first dossier (a double click records one dossier), marked
    ``sent_before``."""
    permissions.require(user, "dossier.intake")
    token = _uuid(submit_token)
    if token is not None:
        existing = Dossier.objects.filter(submit_token=token).first()
        if existing is not None:
            existing.sent_before = True
            return existing
    if decision not in ("receive", "incomplete", "refuse"):
        raise _error(_("Choose to receive, to ask to complete, or to refuse the dossier."), field="decision")
    _check_procedure(procedure)
    values = clean_applicant(applicant)
    data = clean_form_data(procedure, form_data)
    delivery, delivery_address = _clean_delivery(delivery, delivery_address)
    if delivery == Delivery.POST and not delivery_address:
        raise _error(_("Enter the postal address for the result."), field="delivery_address")
    if delivery == Delivery.ONLINE:
        raise _error(_("A dossier taken at the desk returns its result at the desk or by post."), field="delivery")
    pages = _clean_count(page_count or 0, "page_count", 0, MAX_PAGES, _("Enter the number of pages (0 to %(max)d).") % {"max": MAX_PAGES})
    copies = _clean_count(copy_count or 1, "copy_count", 1, MAX_COPIES, _("Enter the number of copies (1 to %(max)d).") % {"max": MAX_COPIES})
    exempt_reason = clean_text(fee_exempt_reason)[:200]
    if decision == "receive" and pages < 1 and not exempt_reason and fees.needs_pages(procedure):
        raise _error(_("Enter the number of pages: the fee of this procedure is counted by the page."),
                     field="page_count")
    if resident_id not in (None, ""):
        resident_id = _check_resident(resident_id)
    else:
        resident_id = None
    lines, missing_required = _checklist(procedure, checklist, files)
    if decision == "receive" and missing_required:
        raise _error(_("The dossier cannot be received: these required documents are missing: %(items)s.")
                     % {"items": missing_text(missing_required)}, field="checklist")
    if decision == "incomplete":
        items = [clean_text(m)[:MAX_ITEM_LENGTH] for m in (missing or []) if clean_text(m)] or missing_required
        if not items:
            raise _error(_("List what the applicant must complete."), field="missing")
        items = items[:MAX_ITEMS]
    if decision == "refuse":
        reason = _clean_reason(reason, message=_("Give the reason for the refusal."))

    try:
        with transaction.atomic():
            at = now()
            dossier = Dossier(
                procedure=procedure, channel=Channel.COUNTER, state=DossierState.SUBMITTED, **values,
                resident_id=resident_id, form_data=data, page_count=pages, copy_count=copies,
                fee_exempt_reason=exempt_reason, submit_token=token, submitted_at=at, delivery=delivery,
                delivery_address=delivery_address,
            )
            dossier.fee_amount = _fee(dossier)
            _save(dossier, user, "taken at the desk")
            _write_documents(dossier, lines, user)
            if decision == "receive":
                _receive(dossier, user, at)
            elif decision == "incomplete":
                _ask_completion(dossier, user, items, "")
            else:
                _close_refused(dossier, user, reason)
    except IntegrityError:
        if token is not None:
            existing = Dossier.objects.filter(submit_token=token).first()
            if existing is not None:
                existing.sent_before = True
                return existing
        raise
    return dossier


def _check_resident(resident_id) -> int:
    try:
        resident_id = int(resident_id)
    except (TypeError, ValueError):
        raise _error(_("This person is not in the commune's registry."), field="resident_id") from None
    from population.models import Resident

    if not (0 < resident_id < 2**63) or not Resident.objects.filter(pk=resident_id).exists():
        raise _error(_("This person is not in the commune's registry."), field="resident_id")
    return resident_id


def _receive(dossier: Dossier, user, at: datetime.datetime) -> None:
    """Give the dossier its code and appointment, form 1 and the message (inside the caller's transaction)."""
    from onestop.deadlines import appointment

    first = next_step(dossier, None)
    dossier.code = dossier.code or draw_code(at)  # an online dossier has had its code since it was sent
    dossier.received_at = at
    dossier.received_by = _actor(user)
    dossier.due_at = appointment(dossier.procedure, at)
    dossier.original_due_at = dossier.due_at
    dossier.current_step = first
    dossier.current_handler = _actor(user) if first is not None and permissions.may_do_step(user, first) else None
    dossier.step_started_at = at
    dossier.state = DossierState.RECEIVED
    dossier.missing_items = []
    dossier.fee_amount = _fee(dossier)
    _save(dossier, user, "received")
    _event(dossier, EventKind.RECEIVED, user, at=at, to_step=first, to_user=dossier.current_handler,
           to_user_name=user_name(dossier.current_handler), step_started_at=at, step_due_at=step_due(first, at))
    # Form 1 is rendered by a job (``FormJob``): the answer does not wait for the PDF, and the
    # counter's row lock above is held for a few statements rather than for a rendering.
    issue_form_later(dossier, FormKind.RECEIPT, user)
    notify.dossier_received(dossier, user=user)


def _ask_completion(dossier: Dossier, user, items: list[str], note: str) -> None:
    dossier.state = DossierState.INCOMPLETE
    dossier.missing_items = items
    _save(dossier, user, "to be completed")
    _event(dossier, EventKind.INCOMPLETE, user, note=missing_text(items) + (f" — {note}" if note else ""))
    issue_form(dossier, FormKind.SUPPLEMENT, user, extra={"items": items, "reason": note})
    notify.completion_requested(dossier, user=user)


def _close_refused(dossier: Dossier, user, reason: str) -> None:
    dossier.state = DossierState.REFUSED
    dossier.closed_reason = reason
    _save(dossier, user, "refused")
    _event(dossier, EventKind.REFUSED, user, note=reason)
    issue_form(dossier, FormKind.REFUSAL, user, extra={"reason": reason})
    notify.refused(dossier, user=user)


# --- online: drafts, files, submission ----------------------------------------------------------

def save_draft(*, citizen, procedure, applicant: dict, form_data: dict, dossier=None, delivery="online",
               delivery_address="", page_token=None) -> Dossier:
    """Create or change the citizen's own draft (or a dossier sent back to be completed).

    ``page_token`` (the application page's key, later its ``submit_token``) is kept on a new
    draft, so that a second "save" of the same page finds it instead of making another."""
    if not getattr(citizen, "is_authenticated", False):
        raise PermissionDenied
    if dossier is not None:
        _require_owner(dossier, citizen)
        procedure = dossier.procedure
    _check_procedure(procedure, online=True)
    values = clean_applicant(applicant, partial=True)
    data = clean_form_data(procedure, form_data)
    delivery, delivery_address = _clean_delivery(delivery or Delivery.ONLINE, delivery_address)
    if delivery == Delivery.ONLINE and procedure.online_level != OnlineLevel.FULL:
        delivery = Delivery.COUNTER
    with transaction.atomic():
        if dossier is None:
            dossier = Dossier(procedure=procedure, channel=Channel.ONLINE, state=DossierState.DRAFT, citizen=citizen)
            token = _uuid(page_token) if page_token else None
            if token is not None and not Dossier.objects.filter(submit_token=token).exists():
                dossier.submit_token = token
            reason = "draft created"
        else:
            dossier = _locked(dossier.pk)
            if dossier.state not in EDITABLE_STATES:
                raise _wrong_state(dossier)
            reason = "draft edited"
        for key, value in values.items():
            setattr(dossier, key, value)
        dossier.form_data = data
        dossier.delivery, dossier.delivery_address = delivery, delivery_address
        _save(dossier, citizen, reason)
    return dossier


def _staff_may_add(dossier, user) -> bool:
    return permissions.can(user, "dossier.intake") or permissions.can(user, "dossier.supplement_receive")


def add_file(*, dossier, user, requirement_id: int | None, upload, is_supplement: bool = False) -> DossierDocument:
    """Attach one file to the dossier: the citizen to their draft (or their supplement), the
    officer a scan. The file is checked by content (PDF, JPEG, PNG), size and count."""
    owner = _is_owner(dossier, user)
    if not owner and not _staff_may_add(dossier, user):
        raise PermissionDenied
    requirement = None
    if requirement_id not in (None, ""):
        try:
            requirement_pk = int(requirement_id)
        except (TypeError, ValueError):
            requirement_pk = 0
        requirement = RequiredDocument.objects.filter(pk=requirement_pk, procedure_id=dossier.procedure_id).first() \
            if 0 < requirement_pk < 2**63 else None
        if requirement is None:
            raise _error(_("This procedure does not require this document."), field="requirement")
    try:
        data, content_type = files.read_upload(upload)
    except ValidationError as exc:
        raise _error(exc.messages[0], code=exc.code or "invalid", field="file") from exc
    filename = files.clean_filename(getattr(upload, "name", ""), content_type)
    with transaction.atomic():
        locked = _locked(dossier.pk)
        if owner:
            allowed = EDITABLE_STATES + (DossierState.SUPPLEMENT,)
        else:
            allowed = (DossierState.SUBMITTED, DossierState.RECEIVED, DossierState.IN_PROGRESS, DossierState.SUPPLEMENT)
        if locked.state not in allowed:
            raise _wrong_state(locked)
        supplement = is_supplement or locked.state == DossierState.SUPPLEMENT
        limit = int(settings.XASO_DOSSIER_MAX_FILES)
        if locked.documents.exclude(file="").count() >= limit:
            raise _error(_("At most %(max)d files per dossier.") % {"max": limit}, field="file")
        name = files.save_final(f"onestop/dossiers/{locked.pk}/{uuid.uuid4().hex[:8]}-{filename}", data)
        return DossierDocument.objects.create(
            dossier=locked, requirement=requirement, name=(requirement.name if requirement else filename)[:500],
            provided=True, copy_kind=requirement.copy_kind if requirement else "", count=1, file=name,
            content_type=content_type, size=len(data), is_supplement=supplement, uploaded_by=_actor(user),
        )


def remove_file(*, dossier, user, document_id) -> None:
    """The citizen removes a file from their draft (the stored file itself is kept)."""
    _require_owner(dossier, user)
    try:
        document_id = int(document_id)
    except (TypeError, ValueError):
        document_id = 0
    with transaction.atomic():
        locked = _locked(dossier.pk)
        document = locked.documents.filter(pk=document_id).first() if 0 < document_id < 2**63 else None
        if document is None:
            raise _error(_("There is no such file in this dossier."), code="not_found", field="document")
        if not (locked.state in EDITABLE_STATES or (locked.state == DossierState.SUPPLEMENT and document.is_supplement)):
            raise _wrong_state(locked)
        document.delete()


def filled_online(requirement, procedure=None) -> bool:
    """Whether the online application itself is this paper: the declaration (tờ khai, "theo
    mẫu") of a procedure whose online form asks for its content. The citizen fills the form in
    instead of printing, signing and scanning the paper, as an electronic declaration replaces
    the paper one; it is neither asked for as an upload nor missing."""
    procedure = procedure or requirement.procedure
    return requirement.copy_kind == CopyKind.FORM and bool(procedure.form_fields)


def missing_uploads(dossier) -> list[str]:
    """Names of the required documents with no file in an online dossier (the declaration that
    the online form replaces is not one of them: ``filled_online``)."""
    uploaded = set(dossier.documents.exclude(file="").values_list("requirement_id", flat=True))
    procedure = dossier.procedure
    return [r.name for r in procedure.requirements.all()
            if r.required and not r.condition and r.pk not in uploaded and not filled_online(r, procedure)]


def submit(*, dossier, citizen, submit_token) -> Dossier:
    """Draft (or dossier sent back to be completed) → submitted to the desk. Idempotent: the same
    ``submit_token`` again returns the dossier as it is."""
    _require_owner(dossier, citizen)
    token = _uuid(submit_token)
    if token is None:
        raise _error(_("The form has expired: reload the page and send it again."), field="submit_token")
    other = Dossier.objects.filter(submit_token=token).exclude(pk=dossier.pk).first()
    if other is not None:
        if other.citizen_id == citizen.pk:
            return other
        raise _error(_("The form has expired: reload the page and send it again."), field="submit_token")
    with transaction.atomic():
        locked = _locked(dossier.pk)
        if locked.state == DossierState.SUBMITTED and locked.submit_token == token:
            return locked
        if locked.state not in EDITABLE_STATES:
            raise _wrong_state(locked)
        _check_procedure(locked.procedure, online=True)
        errors: dict[str, str] = {}
        try:
            clean_applicant({"name": locked.applicant_name, "id_number": locked.applicant_id_number,
                             "phone": locked.applicant_phone, "email": locked.applicant_email,
                             "address": locked.applicant_address})
        except ValidationError as exc:
            errors.update({k: v[0] for k, v in exc.message_dict.items()})
        try:
            clean_form_data(locked.procedure, locked.form_data, require=True)
        except ValidationError as exc:
            errors.update({k: v[0] for k, v in exc.message_dict.items()})
        missing = missing_uploads(locked)
        if missing:
            errors["documents"] = _("Upload these required documents first: %(items)s.") % {"items": missing_text(missing)}
        if locked.delivery == Delivery.POST and not locked.delivery_address:
            errors["delivery_address"] = _("Enter the postal address for the result.")
        if errors:
            raise ValidationError(errors)
        at = now()
        locked.state = DossierState.SUBMITTED
        locked.submit_token = token
        locked.submitted_at = at
        # The code is given when the dossier is sent, so that the citizen has it at once to follow
        # the dossier (the desk keeps it when it receives the dossier); a dossier sent back to be
        # completed keeps its code.
        locked.code = locked.code or draw_code(at)
        locked.missing_items = []
        locked.fee_amount = _fee(locked)
        try:
            with transaction.atomic():
                _save(locked, citizen, "submitted")
        except IntegrityError:
            raise _error(_("The form has expired: reload the page and send it again."), field="submit_token") from None
        _event(locked, EventKind.SUBMITTED, citizen, at=at)
    return locked


def withdraw(*, dossier, citizen) -> Dossier:
    """The citizen withdraws their dossier before it is received."""
    _require_owner(dossier, citizen)
    with transaction.atomic():
        locked = _locked(dossier.pk)
        if locked.state not in (DossierState.DRAFT, DossierState.SUBMITTED, DossierState.INCOMPLETE):
            raise _wrong_state(locked)
        locked.state = DossierState.WITHDRAWN
        _save(locked, citizen, "withdrawn")
        _event(locked, EventKind.WITHDRAWN, citizen, public=False)
    return locked


# --- the desk's answer to an online dossier ------------------------------------------------------

def receive(*, dossier, user) -> Dossier:
    """Submitted online → received: code, appointment, form 1, message."""
    permissions.require(user, "dossier.intake")
    with transaction.atomic():
        locked = _locked(dossier.pk)
        if locked.state != DossierState.SUBMITTED:
            raise _wrong_state(locked)
        missing = missing_uploads(locked) if locked.channel == Channel.ONLINE else []
        if missing:
            raise _error(_("The dossier cannot be received: these required documents are missing: %(items)s.")
                         % {"items": missing_text(missing)}, field="checklist")
        _receive(locked, user, now())
    return locked


def ask_completion(*, dossier, user, items: list[str], note: str = "") -> Dossier:
    """Submitted online → to be completed (form 2 lists what is missing); no code is given."""
    permissions.require(user, "dossier.intake")
    items = _clean_lines(items, "items", _("List what the applicant must complete."))
    note = clean_text(note)[:MAX_REASON]
    with transaction.atomic():
        locked = _locked(dossier.pk)
        if locked.state != DossierState.SUBMITTED:
            raise _wrong_state(locked)
        _ask_completion(locked, user, items, note)
    return locked


def refuse(*, dossier, user, reason: str) -> Dossier:
    """Submitted (or waiting to be completed) → refused with form 3."""
    permissions.require(user, "dossier.intake")
    reason = _clean_reason(reason, message=_("Give the reason for the refusal."))
    with transaction.atomic():
        locked = _locked(dossier.pk)
        if locked.state not in (DossierState.SUBMITTED, DossierState.INCOMPLETE):
            raise _wrong_state(locked)
        _close_refused(locked, user, reason)
    return locked


# --- processing ----------------------------------------------------------------------------------

def _require_step(dossier, user) -> ProcedureStep:
    step = dossier.current_step
    if step is None or not permissions.may_do_step(user, step):
        raise PermissionDenied
    if dossier.current_handler_id and dossier.current_handler_id != user.pk:
        raise PermissionDenied
    return step


def hand_over(*, dossier, user, to_user_id: int | None = None, note: str = "") -> Dossier:
    """Finish the current step and hand the dossier to the next one (a line of form 6).

    The user must hold the step's role (and be its handler when one is named). ``to_user_id``
    names who takes the next step (they must hold its role); without it anyone with the role
    may take it. Entering the approval or signature step renders the result when it is not
    rendered yet. The result reaches the return step only through the signatures.
    """
    permissions.require(user, "dossier.read")
    note = clean_text(note)[:MAX_NOTE]
    with transaction.atomic():
        locked = _locked(dossier.pk)
        if locked.state not in (DossierState.RECEIVED, DossierState.IN_PROGRESS):
            raise _wrong_state(locked)
        step = _require_step(locked, user)
        following = next_step(locked, step)
        if following is None:
            raise _error(_("This is the last step: return the result."), code="wrong_state")
        if following.kind == StepKind.RETURN or step.pk == getattr(signing_step(locked), "pk", None):
            raise _error(_("The result must first be signed by the leader and then by the agency."), code="not_signed")
        to_user = None
        if to_user_id not in (None, ""):
            to_user = _member(to_user_id, permissions.step_roles(following.role), "to_user",
                              _("This person cannot do the next step (%(step)s).") % {"step": following.name})
        at = now()
        _event(locked, EventKind.HANDOVER, user, at=at, from_step=step, to_step=following, to_user=to_user,
               to_user_name=user_name(to_user), step_started_at=locked.step_started_at,
               step_due_at=step_due(step, locked.step_started_at), note=note)
        locked.current_step = following
        locked.current_handler = to_user
        locked.step_started_at = at
        locked.state = DossierState.IN_PROGRESS
        if following.kind in (StepKind.APPROVE, StepKind.SIGN) and not locked.result_pdf:
            _render_result(locked, _signer_for(locked, to_user))
        _save(locked, user, f"handed over to {following.kind}")
    return locked


def prepare_result(*, dossier, user, result_number: str = "", data: dict | None = None) -> Dossier:
    """Fill in the result (its number and details) and render it, before the leader signs."""
    if not permissions.user_roles(user) & ({permissions.SPECIALIST} | permissions.LEADERS):
        raise PermissionDenied
    result_number = clean_text(result_number)
    if len(result_number) > 60:
        raise _error(_("The number is too long (at most %(max)d characters).") % {"max": 60}, field="result_number")
    details = {}
    if data:
        if not isinstance(data, dict) or len(data) > MAX_RESULT_FIELDS:
            raise _error(_("The details of the result are not valid."), field="data")
        for key, value in data.items():
            key = clean_text(key)[:60]
            if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key):
                raise _error(_("The details of the result are not valid."), field="data")
            details[key] = clean_text(value)[:MAX_TEXTAREA_FIELD]
    with transaction.atomic():
        locked = _locked(dossier.pk)
        if locked.state not in (DossierState.RECEIVED, DossierState.IN_PROGRESS) or locked.leader_signed_pdf:
            raise _wrong_state(locked)
        if result_number:
            locked.result_number = result_number
        if details:
            locked.result_data = {**(locked.result_data or {}), **details}
        _render_result(locked, _signer_for(locked))
        _save(locked, user, "result prepared")
        _event(locked, EventKind.RESULT_PREPARED, user, public=False, note=locked.result_number)
    return locked


def request_supplement(*, dossier, user, items: list[str], reason: str = "") -> Dossier:
    """In processing → waiting for a supplement: the clock stops (a pause), form 2, message."""
    permissions.require(user, "dossier.supplement")
    items = _clean_lines(items, "items", _("List what the applicant must supplement."))
    reason = clean_text(reason)[:MAX_REASON]
    with transaction.atomic():
        locked = _locked(dossier.pk)
        if locked.state not in (DossierState.RECEIVED, DossierState.IN_PROGRESS) or locked.leader_signed_pdf:
            raise _wrong_state(locked)
        at = now()
        SupplementPause.objects.create(dossier=locked, started_at=at, items=items, reason=reason,
                                       requested_by=_actor(user))
        locked.state = DossierState.SUPPLEMENT
        locked.missing_items = items
        _save(locked, user, "supplement requested")
        _event(locked, EventKind.SUPPLEMENT_REQUESTED, user, at=at, note=missing_text(items))
        issue_form(locked, FormKind.SUPPLEMENT, user, extra={"items": items, "reason": reason})
        notify.supplement_requested(locked, items=items, user=user)
    return locked


def supplement_arrived(*, dossier, user, note: str = "") -> Dossier:
    """The supplement is in: the pause ends and the appointment moves by the working time it
    covered. Recorded by the officer, or by the citizen once their files are uploaded."""
    from onestop.deadlines import dossier_due

    owner = _is_owner(dossier, user)
    if not owner:
        permissions.require(user, "dossier.supplement_receive")
    note = clean_text(note)[:MAX_NOTE]
    with transaction.atomic():
        locked = _locked(dossier.pk)
        if locked.state != DossierState.SUPPLEMENT:
            raise _wrong_state(locked)
        pause = locked.pauses.filter(ended_at__isnull=True).first()
        if owner and (pause is None or not locked.documents.filter(
                is_supplement=True, uploaded_at__gte=pause.started_at).exclude(file="").exists()):
            raise _error(_("Upload the supplement first."), field="file")
        at = now()
        if pause is not None:
            pause.ended_at = at
            pause.save(update_fields=["ended_at"])
        locked.state = _processing_state(locked)
        locked.missing_items = []
        locked.due_at = dossier_due(locked)
        _save(locked, user, "supplement received")
        _event(locked, EventKind.SUPPLEMENT_RECEIVED, user, at=at, note=note)
    return locked


def require_working_day(moment: datetime.datetime | datetime.date, field: str) -> None:
    """Refuse an appointment (a date the desk gives a citizen) on a day that is not a working
    day of the commune's calendar, naming the nearest working day after it."""
    from workcalendar.services import is_working_day, next_working_day, to_local

    day = to_local(moment).date() if isinstance(moment, datetime.datetime) else moment
    if not is_working_day(day):
        raise _error(_("The appointment must be on a working day; the nearest working day is %(date)s.")
                     % {"date": next_working_day(day).strftime("%d/%m/%Y")}, code="not_working_day", field=field)


def _as_due_moment(value) -> datetime.datetime | None:
    """A new date for form 4, on a working day: a datetime, or a date (a datetime at midnight,
    as a date-only field gives it), which is the end of that working day."""
    from workcalendar.services import TZ, to_local, work_periods

    if isinstance(value, datetime.datetime):
        value = to_local(value)
    elif isinstance(value, str):
        text = clean_text(value)
        for fmt in ("%d/%m/%Y %H:%M", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"):
            try:
                value = datetime.datetime.strptime(text, fmt).replace(tzinfo=TZ)
                break
            except ValueError:
                continue
        else:
            value = _parse_date(text)
    if isinstance(value, datetime.datetime):
        require_working_day(value, "new_due_at")
        if value.time() != datetime.time.min:
            return value
        value = value.date()
    if isinstance(value, datetime.date):
        require_working_day(value, "new_due_at")
        return datetime.datetime.combine(value, work_periods()[-1][1], TZ)
    return None


def extend(*, dossier, user, new_due_at, reason: str) -> Dossier:
    """Form 4: the apology and a new date when the dossier will be late, on a working day. The
    appointment the statistics measure against (``due_at``) is not moved."""
    permissions.require(user, "dossier.extend")
    reason = _clean_reason(reason, message=_("Give the reason for the delay."))
    moment = _as_due_moment(new_due_at)
    if moment is None:
        raise _error(_("Enter the new date as dd/mm/yyyy."), field="new_due_at")
    with transaction.atomic():
        locked = _locked(dossier.pk)
        if locked.state not in OPEN_STATES:
            raise _wrong_state(locked)
        current = max(d for d in (locked.due_at, locked.extended_due_at, now()) if d is not None)
        if moment <= current:
            raise _error(_("The new date must be later than the current appointment (%(date)s).")
                         % {"date": notify.format_moment(current)}, field="new_due_at")
        at = now()
        Extension.objects.create(dossier=locked, new_due_at=moment, reason=reason, created_at=at, created_by=_actor(user))
        locked.extended_due_at = moment
        _save(locked, user, "extended (form 4)")
        _event(locked, EventKind.EXTENDED, user, at=at, note=reason)
        issue_form(locked, FormKind.APOLOGY, user, extra={"new_due_at": moment, "reason": reason})
        notify.delayed(locked, new_due_at=moment, reason=reason, user=user)
    return locked


def stop(*, dossier, user, reason: str) -> Dossier:
    """Form 5: the processing stops (at the applicant's request, or when the law says so)."""
    permissions.require(user, "dossier.stop")
    reason = _clean_reason(reason, message=_("Give the reason for stopping."))
    with transaction.atomic():
        locked = _locked(dossier.pk)
        if locked.state not in OPEN_STATES:
            raise _wrong_state(locked)
        at = now()
        locked.pauses.filter(ended_at__isnull=True).update(ended_at=at)
        locked.state = DossierState.STOPPED
        locked.closed_reason = reason
        locked.current_handler = None
        _save(locked, user, "stopped (form 5)")
        _event(locked, EventKind.STOPPED, user, at=at, from_step=locked.current_step, note=reason)
        issue_form(locked, FormKind.STOP, user, extra={"reason": reason})
        notify.stopped(locked, user=user)
    return locked


# --- signatures ----------------------------------------------------------------------------------

def _signature_error(exc) -> ValidationError:
    from signatures.services import refusal_message

    message = str(getattr(exc, "message", "") or "") or refusal_message(exc.code)
    if message == exc.code:
        message = refusal_message(exc.code)
    field = "pin" if exc.code in ("wrong_pin", "pin_locked") else None
    return _error(message, code=exc.code or "signature_refused", field=field)


def _request_signature(*, user, kind: str, pin, source_name: str, field_name: str, box_json, purpose: str,
                       on_done: str, reason: str, dossier):
    """``signatures.services.request_signature`` with the official's appearance (the signature
    image, or the seal); refusals become ``ValidationError``."""
    from documents.signing import Box
    from signatures import services as signing
    from signatures.pdf.pades import SignatureFieldSpec

    signing.validate_pin(pin)
    box = Box.from_json(box_json)
    commune = current_commune()
    try:
        certificate = signing.certificate_for(user, kind)
        if certificate is None:
            raise signing.SigningRefused("no_certificate", _("You have no usable certificate for this signature."))
        appearance = signing.default_appearance(user, certificate, purpose=purpose, lines=[])
        return signing.request_signature(
            user=user, certificate=certificate, pin=pin, source_name=source_name,
            field=SignatureFieldSpec(name=field_name, page=box.page if box else 0, box=tuple(box.box) if box else None),
            appearance=appearance, purpose=purpose, subject=f"{SUBJECT_PREFIX}:{dossier.pk}", on_done=on_done,
            reason=reason, location=commune.name if commune else "",
        )
    except signing.SigningRefused as exc:
        raise _signature_error(exc) from exc


def sign_result_leader(*, dossier, user, pin: str):
    """The leader's personal signature on the result (a signing job; ``on_leader_signed``
    finishes). Rendered again first when it names another signer."""
    from signatures.services import validate_pin

    permissions.require(user, "result.sign_leader")
    validate_pin(pin)
    dossier = Dossier.objects.get(pk=dossier.pk)
    if dossier.state != DossierState.IN_PROGRESS or not at_signing_step(dossier):
        raise _wrong_state(dossier)
    if dossier.current_handler_id and dossier.current_handler_id != user.pk:
        raise PermissionDenied
    if dossier.leader_signed_pdf:
        raise _error(_("The leader has already signed this result."), code="already_signed")
    if not dossier.result_pdf or (dossier.result_layout or {}).get("signer_id") != user.pk:
        with transaction.atomic():
            locked = _locked(dossier.pk)
            if locked.leader_signed_pdf or locked.state != DossierState.IN_PROGRESS:
                raise _wrong_state(locked)
            _render_result(locked, user)
            _save(locked, user, "result rendered for the signer")
        dossier = locked
    return _request_signature(
        user=user, kind="personal", pin=pin, source_name=dossier.result_pdf, field_name=LEADER_FIELD,
        box_json=(dossier.result_layout or {}).get("signature"), purpose="leader", on_done=LEADER_ON_DONE,
        reason=_("Signed by the person with authority"), dossier=dossier,
    )


def sign_result_agency(*, dossier, user, pin: str):
    """The clerk applies the agency's signature (the seal) on the leader's signed result; the
    signing job then makes the result ready (``on_agency_signed``)."""
    permissions.require(user, "result.sign_agency")
    dossier = Dossier.objects.get(pk=dossier.pk)
    if dossier.signed_result:
        raise _error(_("The agency has already signed this result."), code="already_signed")
    if dossier.state != DossierState.IN_PROGRESS:
        raise _wrong_state(dossier)
    if not dossier.leader_signed_pdf:
        raise _error(_("The leader has not signed the result yet."), code="not_signed")
    return _request_signature(
        user=user, kind="agency", pin=pin, source_name=dossier.leader_signed_pdf, field_name=AGENCY_FIELD,
        box_json=(dossier.result_layout or {}).get("seal"), purpose="agency", on_done=AGENCY_ON_DONE,
        reason=_("Issued by the agency"), dossier=dossier,
    )


def _job_dossier(job) -> Dossier:
    subject = str(getattr(job, "subject", ""))
    if not subject.startswith(SUBJECT_PREFIX + ":"):
        raise ValueError(f"Unexpected subject {subject!r}")
    return _locked(int(subject.split(":", 1)[1]))


def _job_user(job):
    user_id = getattr(job, "requested_by_id", None)
    return get_user_model().objects.filter(pk=user_id).first() if user_id else None


@transaction.atomic
def on_leader_signed(job) -> None:
    """Called by the signing job in its final transaction: the leader's signed file is kept."""
    dossier = _job_dossier(job)
    if dossier.state != DossierState.IN_PROGRESS or dossier.leader_signed_pdf or job.source_name != dossier.result_pdf:
        logger.info("Dossier %s: leader signature of %s arrived in state %s; ignored", dossier.pk, job.source_name,
                    dossier.state)
        return
    user = _job_user(job)
    dossier.leader_signed_pdf = job.output_name
    dossier.signer_id = job.requested_by_id
    _save(dossier, user, "signed by the leader")
    _event(dossier, EventKind.LEADER_SIGNED, user, from_step=dossier.current_step)


@transaction.atomic
def on_agency_signed(job) -> None:
    """Called by the signing job in its final transaction: the result is ready."""
    dossier = _job_dossier(job)
    if (dossier.state != DossierState.IN_PROGRESS or dossier.signed_result
            or job.source_name != dossier.leader_signed_pdf):
        logger.info("Dossier %s: agency signature arrived in state %s; ignored", dossier.pk, dossier.state)
        return
    user = _job_user(job)
    at = now()
    step = dossier.current_step
    following = _step_of_kind(dossier, StepKind.RETURN)
    dossier.signed_result = job.output_name
    dossier.state = DossierState.RESULT_READY
    dossier.completed_at = at
    _event(dossier, EventKind.RESULT_READY, user, at=at, from_step=step, to_step=following,
           step_started_at=dossier.step_started_at, step_due_at=step_due(step, dossier.step_started_at))
    dossier.current_step = following
    dossier.current_handler = None
    dossier.step_started_at = at
    _save(dossier, user, "result ready")
    notify.result_ready(dossier, user=user)


# --- return, payment, rating ---------------------------------------------------------------------

def paid_amount(dossier) -> int:
    return int(dossier.payments.aggregate(total=Sum("amount"))["total"] or 0)


def outstanding_fee(dossier) -> int:
    if dossier.fee_exempt_reason:
        return 0
    return max(int(dossier.fee_amount or 0) - paid_amount(dossier), 0)


def return_result(*, dossier, user, delivery=None) -> Dossier:
    """Result ready → returned (at the desk, sent by post, or downloaded). The fee comes first."""
    permissions.require(user, "dossier.return")
    if delivery not in (None, ""):
        delivery, _address = _clean_delivery(delivery, "")
    with transaction.atomic():
        locked = _locked(dossier.pk)
        if locked.state != DossierState.RESULT_READY:
            raise _wrong_state(locked)
        if outstanding_fee(locked) > 0:
            raise _error(_("The fee of %(amount)s has not been paid yet.") % {"amount": fees.format_money(outstanding_fee(locked))},
                         code="not_paid", field="fee")
        if delivery:
            if delivery == Delivery.POST and not locked.delivery_address:
                raise _error(_("Enter the postal address for the result."), field="delivery_address")
            locked.delivery = delivery
        at = now()
        locked.state = DossierState.RETURNED
        locked.returned_at = at
        locked.current_handler = None
        _save(locked, user, "returned")
        _event(locked, EventKind.RETURNED, user, at=at, from_step=locked.current_step,
               note=locked.get_delivery_display())
    return locked




PAYABLE_STATES = OPEN_STATES + DONE_STATES


def record_payment(*, dossier, user, method: str, amount: int | None = None, reference=None) -> Payment:
    """The officer records the fee paid in cash or by transfer; a fee receipt is issued."""
    permissions.require(user, "dossier.payment")
    if method not in (PaymentMethod.CASH, PaymentMethod.VIETQR):
        raise _error(_("Choose how the fee was paid."), field="method")
    return _record_payment(dossier=dossier, user=user, method=method, amount=amount, reference=reference)


def _record_payment(*, dossier, user, method: str, amount=None, reference=None, at=None) -> Payment:
    """Record a payment (the officer, or a bank notification with ``user`` None)."""
    reference = clean_text(reference)[:100] or None
    if amount not in (None, ""):
        amount = _clean_count(amount, "amount", 1, 10**9, _("Enter the amount paid in đồng."))
    with transaction.atomic():
        locked = _locked(dossier.pk)
        if locked.state not in PAYABLE_STATES:
            raise _wrong_state(locked)
        due = outstanding_fee(locked)
        if due <= 0:
            raise _error(_("Nothing is left to pay for this dossier."), code="already_paid")
        if amount is None:
            amount = due
        if user is not None and amount > due:
            raise _error(_("The amount is more than what is due (%(amount)s).") % {"amount": fees.format_money(due)}, field="amount")
        if reference and Payment.objects.filter(reference=reference).exists():
            raise _error(_("This bank reference was already recorded."), code="already_paid", field="reference")
        at = at or now()
        payment = Payment.objects.create(
            dossier=locked, amount=amount, method=method, reference=reference, received_at=at,
            recorded_by=_actor(user), receipt_number=_receipt_number(at),
        )
        if paid_amount(locked) >= int(locked.fee_amount or 0):
            locked.fee_paid_at = at
            _save(locked, user, "fee paid")
        _event(locked, EventKind.PAID, user, at=at, note=f"{fees.format_money(amount)} – {payment.get_method_display()}")
        issue_form(locked, FormKind.FEE_RECEIPT, user, extra={"payment": payment})
    return payment


def rate(*, token, score: int, comment: str = "", user=None) -> Rating:
    """The applicant's rating of the service, once per dossier, once the result is ready.

    The rating key opens the rating only of a dossier received at the desk (it is printed on the
    receipt and on the result handed to the applicant). A dossier sent online is rated by its
    citizen only, logged in (``user``): its key alone, wherever it was read, rates nothing."""
    try:
        token = uuid.UUID(str(token))
    except (TypeError, ValueError, AttributeError):
        raise _error(_("This rating link is not valid."), code="not_found", field="token") from None
    try:
        score = int(score)
    except (TypeError, ValueError):
        score = 0
    if score not in Rating.Score.values:
        raise _error(_("Choose a rating from 1 to 3."), field="score")
    comment = "\n".join(clean_text(line) for line in str(comment or "").splitlines()).strip()
    if len(comment) > 1000:
        raise _error(_("The comment is too long (at most %(max)d characters).") % {"max": 1000}, field="comment")
    with transaction.atomic():
        dossier = Dossier.objects.select_for_update().filter(rating_token=token).first()
        if dossier is None:
            raise _error(_("This rating link is not valid."), code="not_found", field="token")
        if dossier.citizen_id and getattr(user, "pk", None) != dossier.citizen_id:
            raise _error(_("Log in with the account that sent this dossier to rate the service."),
                         code="login_required", field="token")
        if dossier.state not in DONE_STATES:
            raise _error(_("The service can be rated once the result is ready."), code="wrong_state")
        if Rating.objects.filter(dossier=dossier).exists():
            raise _error(_("This dossier has already been rated. Thank you."), code="already_rated")
        try:
            with transaction.atomic():
                rating = Rating.objects.create(dossier=dossier, score=score, comment=comment)
        except IntegrityError:
            raise _error(_("This dossier has already been rated. Thank you."), code="already_rated") from None
        _event(dossier, EventKind.RATED, None, public=False, note=str(score))
    return rating

