"""Who reads personal health records: the role matrix over every page and API endpoint of the
records, the API for health staff (masked IDs, logged reads, create, update, errors as JSON),
the citizen's own record (linking right, wrong and throttled; a citizen reads only their own;
every read logged with the person as user), the station linking an account, and the inbox."""
from __future__ import annotations

import datetime

import pytest

from tests.health.test_records import HOST, health_log, pdf_text

pytestmark = pytest.mark.django_db


@pytest.fixture
def everyone(people, make_user, tule):
    return {**people, "supervisor": make_user("health_sup", units=[tule.supervising_unit]), "anonymous": None}


@pytest.fixture
def an_import(tule, in_commune, people):
    from health.models import RecordImport

    with in_commune(tule):
        return RecordImport.objects.create(file_name="ho-so.xlsx", rows=1, good_rows=0,
                                           errors=[{"row": 2, "field": "x", "message": "y"}])


def staff_pages(station, an_import):
    pk = station["records"]["grandfather"].pk
    return ["/health/records/", "/health/records/?without_record=1", "/health/records/new/",
            f"/health/records/new/?resident={station['father'].pk}", f"/health/records/{pk}/",
            f"/health/records/{pk}/edit/", f"/health/records/{pk}/conditions/", f"/health/records/{pk}/pdf/",
            f"/health/records/{pk}/delete/", f"/health/records/{pk}/link/", "/health/records/import/",
            "/health/records/import/template.xlsx", f"/health/records/import/{an_import.pk}/",
            f"/health/records/import/{an_import.pk}/errors.xlsx"]


AGGREGATE_PAGES = ["/health/coverage/", "/health/coverage/?format=xlsx"]


@pytest.mark.parametrize("who", ["nurse", "chairman", "radio", "onestop", "citizen", "supervisor", "anonymous"])
def test_role_matrix_over_every_page(who, everyone, station, an_import, client_for):
    client = client_for(HOST, everyone[who])
    for url in staff_pages(station, an_import):
        status = client.get(url).status_code
        expected = {"nurse": 200, "anonymous": 302}.get(who, 403)
        assert status == expected, (who, url, status)
    for url in AGGREGATE_PAGES:
        status = client.get(url).status_code
        expected = {"nurse": 200, "chairman": 200, "anonymous": 302}.get(who, 403)
        assert status == expected, (who, url, status)
    # Writes are refused the same way, and nothing is written.
    pk = station["records"]["grandfather"].pk
    posts = [("/health/records/new/", {"resident": station["father"].pk, "opened_on": "01/06/2026"}),
             (f"/health/records/{pk}/delete/", {"confirm": "yes"}),
             (f"/health/records/{pk}/conditions/", {"action": "add", "icd10": "I10", "diagnosed_on": "01/01/2020"}),
             (f"/health/records/{pk}/link/", {"account": "health_citizen"})]
    if who != "nurse":
        for url, data in posts:
            status = client.post(url, data).status_code
            assert status == {"anonymous": 302}.get(who, 403), (who, url, status)


@pytest.mark.parametrize("who", ["nurse", "chairman", "radio", "onestop", "citizen", "supervisor", "anonymous"])
def test_role_matrix_over_the_api(who, everyone, station, client_for, tule, in_commune):
    from health.models import HealthRecord

    client = client_for(HOST, everyone[who])
    pk = station["records"]["grandfather"].pk
    calls = [("get", "/api/v1/health/records/", None), ("get", f"/api/v1/health/records/{pk}/", None),
             ("post", "/api/v1/health/records/", {"resident_id": station["father"].pk, "opened_on": "2026-06-01"}),
             ("patch", f"/api/v1/health/records/{pk}/", {"occupation": "Làm ruộng"})]
    for method, url, body in calls:
        response = getattr(client, method)(url, body, content_type="application/json") if body else client.get(url)
        expected = {"nurse": (200 if method in ("get", "patch") else 201), "anonymous": 401}.get(who, 403)
        assert response.status_code == expected, (who, method, url, response.status_code)
        assert response["Content-Type"].startswith("application/json")
        if expected >= 400:
            assert response.json()["code"] in ("not_authenticated", "permission_denied")
    if who != "nurse":
        with in_commune(tule):
            assert HealthRecord.objects.count() == 3


