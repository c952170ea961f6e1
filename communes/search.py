"""Finding a commune by name on the national home page, with or without accents.

"tu le" finds Tú Lệ, "yen" finds Yên Hòa and Yên Thọ, "hoa" finds Yên Hòa: every word typed must
begin a word of the commune's name (in any order), compared without diacritics (``core.text.fold``).
The search covers the official list (``AdministrativeUnit``, about 3,300 communes) and the
communes that run a portal here (``Commune``, whose name may differ from the official one); a
commune with a portal links to it.

The official list changes only when it is loaded again, so its folded names are kept in memory
for ``CACHE_SECONDS``; so are the portals, read again as soon as a portal or a host is added or
removed (one small query at each search tells), or after ``CACHE_SECONDS`` (a renamed portal).
``bench/commune_search.py`` measures it with a portal for every commune of the country.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from core.text import fold, vi_sort_key

CACHE_SECONDS = 300
MAX_QUERY_LENGTH = 100
LIMIT = 50


@dataclass(frozen=True)
class Unit:
    code: str
    name: str
    kind: str
    province_code: str
    words: tuple[str, ...]
    text: str  # " " + the folded words, for the quick refusal


@dataclass(frozen=True)
class Portal:
    code: str
    name: str
    kind: str
    unit_name: str
    words: tuple[str, ...]
    host: str
    text: str


@dataclass
class Result:
    code: str
    name: str
    kind: str
    province_name: str
    host: str = ""  # the portal's host, when the commune has one
    official_name: str = ""  # the official name, when the portal's name differs


_cache: dict = {}
_lock = threading.Lock()


def _official() -> tuple[list[Unit], dict[str, str]]:
    """The official communes (folded) and the names of the provinces, from memory when fresh."""
    from communes.models import AdministrativeUnit

    now = time.monotonic()
    with _lock:
        cached = _cache.get("official")
        if cached and now - cached[0] < CACHE_SECONDS:
            return cached[1], cached[2]
    units, provinces = [], {}
    for code, name, kind, level, province_code in AdministrativeUnit.objects.values_list(
            "code", "name", "kind", "level", "province_code"):
        if level == "province":
            provinces[code] = name
        else:
            words = tuple(fold(name).split())
            units.append(Unit(code, name, kind, province_code, words, " " + " ".join(words)))
    with _lock:
        _cache["official"] = (now, units, provinces)
    return units, provinces


def clear_cache() -> None:
    with _lock:
        _cache.clear()


def _matches(terms: list[str], words: tuple[str, ...]) -> bool:
    """Each term begins a word of its own."""
    remaining = list(words)
    for term in terms:
        for index, word in enumerate(remaining):
            if word.startswith(term):
                del remaining[index]
                break
        else:
            return False
    return True


def _rank(terms: list[str], words: tuple[str, ...]) -> int:
    """0: the whole name typed; 1: the name begins with what was typed; 2: the rest."""
    typed = " ".join(terms)
    name = " ".join(words)
    if name == typed:
        return 0
    return 1 if name.startswith(typed) else 2


def terms_of(query: str) -> list[str]:
    return fold((query or "")[:MAX_QUERY_LENGTH]).replace("-", " ").split()


def _signature() -> tuple:
    """Changes when a portal or a host is added or removed (one query)."""
    from django.db import connection

    from communes.models import Commune, Domain

    communes, domains = Commune._meta.db_table, Domain._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT (SELECT count(*) FROM {communes}), (SELECT max(id) FROM {communes}),"
            f" (SELECT count(*) FROM {domains}), (SELECT max(id) FROM {domains})"
        )
        return tuple(cursor.fetchone())


def _portals() -> dict[str, Portal]:
    """The communes with a portal here, by code (folded names and hosts), from memory while no
    portal or host was added or removed and for at most ``CACHE_SECONDS``."""
    from communes.models import Commune, Domain

    now = time.monotonic()
    signature = _signature()
    with _lock:
        cached = _cache.get("portals")
        if cached and cached[1] == signature and now - cached[0] < CACHE_SECONDS:
            return cached[2]
    hosts: dict[int, str] = {}
    for tenant_id, domain in Domain.objects.order_by("tenant_id", "-is_primary", "pk").values_list("tenant_id", "domain"):
        hosts.setdefault(tenant_id, domain)
    portals = {}
    for pk, code, name, kind, unit_name in Commune.objects.exclude(schema_name="public").values_list(
            "pk", "code", "name", "kind", "supervising_unit__name"):
        words = tuple(fold(name).split())
        portals[code] = Portal(code, name, kind, unit_name or "", words, hosts.get(pk, ""), " " + " ".join(words))
    with _lock:
        _cache["portals"] = (now, signature, portals)
    return portals


def search(query: str, *, limit: int = LIMIT) -> tuple[list[Result], int]:
    """The communes whose name matches ``query`` (see the module's text), best first, at most
    ``limit``, and how many matched in all."""
    terms = terms_of(query)
    if not terms:
        return [], 0
    units, provinces = _official()
    portals = _portals()
    # The quick refusal of almost every name: the longest term must begin one of its words.
    key = " " + max(terms, key=len)
    found: dict[str, tuple[int, Result]] = {}
    for unit in [unit for unit in units if key in unit.text]:
        if _matches(terms, unit.words):
            rank = _rank(terms, unit.words)
            result = Result(code=unit.code, name=unit.name, kind=unit.kind,
                            province_name=provinces.get(unit.province_code, ""))
            portal = portals.get(unit.code)
            if portal is not None:
                result.host = portal.host
                if portal.name != unit.name:
                    result.official_name, result.name = unit.name, portal.name
                    if _matches(terms, portal.words):
                        rank = min(rank, _rank(terms, portal.words))
            found[unit.code] = (rank, result)
    for portal in [portal for portal in portals.values() if key in portal.text]:
        code = portal.code
        if code in found or not _matches(terms, portal.words):
            continue
        unit = next((u for u in units if u.code == code), None)
        result = Result(code=code, name=portal.name, kind=portal.kind, host=portal.host,
                        province_name=provinces.get(unit.province_code, "") if unit else portal.unit_name,
                        official_name=unit.name if unit and unit.name != portal.name else "")
        found[code] = (_rank(terms, portal.words), result)
    ordered = sorted(found.values(), key=lambda item: (item[0], not item[1].host, vi_sort_key(item[1].name),
                                                         vi_sort_key(item[1].province_name), item[1].code))
    return [result for _rank_value, result in ordered[:limit]], len(ordered)
