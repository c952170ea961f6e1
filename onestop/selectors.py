"""Reads on one-stop dossiers: the public status lookup, the officials' work lists, the
citizen's own dossiers.

The lookup answers only to the dossier code together with the last four digits of the
applicant's phone, and answers an unknown code and a wrong phone alike. Dossier codes are
sequential (``{agency}-{date}-{seq}``), so the four digits are the secret, and the lookup's
throttles (``core.throttle``: counted in PostgreSQL, atomic, still counting while Redis is down)
keep guessing them slow without letting anyone lock a citizen out of their own dossier:

* every lookup counts against its client address: ``XASO_LOOKUP_RATE`` (20 an hour);
* wrong phones count per (code, address): after ``XASO_LOOKUP_MAX_FAILURES`` (5) within an
  hour that address gets 429 for that code; other addresses, the owner's among them, still get
  their answer (nothing is counted per code alone);
* wrong phones count per address over a day: ``XASO_LOOKUP_FAILURE_RATE`` (30 a day).

What that leaves a guesser with one address: at most 30 wrong endings a day, so the 10,000
endings of one code take 333 days, and guessing at random over many codes finds one dossier in
10,000 / 30 ≈ 333 days on average; 100 addresses find about one dossier in 3 days, and need
10,000 / (100 × 5) = 20 hours for one chosen code. A successful lookup clears the (code, address)
count: whoever typed the right digits has nothing left to guess.
"""
from __future__ import annotations

import datetime
import hmac
import json
import re

from django.conf import settings
from django.db import connection
from django.db.models import Q
from django.utils import timezone

from onestop import permissions
from onestop.models import DONE_STATES, OPEN_STATES, Dossier, DossierState, EventKind, StepKind

LOOKUP_WINDOW_SECONDS = 3600
CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,39}$")
# Events the status page shows (with the step's name and the date, never an official's name).
PUBLIC_EVENT_KINDS = (
    EventKind.SUBMITTED, EventKind.RECEIVED, EventKind.HANDOVER, EventKind.SUPPLEMENT_REQUESTED,
    EventKind.SUPPLEMENT_RECEIVED, EventKind.EXTENDED, EventKind.STOPPED, EventKind.LEADER_SIGNED,
    EventKind.RESULT_READY, EventKind.RETURNED, EventKind.PAID, EventKind.REFUSED, EventKind.INCOMPLETE,
)


# --- public lookup -----------------------------------------------------------------------------

class LookupRefused(Exception):
    """Too many lookups from this address (or wrong phones for this code from it); ``decision``
    says until when."""

    def __init__(self, decision, *, per_address: bool = False):
        super().__init__("lookup throttled")
        self.decision = decision
        self.per_address = per_address  # the address's own budget (``count_lookup``) ran out


LOOKUP_ADDRESS_SCOPE = "onestop.lookup"
LOOKUP_WRONG_SCOPE = "onestop.lookup.wrong"  # per (commune, code, address), an hour
LOOKUP_WRONG_DAY_SCOPE = "onestop.lookup.wrong-day"  # per address, every commune together


def _code_key(code: str, address: str) -> str:
    return f"{connection.schema_name}:{code.upper()}:{address}"


def count_lookup(address: str):
    """Count one lookup against the client address (``XASO_LOOKUP_RATE``); the decision."""
    from core import throttle

    rate = str(settings.XASO_LOOKUP_RATE or "").strip()
    if not rate:  # an empty setting: no limit per address
        return throttle.Decision(True, 0, 0, 0)
    return throttle.check(LOOKUP_ADDRESS_SCOPE, address or "unknown", rate)


def _phone_digits(value: str) -> str:
    return re.sub(r"[^0-9]", "", str(value or ""))


def normalize_code(code) -> str:
    return str(code or "").strip().upper()


