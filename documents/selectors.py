"""Reads on documents: lists with filters, deadlines, registers, notices, exchange views."""
from __future__ import annotations

import datetime
import re

from django.db.models import Q, QuerySet
from django.utils import timezone

from documents import permissions
from documents.models import (
    OPEN_INCOMING_STATES, Confidentiality, DocumentNotice, IncomingDocument, OutgoingDocument, OutgoingRecipient,
)
from documents.text import search_words
from workcalendar.services import day_bounds

MAX_QUERY_LENGTH = 100
_NUMBER = re.compile(r"^[0-9]{1,6}$")


def _search(queryset: QuerySet, q: str, number_field: str) -> QuerySet:
    """Accent-insensitive: every word of the query in the folded text; a bare number finds the
    document with that number (or the number as a word of its text)."""
    q = (q or "").replace("\x00", "").strip()[:MAX_QUERY_LENGTH]
    if not q:
        return queryset
    if _NUMBER.match(q):  # a number: that document, or the number as a whole word of the text
        return queryset.filter(Q(**{number_field: int(q)}) | Q(search_text__regex=rf"\y{q}\y"))
    match = Q()
    for word in search_words(q):
        match &= Q(search_text__contains=word)
    return queryset.filter(match)


def overdue(*, at: datetime.datetime | None = None) -> QuerySet[IncomingDocument]:
    at = at or timezone.now()
    return IncomingDocument.objects.filter(state__in=OPEN_INCOMING_STATES, deadline__lt=at).order_by("deadline", "pk")


def due_soon(*, days: int, at: datetime.datetime | None = None) -> QuerySet[IncomingDocument]:
    at = at or timezone.now()
    return IncomingDocument.objects.filter(
        state__in=OPEN_INCOMING_STATES, deadline__gte=at, deadline__lte=at + datetime.timedelta(days=days),
    ).order_by("deadline", "pk")


def incoming_documents(user, *, q: str = "", state: str | None = None, date_from=None, date_to=None,
                       overdue_only: bool = False, due_soon_days: int | None = None, sender: str = "",
                       source: str | None = None) -> QuerySet[IncomingDocument]:
    queryset = permissions.incoming_visible_to(user, IncomingDocument.objects.select_related("doc_type"))
    if state:
        queryset = queryset.filter(state=state)
    if source:
        queryset = queryset.filter(source=source)
    start, end = day_bounds(date_from, date_to)
    if start:
        queryset = queryset.filter(arrived_at__gte=start)
    if end:
        queryset = queryset.filter(arrived_at__lt=end)
    if overdue_only:
        queryset = queryset.filter(pk__in=overdue().values("pk"))
    if due_soon_days is not None:
        queryset = queryset.filter(pk__in=due_soon(days=due_soon_days).values("pk"))
    for word in search_words(sender):
        queryset = queryset.filter(search_text__contains=word)
    return _search(queryset, q, "incoming_number").order_by("-arrived_at", "-pk")


def outgoing_documents(user, *, q: str = "", state: str | None = None, date_from=None, date_to=None,
                       doc_type_id: int | None = None) -> QuerySet[OutgoingDocument]:
    queryset = permissions.outgoing_visible_to(user, OutgoingDocument.objects.select_related("doc_type"))
    if state:
        queryset = queryset.filter(state=state)
    if doc_type_id:
        queryset = queryset.filter(doc_type_id=doc_type_id)
    if date_from:
        queryset = queryset.filter(issued_on__gte=date_from)
    if date_to:
        queryset = queryset.filter(issued_on__lte=date_to)
    return _search(queryset, q, "number").order_by("-created_at", "-pk")


def outgoing_register(date_from=None, date_to=None, *, secret: bool = False, q: str = "") -> QuerySet[OutgoingDocument]:
    """The outgoing register: numbered documents by date and number (withdrawn ones included,
    marked cancelled). Secret documents have a register of their own (``secret=True``)."""
    queryset = OutgoingDocument.objects.select_related("doc_type").filter(number__isnull=False)
    queryset = queryset.exclude(confidentiality=Confidentiality.NONE) if secret else queryset.filter(
        confidentiality=Confidentiality.NONE)
    if date_from:
        queryset = queryset.filter(issued_on__gte=date_from)
    if date_to:
        queryset = queryset.filter(issued_on__lte=date_to)
    return _search(queryset, q, "number").prefetch_related("electronic_recipients").order_by(
        "number_year", "issued_on", "number", "pk")


def incoming_register(date_from=None, date_to=None, *, secret: bool = False, q: str = "") -> QuerySet[IncomingDocument]:
    """The incoming register: registered documents by incoming number."""
    queryset = IncomingDocument.objects.select_related("doc_type").filter(incoming_number__isnull=False)
    queryset = queryset.exclude(confidentiality=Confidentiality.NONE) if secret else queryset.filter(
        confidentiality=Confidentiality.NONE)
    start, end = day_bounds(date_from, date_to)
    if start:
        queryset = queryset.filter(arrived_at__gte=start)
    if end:
        queryset = queryset.filter(arrived_at__lt=end)
    return _search(queryset, q, "incoming_number").order_by("incoming_year", "incoming_number", "pk")


def notices_for(user, *, unread_only: bool = False) -> QuerySet[DocumentNotice]:
    queryset = DocumentNotice.objects.filter(user_id=user.pk).select_related("document")
    if unread_only:
        queryset = queryset.filter(read_at__isnull=True)
    return queryset.order_by("-day", "-pk")


def sent_to_units(unit_codes) -> QuerySet[OutgoingRecipient]:
    """What this commune sent to the given supervising units (national API)."""
    return OutgoingRecipient.objects.filter(
        kind=OutgoingRecipient.Kind.UNIT, code__in=list(unit_codes),
        document__state__in=[OutgoingDocument.State.DISPATCHED, OutgoingDocument.State.FILED],
        document__confidentiality=Confidentiality.NONE,
    ).select_related("document", "document__doc_type").order_by("-pk")


def received_from_units(unit_codes) -> QuerySet[IncomingDocument]:
    """What the given units sent to this commune, with what became of it."""
    return IncomingDocument.objects.filter(
        exchange_sender_kind=OutgoingRecipient.Kind.UNIT, exchange_sender_code__in=list(unit_codes),
    ).order_by("-arrived_at", "-pk")
