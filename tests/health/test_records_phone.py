"""The person's own health pages fit a 360 px phone: each page is drawn by headless Chromium in a
360 px window with the portal's own style sheets, and nothing is wider than the screen.

The pages are asked through the test client (the rows live in the test's transaction), then each
page's HTML, its style sheets inlined, is given to Chromium as a file, with a line of script that
writes the document's width into the title for ``--dump-dom`` to print."""
from __future__ import annotations

import re
import subprocess
import tempfile
from pathlib import Path

import pytest
from django.conf import settings

from tests.browser import ARGS, CHROMIUM, require_chromium
from tests.health.test_records import HOST

pytestmark = pytest.mark.django_db

STATIC = Path(settings.BASE_DIR) / "static"


def inline_styles(html: str) -> str:
    def style(match):
        path = STATIC / match.group(1).split("/static/", 1)[1].split("?")[0]
        return f"<style>{path.read_text(encoding='utf-8')}</style>"

    html = re.sub(r'<link rel="stylesheet" href="([^"]+)">', style, html)
    return re.sub(r"<script[^>]*></script>", "", html)


# Headless Chromium keeps its window at least 500 px wide: the page is drawn in a 360 px frame,
# whose document's width is written into the outer page's title.
OUTER = ("<!doctype html><html><head><title>-</title></head><body style='margin:0'>"
         "<iframe id='phone' style='width:360px;height:740px;border:0' srcdoc='{}'></iframe><script>"
         "document.getElementById('phone').addEventListener('load', (event) => {{"
         "document.title = 'width=' + event.target.contentDocument.documentElement.scrollWidth; }});"
         "</script></body></html>")


def drawn_width(html: str) -> int:
    from html import escape

    with tempfile.NamedTemporaryFile("w", suffix=".html", encoding="utf-8") as handle:
        handle.write(OUTER.format(escape(inline_styles(html), quote=True)))
        handle.flush()
        dom = subprocess.run([CHROMIUM, "--headless", *ARGS, "--window-size=800,900", "--hide-scrollbars",
                              "--virtual-time-budget=3000", "--dump-dom", f"file://{handle.name}"],
                             capture_output=True, text=True, timeout=60, check=True).stdout
    return int(re.search(r"<title>width=(\d+)</title>", dom).group(1))


def test_the_own_record_pages_fit_a_phone(station, people, client_for):
    require_chromium()
    client = client_for(HOST, people["citizen"])
    link_page = client.get("/my-health/").content.decode()
    client.post("/my-health/", {"personal_id": "015058001234", "birth_date": "02/03/1958"})
    record = station["records"]["grandfather"]

    pages = {
        "link": link_page,
        "list": client.get("/my-health/").content.decode(),
        "record": client.get(f"/my-health/{record.pk}/").content.decode(),
        "mismatch": client.post("/my-health/", {"personal_id": "015058001299", "birth_date": "02/03/1958"})
        .content.decode(),
    }
    assert "Lò Văn Ông" in pages["record"]
    for name, html in pages.items():
        width = drawn_width(html)
        assert width <= 360, f"{name} is {width} px wide"
