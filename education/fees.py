"""School fees (khoản thu): fee items of a semester charged to classes, one invoice per student
and semester, payment by VietQR to the school's own account (reconciled by the bank's signed
notification) or in cash at the school, a receipt for each payment, and the arrears.

Rules (each state change happens in exactly one function below, inside a transaction):

* A fee item has a name (unique in the school and semester), an amount in whole đồng (above 0, at
  most 50 000 000), the classes charged and a due date. Public schools charge no tuition from
  2025-2026 (Resolution 217/2025/QH15): the items are such as student health insurance, boarding
  meals or school uniforms.
* ``issue_invoices(school, semester)`` gives every active student of a charged class one open
  invoice of the semester (the database allows one per enrolment and semester) with a line per
  fee item of the class; run again, it adds only what is missing: new invoices, and new lines on
  unpaid invoices; a paid invoice is never changed (counted as such in the result).
* Codes are drawn from ``education.sequences`` without gaps: invoices ``HP<yy><school id>-000123``
  (ASCII, short enough for a transfer's purpose), receipts ``BL<yy><school id>-000045`` (per school
  and school year).
* The bank's notification (``handle_bank_notification``) is signed with the commune's secret of
  the label ``education-fees`` (``python manage.py bank_webhook_secret`` derives it), names the
  commune, and pays the invoice whose code is in the purpose when the amount is exactly what
  remains to pay. Every accepted notification is kept once per transaction id
  (``FeeNotification``), with its answer: a replay gets the same answer and changes nothing.

  ===========================  ======  ================================================
  case                          status  body
  ===========================  ======  ================================================
  paid                          200     ``{"status": "paid", "invoice", "receipt", "amount"}``
  bad or missing signature      403     ``{"code": "bad_signature", …}`` nothing kept
  body not the JSON described   400     ``{"code": "invalid", …}`` nothing kept
  another commune named         400     ``{"code": "wrong_commune", …}`` nothing kept
  no invoice code of the school 404     ``{"code": "unknown_invoice", …}`` kept
  invoice cancelled             409     ``{"code": "invoice_cancelled", …}`` kept
  invoice already paid          409     ``{"code": "already_paid", …}`` kept, for the accountant
  amount not the remaining sum  409     ``{"code": "wrong_amount", …}`` kept, for the accountant
  school's account not named    409     ``{"code": "wrong_account", …}`` kept, for the accountant
  transaction seen before       same    the first answer, nothing changed
  ===========================  ======  ================================================
"""
from __future__ import annotations

import datetime
import re
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from core import bank_notifications as signed
from core import vietqr
from education import permissions, sequences
from education.models import (
    Enrolment, FeeItem, FeePayment, Guardian, Invoice, InvoiceLine, School, SchoolClass, Semester,
)

SECRET_LABEL = "education-fees"
MAX_AMOUNT = 50_000_000
PURPOSE_PREFIXES = ("NOP TIEN ", "")
REMIND_EVERY = datetime.timedelta(days=7)

PAID = "paid"
UNKNOWN = "unknown_invoice"
CANCELLED = "invoice_cancelled"
ALREADY_PAID = "already_paid"
WRONG_AMOUNT = "wrong_amount"
WRONG_ACCOUNT = "wrong_account"
MISMATCHES = (UNKNOWN, CANCELLED, ALREADY_PAID, WRONG_AMOUNT, WRONG_ACCOUNT)

_CODE_RE = re.compile(r"HP\s*(\d{2})\s*(\d{1,7}?)\s*[-_.]?\s*(\d{6})(?!\d)")


def _refuse(field: str | None, message: str, code: str):
    if field:
        return ValidationError({field: ValidationError(message, code=code)})
    return ValidationError(message, code=code)


def year_digits(semester) -> str:
    """'26' for a semester of 2026-2027."""
    return (semester.year.name or "")[2:4] or f"{semester.year.starts_on:%y}"


def invoice_code(school, semester, number: int) -> str:
    return f"HP{year_digits(semester)}{school.pk}-{number:06d}"


def receipt_number(school, semester, number: int) -> str:
    return f"BL{year_digits(semester)}{school.pk}-{number:06d}"


def format_money(amount) -> str:
    """1234000 → '1.234.000 đ'."""
    from onestop.fees import format_money as money

    return money(amount)


