"""A commune's residents never leave its schema: other communes, outside units, other admins."""
from communes.models import Role
from population.models import AccessLog
from tests.population.conftest import AN_ID


def test_invisible_on_another_commune_host(registry, make_user, yenhoa, client_for):
    an = registry["an"]
    clerk = make_user("yh_clerk", roles={yenhoa: [Role.SPECIALIST]})
    c = client_for("yenhoa.localhost", clerk)
    page = c.get("/population/?q=nguyen van an")
    assert page.status_code == 200 and "Nguyễn Văn An" not in page.content.decode()
    assert c.get(f"/population/residents/{an.pk}/").status_code == 404
    assert c.get(f"/population/households/{an.household_id}/").status_code == 404
    api = c.get("/api/v1/residents/", {"search": "nguyen van an"})
    assert api.status_code == 200 and api.json()["count"] == 0
    assert c.get("/api/v1/residents/").json()["count"] == 0
    assert c.get(f"/api/v1/residents/{an.pk}/").status_code == 404
    assert c.get(f"/api/v1/residents/?search={AN_ID}").json()["count"] == 0


def test_supervising_unit_outside_gets_404_like_unknown_code(registry, unit_staff, client_for):
    ninh_binh = unit_staff("37")  # Yên Hòa's province, not Tú Lệ's
    c = client_for("localhost", ninh_binh)
    outside = c.get("/api/v1/communes/04630/residents/")
    unknown = c.get("/api/v1/communes/99999/residents/")
    assert outside.status_code == unknown.status_code == 404
    assert outside.json() == unknown.json()
    assert c.get(f"/api/v1/communes/04630/residents/{registry['an'].pk}/").status_code == 404


def test_province_staff_read_masked_and_cannot_write(registry, unit_staff, client_for, in_commune, tule):
    lao_cai = unit_staff("15")
    c = client_for("localhost", lao_cai)
    response = c.get("/api/v1/communes/04630/residents/", {"search": "nguyen van an"})
    assert response.status_code == 200
    [row] = response.json()["results"]
    assert row["full_name"] == "Nguyễn Văn An" and row["personal_id"] == "015******456"
    detail = c.get(f"/api/v1/communes/04630/residents/{registry['an'].pk}/")
    assert detail.status_code == 200 and detail.json()["personal_id"] == "015******456"
    assert AN_ID not in detail.content.decode()
    with in_commune(tule):
        log = AccessLog.objects.get(action="view")
        assert (log.username, log.channel, log.object_id) == ("staff_15", "api", str(registry["an"].pk))
    export = c.get("/api/v1/communes/04630/residents/export/")
    assert export.status_code == 200 and AN_ID.encode() not in export.content
    post = c.post("/api/v1/communes/04630/residents/", {
        "household": registry["households"][0].pk, "full_name": "X", "birth_date": "01/01/2000",
        "sex": "male", "ethnicity": "01", "relation": "child",
    }, content_type="application/json")
    assert post.status_code == 403
    assert c.delete(f"/api/v1/communes/04630/residents/{registry['an'].pk}/").status_code == 403
    assert c.patch(f"/api/v1/communes/04630/households/{registry['households'][0].pk}/", {"note": "x"},
                   content_type="application/json").status_code == 403
    # Staff of a unit get nothing on the commune's own host.
    assert client_for("tule.localhost", lao_cai).get("/api/v1/residents/").status_code == 403
    assert client_for("tule.localhost", lao_cai).get("/population/").status_code == 403


def test_official_of_one_commune_cannot_use_another(registry, make_user, tule, client_for):
    admin_tule = make_user("admin_tule", roles={tule: [Role.COMMUNE_ADMIN]}, is_staff=True)
    other = client_for("yenhoa.localhost", admin_tule)
    assert other.get("/api/v1/residents/").status_code == 403
    assert other.post("/api/v1/villages/", {"name": "Thôn 1"}, content_type="application/json").status_code == 403
    assert other.get("/population/").status_code == 403
    admin = other.get("/admin/population/resident/")
    assert admin.status_code == 302 and "login" in admin["Location"]
    # At home the same user opens the registry admin.
    home = client_for("tule.localhost", admin_tule).get("/admin/population/resident/")
    assert home.status_code == 200 and "Nguyễn Văn An" in home.content.decode()
    history = client_for("tule.localhost", admin_tule).get(f"/admin/population/resident/{registry['an'].pk}/history/")
    assert history.status_code == 200


def test_hostile_national_queries(registry, unit_staff, client_for):
    c = client_for("localhost", unit_staff("15"))
    for url in [
        "/api/v1/communes/04630/residents/?village=99999999999999999999999&page=abc",
        "/api/v1/communes/04630/residents/?birth_year_min=-1&search=%00",
        "/api/v1/communes/04630/residents/99999999999999999/",
        "/api/v1/communes/%00/residents/",
        "/api/v1/communes/" + "9" * 300 + "/residents/",
    ]:
        response = c.get(url)
        assert response.status_code in (200, 400, 404), url
    assert client_for("localhost").get("/api/v1/communes/04630/residents/").status_code == 401
