"""Pages: accent-insensitive search, masked lists, forms with day-first dates, access log."""
import datetime

import pytest

from communes.models import Role
from population.models import AccessLog, Household, Resident, Village
from tests.population.conftest import AN_ID, BINH_ID
from tests.population.conftest import vi


@pytest.fixture
def specialist(registry, official, client_for):
    return client_for("tule.localhost", official(Role.SPECIALIST))


@pytest.mark.parametrize("query, found", [
    ("nguyen van an", {"Nguyễn Văn An"}),
    ("NGUYEN", {"Nguyễn Văn An", "Nguyễn Thị Hoa"}),
    ("Nguyễn Văn An", {"Nguyễn Văn An"}),
    ("Nguye\u0302\u0303n va\u0306n", {"Nguyễn Văn An"}),  # decomposed accents
    ("duc", {"Hà Văn Đức"}),
    ("đức", {"Hà Văn Đức"}),
    ("an nguyen", {"Nguyễn Văn An"}),
    ("lo thi binh", {"Lò Thị Bình"}),
    ("TL-002", {"Hà Văn Đức"}),
    (AN_ID, {"Nguyễn Văn An"}),
    ("tran", set()),
])
def test_accent_insensitive_search(specialist, query, found):
    page = specialist.get("/population/", {"q": query}).content.decode()
    names = {"Nguyễn Văn An", "Lò Thị Bình", "Nguyễn Thị Hoa", "Hà Văn Đức"}
    assert {n for n in names if n in page} == found
    api = specialist.get("/api/v1/residents/", {"search": query}).json()
    assert {r["full_name"] for r in api["results"]} == found


def test_list_masks_detail_shows_and_logs(specialist, registry, in_commune, tule):
    page = specialist.get("/population/").content.decode()
    assert "015******456" in page and AN_ID not in page
    household_page = specialist.get(f"/population/households/{registry['households'][0].pk}/").content.decode()
    assert "015******321" in household_page and BINH_ID not in household_page
    with in_commune(tule):
        assert not AccessLog.objects.filter(action="view").exists()
    detail = specialist.get(f"/population/residents/{registry['an'].pk}/")
    assert detail.status_code == 200 and AN_ID in detail.content.decode()
    api_detail = specialist.get(f"/api/v1/residents/{registry['binh'].pk}/")
    assert api_detail.json()["personal_id"] == BINH_ID
    with in_commune(tule):
        views = list(AccessLog.objects.filter(action="view").order_by("pk"))
        assert [(v.channel, v.object_type, v.object_id) for v in views] == [
            ("page", "resident", str(registry["an"].pk)), ("api", "resident", str(registry["binh"].pk))]
        assert all(v.username.startswith("user") and v.user_id for v in views)


def test_search_is_logged_and_filters_paginate(specialist, registry, in_commune, tule):
    luot = registry["villages"][0]
    with in_commune(tule):
        h = Household.objects.get(code="TL-002")
        for i in range(55):
            Resident.objects.create(household=h, full_name=f"Lường Văn Số {i}", birth_date=datetime.date(2000, 1, 1),
                                    sex="male", relation="child")
    first = specialist.get("/population/", {"q": "luong van so"}).content.decode()
    assert "Lường Văn Số" in first and "page=2" in first and "q=luong+van+so" in first
    second = specialist.get("/population/", {"q": "luong van so", "page": "2"})
    assert second.status_code == 200 and second.content.decode().count("Lường Văn Số") == 5
    assert specialist.get("/population/", {"page": "999999999999999999999"}).status_code == 200
    village_page = specialist.get("/population/", {"village": str(luot.pk)}).content.decode()
    assert "Nguyễn Văn An" in village_page and "Hà Văn Đức" not in village_page
    with in_commune(tule):
        assert AccessLog.objects.filter(action="search", description__contains="luong van so").count() == 2


def test_create_form_reads_day_first(specialist, registry, in_commune, tule):
    h2 = registry["households"][1]
    response = specialist.post("/population/residents/new/", {
        "household": h2.pk, "full_name": "Hà Thị Mai", "birth_date": "03/04/2026", "sex": "female",
        "ethnicity": "03", "personal_id": "015326000001", "relation": "child", "phone": "",
    })
    assert response.status_code == 302
    with in_commune(tule):
        mai = Resident.objects.get(full_name="Hà Thị Mai")
        assert mai.birth_date == datetime.date(2026, 4, 3)
    edit = specialist.get(f"/population/residents/{mai.pk}/edit/")
    assert 'value="03/04/2026"' in edit.content.decode()


