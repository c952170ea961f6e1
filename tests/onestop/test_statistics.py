"""Statistics on a fixed set of dossiers received in March 2026: early, on time and late are
measured against the appointment of form 1, moved only by supplement pauses; a form-4 extension
never turns a late result into an on-time one. The supervising unit's API returns the same
figures for its own communes only."""
from __future__ import annotations

import datetime

import pytest
from rest_framework.authtoken.models import Token

from communes.models import Role, SupervisingUnit
from onestop import statistics
from onestop.models import Dossier, DossierEvent

from .helpers import at, dossier_row

MARCH = (datetime.date(2026, 3, 1), datetime.date(2026, 3, 31))


@pytest.fixture
def march(in_tule, procedures, people, make_user, tule):
    """Ten dossiers of Tú Lệ. HT-02 takes one working day: received Monday 02/03/2026 09:00,
    it is due Tuesday 03/03 17:00."""
    ht, ct = procedures["HT-02"], procedures["CT-01"]
    thu = people["onestop_officer"]
    binh = make_user("os_officer_b", roles={tule: [Role.ONESTOP_OFFICER]}, full_name="Cầm Văn Bình")
    monday = "02/03/2026"
    rows = {
        "early": dossier_row(ht, thu, received=at(monday), completed=at(monday, "15:00"), score=3),
        "on_time": dossier_row(ht, thu, received=at(monday), completed=at("03/03/2026", "16:00"), score=2),
        "late": dossier_row(ht, thu, received=at(monday), completed=at("04/03/2026", "10:00"), score=1),
        # Form 4 gave Friday as the new date; finished Thursday, before it, the result is still late.
        "extended": dossier_row(ht, binh, received=at(monday), completed=at("05/03/2026", "10:00"),
                                extended_to=at("06/03/2026", "17:00")),
        # Waiting two working days for a supplement (Monday 10:00 → Wednesday 10:00) moves the
        # appointment to Thursday 17:00: finished Thursday 11:00, on time.
        "paused": dossier_row(ht, binh, received=at(monday), completed=at("05/03/2026", "11:00"),
                              pauses=[(at(monday, "10:00"), at("04/03/2026", "10:00"))]),
        # A certified copy received Monday 10:00 is due the same day at 17:00.
        "same_day": dossier_row(ct, thu, received=at(monday, "10:00"), completed=at(monday, "16:00")),
        "in_progress": dossier_row(ht, thu, received=at("03/03/2026")),
        "stopped": dossier_row(ht, binh, received=at("03/03/2026"), state="stopped"),
        "april": dossier_row(ht, thu, received=at("01/04/2026"), completed=at("01/04/2026", "15:00"), score=3),
    }
    refused = Dossier.objects.create(procedure=ht, channel="counter", state="refused", applicant_name="Người thử",
                                     closed_reason="Không thuộc thẩm quyền")
    DossierEvent.objects.create(dossier=refused, kind="refused", at=at("04/03/2026", "08:00"), actor=thu)
    rows["refused"] = refused
    return rows | {"officers": (thu, binh)}


COUNTS = {
    "received": 8, "in_progress": 1, "overdue": 1, "completed": 6, "early": 1, "on_time": 3, "late": 2,
    "supplements": 1, "refusals": 1, "stopped": 1, "rated": 3, "satisfied": 2,
}


def counts(figures: dict) -> dict:
    return {key: figures[key] for key in COUNTS}


def test_march_figures(march):
    from onestop.deadlines import classify

    assert march["paused"].due_at == at("05/03/2026", "17:00")
    assert march["extended"].due_at == at("03/03/2026", "17:00")
    assert classify(march["extended"].completed_at, march["extended"].due_at) == "late"
    figures = statistics.compute(*MARCH)
    assert counts(figures) == COUNTS
    assert figures["satisfaction_share"] == pytest.approx(2 / 3)


