"""Fees (phí, lệ phí) of a procedure, computed from its ``fee_rule``.

A rule is a small dict kept on ``Procedure.fee_rule`` (data, edited in the catalogue file):

* ``{"kind": "free"}``: no fee.
* ``{"kind": "fixed", "amount": 50000, "online_amount": 10000}``: one amount per dossier;
  ``online_amount`` (optional) when the dossier was submitted online.
* ``{"kind": "per_copy", "amount": 8000, "online_amount": …, "unit": "bản sao"}``: an amount for
  each copy (or case: ``unit`` names what is counted, as printed).
* ``{"kind": "per_page", "first_pages": 2, "first_page_amount": 2000, "next_page_amount": 1000,
  "cap": 200000}``: per copy, ``first_page_amount`` for each of the first ``first_pages`` pages,
  ``next_page_amount`` for each page after, at most ``cap`` a copy (0 or absent: no cap); times
  the number of copies. The certified copy of Circular 226/2016/TT-BTC: 2.000 đ a page for pages
  1–2, 1.000 đ a page after, at most 200.000 đ a copy.
* ``{"kind": "local", "amount": null}``: a fee the provincial People's Council sets; 0 until the
  commune enters the province's figure as ``amount``.

An exempt applicant (``exempt=True``: the procedure's ``exemptions``, e.g. a poor household for a
civil-status fee) pays nothing. Amounts are whole đồng.
"""
from __future__ import annotations

from django.utils.translation import gettext as _

FREE, FIXED, PER_COPY, PER_PAGE, LOCAL = "free", "fixed", "per_copy", "per_page", "local"
RULE_KINDS = (FREE, FIXED, PER_COPY, PER_PAGE, LOCAL)
_AMOUNT_KEYS = {
    FREE: (),
    FIXED: ("amount", "online_amount"),
    PER_COPY: ("amount", "online_amount"),
    PER_PAGE: ("first_page_amount", "next_page_amount", "cap"),
    LOCAL: ("amount",),
}
_ALLOWED_KEYS = {
    FREE: {"kind"},
    FIXED: {"kind", "amount", "online_amount"},
    PER_COPY: {"kind", "amount", "online_amount", "unit"},
    PER_PAGE: {"kind", "first_pages", "first_page_amount", "next_page_amount", "cap"},
    LOCAL: {"kind", "amount"},
}
_REQUIRED_KEYS = {
    FREE: set(),
    FIXED: {"amount"},
    PER_COPY: {"amount"},
    PER_PAGE: {"first_pages", "first_page_amount", "next_page_amount"},
    LOCAL: set(),
}


def _rule_of(procedure_or_rule) -> dict:
    if isinstance(procedure_or_rule, dict):
        return procedure_or_rule
    return getattr(procedure_or_rule, "fee_rule", None) or {}