@pytest.mark.parametrize("personal_id, message", [
    ("015090000001", "The ID number does not match the sex."),
    ("015326000001", "The ID number does not match the birth year."),
    ("015125000001", "The ID number does not match the century of the birth year."),
    ("005325000001", "The first three digits of the ID number are not a province code."),
    ("01532500000X", "The ID number has exactly 12 digits."),
])
def test_create_form_rejects_bad_ids(specialist, registry, in_commune, tule, personal_id, message):
    with in_commune(tule):
        before = Resident.objects.count()
    response = specialist.post("/population/residents/new/", {
        "household": registry["households"][1].pk, "full_name": "Hà Thị Mai", "birth_date": "03/04/2025",
        "sex": "female", "ethnicity": "03", "personal_id": personal_id, "relation": "child",
    })
    assert response.status_code == 400
    assert vi(message) in response.context["form"].errors["personal_id"]
    with in_commune(tule):
        assert Resident.objects.count() == before


def test_form_head_rules_and_change_of_head(specialist, registry, in_commune, tule):
    h1 = registry["households"][0]
    second_head = specialist.post("/population/residents/new/", {
        "household": h1.pk, "full_name": "Người Thứ Hai", "birth_date": "01/01/1960", "sex": "male",
        "ethnicity": "01", "relation": "head",
    })
    assert second_head.status_code == 400 and "relation" in second_head.context["form"].errors
    an, binh = registry["an"], registry["binh"]
    data = {"household": h1.pk, "full_name": an.full_name, "birth_date": "01/05/1990", "sex": "male",
            "ethnicity": "03", "personal_id": AN_ID, "relation": "husband", "phone": ""}
    assert specialist.post(f"/population/residents/{an.pk}/edit/", data).status_code == 302
    data = {"household": h1.pk, "full_name": binh.full_name, "birth_date": "09/07/1992", "sex": "female",
            "ethnicity": "03", "personal_id": BINH_ID, "relation": "head", "phone": ""}
    assert specialist.post(f"/population/residents/{binh.pk}/edit/", data).status_code == 302
    with in_commune(tule):
        assert Household.objects.get(pk=h1.pk).head_id == binh.pk


def test_household_and_village_forms(specialist, registry, in_commune, tule):
    assert specialist.post("/population/villages/new/", {"name": " Tổ  dân phố 3 ", "kind": "to_dan_pho"}).status_code == 302
    assert specialist.post("/population/villages/new/", {"name": "Bản Lướt", "kind": "ban"}).status_code == 400
    with in_commune(tule):
        village = Village.objects.get(name="Tổ dân phố 3")
    response = specialist.post("/population/households/new/", {
        "code": "TL-100", "village": village.pk, "address": "Số 1", "phone": "091 234 5678",
        "latitude": "21.5", "longitude": "104.6", "address_code": "",
    })
    assert response.status_code == 302
    bad = specialist.post("/population/households/new/", {
        "code": "TL-101", "village": village.pk, "phone": "0212345678", "latitude": "91", "longitude": "104",
    })
    assert bad.status_code == 400 and {"phone", "latitude"} <= set(bad.context["form"].errors)
    with in_commune(tule):
        h = Household.objects.get(code="TL-100")
        assert h.phone == "0912345678" and h.address_code is None
        assert not Household.objects.filter(code="TL-101").exists()
    assert "Tổ dân phố 3" in specialist.get("/population/villages/").content.decode()
    assert "TL-100" in specialist.get("/population/households/", {"q": "tl-100"}).content.decode()


def test_every_page_renders_for_a_writer(specialist, registry):
    h1, an = registry["households"][0], registry["an"]
    for url in ["/population/", "/population/households/", f"/population/households/{h1.pk}/",
                "/population/households/new/", f"/population/households/{h1.pk}/edit/", "/population/villages/",
                "/population/residents/new/", f"/population/residents/new/?household={h1.pk}",
                f"/population/residents/{an.pk}/edit/", "/population/residents/import/"]:
        response = specialist.get(url)
        assert response.status_code == 200, url
        assert 'name="viewport"' in response.content.decode()
    assert specialist.get("/population/residents/999999999999999999999/").status_code == 404
