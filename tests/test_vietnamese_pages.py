"""Every page of both hosts, for every role, in Vietnamese: no string of our catalogue is left in
English.

The commune gets the demo's data (registry, documents signed and issued, dossiers in every
state, the radio's week), so that detail pages render with objects. The pages are found by
following the links of each home page (a page reached by no link is walked through the URL
patterns of the resolver), at most a few addresses per URL pattern. A page fails when the text a
reader sees (text, titles, placeholders, labels read aloud) holds an English source string of
``locale/vi/LC_MESSAGES/django.po`` whose Vietnamese differs.
"""
from __future__ import annotations

import re
import time
from collections import defaultdict
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest
from django.urls import Resolver404, resolve, set_urlconf

from communes.models import Role
from tests.conftest import host_client
from tests.test_translations import parse_po

CATALOGUE = Path(__file__).resolve().parent.parent / "locale" / "vi" / "LC_MESSAGES" / "django.po"
PER_PATTERN = 2  # addresses walked per URL pattern and role
# Addresses that are files, actions or other sites, not pages to read.
NOT_PAGES = re.compile(r"(\.(pdf|xlsx|mp3|png|svg|csv|zip|txt)$)|/download/|/files/|/audio/|^/api/|^/admin/|^/i18n/"
                       r"|^/static/|^/media/|^/healthz|/logout/|/oidc/")
PLACEHOLDER = re.compile(r"%\([^)]*\)[#0 +-]*\d*(?:\.\d+)?[sdfr]|%[sdfr]|\{[^{}]*\}")
SKIPPED_TAGS = {"script", "style", "code", "pre", "textarea"}
READ_ATTRIBUTES = ("placeholder", "title", "aria-label", "alt")


class Reader(HTMLParser):
    """The text a reader of the page sees or hears, without other languages' elements
    (the language switcher's "English"), scripts, codes and what the reader typed."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if self.skipping:
            if tag == self.skipping[-1]:
                self.skipping.append(tag)
            return
        lang = attrs.get("lang")
        if tag in SKIPPED_TAGS or (lang and not lang.startswith("vi") and tag != "html"):
            if tag not in ("input", "img", "br", "meta", "link"):
                self.skipping.append(tag)
            return
        for name in READ_ATTRIBUTES:
            if attrs.get(name):
                self.parts.append(attrs[name])
        if tag == "input" and attrs.get("type") in ("submit", "button") and attrs.get("value"):
            self.parts.append(attrs["value"])

    def handle_endtag(self, tag):
        if self.skipping and tag == self.skipping[-1]:
            self.skipping.pop()

    def handle_data(self, data):
        if not self.skipping and data.strip():
            self.parts.append(data)


def readable_text(html: str) -> str:
    reader = Reader()
    reader.feed(html)
    return "\n".join(" ".join(part.split()) for part in reader.parts)


class Catalogue:
    """The English source strings whose Vietnamese differs, as patterns to look for."""

    def __init__(self):
        self.needles: list[tuple[str, str, re.Pattern]] = []  # (quick substring, msgid, exact pattern)
        entries = parse_po(CATALOGUE)
        # Words that Vietnamese text uses as they are (PIN, SMS, PDF): not a sign of English.
        vietnamese = "\n".join(msgstr for msgstr, _fuzzy in entries.values())
        for (_context, msgid), (msgstr, _fuzzy) in entries.items():
            msgid = msgid.replace('\\"', '"').replace("\\n", "\n").replace("\\\\", "\\")
            msgstr = msgstr.replace('\\"', '"').replace("\\n", "\n")
            if not msgstr or msgstr == msgid:
                continue
            pieces = [" ".join(piece.split()) for piece in PLACEHOLDER.split(msgid)]
            literal = [piece for piece in pieces if re.search(r"[A-Za-z]{2}", piece)]
            if not literal:
                continue
            if len(pieces) > 1:  # a sentence with values: its longest words between the values
                longest = max(literal, key=len).strip(" .,:;–-()")
                if len(re.findall(r"[A-Za-z]+", longest)) < 3:
                    continue
                quick = longest
            else:
                quick = pieces[0]
                if not re.search(r"[A-Za-z]{2}", quick) or len(quick) < 2:
                    continue
            pattern = re.compile(r"(?<![\w])" + re.escape(quick) + r"(?![\w])")
            if " " not in quick and pattern.search(vietnamese):
                continue
            self.needles.append((quick, msgid, pattern))

    def untranslated(self, text: str) -> dict[str, str]:
        """{msgid: the text around it} of the strings left in English."""
        out = {}
        for quick, msgid, pattern in self.needles:
            if quick in text:
                match = pattern.search(text)
                if match:
                    out[msgid] = text[max(match.start() - 60, 0):match.end() + 60].replace("\n", " | ")
        return out


@pytest.fixture(scope="module")
def catalogue():
    return Catalogue()


def seed_demo_commune(commune) -> dict:
    """The demo's data for this one commune: its officials (one per role), the registry, then
    every app's demo step."""
    from communes import demo

    spec = next(s for s in demo.DEMO_COMMUNES if s.code == commune.code)
    quiet = lambda *args, **kwargs: None  # noqa: E731
    demo._public_part(spec, quiet)
    citizen, _ = demo._user("congdan", "Hoàng Văn Nam", phone="0912345678", email="congdan@example.vn")
    try:
        from communes.demo import DemoContext
        from communes.modules import run_demo_steps
    except ImportError:  # the data of the apps seeded one by one
        from population.demo import populate

        populate(commune, villages=spec.villages, households=3, seed=int(spec.code))
        demo._documents([commune], quiet)
        demo._onestop([commune], citizen, quiet)
        demo._radio([commune], quiet)
    else:
        run_demo_steps(DemoContext(communes=[(spec, commune)], citizen=citizen, households=3, pin=demo.DEMO_PIN,
                                   out=quiet))
    from communes.models import Membership

    officials = {m.role: m.user for m in Membership.objects.filter(commune=commune).select_related("user")}
    return {"officials": officials, "citizen": citizen}