def lookup(code, phone_last4, *, address: str | None = None, count_address: bool = False) -> Dossier | None:
    """The received dossier with this code whose applicant's phone ends with ``phone_last4``;
    None for an unknown code or a wrong phone. Raises ``LookupRefused`` when this address has
    typed too many wrong phones for this code (an hour) or for any code (a day). The address's
    own budget of lookups (``count_lookup``) is the caller's, counted before the form is read,
    or, with ``count_address``, counted here first in the same statement as the code's count
    (``LookupRefused`` with ``per_address`` when it ran out; nothing else is counted then)."""
    from core import throttle

    address = address or "unknown"
    rate = str(settings.XASO_LOOKUP_RATE or "").strip() if count_address else ""
    typed = str(code or "").strip()
    code = normalize_code(code)
    last4 = _phone_digits(phone_last4)
    if not code or not CODE_RE.match(code):
        if rate and not (counted := count_lookup(address)).allowed:
            raise LookupRefused(counted, per_address=True)
        return None
    day_limit, day_window = throttle.parse_rate(settings.XASO_LOOKUP_FAILURE_RATE)
    # The address's wrong phones of the day are read, and this guess counted against the code
    # before the phone is compared, in one statement: concurrent guesses for one code from one
    # address cannot pass together (with ``count_address``, the address's own count goes first in
    # the same statement). A right phone clears the code's count below.
    code_count = (LOOKUP_WRONG_SCOPE, _code_key(code, address), int(settings.XASO_LOOKUP_MAX_FAILURES),
                  LOOKUP_WINDOW_SECONDS)
    guard = (LOOKUP_WRONG_DAY_SCOPE, address, day_limit)
    if rate:
        limit, window = throttle.parse_rate(rate)
        counted, daily, per_code = throttle.hit_then_unless((LOOKUP_ADDRESS_SCOPE, address, limit, window),
                                                            *code_count, guard=guard)
        if not counted.allowed:
            raise LookupRefused(counted, per_address=True)
    else:
        daily, per_code = throttle.hit_unless(*code_count, guard=guard)
    if per_code is None:
        raise LookupRefused(daily)
    if not per_code.allowed:
        raise LookupRefused(per_code)
    # A right phone clears the (code, address) count in the statement that reads the dossier.
    dossier = _read_for_lookup({code, typed}, clear=(LOOKUP_WRONG_SCOPE, _code_key(code, address), last4)) \
        if len(last4) == 4 else None
    expected = _phone_digits(dossier.applicant_phone)[-4:] if dossier is not None else "----"
    if dossier is None or len(expected) != 4 or not hmac.compare_digest(expected, last4):
        throttle.hit(LOOKUP_WRONG_DAY_SCOPE, address, day_limit, day_window)
        return None
    return dossier


# What the status page and the lookup's answer read of a dossier; any other field is read when
# first used (a deferred field).
LOOKUP_FIELDS = frozenset({
    "id", "code", "procedure_id", "channel", "state", "applicant_name", "applicant_phone", "submitted_at",
    "received_at", "due_at", "extended_due_at", "completed_at", "returned_at", "current_step_id", "fee_amount",
    "fee_paid_at", "delivery",
})