def test_supervisors_never_reach_records_on_the_national_host(station, everyone, client_for):
    national = client_for("localhost", everyone["supervisor"])
    response = national.get("/api/v1/communes/04630/health/records/")
    assert response.status_code in (403, 404)
    assert "Lò Văn" not in response.content.decode()


def test_the_api_masks_ids_filters_and_logs(station, people, client_for, tule, in_commune):
    client = client_for(HOST, people["nurse"])
    listing = client.get("/api/v1/health/records/", {"q": "lo van", "village": station["village"].pk}).json()
    names = sorted(row["resident"]["full_name"] for row in listing["results"])
    assert names == ["Lò Văn Bé", "Lò Văn Ông"]
    grandfather = [row for row in listing["results"] if row["resident"]["full_name"] == "Lò Văn Ông"][0]
    assert grandfather["resident"]["masked_id"] == "015******234"
    assert "015058001234" not in str(listing)
    pk = station["records"]["grandfather"].pk
    detail = client.get(f"/api/v1/health/records/{pk}/")
    assert detail.status_code == 200 and detail.json()["resident"]["household"] == "TY-001"
    searches = health_log(in_commune, tule, action="search", channel="api")
    assert len(searches) == 1 and "q=lo van" in searches[0].description
    reads = health_log(in_commune, tule, action="view", channel="api", object_id=str(pk))
    assert [line.username for line in reads] == ["health_nurse"]


def test_the_api_creates_updates_and_refuses_with_json(station, people, client_for, tule, in_commune):
    from health.models import HealthRecord

    client = client_for(HOST, people["nurse"])
    created = client.post("/api/v1/health/records/", {
        "resident_id": station["father"].pk, "opened_on": "2026-06-01", "blood_group": "B",
        "insurance_number": "gd 415 1234567890"}, content_type="application/json")
    assert created.status_code == 201, created.json()
    assert created.json()["insurance_number"] == "GD4151234567890"
    duplicate = client.post("/api/v1/health/records/", {"resident_id": station["baby"].pk, "opened_on": "2026-06-01"},
                            content_type="application/json")
    assert duplicate.status_code == 409 and duplicate.json()["code"] == "duplicate"
    assert duplicate.json()["detail"] == "Người dân này đã có hồ sơ sức khỏe."
    bad = client.patch(f"/api/v1/health/records/{created.json()['id']}/",
                       {"opened_on": "1980-01-01", "blood_group": "Z"}, content_type="application/json")
    assert bad.status_code == 400 and set(bad.json()["fields"]) == {"blood_group"}
    before_birth = client.patch(f"/api/v1/health/records/{created.json()['id']}/", {"opened_on": "1980-01-01"},
                                content_type="application/json")
    assert before_birth.status_code == 400 and "opened_on" in before_birth.json()["fields"]
    unknown = client.post("/api/v1/health/records/", {"resident_id": 999999999, "opened_on": "2026-06-01"},
                          content_type="application/json")
    assert unknown.status_code == 400 and "resident_id" in unknown.json()["fields"]
    garbage = client.post("/api/v1/health/records/", "not json", content_type="application/json")
    assert garbage.status_code == 400
    with in_commune(tule):
        record = HealthRecord.objects.get(resident=station["father"])
        assert (record.blood_group, record.opened_on) == ("B", datetime.date(2026, 6, 1))


def test_the_openapi_schema_documents_the_records(people, client_for):
    schema = client_for(HOST, people["nurse"]).get("/api/schema/", {"format": "json"})
    if schema.status_code == 404:
        pytest.skip("no schema URL on this host")
    assert "/api/v1/health/records/" in schema.content.decode()


# --- the citizen -------------------------------------------------------------------------------------

