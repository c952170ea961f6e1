"""Numbers and symbols of documents (số, ký hiệu) and the yearly sequences they are drawn from.

Formats (Decree 30/2020/NĐ-CP, Appendix I):

* a type with an abbreviation: ``Số: 05/QĐ-UBND`` (number / type abbreviation - agency);
* an official letter (công văn): ``Số: 35/UBND-VP`` (number / agency - drafting unit), with
  the subject on a ``V/v …`` line under it;
* numbers below 10 take a leading zero; no spaces around ``/``; groups joined by ``-``;
* a secret document draws from a sequence of its own, so its symbol ends with the policy's
  mark (``Số: 02/BC-UBND-M``): a number and symbol is unique in the year across the ordinary
  register and the register of secret documents.

Sequences restart on 1 January; the year is the one of the issuing date in Asia/Ho_Chi_Minh.
``draw`` takes the next number of one sequence inside the caller's transaction, holding the
sequence row's lock until that transaction ends: concurrent callers queue, none skips or
repeats a number, and a number drawn in a committed transaction is never given back.
"""
from __future__ import annotations

import datetime

from django.db import connection
from django.db.models import F
from django.utils import timezone

from documents.models import TZ, DocumentType, NumberingPolicy, NumberSequence

SHARED = "shared"
SECRET = "secret"
COPY = "copy"
INCOMING = "incoming"


def local_today() -> datetime.date:
    return timezone.now().astimezone(TZ).date()


def local_date(moment: datetime.datetime) -> datetime.date:
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment, TZ)
    return moment.astimezone(TZ).date()


def format_number(number: int) -> str:
    """'05' for 5, '35' for 35, '120' for 120."""
    return f"{int(number):02d}"


def symbol(doc_type: DocumentType, agency_symbol: str, drafting_unit: str = "", secret_mark: str = "") -> str:
    """The symbol after the '/': 'QĐ-UBND', for an official letter 'UBND-VP'; a secret
    document's ends with the mark: 'BC-UBND-M'."""
    if doc_type.is_official_letter or not doc_type.abbreviation:
        groups = [agency_symbol, drafting_unit]
    else:
        groups = [doc_type.abbreviation, agency_symbol]
    return "-".join(part for part in (*groups, secret_mark) if part)


def number_symbol(number: int, doc_type: DocumentType, agency_symbol: str, drafting_unit: str = "",
                  secret_mark: str = "") -> str:
    """'05/QĐ-UBND', '35/UBND-VP', or for a secret document '02/BC-UBND-M'."""
    return f"{format_number(number)}/{symbol(doc_type, agency_symbol, drafting_unit, secret_mark)}"


def number_line(number_symbol_text: str) -> str:
    """The line printed (or filled into the number field): 'Số: 05/QĐ-UBND'."""
    return f"Số: {number_symbol_text}"


def subject_line(subject: str) -> str:
    """The official letter's subject line: 'V/v tổ chức Tết Trồng cây'."""
    return f"V/v {subject}"


def date_line(place: str, day: datetime.date) -> str:
    """'Tú Lệ, ngày 05 tháng 02 năm 2026': a leading zero for days below 10 and for months 1 and 2."""
    month = f"{day.month:02d}" if day.month < 3 else str(day.month)
    return f"{place}, ngày {day.day:02d} tháng {month} năm {day.year}"


def get_policy() -> NumberingPolicy:
    """The commune's policy row, created with defaults from the commune on first use."""
    policy = NumberingPolicy.objects.filter(singleton=1).first()
    if policy is not None:
        return policy
    NumberingPolicy.objects.bulk_create([NumberingPolicy(singleton=1)], ignore_conflicts=True)
    return NumberingPolicy.objects.get(singleton=1)


def commune_names() -> tuple[str, str]:
    """(agency name for the letterhead, place name) from the current commune."""
    tenant = getattr(connection, "tenant", None)
    name = getattr(tenant, "name", "") or ""
    kind = getattr(tenant, "kind", "xã") or "xã"
    agency = f"ỦY BAN NHÂN DÂN\n{kind} {name}".upper() if name else "ỦY BAN NHÂN DÂN"
    return agency, name


def agency_name(policy: NumberingPolicy) -> str:
    return policy.agency_name.strip() or commune_names()[0]


def place_name(policy: NumberingPolicy) -> str:
    return policy.place_name.strip() or commune_names()[1]


def sequence_key(doc_type: DocumentType, *, secret: bool, policy: NumberingPolicy) -> str:
    """Which sequence an outgoing document draws from."""
    if secret:
        return SECRET
    if doc_type.is_copy:
        return COPY
    if policy.mode == NumberingPolicy.Mode.PER_TYPE:
        return f"type:{doc_type.code}"
    return SHARED


def draw(year: int, key: str) -> int:
    """The next number of sequence (year, key). Must run inside the caller's transaction."""
    if not connection.in_atomic_block:
        raise RuntimeError("Numbers are drawn inside the transaction that records them.")
    # Create the row if it is the first number of the year (ON CONFLICT DO NOTHING: a
    # concurrent creator wins and we wait for it), then lock it until our transaction ends.
    NumberSequence.objects.bulk_create([NumberSequence(year=year, key=key)], ignore_conflicts=True)
    sequence = NumberSequence.objects.select_for_update().get(year=year, key=key)
    NumberSequence.objects.filter(pk=sequence.pk).update(last_number=F("last_number") + 1)
    return sequence.last_number + 1


def peek(year: int, key: str) -> int:
    """The number the next document of this sequence would get (for display only)."""
    last = NumberSequence.objects.filter(year=year, key=key).values_list("last_number", flat=True).first()
    return (last or 0) + 1