# --- fee items -----------------------------------------------------------------------------------

def semesters():
    return Semester.objects.select_related("year").order_by("-year__starts_on", "number")


def current_semester(today=None):
    today = today or timezone.localdate()
    found = Semester.objects.select_related("year").filter(starts_on__lte=today, ends_on__gte=today).first()
    if found:
        return found
    return (Semester.objects.select_related("year").filter(year__current=True).order_by("number").first()
            or semesters().first())


def classes_of(school, semester):
    return SchoolClass.objects.filter(school=school, year_id=semester.year_id).order_by("grade", "name")


def save_fee_item(user, school, *, semester, name, amount, classes=(), grades=(), due_on=None, note="",
                  item: FeeItem | None = None) -> FeeItem:
    """Create (or, with ``item``, change) a fee item. ``grades``: every class of those grades is
    charged too ("all classes of a grade with one click"). Refused with a Vietnamese message per
    field; an item already on an invoice keeps its amount and its classes' invoices."""
    permissions.require(user, "fees.manage", school)
    errors: dict[str, ValidationError] = {}
    name = " ".join(str(name or "").split())
    note = str(note or "").strip()
    if not name:
        errors["name"] = ValidationError(_("Enter the name of the fee."), code="required")
    elif len(name) > 150:
        errors["name"] = ValidationError(_("The name can hold at most 150 characters."), code="too_long")
    if len(note) > 300:
        errors["note"] = ValidationError(_("The note can hold at most 300 characters."), code="too_long")
    if isinstance(amount, str) and amount.strip().replace(".", "").isdigit():
        amount = int(amount.strip().replace(".", ""))
    if isinstance(amount, bool) or not isinstance(amount, int) or not 0 < amount <= MAX_AMOUNT:
        errors["amount"] = ValidationError(
            _("The amount is a whole number of đồng above 0 and at most %(max)s.") % {"max": format_money(MAX_AMOUNT)},
            code="amount")
    if semester is None or not isinstance(semester, Semester):
        errors["semester"] = ValidationError(_("Choose the semester."), code="required")
    if item is not None and (item.school_id != school.pk or (semester is not None and item.semester_id != semester.pk)):
        errors["semester"] = ValidationError(_("A fee item stays in its school and semester."), code="invalid")
    chosen: set[int] = set()
    if semester is not None and "semester" not in errors:
        allowed = {c.pk: c for c in classes_of(school, semester)}
        for value in classes or ():
            pk = getattr(value, "pk", value)
            try:
                pk = int(pk)
            except (TypeError, ValueError):
                pk = None
            if pk not in allowed:
                errors["classes"] = ValidationError(
                    _("Choose classes of this school in the semester's school year."), code="invalid")
                break
            chosen.add(pk)
        for grade in grades or ():
            chosen |= {pk for pk, c in allowed.items() if str(c.grade) == str(grade)}
        if not chosen and "classes" not in errors:
            errors["classes"] = ValidationError(_("Choose at least one class to charge."), code="required")
    if due_on is not None and semester is not None and isinstance(due_on, datetime.date) and \
            not (semester.year.starts_on - datetime.timedelta(days=90) <= due_on <= semester.year.ends_on):
        errors["due_on"] = ValidationError(_("The due date must fall in the school year."), code="invalid")
    if not errors.get("name") and semester is not None and "semester" not in errors:
        clash = FeeItem.objects.filter(school=school, semester=semester, name__iexact=name)
        if item is not None:
            clash = clash.exclude(pk=item.pk)
        if clash.exists():
            errors["name"] = ValidationError(_("This school already has a fee of this name in the semester."),
                                             code="duplicate")
    if item is not None and "amount" not in errors and amount != item.amount and \
            InvoiceLine.objects.filter(fee_item=item).exists():
        errors["amount"] = ValidationError(
            _("Invoices already hold this fee: its amount can no longer be changed. Add another fee item instead."),
            code="issued")
    if errors:
        raise ValidationError(errors)
    try:
        with transaction.atomic():
            if item is None:
                item = FeeItem(school=school, semester=semester)
            item.name, item.amount, item.due_on, item.note = name, amount, due_on, note
            item.save()
            item.classes.set(sorted(chosen))
    except IntegrityError:
        raise _refuse("name", _("This school already has a fee of this name in the semester."), "duplicate")
    return item


