"""How the apps of a commune site plug into the shared app.

The shared layers (communes, core, jobs, workcalendar, truststore) know no tenant app: each app
registers what it brings from its ``AppConfig.ready()``, and the shared pages and commands ask
this registry. What an app may register:

* ``Module``: a card on the officials' home (title, description, page, roles that open it);
* ``InboxSource``: its lines of the officials' to-do inbox ("Việc cần làm"): a callable
  ``(request, user, roles) -> iterable of InboxLine``. A line says how many items wait for this
  person, what they are, how urgent (``Severity``), and where its link goes: the item itself when
  there is one, otherwise the list filtered to exactly those items. Sources are asked only for
  users holding one of their ``roles`` (no query for anyone else);
* ``DemoStep``: its demo data, a callable ``(DemoContext) -> None`` run by ``communes.demo.seed``
  after the steps it names in ``after`` (the registry before the documents, the PKI before the
  documents and dossiers …);
* ``PublicSection``: its part of the commune's public home page (a template and the callable
  that gives its context), in ``order``; ``register_public_layout`` names the citizens' layout
  the page is drawn in;
* ``FactsSource``: its figures for a period, a callable ``(date_from, date_to) -> dict`` of
  plain numbers, run in the commune's schema (``facts_for``; the ``report_facts`` command prints
  them per commune).

Callables may be given as dotted paths ("onestop.inbox.lines"): they are imported when first
used, so registering costs nothing at start-up.
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy as _

from communes.models import Role

logger = logging.getLogger(__name__)


def _resolve(target):
    return import_string(target) if isinstance(target, str) else target


# --- modules (cards of the officials' home) ----------------------------------------------------

@dataclass(frozen=True)
class Module:
    key: str
    title: str
    description: str
    url_name: str
    roles: frozenset


MODULES: list[Module] = []


def register(module: Module) -> None:
    if all(m.key != module.key for m in MODULES):
        MODULES.append(module)


def modules_for(roles: set[str]) -> list[Module]:
    return [m for m in MODULES if roles & m.roles]


register(Module(
    key="admin", title=_("Administration"),
    description=_("Users, villages and settings of the commune."),
    url_name="commune_admin:index", roles=frozenset({Role.COMMUNE_ADMIN}),
))


# --- the to-do inbox ---------------------------------------------------------------------------

class Severity:
    """How urgent a line is; the inbox shows overdue lines first, then those due soon."""

    OVERDUE = "overdue"
    DUE_SOON = "due_soon"
    NORMAL = "normal"

    ORDER = {OVERDUE: 0, DUE_SOON: 1, NORMAL: 2}


@dataclass(frozen=True)
class InboxLine:
    key: str
    label: str
    count: int
    url: str
    severity: str = Severity.NORMAL
    module: str = ""


@dataclass(frozen=True)
class InboxSource:
    module: str
    lines: Callable[..., Iterable[InboxLine]] | str
    roles: frozenset = frozenset()


INBOX_SOURCES: list[InboxSource] = []


def register_inbox(source: InboxSource) -> None:
    if all(s.module != source.module for s in INBOX_SOURCES):
        INBOX_SOURCES.append(source)


def inbox_for(request, *, user=None, roles: set[str] | None = None, module: str | None = None) -> list[InboxLine]:
    """The lines of what waits for ``user`` (the request's user) in the request's commune, only
    lines with something in them: overdue first, then due soon, then the others in the order
    the apps were registered. ``module`` keeps one app's lines (its overview page)."""
    from communes.permissions import roles_for

    user = user if user is not None else request.user
    roles = set(roles) if roles is not None else roles_for(user, getattr(request, "commune", None))
    if not roles:
        return []
    lines: list[InboxLine] = []
    for source in INBOX_SOURCES:
        if module is not None and source.module != module:
            continue
        if source.roles and not (roles & source.roles):
            continue
        for line in _resolve(source.lines)(request, user, roles) or ():
            if line.count > 0:
                lines.append(line if line.module else _with_module(line, source.module))
    order = {source.module: index for index, source in enumerate(INBOX_SOURCES)}
    return sorted(lines, key=lambda line: Severity.ORDER.get(line.severity, 9) * 100 + order.get(line.module, 99))


def _with_module(line: InboxLine, module: str) -> InboxLine:
    return InboxLine(key=line.key, label=line.label, count=line.count, url=line.url, severity=line.severity,
                     module=module)


# --- demo data ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class DemoStep:
    key: str
    seed: Callable[[Any], None] | str
    after: tuple[str, ...] = ()


DEMO_STEPS: list[DemoStep] = []


def register_demo(step: DemoStep) -> None:
    if all(s.key != step.key for s in DEMO_STEPS):
        DEMO_STEPS.append(step)


def demo_steps() -> list[DemoStep]:
    """The registered steps, each after the steps it names (those registered run first; a
    name nobody registered is ignored), otherwise in the order of registration."""
    known = {step.key for step in DEMO_STEPS}
    done: list[DemoStep] = []
    placed: set[str] = set()
    pending = list(DEMO_STEPS)
    while pending:
        for step in pending:
            if all(name in placed or name not in known for name in step.after):
                done.append(step)
                placed.add(step.key)
                pending.remove(step)
                break
        else:
            raise ValueError("demo steps wait for each other: " + ", ".join(s.key for s in pending))
    return done


def run_demo_steps(context) -> None:
    for step in demo_steps():
        _resolve(step.seed)(context)


# --- the commune's public home -----------------------------------------------------------------

@dataclass(frozen=True)
class PublicSection:
    key: str
    template: str
    context: Callable[[Any], dict] | str | None = None
    order: int = 100


PUBLIC_SECTIONS: list[PublicSection] = []
DEFAULT_PUBLIC_LAYOUT = "base.html"
_public_layout: list[str] = []


def register_public_section(section: PublicSection) -> None:
    if all(s.key != section.key for s in PUBLIC_SECTIONS):
        PUBLIC_SECTIONS.append(section)


def register_public_layout(template: str) -> None:
    """The layout of the citizens' pages, which the public home is drawn in (the first app that
    names one keeps it)."""
    if not _public_layout:
        _public_layout.append(template)


def public_layout() -> str:
    return _public_layout[0] if _public_layout else DEFAULT_PUBLIC_LAYOUT


def public_sections(request) -> list[dict]:
    """[{"key", "template", "context"}] of the registered sections, in order."""
    sections = []
    for section in sorted(PUBLIC_SECTIONS, key=lambda s: (s.order, s.key)):
        context = _resolve(section.context)(request) if section.context is not None else {}
        sections.append({"key": section.key, "template": section.template, "context": context})
    return sections


# --- reporting facts ---------------------------------------------------------------------------

@dataclass(frozen=True)
class FactsSource:
    module: str
    facts: Callable[[Any, Any], dict] | str
    title: str = ""


FACTS_SOURCES: list[FactsSource] = []


def register_facts(source: FactsSource) -> None:
    if all(s.module != source.module for s in FACTS_SOURCES):
        FACTS_SOURCES.append(source)


def facts_for(date_from, date_to) -> dict[str, dict]:
    """{module: its figures for the period} of the commune whose schema is active."""
    return {source.module: dict(_resolve(source.facts)(date_from, date_to)) for source in FACTS_SOURCES}



def tally(queryset, filters: dict) -> dict[str, tuple[int, int | None]]:
    """{key: (how many rows match filters[key], the pk of one of them)} in one query (an inbox
    line links to the item itself when there is exactly one)."""
    from django.db.models import Count, Max

    if not filters:
        return {}
    aggregates = {}
    for index, q in enumerate(filters.values()):
        aggregates[f"n{index}"] = Count("pk", filter=q)
        aggregates[f"pk{index}"] = Max("pk", filter=q)
    row = queryset.aggregate(**aggregates)
    return {key: (row[f"n{index}"] or 0, row[f"pk{index}"]) for index, key in enumerate(filters)}


def line_url(count: int, pk, detail: Callable[[Any], str], listing: str) -> str:
    """The item's page when there is one item, else the list filtered to exactly those items."""
    return detail(pk) if count == 1 and pk is not None else listing
