"""The commune search of the national home page: by name with or without accents, by the start of
any word, over the official list of 3,321 communes and the communes that run a portal here (a
portal links to its host, a commune without one is shown without a link), a clear message when
nothing matches; a plain GET form that works without script on a 360 px phone."""
from __future__ import annotations

import csv
import re
import unicodedata
from pathlib import Path

import pytest

from communes import search
from tests.browser import live_server, require_chromium

NATIONAL = "localhost"


def items(html: str) -> list[str]:
    block = html[html.index('class="commune-results"'):]
    return re.findall(r"<li>(.*?)</li>", block[:block.index("</ul>")], flags=re.S)


def names(results) -> list[str]:
    return [result.name for result in results]


@pytest.fixture(autouse=True)
def _fresh_list():
    search.clear_cache()
    yield
    search.clear_cache()


def plain(text: str) -> str:
    """Lower case without marks, written here again (not core.text.fold)."""
    decomposed = unicodedata.normalize("NFD", text.lower().replace("đ", "d"))
    return "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")


def official_matches(*terms: str) -> set[str]:
    """Codes of the official list (read from the CSV file) with a word beginning with each term."""
    with open(Path(__file__).resolve().parent.parent / "communes" / "fixtures" / "communes.csv", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 3321
    return {row["commune_code"] for row in rows
            if all(any(word.startswith(term) for word in plain(row["commune_name"]).split()) for term in terms)}


def test_accent_free_and_partial_words(db):
    found, matched = search.search("tu le")
    assert names(found)[0] == "Tú Lệ" and found[0].host == "tule.localhost" and found[0].province_name == "Lào Cai"
    assert names(search.search("TÚ LỆ")[0])[0] == "Tú Lệ"
    assert names(search.search("le tu")[0])[0] == "Tú Lệ"  # words in any order
    yen, count = search.search("yen")
    assert count == len(official_matches("yen")) == 91 and len(yen) == search.LIMIT
    assert {"Yên Mô"} <= set(names(yen))  # a commune with a portal comes first
    assert all(any(word.startswith("yen") for word in plain(name).split()) for name in names(yen))
    hoa, count = search.search("yen hoa")
    assert {r.code for r in hoa} == official_matches("yen", "hoa") == {"00175", "02248", "16909", "18682"}
    assert "Tuyên Hóa" not in names(search.search("uyen")[0])  # a word's start, not its middle
    assert search.search("yen th")[1] == len(official_matches("yen", "th"))
    assert "16264" in {r.code for r in search.search("yen tho")[0]}  # Yên Thọ
    assert search.search("zzzz") == ([], 0) and search.search("   ") == ([], 0)


def test_page_links_portals_and_lists_communes_without_one(db, client_for):
    client = client_for(NATIONAL)
    page = client.get("/", {"q": "tu le"})
    assert page.status_code == 200
    html = page.content.decode()
    first = items(html)[0]
    assert re.search(r'<a href="//tule\.localhost/">Xã Tú Lệ</a>', first) and "Lào Cai" in first
    yen_tho = next(item for item in items(client.get("/", {"q": "yen tho"}).content.decode()) if "Yên Thọ" in item)
    assert "<a " not in yen_tho and "Thanh Hóa" in yen_tho and "16264" in yen_tho
    assert 'value="yen tho"' in client.get("/", {"q": "yen tho"}).content.decode()  # the query stays in the box
    none = client.get("/", {"q": "khong co xa nao"}).content.decode()
    assert 'id="no-match"' in none and "Không tìm thấy xã, phường nào có tên giống" in none
    assert "commune-results" not in client.get("/").content.decode()  # no search, no results block
    for hostile in ["%00", "ả" * 5000, "<script>"]:
        response = client.get("/", {"q": hostile})
        assert response.status_code == 200 and "<script>" not in response.content.decode().split("</header>", 1)[-1]
    assert client.get("/", {"q": "\x00yen"}).status_code == 400  # refused before the page, as on every page


@pytest.fixture(scope="module")
def server(django_db_setup, django_db_blocker):
    """The portal on a live server, started before the browser (the official list and the test
    communes are committed by the session's set-up)."""
    require_chromium()
    with django_db_blocker.unblock(), live_server() as port:
        yield port


def test_search_form_without_script_on_a_phone(server, browser):
    context = browser.new_context(viewport={"width": 360, "height": 740}, java_script_enabled=False)
    page = context.new_page()
    page.goto(f"http://localhost:{server}/")
    page.fill("input[name=q]", "tu le")
    page.click("#commune-search button[type=submit]")
    page.wait_for_selector("#commune-results")
    assert "q=tu+le" in page.url
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    link = page.locator("#commune-results a", has_text="Tú Lệ").first
    assert link.get_attribute("href") == f"//tule.localhost:{server}/"
    context.close()