@transaction.atomic
def delete_fee_item(user, item: FeeItem) -> None:
    permissions.require(user, "fees.manage", item.school)
    if InvoiceLine.objects.filter(fee_item=item).exists():
        raise _refuse(None, _("Invoices already hold this fee: it can no longer be deleted."), "issued")
    item.delete()


# --- invoices ------------------------------------------------------------------------------------

@dataclass
class IssueResult:
    created: int = 0
    extended: int = 0
    unchanged: int = 0
    paid_unchanged: int = 0


def issue_invoices(school, semester, user=None) -> IssueResult:
    """One invoice per active student of the charged classes, with a line per fee item of the
    class; idempotent (only what is missing is added; paid invoices are left as they are)."""
    if user is not None:
        permissions.require(user, "fees.manage", school)
    try:
        with transaction.atomic():
            return _issue(school, semester)
    except IntegrityError:
        raise _refuse(None, _("Invoices of this school are being issued by someone else at this moment. "
                              "Try again in a minute."), "busy")


def _issue(school, semester) -> IssueResult:
    result = IssueResult()
    # One issuer at a time per school (the row lock on the school's invoice series).
    School.objects.select_for_update().filter(pk=school.pk).first()
    items = list(FeeItem.objects.filter(school=school, semester=semester).prefetch_related("classes"))
    by_class: dict[int, list[FeeItem]] = {}
    for item in items:
        for school_class in item.classes.all():
            by_class.setdefault(school_class.pk, []).append(item)
    if not by_class:
        raise _refuse(None, _("There is no fee item charged to a class in this semester."), "no_items")
    enrolments = (Enrolment.objects.filter(school_class_id__in=by_class, status=Enrolment.Status.ACTIVE,
                                           school_class__school=school, year_id=semester.year_id)
                  .select_related("school_class").order_by("school_class__grade", "school_class__name", "number", "pk"))
    existing = {inv.enrolment_id: inv for inv in Invoice.objects.select_for_update().filter(
        school=school, semester=semester).exclude(state=Invoice.State.CANCELLED)}
    lines_of: dict[int, set[int]] = {}
    for invoice_id, item_id in InvoiceLine.objects.filter(invoice__in=list(existing.values())).values_list(
            "invoice_id", "fee_item_id"):
        lines_of.setdefault(invoice_id, set()).add(item_id)
    new_lines: list[InvoiceLine] = []
    new_invoices: list[tuple[Invoice, list[FeeItem]]] = []
    for enrolment in enrolments:
        charged = by_class[enrolment.school_class_id]
        due = min((i.due_on for i in charged if i.due_on), default=None)
        invoice = existing.get(enrolment.pk)
        if invoice is None:
            new_invoices.append((Invoice(school=school, semester=semester, enrolment=enrolment,
                                         total=sum(i.amount for i in charged), due_on=due), charged))
            continue
        missing = [i for i in charged if i.pk not in lines_of.get(invoice.pk, set())]
        if not missing:
            result.unchanged += 1
        elif invoice.state == Invoice.State.PAID:
            result.paid_unchanged += 1
        else:
            new_lines += [InvoiceLine(invoice=invoice, fee_item=i, name=i.name, amount=i.amount) for i in missing]
            invoice.total += sum(i.amount for i in missing)
            if due and (invoice.due_on is None or due < invoice.due_on):
                invoice.due_on = due
            invoice.save(update_fields=["total", "due_on"])
            result.extended += 1
    if new_invoices:
        first = draw_numbers(f"fees.invoice.{school.pk}.{semester.year_id}", len(new_invoices))
        for offset, (invoice, _charged) in enumerate(new_invoices):
            invoice.code = invoice_code(school, semester, first + offset)
        Invoice.objects.bulk_create([invoice for invoice, _charged in new_invoices])
        for invoice, charged in new_invoices:
            new_lines += [InvoiceLine(invoice=invoice, fee_item=i, name=i.name, amount=i.amount) for i in charged]
        result.created = len(new_invoices)
    InvoiceLine.objects.bulk_create(new_lines)
    return result


