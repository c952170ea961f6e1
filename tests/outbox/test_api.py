"""The national host's API of the monthly figures: staff of a supervising unit read only the
communes under it, the filters and their error bodies, pagination, OpenAPI, and no schema switch
in the request."""
from __future__ import annotations

import pytest
from django.core.management import call_command
from django.db import connections
from rest_framework.authtoken.models import Token

from communes import modules
from communes.models import SupervisingUnit

URL = "/api/v1/facts/monthly/"


@pytest.fixture
def published_months(communes):
    for code in ("04630", "14701", "16144"):
        call_command("publish_facts", "--commune", code, "--month", "2026-10", "--month", "2026-11")
    return communes


def api(client_for, user):
    token, _ = Token.objects.get_or_create(user=user)
    client = client_for("localhost")

    def get(path=URL, **params):
        return client.get(path, params, HTTP_AUTHORIZATION=f"Token {token.key}")

    return get


@pytest.fixture
def lao_cai(make_user, client_for, published_months):
    return api(client_for, make_user("facts_laocai", units=[SupervisingUnit.objects.get(code="15")]))


@pytest.fixture
def thanh_hoa(make_user, client_for, published_months):
    return api(client_for, make_user("facts_thanhhoa", units=[SupervisingUnit.objects.get(code="38")]))


def sources() -> list[str]:
    return sorted(source.module for source in modules.FACTS_SOURCES)


def test_staff_read_only_their_unit_s_communes(lao_cai, thanh_hoa, tule):
    body = lao_cai(page_size=500).json()
    assert body["count"] == 2 * len(sources())
    assert {row["commune_code"] for row in body["results"]} == {"04630"}
    row = next(r for r in body["results"] if r["source"] == "onestop" and r["month"] == "2026-11")
    assert set(row) == {"commune_code", "commune_name", "source", "source_title", "month", "figures", "version",
                        "published_at"}
    assert row["commune_name"] == "Xã Tú Lệ" and row["source_title"] == "Bộ phận Một cửa"
    assert {"received", "late"} <= set(row["figures"])
    assert {r["commune_code"] for r in thanh_hoa(page_size=500).json()["results"]} == {"16144"}


def test_another_unit_s_commune_is_refused_like_an_unknown_one(lao_cai):
    for code in ("16144", "99999"):
        response = lao_cai(commune=code)
        assert response.status_code == 400
        body = response.json()
        assert body["code"] == "invalid" and set(body["fields"]) == {"commune"}
        assert code in body["fields"]["commune"][0]
    assert lao_cai(commune="04630").json()["count"] == 2 * len(sources())
    assert lao_cai(commune="04630,16144").status_code == 400


def test_filters_by_source_and_months(lao_cai):
    body = lao_cai(source="onestop").json()
    assert [(r["source"], r["month"]) for r in body["results"]] == [("onestop", "2026-10"), ("onestop", "2026-11")]
    both = lao_cai(source="onestop,documents", **{"from": "11/2026", "to": "2026-11"}).json()
    assert sorted(r["source"] for r in both["results"]) == ["documents", "onestop"]
    assert {r["month"] for r in both["results"]} == {"2026-11"}
    assert lao_cai(**{"from": "2026-12"}).json()["count"] == 0
    assert [r["month"] for r in lao_cai(source="onestop", to="2026-10").json()["results"]] == ["2026-10"]


@pytest.mark.parametrize("params, field", [
    ({"from": "2026-13"}, "from"), ({"to": "tháng 11"}, "to"), ({"from": "1999-01"}, "from"),
    ({"from": "2026-11", "to": "2026-10"}, "to"), ({"source": "nothing"}, "source"), ({"commune": "abc"}, "commune"),
    ({"source": ",".join(["onestop"] * 201)}, "source"),
])
def test_bad_filters_answer_the_project_s_error_body(lao_cai, params, field):
    response = lao_cai(**params)
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid" and field in body["fields"] and body["detail"]
    assert not body["fields"][field][0].isascii()  # in Vietnamese


def test_pages(lao_cai):
    first = lao_cai(page_size=3).json()
    assert len(first["results"]) == 3 and first["next"] and first["count"] == 2 * len(sources())
    assert [r["source"] for r in first["results"]] == sources()[:3]  # commune, month, source order
    response = lao_cai(page=999)
    assert response.status_code == 404 and response.json()["code"] == "not_found"


def test_without_a_unit_nothing_and_without_login_401(make_user, client_for, published_months):
    assert api(client_for, make_user("facts_nobody"))().json()["count"] == 0
    response = client_for("localhost").get(URL)
    assert response.status_code in (401, 403) and response.json()["code"] == "not_authenticated"
    assert client_for("tule.localhost").get(URL).status_code == 404  # the national host's only


def test_the_request_reads_without_switching_schema(lao_cai, monkeypatch, django_assert_max_num_queries):
    wrapper = connections["default"]
    switched = []
    original = wrapper.set_tenant

    def set_tenant(tenant, *args, **kwargs):
        if tenant.schema_name != "public":
            switched.append(tenant.schema_name)
        return original(tenant, *args, **kwargs)

    monkeypatch.setattr(wrapper, "set_tenant", set_tenant)
    with django_assert_max_num_queries(8):
        assert lao_cai().status_code == 200
    assert switched == []


def test_the_endpoint_is_in_the_openapi_schema(client_for, db):
    schema = client_for("localhost").get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    operation = schema["paths"][URL]["get"]
    assert {p["name"] for p in operation["parameters"]} >= {"source", "from", "to", "commune", "page", "page_size"}