def _read_for_lookup(codes, *, clear: tuple[str, str, str] | None = None) -> Dossier | None:
    """The dossier with one of ``codes`` (not a draft, not withdrawn), with its procedure's and
    current step's names and its public events, in one statement written out once: compiling
    the equivalent queryset cost the lookup about 2 ms of CPU, more than PostgreSQL's work.
    Exact matches use the unique index on the code.

    ``clear`` (scope, key, last four digits): the same statement clears that throttle count when
    the dossier's phone ends with those digits (the phone's digits compared as ``lookup`` does:
    every character but 0–9 dropped, the last four), a round trip less for a right lookup. The
    answer is still ``lookup``'s own comparison."""
    from core import throttle
    from onestop.models import DossierEvent, Procedure, ProcedureStep

    fields = [f for f in Dossier._meta.concrete_fields if f.attname in LOOKUP_FIELDS]
    columns = ", ".join(f"d.{connection.ops.quote_name(f.column)}" for f in fields)
    dossiers, procedures = Dossier._meta.db_table, Procedure._meta.db_table
    steps, events = ProcedureStep._meta.db_table, DossierEvent._meta.db_table
    phone = connection.ops.quote_name(Dossier._meta.get_field("applicant_phone").column)
    sql = (
        f"SELECT {columns}, p.name AS procedure_name, s.name AS step_name, ("
        f" SELECT COALESCE(json_agg(json_build_object('kind', e.kind, 'at', e.at, 'step', COALESCE(ts.name, fs.name))"
        f" ORDER BY e.at, e.id), '[]') FROM {events} e"
        f" LEFT JOIN {steps} ts ON ts.id = e.to_step_id LEFT JOIN {steps} fs ON fs.id = e.from_step_id"
        f" WHERE e.dossier_id = d.id AND e.public AND e.kind IN %s) AS public_events"
        f" FROM {dossiers} d JOIN {procedures} p ON p.id = d.procedure_id"
        f" LEFT JOIN {steps} s ON s.id = d.current_step_id"
        f" WHERE d.code IN %s AND d.state NOT IN %s ORDER BY d.id LIMIT 1"
    )
    params = [tuple(str(k) for k in PUBLIC_EVENT_KINDS), tuple(sorted(codes)),
              (DossierState.DRAFT.value, DossierState.WITHDRAWN.value)]
    if clear is not None:
        scope, key, last4 = clear
        delete, delete_params = throttle.clearing(scope, key)
        sql = throttle.unsynced(
            f"WITH found AS ({sql}), cleared AS ({delete} AND EXISTS (SELECT 1 FROM found"
            f" WHERE right(regexp_replace(found.{phone}, '[^0-9]', '', 'g'), 4) = %s)) SELECT * FROM found"
        )
        params += [*delete_params, str(last4)]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is None:
        return None
    values = list(row[:len(fields)])
    procedure_name, step_name, public_events = row[len(fields):]
    dossier = Dossier.from_db(connection.alias, [f.attname for f in fields], values)
    dossier.procedure = Procedure.from_db(connection.alias, ["id", "name"], [dossier.procedure_id, procedure_name])
    if dossier.current_step_id is not None:
        dossier.current_step = ProcedureStep.from_db(connection.alias, ["id", "name"],
                                                     [dossier.current_step_id, step_name])
    dossier.public_events = public_events if isinstance(public_events, list) else json.loads(public_events or "[]")
    return dossier


def public_timeline(dossier) -> list[dict]:
    """What the status page shows: each public event with its date and the step's name, and
    no official's name. [{"kind", "label", "step", "at"}], oldest first."""
    fetched = getattr(dossier, "public_events", None)
    if fetched is not None:  # read with the dossier (``lookup``)
        return [{
            "kind": row["kind"],
            "label": str(EventKind(row["kind"]).label),
            "step": row["step"] or "",
            "at": datetime.datetime.fromisoformat(row["at"]),
        } for row in fetched]
    rows = []
    events = dossier.events.filter(public=True, kind__in=PUBLIC_EVENT_KINDS).select_related("from_step", "to_step")
    for event in events.order_by("at", "pk"):
        step = event.to_step or event.from_step
        rows.append({
            "kind": event.kind,
            "label": str(EventKind(event.kind).label),
            "step": step.name if step is not None else "",
            "at": event.at,
        })
    return rows


def public_status(dossier) -> dict:
    """The status page's summary of a dossier (no personal data beyond the masked name)."""
    return {
        "code": dossier.code,
        "procedure": dossier.procedure.name,
        "state": dossier.state,
        "state_label": str(DossierState(dossier.state).label),
        "received_at": dossier.received_at,
        "due_at": dossier.due_at,
        "extended_due_at": dossier.extended_due_at,
        "completed_at": dossier.completed_at,
        "returned_at": dossier.returned_at,
        "current_step": dossier.current_step.name if dossier.current_step_id and dossier.state in OPEN_STATES else "",
        "applicant": mask_name(dossier.applicant_name),
        "fee_amount": dossier.fee_amount,
        "fee_paid": bool(dossier.fee_paid_at) or not dossier.fee_amount,
        "timeline": public_timeline(dossier),
    }


def mask_name(name: str) -> str:
    """'Hoàng Văn Nam' → 'H*** V** Nam': enough for the applicant to recognise, little for others."""
    words = str(name or "").split()
    if len(words) <= 1:
        return words[0][:1] + "***" if words else ""
    return " ".join([w[:1] + "*" * max(len(w) - 1, 1) for w in words[:-1]] + [words[-1]])


# --- officials ---------------------------------------------------------------------------------

def staff_dossiers(user=None):
    """Every dossier an official of the commune may read (citizens' unsent drafts are not there)."""
    return (
        Dossier.objects.exclude(state__in=[DossierState.DRAFT, DossierState.WITHDRAWN], code__isnull=True)
        .select_related("procedure", "procedure__sector", "current_step")
    )