def draw_numbers(name: str, count: int) -> int:
    """The first of ``count`` consecutive numbers of the series ``name``, drawn at once under the
    same row lock as ``education.sequences.next_number`` (inside the caller's transaction)."""
    from education.models import Sequence

    if count == 1:
        return sequences.next_number(name)
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("draw_numbers must run inside the transaction that uses the numbers")
    Sequence.objects.get_or_create(name=name)
    row = Sequence.objects.select_for_update().get(name=name)
    first = row.last + 1
    row.last += count
    row.save(update_fields=["last"])
    return first


def paid_amount(invoice) -> int:
    return invoice.payments.aggregate(s=Sum("amount"))["s"] or 0


def remaining(invoice) -> int:
    if invoice.state != Invoice.State.UNPAID:
        return 0
    return max(invoice.total - paid_amount(invoice), 0)


@transaction.atomic
def cancel_invoice(user, invoice: Invoice) -> Invoice:
    permissions.require(user, "fees.manage", invoice.school)
    invoice = Invoice.objects.select_for_update().get(pk=invoice.pk)
    if invoice.state == Invoice.State.PAID:
        raise _refuse(None, _("This invoice is paid: it cannot be cancelled."), "paid")
    if invoice.state == Invoice.State.CANCELLED:
        raise _refuse(None, _("This invoice is already cancelled."), "cancelled")
    invoice.state = Invoice.State.CANCELLED
    invoice.save(update_fields=["state"])
    return invoice


# --- payments ------------------------------------------------------------------------------------

def _pay(invoice: Invoice, *, amount: int, method: str, transaction_id=None, user=None, at=None) -> FeePayment:
    """Inside the caller's transaction, with ``invoice`` locked: the payment, its receipt number,
    the invoice paid."""
    at = at or timezone.now()
    number = sequences.next_number(f"fees.receipt.{invoice.school_id}.{invoice.semester.year_id}")
    payment = FeePayment.objects.create(
        invoice=invoice, amount=amount, method=method, transaction_id=transaction_id,
        receipt_number=receipt_number(invoice.school, invoice.semester, number),
        received_by=user if getattr(user, "is_authenticated", False) else None, received_at=at)
    invoice.state, invoice.paid_at = Invoice.State.PAID, at
    invoice.save(update_fields=["state", "paid_at"])
    return payment


def pay_cash(user, invoice: Invoice, amount) -> FeePayment:
    """The accountant received ``amount`` in cash at the school: exactly what remains to pay."""
    permissions.require(user, "fees.manage", invoice.school)
    try:
        amount = int(str(amount).strip().replace(".", ""))
    except (TypeError, ValueError):
        raise _refuse("amount", _("Enter the amount received, in whole đồng."), "invalid")
    with transaction.atomic():
        invoice = Invoice.objects.select_for_update().select_related("semester__year", "school").get(pk=invoice.pk)
        if invoice.state == Invoice.State.CANCELLED:
            raise _refuse(None, _("This invoice is cancelled: nothing can be paid on it."), CANCELLED)
        if invoice.state == Invoice.State.PAID:
            raise _refuse(None, _("This invoice is already paid."), ALREADY_PAID)
        due = remaining(invoice)
        if amount != due:
            raise _refuse("amount", _("The amount must be what remains to pay: %(amount)s.")
                          % {"amount": format_money(due)}, WRONG_AMOUNT)
        return _pay(invoice, amount=amount, method=FeePayment.Method.CASH, user=user)


# --- VietQR --------------------------------------------------------------------------------------

def school_has_account(school) -> bool:
    return bool(re.fullmatch(r"\d{6}", school.bank_bin or "") and re.fullmatch(r"[0-9A-Za-z]{1,19}",
                                                                              school.bank_account or ""))


def purpose_for(invoice) -> str:
    return vietqr.purpose_with_code(invoice.code, PURPOSE_PREFIXES, what="invoice code")


def payload_for(invoice) -> str | None:
    """The dynamic VietQR payload paying what remains of ``invoice`` to its school's account (None
    when the school has no account or nothing remains)."""
    due = remaining(invoice)
    if not due or not school_has_account(invoice.school):
        return None
    return vietqr.build_payload(bank_bin=invoice.school.bank_bin, account=invoice.school.bank_account,
                                amount=due, purpose=purpose_for(invoice))


