"""The registry API: validation with the shared validator, dates, filters, hostile input, schema."""
import datetime

import pytest

from communes.models import Role
from population.models import Resident
from tests.population.conftest import AN_ID
from tests.population.conftest import vi


@pytest.fixture
def api(registry, official, client_for):
    return client_for("tule.localhost", official(Role.SPECIALIST))


def _new(registry, **fields):
    data = {
        "household": registry["households"][1].pk, "full_name": "  Hà   Thị Lan ", "birth_date": "2001-02-03",
        "sex": "female", "ethnicity": "03", "relation": "child",
    }
    data.update(fields)
    return data


@pytest.mark.parametrize("personal_id, message", [
    ("001001123456", "The ID number does not match the sex."),  # century digit 0 = male
    ("001101123456", "The ID number does not match the century of the birth year."),
    ("001301123456", "The ID number does not match the birth year."),  # 2000s female, but 01 ≠ … see birth below
    ("003201123456", "The first three digits of the ID number are not a province code."),
    ("0013011234ab", "The ID number has exactly 12 digits."),
])
def test_api_rejects_bad_ids_with_fields(api, registry, in_commune, tule, personal_id, message):
    birth = "2002-02-03" if personal_id == "001301123456" else "2001-02-03"
    with in_commune(tule):
        before = Resident.objects.count()
    response = api.post("/api/v1/residents/", _new(registry, personal_id=personal_id, birth_date=birth), content_type="application/json")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid" and vi(message) in body["fields"]["personal_id"]
    with in_commune(tule):
        assert Resident.objects.count() == before


