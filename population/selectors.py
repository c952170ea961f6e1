"""Reads of the residents' registry."""
from __future__ import annotations

import re

from django.db.models import Count, Q, QuerySet

from population.models import Household, Resident, Village
from core.text import fold

MAX_QUERY_LENGTH = 100


def villages() -> QuerySet[Village]:
    return Village.objects.annotate(household_count=Count("households")).order_by("name")


def households(*, village=None, q: str = "") -> QuerySet[Household]:
    qs = Household.objects.select_related("village", "head").annotate(member_count=Count("members"))
    if village:
        qs = qs.filter(village=village)
    q = (q or "").replace("\x00", "").strip()[:MAX_QUERY_LENGTH]
    if q:
        folded = fold(q)
        qs = qs.filter(
            Q(code__icontains=q) | Q(address__icontains=q) | Q(head__search_name__contains=folded)
            | Q(address_code__iexact=q)
        )
    return qs.order_by("code")


def looks_like_number(q: str) -> bool:
    """Whether a search term carries an ID or phone number, or a good part of one (six digits
    or more, spaces and dots aside)."""
    return bool(re.search(r"[0-9]{6,}", re.sub(r"[\s.\-+]", "", q or "")))


def search_residents(qs: QuerySet[Resident], q: str, *, by_id: bool = True) -> QuerySet[Resident]:
    """Accent-insensitive name search: 'nguyen van an' finds 'Nguyễn Văn An'.

    Every word must appear in the folded name; a 12-digit query finds the resident with that ID
    number (``by_id``: only for readers who may see full numbers); otherwise a query that looks
    like a household code matches the household.
    """
    q = (q or "").replace("\x00", "").strip()[:MAX_QUERY_LENGTH]
    if not q:
        return qs
    if re.fullmatch(r"[0-9]{12}", q):
        return qs.filter(personal_id=q) if by_id else qs.none()
    words = fold(q).split()
    name_match = Q()
    for word in words:
        name_match &= Q(search_name__contains=word)
    return qs.filter(name_match | Q(household__code__iexact=q))


def residents(*, village=None, household=None, sex: str | None = None, q: str = "",
              birth_year_min: int | None = None, birth_year_max: int | None = None) -> QuerySet[Resident]:
    qs = Resident.objects.select_related("household", "household__village")
    if village:
        qs = qs.filter(household__village=village)
    if household:
        qs = qs.filter(household=household)
    if sex:
        qs = qs.filter(sex=sex)
    if birth_year_min is not None:
        qs = qs.filter(birth_date__year__gte=birth_year_min)
    if birth_year_max is not None:
        qs = qs.filter(birth_date__year__lte=birth_year_max)
    return search_residents(qs, q)


def residents_for_export(qs: QuerySet[Resident]) -> QuerySet[Resident]:
    """One household after another, the head first."""
    from django.db.models import Case, IntegerField, Value, When

    head_first = Case(When(relation="head", then=Value(0)), default=Value(1), output_field=IntegerField())
    return qs.select_related("household", "household__village").order_by("household__code", head_first, "birth_date", "pk")


def _names(parts: list[str], name: str) -> bool:
    """Whether one of the address's parts names ``name`` as whole words (case aside)."""
    pattern = re.compile(rf"(?<!\w){re.escape(name.casefold())}(?!\w)")
    return any(pattern.search(part.casefold()) for part in parts)


def postal_address(household: Household, commune=None) -> str:
    """The household's address as a paper prints it, naming its village and the commune once
    each: 'Số 5, đường bản, Bản Khe Căm, xã Tú Lệ'. The registry's addresses come in every shape
    (the village and the commune already written, the village alone, a house and a street, or
    nothing); what they lack is added, the village before the commune."""
    from communes.permissions import current_commune

    parts = [part.strip() for part in (household.address or "").split(",") if part.strip()]
    commune = commune if commune is not None else current_commune()
    commune_words = commune.name_in_sentence if commune is not None else ""
    village = household.village.name.strip() if household.village_id else ""
    if village and not _names(parts, village):
        at = next((i for i, part in enumerate(parts) if commune_words and _names([part], commune_words)), len(parts))
        parts.insert(at, village)
    if commune_words and not _names(parts, commune_words):
        parts.append(commune_words)
    return ", ".join(parts)