# --- the bank's notification ---------------------------------------------------------------------

def commune_secret(commune) -> str:
    return signed.derived_secret(SECRET_LABEL, commune)


def find_invoice(purpose: str):
    """The invoice whose code is in the purpose (banks may drop the hyphen or add spaces and
    words); None when there is none, or more than one."""
    text = str(purpose or "").upper()
    codes = {f"HP{yy}{int(school)}-{number}" for yy, school, number in _CODE_RE.findall(text) if school}
    if not codes:
        return None
    found = list(Invoice.objects.filter(code__in=codes)[:2])
    return found[0] if len(found) == 1 else None


def _answer(code: str, detail: str, fields=None, **extra) -> dict:
    body = {"code": code, "detail": detail, "fields": fields or {}}
    body.update(extra)
    return body


def handle_bank_notification(raw_body: bytes, signature_header: str | None) -> tuple[int, dict]:
    """Check, keep and apply one notification: (HTTP status, JSON body)."""
    from communes.permissions import current_commune
    from education.models import FeeNotification

    commune = current_commune()
    if commune is None:
        return signed.error(404, "not_found", _("Not found."))
    raw_body = bytes(raw_body or b"")
    if not signed.signature_matches(raw_body, signature_header, commune_secret(commune)):
        return signed.error(403, "bad_signature", _("The signature of the notification is not valid."))
    if len(raw_body) > signed.MAX_BODY_BYTES:
        return signed.error(400, "invalid", _("The notification is too large."))
    data, problem = signed.parse(raw_body)
    if problem is not None:
        return problem
    if data["commune"] != commune.code:
        return signed.error(400, "wrong_commune", _("The notification is not addressed to this commune."),
                            {"commune": _("Name the commune (its 5-digit code) the transfer was made in.")})
    seen = FeeNotification.objects.filter(transaction_id=data["transaction_id"]).first()
    if seen is not None:
        return seen.answer.get("status_code", 200), seen.answer.get("body", {})
    payload = {**data, "paid_at": data["paid_at"].isoformat() if data["paid_at"] else None}
    try:
        with transaction.atomic():
            notice = FeeNotification.objects.create(transaction_id=data["transaction_id"], payload=payload,
                                                    outcome="received")
            status_code, body, outcome, invoice, school = _apply(data)
            notice.outcome, notice.invoice, notice.school = outcome, invoice, school
            notice.answer = {"status_code": status_code, "body": body}
            notice.save(update_fields=["outcome", "invoice", "school", "answer"])
    except IntegrityError:  # the same transaction at the same moment: the other request kept it
        seen = FeeNotification.objects.filter(transaction_id=data["transaction_id"]).first()
        if seen is None:
            return signed.error(409, "busy", _("The notification is being processed; send it again."))
        return seen.answer.get("status_code", 200), seen.answer.get("body", {})
    return status_code, body


def _school_of_account(account: str):
    account = re.sub(r"\s", "", account or "")
    if not account:
        return None
    return School.objects.filter(bank_account=account).first()


def _apply(data: dict):
    invoice = find_invoice(data["purpose"])
    if invoice is None:
        return (404, _answer(UNKNOWN, _("No invoice code of the commune's schools was found in the purpose of the "
                                        "transfer."), {"purpose": _("Put the invoice code in the purpose.")}),
                UNKNOWN, None, _school_of_account(data["account"]))
    invoice = Invoice.objects.select_for_update().select_related("school", "semester__year").get(pk=invoice.pk)
    school = invoice.school
    if invoice.state == Invoice.State.CANCELLED:
        return (409, _answer(CANCELLED, _("The invoice %(code)s is cancelled: nothing was paid.") % {"code": invoice.code},
                             invoice=invoice.code), CANCELLED, invoice, school)
    if invoice.state == Invoice.State.PAID:
        return (409, _answer(ALREADY_PAID, _("The invoice %(code)s is already paid: the school will refund the "
                                             "transfer.") % {"code": invoice.code}, invoice=invoice.code),
                ALREADY_PAID, invoice, school)
    account = re.sub(r"\s", "", data["account"] or "")
    if account and account != re.sub(r"\s", "", school.bank_account or ""):
        return (409, _answer(WRONG_ACCOUNT, _("The transfer was made to another account than the school's: the invoice "
                                              "%(code)s is not paid.") % {"code": invoice.code},
                             {"account": _("Not the school's account.")}, invoice=invoice.code),
                WRONG_ACCOUNT, invoice, school)
    due = remaining(invoice)
    if data["amount"] != due:
        return (409, _answer(WRONG_AMOUNT, _("The amount transferred is not what remains to pay on the invoice "
                                             "%(code)s (%(due)s): nothing was paid; the school's accountant will "
                                             "contact the family.") % {"code": invoice.code, "due": format_money(due)},
                             {"amount": _("Expected %(due)s.") % {"due": format_money(due)}}, invoice=invoice.code),
                WRONG_AMOUNT, invoice, school)
    payment = _pay(invoice, amount=data["amount"], method=FeePayment.Method.BANK,
                   transaction_id=data["transaction_id"], at=data["paid_at"] or timezone.now())
    return (200, {"status": PAID, "invoice": invoice.code, "receipt": payment.receipt_number,
                  "amount": payment.amount}, PAID, invoice, school)


