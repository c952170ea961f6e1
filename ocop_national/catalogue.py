"""Reading the national catalogue: the filters that the page and the API share, and the stars a
row shows on a day.

Everything is read from ``CatalogueProduct`` (public schema) in one query per page (plus its
count): no commune's schema is visited. The search folds what was typed (lower case, no accents:
"Gạo Nếp" and "gao nep" are the same) and keeps the rows whose folded text has every word typed
at the beginning of one of its words ("mat ong" finds "mật ong hoa nhãn"; "ong" alone does not
find "bông"), answered by the GIN index of ``search_vector`` without reading every row.

Filters (query parameters of both the page and the API): ``q`` (words), ``group`` (an OCOP
group's code, ``1`` to ``6``), ``stars`` (3, 4 or 5: the stars shown today), ``price_min`` and
``price_max`` (đồng; "120.000" reads as 120000), ``province`` (2 digits), ``commune`` (5 digits),
``village`` (a village's name, with ``commune``), ``in_stock`` (``1``). A bad value is refused
with a message per parameter (the page shows it beside the field and keeps what was typed; the
API answers 400 with the error body).
"""
from __future__ import annotations

import datetime
import re
from dataclasses import dataclass, field

from django.db.models import BooleanField, Case, Count, IntegerField, Max, Q, QuerySet, Value, When
from django.db.models.expressions import RawSQL
from django.utils import timezone
from django.utils.translation import gettext as _

from core.text import clean_text, fold
from ocop_national.models import CatalogueProduct, StockState

MAX_QUERY_LENGTH = 100
MAX_WORDS = 8
MAX_PRICE = 1_000_000_000
STAR_CHOICES = (3, 4, 5)
_GROUP = re.compile(r"^[0-9A-Za-z.]{1,20}$")
_PROVINCE = re.compile(r"^\d{2}$")
_COMMUNE = re.compile(r"^\d{5}$")
_NOT_WORD = re.compile(r"[^0-9a-z]+")


@dataclass
class Filters:
    q: str = ""
    words: list[str] = field(default_factory=list)
    group: str = ""
    stars: int | None = None
    price_min: int | None = None
    price_max: int | None = None
    province: str = ""
    commune: str = ""
    village: str = ""
    in_stock: bool = False
    # Resolved while reading: the supervising units of the province, the commune's id.
    province_units: set = field(default_factory=set)
    commune_id: int | None = None
    # What was typed, as it was typed (the page shows it back beside an error).
    raw: dict = field(default_factory=dict)

    @property
    def active(self) -> bool:
        return bool(self.words or self.group or self.stars or self.price_min is not None
                    or self.price_max is not None or self.province or self.commune or self.village or self.in_stock)


def read_price(text: str) -> int | None:
    """'120.000', '120 000' or '120000' → 120000; None for an empty value; ValueError otherwise."""
    digits = str(text or "").strip().replace(".", "").replace(" ", "").replace("\u00a0", "").replace(",", "")
    if digits.endswith("đ") or digits.endswith("d"):
        digits = digits[:-1]
    if not digits:
        return None
    if not digits.isascii() or not digits.isdigit() or len(digits) > 12:
        raise ValueError(text)
    value = int(digits)
    if value > MAX_PRICE:
        raise ValueError(text)
    return value


