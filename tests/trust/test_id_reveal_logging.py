"""Every read of a full personal ID number leaves one access-log line (action ``reveal``), on
every path: pages, the commune admin (change page and a historical version), API answers to
reads and writes, exports, the one-stop dossier page and intake form.

The walk is built from the commune host's URL resolver: every GET URL, with the ids of a
resident, a household and a dossier; any answer that carries a full number must have logged
exactly one reveal of that record.
"""
from __future__ import annotations

import datetime
import re
from pathlib import Path

import pytest
from django.conf import settings as django_settings

from communes.models import Role
from tests.trust.url_walk import body_text, routes

AN_OLD_ID = "015090123456"
AN_ID = "015090654321"
APPLICANT_ID = "015195004321"
SKIP = re.compile(r"logout|setlang|/device/|/oidc/|/accounts/")


@pytest.fixture
def records(tule, make_user, in_commune, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    from onestop.models import Procedure
    from population import services
    from population.models import Household, Resident, Village
    from tests.onestop.helpers import applicant, received_dossier

    official = make_user("reveal_official", roles={tule: [Role.SPECIALIST, Role.ONESTOP_OFFICER, Role.COMMUNE_ADMIN]},
                         is_staff=True)
    with in_commune(tule):
        village = services.save_village(Village(name="Bản Lướt", kind=Village.Kind.BAN))
        household = services.save_household(Household(code="TL-001", village=village, phone="0912000111"))
        an = services.save_resident(Resident(
            household=household, full_name="Nguyễn Văn An", birth_date=datetime.date(1990, 5, 1), sex="male",
            ethnicity="03", personal_id=AN_OLD_ID, relation="head", phone="0987654321",
        ))
        an.personal_id = AN_ID  # corrected: the history holds both numbers
        services.save_resident(an)
        history_ids = list(an.history.values_list("history_id", flat=True))
        dossier = received_dossier(Procedure.objects.get(code="HT-02", is_current=True), official,
                                   applicant=applicant(id_number=APPLICANT_ID))
    return {"official": official, "an": an, "household": household, "dossier": dossier, "history_ids": history_ids}


def _reveals(in_commune, tule) -> dict[tuple[str, str], int]:
    from django.db.models import Count

    from population.models import AccessLog

    with in_commune(tule):
        rows = AccessLog.objects.filter(action="reveal").values("object_type", "object_id").annotate(n=Count("id"))
        return {(r["object_type"], r["object_id"]): r["n"] for r in rows}


def _shown(text: str, records) -> list[tuple[str, str]]:
    """The records whose full number the text carries."""
    shown = []
    if AN_ID in text or AN_OLD_ID in text:
        shown.append(("population.resident", str(records["an"].pk)))
    if APPLICANT_ID in text:
        shown.append(("onestop.dossier", str(records["dossier"].pk)))
    return shown


def _urls(records) -> list[str]:
    ids = sorted({records["an"].pk, records["household"].pk, records["dossier"].pk})
    urls = []
    for route in routes("config.urls_tenant"):
        if not route.answers_get:
            continue
        if route.positional:
            urls += [route.path(records["an"].pk, history_id) for history_id in records["history_ids"]]
            continue
        if not route.params:
            urls.append(route.path())
            continue
        for pk in ids:
            urls.append(route.path(pk=pk, object_id=pk, code="HT-02"))
    return [u for u in dict.fromkeys(urls) if not SKIP.search(u)]


def test_every_page_that_shows_a_full_id_logs_one_reveal(records, tule, in_commune, client_for):
    client = client_for("tule.localhost", records["official"], second_factor=True)
    revealed_on, problems = [], []
    for url in _urls(records):
        before = _reveals(in_commune, tule)
        response = client.get(url, {"resident": records["an"].pk})
        if response.status_code != 200:
            continue
        after = _reveals(in_commune, tule)
        for key in _shown(body_text(response), records):
            # One line for the record, or one for an export of many (no record id).
            bulk = (key[0], "")
            logged = after.get(key, 0) - before.get(key, 0) + after.get(bulk, 0) - before.get(bulk, 0)
            revealed_on.append(url)
            if logged != 1:
                problems.append((url, key, logged))
    assert not problems, problems
    an, dossier = records["an"].pk, records["dossier"].pk
    for expected in [f"/population/residents/{an}/", f"/population/residents/{an}/edit/",
                     f"/admin/population/resident/{an}/change/", f"/api/v1/residents/{an}/",
                     f"/onestop/dossiers/{dossier}/", f"/admin/population/resident/{an}/history/{records['history_ids'][-1]}/",
                     "/onestop/intake/HT-02/", "/population/residents/export.xlsx", "/api/v1/residents/export/"]:
        assert expected in revealed_on, expected


def test_the_history_list_shows_numbers_masked(records, client_for):
    client = client_for("tule.localhost", records["official"], second_factor=True)
    page = client.get(f"/admin/population/resident/{records['an'].pk}/history/").content.decode()
    assert "015******456" in page and "015******321" in page
    assert AN_ID not in page and AN_OLD_ID not in page


def test_api_writes_and_exports_log_the_reveal(records, tule, in_commune, client_for, make_user):
    client = client_for("tule.localhost", records["official"], second_factor=True)
    an = records["an"]
    key = ("population.resident", str(an.pk))
    before = _reveals(in_commune, tule)
    patched = client.patch(f"/api/v1/residents/{an.pk}/", {"phone": "0987000111"}, content_type="application/json")
    assert patched.status_code == 200 and patched.json()["personal_id"] == AN_ID
    assert _reveals(in_commune, tule).get(key, 0) == before.get(key, 0) + 1
    created = client.post("/api/v1/residents/", {
        "household": records["household"].pk, "full_name": "Lò Thị Bình", "birth_date": "09/07/1992",
        "sex": "female", "ethnicity": "03", "relation": "wife", "personal_id": "015192654321",
    }, content_type="application/json")
    assert created.status_code == 201 and created.json()["personal_id"] == "015192654321"
    assert _reveals(in_commune, tule).get(("population.resident", str(created.json()["id"]))) == 1
    listed = client.get("/api/v1/residents/")
    assert AN_ID not in listed.content.decode()
    for url in ["/population/residents/export.xlsx", "/api/v1/residents/export/"]:
        from population.models import AccessLog

        with in_commune(tule):
            count = AccessLog.objects.filter(action="reveal", object_id="").count()
        response = client.get(url)
        assert AN_ID in body_text(response)
        with in_commune(tule):
            assert AccessLog.objects.filter(action="reveal", object_id="").count() == count + 1
            line = AccessLog.objects.filter(action="reveal", object_id="").first()
            assert line.username == "reveal_official" and "(2)" in line.description


def test_templates_never_print_a_stored_number():
    """Templates get masked values or the revealed number from the view, never the field."""
    offenders = []
    for directory in django_settings.TEMPLATES[0]["DIRS"]:
        for path in Path(directory).rglob("*.html"):
            text = path.read_text(encoding="utf-8")
            for match in re.finditer(r"\{\{[^}]*\.(personal_id|applicant_id_number)\b[^}]*\}\}", text):
                offenders.append((str(path), match.group(0)))
    assert not offenders, offenders


def test_a_search_by_full_id_is_a_logged_reveal(records, tule, in_commune, client_for):
    """Finding a resident by the full number tells whose number it is, even where the list then
    shows it masked: one reveal line per search, on every search of the commune's host."""
    client = client_for("tule.localhost", records["official"], second_factor=True)
    key = ("population.resident", str(records["an"].pk))
    for url, params in [("/population/", {"q": AN_ID}), ("/api/v1/residents/", {"search": AN_ID}),
                        ("/admin/population/resident/", {"q": AN_ID}), ("/onestop/intake/HT-02/", {"rq": AN_ID})]:
        before = _reveals(in_commune, tule).get(key, 0)
        response = client.get(url, params)
        assert response.status_code == 200 and "Nguyễn Văn An" in response.content.decode(), url
        assert _reveals(in_commune, tule).get(key, 0) == before + 1, url
    before = _reveals(in_commune, tule).get(key, 0)
    assert client.get("/population/", {"q": "nguyen van an"}).status_code == 200
    assert _reveals(in_commune, tule).get(key, 0) == before