def mismatches(school):
    """The school's kept notifications that paid nothing and wait for the accountant."""
    from education.models import FeeNotification

    return FeeNotification.objects.filter(school=school, outcome__in=MISMATCHES, resolved_at__isnull=True)


@transaction.atomic
def resolve_mismatch(user, notice):
    """The accountant has dealt with a mismatch (refunded it, or asked the family): off the list."""
    from education.models import FeeNotification

    if notice.school is None:
        raise _refuse(None, _("This notification belongs to no school."), "invalid")
    permissions.require(user, "fees.manage", notice.school)
    notice = FeeNotification.objects.select_for_update().get(pk=notice.pk)
    if notice.resolved_at is None:
        notice.resolved_at, notice.resolved_by = timezone.now(), user
        notice.save(update_fields=["resolved_at", "resolved_by"])
    return notice


def outcome_label(outcome: str) -> str:
    return {
        PAID: _("Paid"),
        UNKNOWN: _("No invoice code in the purpose"),
        CANCELLED: _("The invoice was cancelled"),
        ALREADY_PAID: _("The invoice was already paid"),
        WRONG_AMOUNT: _("Not the amount due"),
        WRONG_ACCOUNT: _("Paid to another account"),
    }.get(outcome, outcome)


# --- arrears and reminders -----------------------------------------------------------------------

def overdue(school, today=None):
    today = today or timezone.localdate()
    return Invoice.objects.filter(school=school, state=Invoice.State.UNPAID, due_on__lt=today)


@dataclass
class ArrearsClass:
    school_class: SchoolClass
    invoices: list
    total: int


def arrears(school, semester=None, today=None) -> list[ArrearsClass]:
    """Unpaid invoices past their due date, per class (the class list's order), with totals."""
    invoices = overdue(school, today).select_related(
        "enrolment__school_class", "enrolment__student__resident", "semester__year").order_by(
        "enrolment__school_class__grade", "enrolment__school_class__name", "enrolment__number", "code")
    if semester is not None:
        invoices = invoices.filter(semester=semester)
    groups: dict[int, ArrearsClass] = {}
    for invoice in invoices:
        school_class = invoice.enrolment.school_class
        group = groups.setdefault(school_class.pk, ArrearsClass(school_class, [], 0))
        group.invoices.append(invoice)
        group.total += invoice.total
    return list(groups.values())


def arrears_xlsx(user, school, groups) -> bytes:
    from core import xlsx
    from education import access

    workbook = xlsx.new_workbook()
    workbook.remove(workbook.active)
    headings = [_("Class"), _("No."), _("Student"), _("Invoice"), _("Payment due on"), _("Amount (đ)")]
    rows = []
    count = 0
    for group in groups:
        for invoice in group.invoices:
            rows.append([group.school_class.name, invoice.enrolment.number,
                         invoice.enrolment.student.resident.full_name, invoice.code, invoice.due_on, invoice.total])
            count += 1
        rows.append([group.school_class.name, None, _("Total of the class"), None, None, group.total])
    rows.append([None, None, _("Total"), None, None, sum(g.total for g in groups)])
    xlsx.table_sheet(workbook, _("Arrears"), headings, rows, number_formats={4: "dd/mm/yyyy", 5: "#,##0"},
                     widths=(10, 6, 30, 16, 12, 14))
    access.log_export(user, what=f"fee arrears of {school.name}", count=count)
    return xlsx.save(workbook)