def parse(params) -> tuple[Filters, dict[str, list[str]]]:
    """The filters of a query string (a QueryDict or a dict), and the errors per parameter."""
    def get(name: str) -> str:
        value = params.get(name, "")
        return clean_text(value)[:200] if isinstance(value, str) else ""

    filters, errors = Filters(), {}
    filters.raw = {name: get(name) for name in ("q", "group", "stars", "price_min", "price_max", "province",
                                                 "commune", "village", "in_stock")}
    q = filters.raw["q"]
    if len(q) > MAX_QUERY_LENGTH:
        errors["q"] = [_("Type at most %(max)d characters.") % {"max": MAX_QUERY_LENGTH}]
    else:
        filters.q = q
        filters.words = fold(q).replace("-", " ").split()[:MAX_WORDS]
    group = filters.raw["group"]
    if group:
        if _GROUP.match(group):
            filters.group = group
        else:
            errors["group"] = [_("Choose a product group from the list.")]
    stars = filters.raw["stars"]
    if stars:
        if stars in {str(n) for n in STAR_CHOICES}:
            filters.stars = int(stars)
        else:
            errors["stars"] = [_("Choose 3, 4 or 5 stars.")]
    for name in ("price_min", "price_max"):
        raw = filters.raw[name]
        try:
            setattr(filters, name, read_price(raw))
        except ValueError:
            errors[name] = [_("Enter a price in đồng as a whole number, e.g. 150.000.")]
    if filters.price_min is not None and filters.price_max is not None and filters.price_max < filters.price_min:
        errors["price_max"] = [_("The highest price is below the lowest price.")]
    province = filters.raw["province"]
    if province:
        units = province_unit_ids(province) if _PROVINCE.match(province) else set()
        if units:
            filters.province, filters.province_units = province, units
        else:
            errors["province"] = [_("Choose a province from the list.")]
    commune = filters.raw["commune"]
    if commune:
        from communes.models import Commune

        found = Commune.objects.filter(code=commune).values_list("pk", flat=True).first() if _COMMUNE.match(commune) else None
        if found is not None:
            filters.commune, filters.commune_id = commune, found
        else:
            errors["commune"] = [_("No commune on Xã Số has the code %(code)s.") % {"code": commune[:20]}]
    village = filters.raw["village"]
    if village:
        if len(village) > 100:
            errors["village"] = [_("Type at most %(max)d characters.") % {"max": 100}]
        else:
            filters.village = village
    in_stock = filters.raw["in_stock"]
    if in_stock:
        if in_stock in ("1", "true", "on"):
            filters.in_stock = True
        elif in_stock not in ("0", "false", "off"):
            errors["in_stock"] = [_("Use 1 to see only the products in stock.")]
    return filters, errors


def province_unit_ids(code: str) -> set[int]:
    """The supervising units of a province (the province and its districts below it), in one
    query; empty if there is no such province."""
    from communes.models import SupervisingUnit

    province = SupervisingUnit.Kind.PROVINCE
    return set(SupervisingUnit.objects.filter(Q(code=code, kind=province) | Q(parent__code=code, parent__kind=province))
               .values_list("pk", flat=True))


# --- stars on a day ----------------------------------------------------------------------------

def stars_expression(today: datetime.date):
    """The stars a row shows on ``today``, as an SQL expression (for ordering and lists)."""
    return Case(
        When(stars5_until__gt=today, then=Value(5)), When(stars4_until__gt=today, then=Value(4)),
        When(stars3_until__gt=today, then=Value(3)), default=Value(0), output_field=IntegerField(),
    )


def stars_filter(stars: int, today: datetime.date) -> Q:
    """Rows that show exactly ``stars`` stars on ``today``."""
    holds = Q(**{f"stars{stars}_until__gt": today})
    for higher in range(stars + 1, 6):
        holds &= Q(**{f"stars{higher}_until__isnull": True}) | Q(**{f"stars{higher}_until__lte": today})
    return holds


@dataclass(frozen=True)
class Stars:
    """What a row shows on a day: its stars and until when, or why none (the end of its last
    certificate, when it expired)."""

    stars: int
    until: datetime.date | None = None
    expired_on: datetime.date | None = None


def stars_on(row: CatalogueProduct, today: datetime.date | None = None) -> Stars:
    today = today or timezone.localdate()
    for stars in (5, 4, 3):
        until = getattr(row, f"stars{stars}_until")
        if until is not None and until > today:
            return Stars(stars, until)
    return Stars(0, expired_on=row.stars3_until)


# --- the query ---------------------------------------------------------------------------------