def walk(client, starts: list[str], urlconf: str, catalogue: Catalogue, found: dict, seen_patterns: dict,
         per_pattern_limit: int = PER_PATTERN) -> None:
    """Follow the links of ``starts`` on the client's host, breadth first, at most PER_PATTERN
    addresses per URL pattern; record each page's untranslated strings in ``found``."""
    queue = list(starts)
    visited: set[str] = set()
    per_pattern: dict[str, int] = defaultdict(int)
    while queue:
        path = queue.pop(0)
        if path in visited:
            continue
        visited.add(path)
        try:
            match = resolve(urlsplit(path).path, urlconf)
        except Resolver404:
            continue
        route = match.route
        if per_pattern[route] >= per_pattern_limit:
            continue
        per_pattern[route] += 1
        response = client.get(path)
        set_urlconf(None)
        seen_patterns[route].add(response.status_code)
        if response.status_code != 200 or "text/html" not in response.get("Content-Type", ""):
            continue
        html = response.content.decode()
        for msgid, around in catalogue.untranslated(readable_text(html)).items():
            found[msgid].add((path, around))
        for href in re.findall(r'href="([^"#]+)', html):
            href = urljoin(path, href.replace("&amp;", "&"))
            parts = urlsplit(href)
            if parts.netloc or NOT_PAGES.search(parts.path):
                continue
            # One address per path: the query strings of filters and pages add no new words.
            if parts.path not in visited and parts.path not in queue:
                queue.append(parts.path)


def pattern_paths(urlconf: str) -> list[str]:
    """The URL patterns without parameters (pages that may have no link to them)."""
    from tests.trust.url_walk import routes

    return sorted({"/" + r.pattern for r in routes(urlconf) if "<" not in r.pattern and "(" not in r.pattern
                   and "^" not in r.pattern and not NOT_PAGES.search("/" + r.pattern)})


def report(found: dict) -> str:
    lines = []
    for msgid, places in sorted(found.items()):
        path, around = sorted(places)[0]
        lines.append(f"  {msgid!r} on {path} (and {len(places) - 1} more): …{around}…")
    return "\n".join(lines)


def test_every_page_of_both_hosts_reads_in_vietnamese_for_every_role(ngaan, catalogue, make_user, settings):
    started = time.monotonic()
    data = seed_demo_commune(ngaan)
    found: dict[str, set] = defaultdict(set)
    seen: dict[str, set] = defaultdict(set)
    tenant_pages = pattern_paths("config.urls_tenant")
    # Officials: each role alone, then every role at once (pages of combined roles).
    everything = make_user("walk_every_role", roles={ngaan: list(Role)}, full_name="Người Đủ Vai Trò")
    for role in Role:
        user = data["officials"].get(role.value)
        walk(host_client("ngaan.localhost", user), ["/"], "config.urls_tenant", catalogue, found, seen, 1)
    walk(host_client("ngaan.localhost", everything), ["/", *tenant_pages], "config.urls_tenant", catalogue, found, seen)
    # Citizens: a visitor, then the demo citizen with dossiers.
    walk(host_client("ngaan.localhost"), ["/", *tenant_pages], "config.urls_tenant", catalogue, found, seen)
    walk(host_client("ngaan.localhost", data["citizen"]), ["/"], "config.urls_tenant", catalogue, found, seen)
    # The national host: a visitor and a supervising unit's staff.
    from communes.models import SupervisingUnit

    staff = make_user("walk_unit_staff", units=[SupervisingUnit.objects.get(code="38")], full_name="Lê Văn Quang")
    public_pages = pattern_paths("config.urls_public")
    for user in (None, staff):
        walk(host_client("localhost", user), ["/", "/provinces/38/", *public_pages], "config.urls_public", catalogue,
             found, seen)
    elapsed = time.monotonic() - started
    rendered = [route for route, codes in seen.items() if 200 in codes]
    assert len(rendered) > 60, sorted(rendered)
    detail = [route for route in rendered if "<int:pk>" in route]
    assert {"documents/outgoing/<int:pk>/", "documents/incoming/<int:pk>/", "onestop/dossiers/<int:pk>/",
            "radio/bulletins/<int:pk>/", "population/residents/<int:pk>/"} <= set(detail), sorted(detail)
    assert not found, f"{len(found)} English strings on Vietnamese pages ({elapsed:.0f} s):\n{report(found)}"