def test_api_create_reads_day_first_and_iso_dates(api, registry, in_commune, tule):
    response = api.post("/api/v1/residents/", _new(registry, birth_date="03/04/2026", personal_id="001326000123"),
                        content_type="application/json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["birth_date"] == "2026-04-03" and body["full_name"] == "Hà Thị Lan"
    assert body["personal_id"] == "001326000123"  # the writer gets the number back in full
    iso = api.post("/api/v1/residents/", _new(registry, birth_date="2026-04-03"), content_type="application/json")
    assert iso.status_code == 201 and iso.json()["birth_date"] == "2026-04-03"
    with in_commune(tule):
        created = Resident.objects.get(pk=body["id"])
        assert created.birth_date == datetime.date(2026, 4, 3)
        assert created.search_name == "ha thi lan"
    bad = api.post("/api/v1/residents/", _new(registry, birth_date="31/02/2026"), content_type="application/json")
    assert bad.status_code == 400 and "birth_date" in bad.json()["fields"]
    future = api.post("/api/v1/residents/", _new(registry, birth_date="01/01/2999"), content_type="application/json")
    assert future.status_code == 400 and "birth_date" in future.json()["fields"]


def test_api_duplicate_id_and_second_head(api, registry):
    dup = api.post("/api/v1/residents/", _new(registry, personal_id=AN_ID, birth_date="1990-01-01", sex="male"),
                   content_type="application/json")
    assert dup.status_code == 400 and "personal_id" in dup.json()["fields"]
    head = api.post("/api/v1/residents/", _new(registry, relation="head"), content_type="application/json")
    assert head.status_code == 400 and "relation" in head.json()["fields"]


def test_api_patch_revalidates_with_stored_fields(api, registry):
    an = registry["an"]
    response = api.patch(f"/api/v1/residents/{an.pk}/", {"sex": "female"}, content_type="application/json")
    assert response.status_code == 400 and "personal_id" in response.json()["fields"]
    ok = api.patch(f"/api/v1/residents/{an.pk}/", {"phone": "+84 98 765 4322"}, content_type="application/json")
    assert ok.status_code == 200 and ok.json()["phone"] == "0987654322"


def test_api_list_masks_and_filters(api, registry):
    body = api.get("/api/v1/residents/").json()
    assert body["count"] == 4
    ids = {r["full_name"]: r["personal_id"] for r in body["results"]}
    assert ids["Nguyễn Văn An"] == "015******456" and ids["Hà Văn Đức"] is None
    assert AN_ID not in str(body)
    luot, pa = registry["villages"]
    assert api.get("/api/v1/residents/", {"village": pa.pk}).json()["count"] == 1
    assert api.get("/api/v1/residents/", {"sex": "female"}).json()["count"] == 2
    assert api.get("/api/v1/residents/", {"birth_year_min": 2000}).json()["count"] == 2
    assert api.get("/api/v1/residents/", {"birth_year_min": 1991, "birth_year_max": 2020}).json()["count"] == 2
    assert api.get("/api/v1/residents/", {"household": registry["households"][0].pk}).json()["count"] == 3
    assert api.get("/api/v1/households/", {"village": luot.pk}).json()["count"] == 1
    detail = api.get(f"/api/v1/residents/{registry['an'].pk}/").json()
    assert detail["personal_id"] == AN_ID


def test_api_household_validation_and_delete_rules(api, registry):
    luot = registry["villages"][0]
    bad = api.post("/api/v1/households/", {"code": "TL-009", "village": luot.pk, "phone": "12345", "latitude": "95"},
                   content_type="application/json")
    assert bad.status_code == 400 and {"phone", "latitude"} <= set(bad.json()["fields"])
    good = api.post("/api/v1/households/", {"code": "TL-009", "village": luot.pk, "phone": "+84912000999",
                                            "latitude": "21.7", "longitude": "104.3"}, content_type="application/json")
    assert good.status_code == 201 and good.json()["phone"] == "0912000999"
    dup = api.post("/api/v1/households/", {"code": "TL-009", "village": luot.pk}, content_type="application/json")
    assert dup.status_code == 400 and "code" in dup.json()["fields"]
    busy = api.delete(f"/api/v1/households/{registry['households'][0].pk}/")
    assert busy.status_code == 400 and busy.json()["code"] == "invalid"
    assert api.delete(f"/api/v1/villages/{luot.pk}/").status_code == 400
    assert api.delete(f"/api/v1/households/{good.json()['id']}/").status_code == 204


@pytest.mark.parametrize("url", [
    "/api/v1/residents/?village=99999999999999999999999999",
    "/api/v1/residents/?village=-1",
    "/api/v1/residents/?household=1e400",
    "/api/v1/residents/?birth_year_min=99999999999999999999",
    "/api/v1/residents/?birth_year_max=abc",
    "/api/v1/residents/?birth_year_min=0",
    "/api/v1/residents/?sex=robot",
    "/api/v1/residents/?page=0",
    "/api/v1/residents/?page=abc",
    "/api/v1/residents/?page=999999999999999999999999",
    "/api/v1/residents/?page_size=-3",
    "/api/v1/residents/?page_size=99999999999999999999",
    "/api/v1/residents/?search=%00",
    "/api/v1/residents/?search=%FF%FE%C3",
    "/api/v1/residents/?search=" + "a" * 5000,
    "/api/v1/residents/?ordering=-nonexistent,password",
    "/api/v1/residents/99999999999999999/",
    "/api/v1/residents/999999999999999999999999/",
    "/api/v1/residents/abc/",
    "/api/v1/households/?village=%00",
    "/api/v1/households/?search=%00%FF",
    "/api/v1/households/99999999999999999/",
    "/api/v1/villages/?ordering=%00",
    "/api/v1/residents/export/?birth_year_min=-5",
])
def test_hostile_queries_never_500(api, url):
    response = api.get(url)
    assert response.status_code in (200, 400, 404), (url, response.status_code)
    assert response["Content-Type"].startswith("application/json")


@pytest.mark.parametrize("payload", [
    {"household": 99999999999999999999999, "full_name": "A", "birth_date": "01/01/2000", "sex": "male", "relation": "child"},
    {"household": "x", "full_name": "A\x00B", "birth_date": "0000-00-00", "sex": "?", "relation": "?"},
    {"household": None, "full_name": "A" * 1000, "birth_date": "99/99/9999", "ethnicity": "99", "personal_id": 12},
    {"full_name": ["list"], "birth_date": {"a": 1}, "phone": "9" * 500},
    [],
    "string",
])
def test_hostile_bodies_never_500(api, payload, in_commune, tule):
    with in_commune(tule):
        before = Resident.objects.count()
    response = api.post("/api/v1/residents/", payload, content_type="application/json")
    assert response.status_code == 400, response.content
    assert set(response.json()) == {"code", "detail", "fields"}
    with in_commune(tule):
        assert Resident.objects.count() == before


def test_non_utf8_and_malformed_json(api):
    response = api.generic("POST", "/api/v1/residents/", b"\xff\xfe{not json", content_type="application/json")
    assert response.status_code == 400
    bad_household = api.post("/api/v1/households/", {"code": "X", "village": 99999999999999999999999},
                             content_type="application/json")
    assert bad_household.status_code == 400 and "village" in bad_household.json()["fields"]


def test_openapi_schema_lists_the_registry(api, client_for, unit_staff):
    schema = api.get("/api/schema/", {"format": "json"})
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    assert {"/api/v1/residents/", "/api/v1/residents/{id}/", "/api/v1/residents/export/",
            "/api/v1/households/", "/api/v1/villages/"} <= set(paths)
    params = {p["name"] for p in paths["/api/v1/residents/"]["get"]["parameters"]}
    assert {"village", "household", "sex", "birth_year_min", "birth_year_max", "search", "page"} <= params
    national = client_for("localhost", unit_staff("15")).get("/api/schema/", {"format": "json"})
    assert national.status_code == 200
    assert "/api/v1/communes/{commune_code}/residents/" in national.json()["paths"]