def products(filters: Filters, today: datetime.date | None = None) -> QuerySet[CatalogueProduct]:
    """The rows that pass ``filters``, each with ``stars_today``, by name (the name index serves a
    page of the whole catalogue)."""
    today = today or timezone.localdate()
    rows = CatalogueProduct.objects.all()
    query = tsquery(filters.words)
    if query:
        rows = rows.filter(RawSQL("search_vector @@ to_tsquery('simple'::regconfig, %s)", [query],
                                  output_field=BooleanField()))
    if filters.group:
        rows = rows.filter(Q(group_code=filters.group) | Q(subgroup_code=filters.group))
    if filters.stars:
        rows = rows.filter(stars_filter(filters.stars, today))
    if filters.price_min is not None:
        rows = rows.filter(price__gte=filters.price_min)
    if filters.price_max is not None:
        rows = rows.filter(price__lte=filters.price_max)
    if filters.province:
        from communes.models import Commune

        rows = rows.filter(commune_id__in=Commune.objects.filter(supervising_unit_id__in=filters.province_units)
                           .values("pk"))
    if filters.commune_id is not None:
        rows = rows.filter(commune_id=filters.commune_id)
    if filters.village:
        rows = rows.filter(village__iexact=filters.village)
    if filters.in_stock:
        rows = rows.filter(stock_state=StockState.IN_STOCK)
    return rows.annotate(stars_today=stars_expression(today)).select_related("commune").order_by("name", "pk")


def tsquery(words: list[str]) -> str:
    """'mat:* & ong:*' for the words typed (folded): each must begin a word of the row. Only
    letters and digits reach the query (a word is split where anything else stands)."""
    terms = []
    for word in words:
        terms.extend(part for part in _NOT_WORD.split(word) if part)
    return " & ".join(f"{term}:*" for term in terms[:MAX_WORDS])


# --- what the pages keep ------------------------------------------------------------------------

VERSION_KEY = "ocop:national:version"


def rows_changed() -> None:
    """The writer changed rows: the pages drawn before its commit are not shown after it."""
    from ocop_national import kept

    kept.changed(VERSION_KEY)


def kept(part: str, today: datetime.date, make):
    """``make()`` kept (``ocop_national.kept``) under the published rows' version (a writer that
    changes rows draws a new one), the day (the stars of the day), the language and ``part``."""
    from django.utils.translation import get_language

    from ocop_national import kept as keeping

    return keeping.kept(VERSION_KEY, f"ocop:national:{today.isoformat()}:{get_language()}:{part}", make)


def query_digest(pairs) -> str:
    import hashlib

    return hashlib.sha256(repr(sorted(pairs)).encode()).hexdigest()[:32]


# --- what the filters offer --------------------------------------------------------------------

def facets() -> dict:
    """The groups and provinces that have published products (the page keeps them per version):
    {"groups": [(code, name, count)], "provinces": [(code, name)]}."""
    from communes.models import SupervisingUnit
    from core.text import vi_sort_key

    groups = [(row["group_code"], row["name"], row["n"]) for row in CatalogueProduct.objects.exclude(group_code="")
              .values("group_code").annotate(name=Max("group_name"), n=Count("pk")).order_by("group_code")]
    unit_ids = set(CatalogueProduct.objects.values_list("commune__supervising_unit_id", flat=True).distinct())
    units = {unit.pk: unit for unit in SupervisingUnit.objects.all()}
    province_codes = set()
    for unit_id in unit_ids:
        unit = units.get(unit_id)
        while unit is not None and unit.kind != SupervisingUnit.Kind.PROVINCE:
            unit = units.get(unit.parent_id)
        if unit is not None:
            province_codes.add(unit.code)
    provinces = sorted(((u.code, u.name) for u in units.values() if u.code in province_codes
                        and u.kind == SupervisingUnit.Kind.PROVINCE), key=lambda pair: vi_sort_key(pair[1]))
    return {"groups": groups, "provinces": provinces}


def communes_of(filters: Filters) -> list[tuple[str, str]]:
    """The communes with published products, in the chosen province (all without one):
    [(code, name)], for the commune filter."""
    from communes.models import Commune
    from core.text import vi_sort_key

    communes = Commune.objects.filter(pk__in=CatalogueProduct.objects.values("commune_id"))
    if filters.province:
        communes = communes.filter(supervising_unit_id__in=filters.province_units)
    return sorted(((c.code, str(c)) for c in communes), key=lambda pair: vi_sort_key(pair[1]))


def villages_of(commune_id: int) -> list[str]:
    from core.text import vi_sort_key

    names = (CatalogueProduct.objects.filter(commune_id=commune_id).exclude(village="")
             .values_list("village", flat=True).distinct())
    return sorted(names, key=vi_sort_key)