@dataclass
class ReminderResult:
    invoices: int = 0
    recent: int = 0
    no_phone: int = 0
    notification_id: int | None = None


def remind_class(user, school_class, today=None) -> ReminderResult:
    """One SMS to the guardians of the class's overdue invoices, through the notification jobs;
    an invoice reminded in the last seven days is skipped."""
    from education.models import FeeReminder
    from notifications.models import Channel
    from notifications.services import create_notification

    school = school_class.school
    permissions.require(user, "fees.read", school)
    result = ReminderResult()
    now = timezone.now()
    with transaction.atomic():
        invoices = list(overdue(school, today).select_for_update(of=("self",)).filter(
            enrolment__school_class=school_class).select_related("enrolment__student__resident"))
        recent = set(FeeReminder.objects.filter(invoice__in=invoices, sent_at__gt=now - REMIND_EVERY)
                     .values_list("invoice_id", flat=True))
        phones: list[str] = []
        chosen = []
        for invoice in invoices:
            if invoice.pk in recent:
                result.recent += 1
                continue
            numbers = [p for p in Guardian.objects.filter(student_id=invoice.enrolment.student_id)
                       .exclude(phone="").values_list("phone", flat=True)]
            if not numbers:
                result.no_phone += 1
                continue
            chosen.append(invoice)
            phones += [p for p in numbers if p not in phones]
        if not chosen:
            return result
        message = _("%(school)s: the school fees of class %(class)s are overdue. Please pay by the VietQR code on "
                    "the invoice (My children > Invoices) or at the school.") % {
            "school": school.short_name or school.name, "class": school_class.name}
        notification = create_notification(channel=Channel.SMS, message=message, recipients=phones, user=user)
        FeeReminder.objects.bulk_create([FeeReminder(invoice=i, notification_id=notification.pk, sent_by=user)
                                         for i in chosen])
        result.invoices, result.notification_id = len(chosen), notification.pk
    return result


# --- the parent's side ---------------------------------------------------------------------------

def invoices_of_parent(user):
    students = permissions.children_of(user)
    return (Invoice.objects.filter(enrolment__student__in=students).exclude(state=Invoice.State.CANCELLED)
            .select_related("school", "semester__year", "enrolment__school_class", "enrolment__student__resident")
            .order_by("-semester__starts_on", "enrolment__student_id"))


def invoice_for_parent(user, code: str):
    """The invoice of that code when it is one of the user's children's; None otherwise."""
    return invoices_of_parent(user).filter(code=str(code or "")[:20]).first()


# --- the inbox -----------------------------------------------------------------------------------

def inbox_lines(request, user, roles) -> list:
    from django.urls import reverse

    from communes.modules import InboxLine, Severity

    if permissions.SCHOOL_STAFF not in roles:
        return []
    lines = []
    for school in permissions.schools_for(user).order_by("name"):
        if not permissions.can(user, "fees.read", school):
            continue
        waiting = mismatches(school).count()
        if waiting:
            lines.append(InboxLine(f"education.fees.mismatches.{school.pk}",
                                   _("Bank transfers of school fees that paid nothing (%(school)s)")
                                   % {"school": school.short_name or school.name},
                                   waiting, reverse("education:fee_notifications", args=[school.pk]), Severity.OVERDUE))
        late = overdue(school).count()
        if late:
            lines.append(InboxLine(f"education.fees.overdue.{school.pk}",
                                   _("Invoices of school fees overdue (%(school)s)")
                                   % {"school": school.short_name or school.name},
                                   late, reverse("education:fee_arrears", args=[school.pk]), Severity.DUE_SOON))
    return lines


def counts(school, semester):
    return Invoice.objects.filter(school=school, semester=semester).aggregate(
        unpaid=Count("pk", filter=Q(state=Invoice.State.UNPAID)), paid=Count("pk", filter=Q(state=Invoice.State.PAID)),
        due=Sum("total", filter=Q(state=Invoice.State.UNPAID)), collected=Sum("total", filter=Q(state=Invoice.State.PAID)))