def test_by_procedure_and_by_officer(march):
    thu, binh = march["officers"]
    figures = statistics.compute(*MARCH)
    by_procedure = {row["procedure_code"]: row for row in figures["by_procedure"]}
    assert set(by_procedure) == {"HT-02", "CT-01"}
    assert (by_procedure["CT-01"]["received"], by_procedure["CT-01"]["on_time"]) == (1, 1)
    assert (by_procedure["HT-02"]["received"], by_procedure["HT-02"]["late"], by_procedure["HT-02"]["refusals"]) == (7, 2, 1)
    by_officer = {row["officer_id"]: row for row in figures["by_officer"]}
    assert by_officer[binh.pk]["officer_name"] == "Cầm Văn Bình"
    assert {key: by_officer[binh.pk][key] for key in ("received", "late", "on_time", "stopped", "rated")} == {
        "received": 3, "late": 1, "on_time": 1, "stopped": 1, "rated": 0}
    assert by_officer[binh.pk]["satisfaction_share"] is None
    only_binh = statistics.compute(*MARCH, officer_id=binh.pk)
    assert (only_binh["received"], only_binh["refusals"]) == (3, 0)
    only_copies = statistics.compute(*MARCH, procedure_code="CT-01")
    assert (only_copies["received"], only_copies["on_time"], only_copies["early"]) == (1, 1, 0)
    april = statistics.compute(datetime.date(2026, 4, 1), datetime.date(2026, 4, 30))
    assert (april["received"], april["early"], april["satisfaction_share"]) == (1, 1, 1.0)


def test_commune_api_gives_the_same_figures(march, people, client_for):
    client = client_for("tule.localhost", people["onestop_officer"])
    response = client.get("/api/v1/onestop/statistics/?from=01/03/2026&to=31/03/2026")
    assert response.status_code == 200
    assert counts(response.json()) == COUNTS
    bad = client.get("/api/v1/onestop/statistics/?from=31/03/2026&to=01/03/2026")
    assert bad.status_code == 400 and set(bad.json()) == {"code", "detail", "fields"}
    assert client_for("tule.localhost", people["specialist"]).get("/api/v1/onestop/statistics/").status_code == 403


def token_headers(user) -> dict:
    token, _created = Token.objects.get_or_create(user=user)
    return {"HTTP_AUTHORIZATION": f"Token {token.key}"}


def test_supervising_unit_sees_its_communes_only(march, make_user, client_for):
    lao_cai = make_user("unit_15", units=[SupervisingUnit.objects.get(code="15")])
    thanh_hoa = make_user("unit_38", units=[SupervisingUnit.objects.get(code="38")])
    national = client_for("localhost")
    query = "?from=01/03/2026&to=31/03/2026"

    body = national.get(f"/api/v1/onestop/statistics/{query}", **token_headers(lao_cai)).json()
    assert [row["commune_code"] for row in body["rows"]] == ["04630"]
    assert counts(body["rows"][0]) == COUNTS and counts(body["totals"]) == COUNTS
    assert body["totals"]["satisfaction_share"] == pytest.approx(2 / 3)
    one = national.get(f"/api/v1/communes/04630/onestop/statistics/{query}", **token_headers(lao_cai))
    assert one.status_code == 200 and counts(one.json()) == COUNTS
    assert national.get("/api/v1/communes/04630/onestop/dossiers/", **token_headers(lao_cai)).status_code == 403

    other = national.get(f"/api/v1/onestop/statistics/{query}", **token_headers(thanh_hoa)).json()
    assert [row["commune_code"] for row in other["rows"]] == ["16144"]
    assert other["totals"]["received"] == 0
    outside = national.get(f"/api/v1/communes/04630/onestop/statistics/{query}", **token_headers(thanh_hoa))
    unknown = national.get(f"/api/v1/communes/99999/onestop/statistics/{query}", **token_headers(thanh_hoa))
    assert outside.status_code == unknown.status_code == 404 and outside.json() == unknown.json()
    assert national.get(f"/api/v1/onestop/statistics/{query}").status_code == 401