def test_a_citizen_links_with_the_right_id_and_birth_date_and_reads_only_their_own(
        station, people, client_for, tule, in_commune):
    citizen = people["citizen"]
    client = client_for(HOST, citizen)
    page = client.get("/my-health/")
    assert page.status_code == 200 and "Liên kết tài khoản" in page.content.decode()
    linked = client.post("/my-health/", {"personal_id": "015195004321", "birth_date": "20/11/1995"})
    assert linked.status_code == 302
    mine = station["records"]["mother"]
    listing = client.get("/my-health/").content.decode()
    assert "Lường Thị Mẹ" in listing and "Lò Văn Ông" not in listing
    own = client.get(f"/my-health/{mine.pk}/")
    assert own.status_code == 200 and "Lường Thị Mẹ" in own.content.decode()
    assert 'name="viewport" content="width=device-width' in own.content.decode()
    pdf = client.get(f"/my-health/{mine.pk}/pdf/")
    assert pdf.status_code == 200 and "Lường Thị Mẹ" in pdf_text(pdf.content)
    # Another resident's record, and the staff's pages, stay closed.
    assert client.get(f"/my-health/{station['records']['grandfather'].pk}/").status_code == 403
    assert client.get(f"/my-health/{station['records']['grandfather'].pk}/pdf/").status_code == 403
    assert client.get(f"/health/records/{mine.pk}/").status_code == 403
    assert client.get(f"/api/v1/health/records/{mine.pk}/").status_code == 403
    reads = health_log(in_commune, tule, action="view", object_id=str(mine.pk))
    described = [(line.username, line.channel, line.description) for line in reads]
    assert ("health_citizen", "page", "own record") in described
    assert ("health_citizen", "page", "own record PDF") in described
    assert all(line.user_id == citizen.pk for line in reads)


@pytest.mark.parametrize("typed", [
    {"personal_id": "015195004321", "birth_date": "21/11/1995"},  # wrong birth date
    {"personal_id": "015195009999", "birth_date": "20/11/1995"},  # an ID that does not exist
    {"personal_id": "015058001234", "birth_date": "20/11/1995"},  # someone else's ID
])
def test_a_mismatch_says_so_without_telling_which_part(typed, station, people, client_for, tule, in_commune):
    from health.models import CitizenLink

    response = client_for(HOST, people["citizen"]).post("/my-health/", typed)
    body = response.content.decode()
    assert response.status_code == 200
    assert "Thông tin này không khớp với nhân khẩu nào trong sổ của xã." in body
    assert typed["personal_id"] in body  # what was typed is kept
    with in_commune(tule):
        assert not CitizenLink.objects.exists()


def test_linking_attempts_are_throttled(station, people, client_for):
    client = client_for(HOST, people["citizen"])
    statuses = [client.post("/my-health/", {"personal_id": "015195009999", "birth_date": "20/11/1995"}).status_code
                for _ in range(6)]
    assert statuses == [200] * 5 + [429]
    # Even the right details wait for the window to close.
    right = client.post("/my-health/", {"personal_id": "015195004321", "birth_date": "20/11/1995"})
    assert right.status_code == 429 and "Quá nhiều lần thử" in right.content.decode()


def test_the_own_pages_need_a_login(station, client_for):
    anonymous = client_for(HOST)
    assert anonymous.get("/my-health/").status_code == 302
    assert anonymous.get(f"/my-health/{station['records']['mother'].pk}/").status_code == 302


def test_the_station_links_an_account_by_phone(station, people, client_for, tule, in_commune):
    from health.models import CitizenLink

    record = station["records"]["grandfather"]
    nurse = client_for(HOST, people["nurse"])
    unknown = nurse.post(f"/health/records/{record.pk}/link/", {"account": "0999999999"})
    assert unknown.status_code == 200 and "Không có tài khoản nào" in unknown.content.decode()
    linked = nurse.post(f"/health/records/{record.pk}/link/", {"account": "0912345670"})
    assert linked.status_code == 302
    with in_commune(tule):
        link = CitizenLink.objects.get()
        assert (link.user_id, link.method, link.linked_by_id) == (people["citizen"].pk, "station", people["nurse"].pk)
    assert client_for(HOST, people["citizen"]).get(f"/my-health/{record.pk}/").status_code == 200


def test_the_inbox_shows_residents_without_a_record_and_waiting_imports(station, an_import, people, client_for):
    body = client_for(HOST, people["nurse"]).get("/health/").content.decode()
    assert "Nhân khẩu trong sổ chưa có hồ sơ sức khỏe" in body
    assert "/health/records/?without_record=1" in body
    assert "/health/records/import/" in body
    chairman = client_for(HOST, people["chairman"]).get("/health/").content.decode()
    assert "without_record=1" not in chairman