def overdue(now: datetime.datetime | None = None):
    """Dossiers in processing past their appointment (the clock is stopped during a supplement)."""
    now = now or timezone.now()
    return staff_dossiers().filter(state__in=[DossierState.RECEIVED, DossierState.IN_PROGRESS], due_at__lt=now) \
        .order_by("due_at")


def due_soon(now: datetime.datetime | None = None, working_days: int = 1):
    """Dossiers in processing due before the end of the next ``working_days`` working day(s)."""
    from workcalendar.services import due_at

    now = now or timezone.now()
    limit = due_at(now, working_days=working_days)
    return staff_dossiers().filter(
        state__in=[DossierState.RECEIVED, DossierState.IN_PROGRESS], due_at__gte=now, due_at__lte=limit,
    ).order_by("due_at")


def my_steps(user):
    """Dossiers whose current step is the user's: handed to them, or to anyone with their role."""
    roles = permissions.user_roles(user)
    step_roles = set(roles)
    if roles & permissions.LEADERS:
        step_roles.add(permissions.LEADER_STEP_ROLE)
    return staff_dossiers().filter(
        state__in=[DossierState.RECEIVED, DossierState.IN_PROGRESS],
    ).filter(
        Q(current_handler_id=user.pk) | Q(current_handler_id__isnull=True, current_step__role__in=step_roles)
    ).order_by("due_at")


def worklist(user) -> dict:
    """The home page of the desk for ``user``: querysets by kind of work (only the ones their
    roles make sense of)."""
    roles = permissions.user_roles(user)
    lists = {"my_steps": my_steps(user)}
    if permissions.OFFICER in roles:
        lists["online_queue"] = staff_dossiers().filter(state=DossierState.SUBMITTED).order_by("submitted_at")
        lists["supplements"] = staff_dossiers().filter(state=DossierState.SUPPLEMENT).order_by("updated_at")
        lists["to_return"] = staff_dossiers().filter(state=DossierState.RESULT_READY).order_by("completed_at")
    if permissions.SPECIALIST in roles:
        lists.setdefault("supplements", staff_dossiers().filter(state=DossierState.SUPPLEMENT).order_by("updated_at"))
    if roles & permissions.LEADERS:
        lists["to_sign"] = staff_dossiers().filter(
            state=DossierState.IN_PROGRESS, current_step__kind__in=[StepKind.SIGN, StepKind.APPROVE], leader_signed_pdf="",
        ).filter(Q(current_handler_id=user.pk) | Q(current_handler_id__isnull=True)).order_by("due_at")
    if permissions.CLERK in roles:
        lists["to_seal"] = staff_dossiers().filter(state=DossierState.IN_PROGRESS, signed_result="") \
            .exclude(leader_signed_pdf="").order_by("due_at")
    if roles & (permissions.STAFF_ROLES - {permissions.CLERK}):
        lists["overdue"] = overdue()
        lists["due_soon"] = due_soon()
    return lists


# --- citizens ----------------------------------------------------------------------------------

def citizen_dossiers(user):
    """The citizen's own dossiers, newest first."""
    if not getattr(user, "is_authenticated", False):
        return Dossier.objects.none()
    return Dossier.objects.filter(citizen_id=user.pk).select_related("procedure", "current_step") \
        .order_by("-created_at")


def result_available(dossier) -> bool:
    return dossier.state in DONE_STATES and bool(dossier.signed_result)


def expected_due(dossier) -> datetime.datetime | None:
    """The appointment the citizen can expect: the dossier's own once received (or moved by
    form 4); for a dossier sent online and not yet received, the appointment it would get if
    the desk received it when it was sent (``deadlines.appointment``: a moment of a working day,
    after the procedure's working time and its cut-off hour). None otherwise (a draft, a dossier
    sent back to be completed, withdrawn or refused)."""
    if dossier.extended_due_at or dossier.due_at:
        return dossier.extended_due_at or dossier.due_at
    if dossier.submitted_at is None or dossier.state != DossierState.SUBMITTED:
        return None
    from onestop import deadlines

    return deadlines.appointment(dossier.procedure, dossier.submitted_at)