def _is_amount(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def validate_rule(rule) -> list[str]:
    """The problems of a fee rule (empty when it is valid)."""
    if not isinstance(rule, dict):
        return ["the fee rule must be a mapping"]
    kind = rule.get("kind")
    if kind not in RULE_KINDS:
        return [f"unknown fee rule kind {kind!r} (expected one of {', '.join(RULE_KINDS)})"]
    problems = []
    unknown = set(rule) - _ALLOWED_KEYS[kind]
    if unknown:
        problems.append(f"unknown keys for a {kind} fee rule: {', '.join(sorted(unknown))}")
    missing = _REQUIRED_KEYS[kind] - set(rule)
    if missing:
        problems.append(f"missing keys for a {kind} fee rule: {', '.join(sorted(missing))}")
    for key in _AMOUNT_KEYS[kind]:
        value = rule.get(key)
        if value is None and key not in _REQUIRED_KEYS[kind]:
            continue
        if not _is_amount(value):
            problems.append(f"{key} must be a whole number of đồng, not {value!r}")
    if kind == PER_PAGE and not (_is_amount(rule.get("first_pages")) and rule.get("first_pages", 0) >= 1):
        problems.append("first_pages must be a whole number of at least 1")
    if kind == PER_COPY and "unit" in rule and not isinstance(rule["unit"], str):
        problems.append("unit must be text")
    return problems


def needs_pages(procedure_or_rule) -> bool:
    """True when the fee depends on the number of pages (ask for it at intake)."""
    return _rule_of(procedure_or_rule).get("kind") == PER_PAGE


def needs_copies(procedure_or_rule) -> bool:
    """True when the fee depends on the number of copies (or cases)."""
    return _rule_of(procedure_or_rule).get("kind") in (PER_PAGE, PER_COPY)


def _per_copy_of_pages(rule: dict, pages: int) -> int:
    first_pages = int(rule.get("first_pages") or 0)
    first = min(pages, first_pages) * int(rule.get("first_page_amount") or 0)
    after = max(0, pages - first_pages) * int(rule.get("next_page_amount") or 0)
    amount = first + after
    cap = int(rule.get("cap") or 0)
    return min(amount, cap) if cap else amount


def compute_fee(procedure, *, pages: int = 0, copies: int = 1, online: bool = False, exempt: bool = False) -> int:
    """The fee in đồng for a dossier of ``procedure`` (a Procedure or a fee rule dict).

    ``pages`` (of the original) and ``copies`` matter for per-page and per-copy rules; with no
    page, a per-page fee is 0 (the intake asks for the pages: see ``needs_pages``). Raises
    ``ValueError`` for a negative count or an invalid rule.
    """
    pages, copies = int(pages or 0), int(copies if copies is not None else 1)
    if pages < 0 or copies < 0:
        raise ValueError("The number of pages and copies must not be negative.")
    rule = _rule_of(procedure)
    if not rule:
        return 0
    problems = validate_rule(rule)
    if problems:
        raise ValueError("; ".join(problems))
    if exempt:
        return 0
    kind = rule["kind"]
    if kind == FREE:
        return 0
    if kind == LOCAL:
        return int(rule.get("amount") or 0)
    if kind in (FIXED, PER_COPY):
        amount = rule["amount"]
        if online and rule.get("online_amount") is not None:
            amount = rule["online_amount"]
        return int(amount) * (copies if kind == PER_COPY else 1)
    return _per_copy_of_pages(rule, pages) * copies  # PER_PAGE


def format_money(amount) -> str:
    """1234000 → '1.234.000 đ' (dots between thousands, a space before đ)."""
    if amount is None or amount == "":
        return ""
    value = int(round(float(amount))) if not isinstance(amount, int) else amount
    sign = "-" if value < 0 else ""
    return f"{sign}{abs(value):,}".replace(",", ".") + " đ"


def describe(procedure) -> str:
    """The rule in words, e.g. '2.000 đ a page for pages 1–2, 1.000 đ a page after, at most
    200.000 đ a copy' (translated)."""
    rule = _rule_of(procedure)
    kind = rule.get("kind")
    if not rule or kind == FREE:
        return _("Free of charge")
    if validate_rule(rule):
        return _("See the published fee")
    if kind == FIXED:
        if rule.get("online_amount") is not None:
            return _("%(amount)s per dossier (%(online)s when submitted online)") % {
                "amount": format_money(rule["amount"]), "online": format_money(rule["online_amount"]),
            }
        return _("%(amount)s per dossier") % {"amount": format_money(rule["amount"])}
    if kind == PER_COPY:
        unit = rule.get("unit") or _("copy")
        text = _("%(amount)s per %(unit)s") % {"amount": format_money(rule["amount"]), "unit": unit}
        if rule.get("online_amount") is not None:
            text += " " + _("(%(online)s when submitted online)") % {"online": format_money(rule["online_amount"])}
        return text
    if kind == PER_PAGE:
        first_pages = int(rule["first_pages"])
        values = {
            "first": format_money(rule["first_page_amount"]), "next": format_money(rule["next_page_amount"]),
            "pages": first_pages, "after": first_pages + 1,
        }
        if first_pages == 1:
            text = _("%(first)s for the first page, %(next)s a page from page %(after)s") % values
        else:
            text = _("%(first)s a page for pages 1–%(pages)s, %(next)s a page from page %(after)s") % values
        if rule.get("cap"):
            text += ", " + _("at most %(cap)s a copy") % {"cap": format_money(rule["cap"])}
        return text
    # LOCAL
    if rule.get("amount") is not None:
        return _("%(amount)s (as set by the provincial People's Council)") % {"amount": format_money(rule["amount"])}
    return _("As set by the provincial People's Council")
