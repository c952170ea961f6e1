import pytest

from communes.models import Role


def test_unknown_host_is_404_not_500(db, client_for):
    response = client_for("nowhere.localhost").get("/")
    assert response.status_code == 404
    assert "Không tìm thấy trang".encode() in response.content


def test_unknown_host_api_is_404(db, client_for):
    response = client_for("nowhere.localhost").get("/api/v1/residents/")
    assert response.status_code == 404


def test_national_home_lists_provinces(db, communes, client_for):
    response = client_for("localhost").get("/")
    assert response.status_code == 200
    text = response.content.decode()
    assert "Lào Cai" in text and "Thanh Hóa" in text


def test_province_page_links_communes(db, communes, client_for):
    response = client_for("localhost").get("/provinces/15/")
    assert response.status_code == 200
    assert "tule.localhost" in response.content.decode()


def test_visitors_get_the_public_home_and_officials_pages_require_login(db, tule, client_for):
    client = client_for("tule.localhost")
    response = client.get("/")
    assert response.status_code == 200 and 'action="/lookup/"' in response.content.decode()
    response = client.get("/population/")
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_commune_admin_requires_membership_in_this_commune(db, tule, yenhoa, make_user, client_for):
    admin_tule = make_user("admin_tule", roles={tule: [Role.COMMUNE_ADMIN]}, is_staff=True)
    assert client_for("tule.localhost", admin_tule).get("/admin/").status_code == 200
    # The same user (is_staff) on another commune's host: the admin does not open.
    response = client_for("yenhoa.localhost", admin_tule).get("/admin/")
    assert response.status_code == 302 and "login" in response["Location"]
    # A superuser without a membership opens nothing on a commune host either.
    root = make_user("root", is_staff=True, is_superuser=True)
    assert client_for("tule.localhost", root).get("/admin/").status_code == 302
    assert client_for("localhost", root).get("/admin/").status_code == 200


def test_commune_admin_manages_only_its_own_memberships(db, tule, yenhoa, make_user, client_for):
    admin_tule = make_user("adm", roles={tule: [Role.COMMUNE_ADMIN]})
    other = make_user("other_official", roles={yenhoa: [Role.CLERK]})
    newcomer = make_user("newcomer")
    client = client_for("tule.localhost", admin_tule)
    listing = client.get("/admin/communes/membership/").content.decode()
    assert "adm" in listing and "other_official" not in listing
    response = client.post("/admin/communes/membership/add/", {"username": "newcomer", "role": "clerk", "job_title": "Văn thư", "is_active": "on"})
    assert response.status_code == 302
    from communes.models import Membership

    assert Membership.objects.get(user=newcomer).commune == tule
    theirs = Membership.objects.get(user=other)
    assert client.get(f"/admin/communes/membership/{theirs.pk}/change/").status_code in (302, 404)
    response = client.post("/admin/communes/membership/add/", {"username": "nobody", "role": "clerk"})
    assert response.status_code == 200 and Membership.objects.filter(user__username="nobody").count() == 0


@pytest.mark.parametrize("host", ["bad host", "xa_tule.localhost", "-x.localhost", "a" * 300, ""])
def test_create_commune_refuses_bad_hosts_and_leaves_nothing(db, host):
    from django.core.exceptions import ValidationError

    from communes.models import Commune
    from communes.provisioning import schema_exists
    from communes.services import create_commune

    with pytest.raises(ValidationError) as error:
        create_commune(code="00097", name="Phúc Xá", domain=host, province_code="01")
    assert "domain" in error.value.message_dict
    assert not Commune.objects.filter(code="00097").exists()
    assert not schema_exists("c_00097")


def test_create_commune_undoes_itself_when_the_host_cannot_be_saved(db, monkeypatch):
    from communes.models import Commune, Domain
    from communes.provisioning import schema_exists
    from communes.services import create_commune

    def fail(*args, **kwargs):
        raise RuntimeError("host table unavailable")

    monkeypatch.setattr(Domain.objects, "create", fail)
    with pytest.raises(RuntimeError):
        create_commune(code="00097", name="Phúc Xá", domain="phucxa.localhost", province_code="01")
    assert not Commune.objects.filter(code="00097").exists()
    assert not schema_exists("c_00097")


def test_commune_admin_logs_in_through_the_admin_without_is_staff(db, tule, yenhoa, make_user, client_for):
    """The admin has no login page of its own: the one login page (password, then the code of
    the authenticator app), and then the commune-administrator role of this host, not is_staff."""
    admin = make_user("quantri", roles={tule: [Role.COMMUNE_ADMIN]}, password="Mat-khau-2026!")
    clerk = make_user("vanthu", roles={tule: [Role.CLERK]}, password="Mat-khau-2026!")
    client = client_for("tule.localhost")
    response = client.post("/admin/login/?next=/admin/", {"username": "quantri", "password": "Mat-khau-2026!", "next": "/admin/"})
    assert response.status_code == 302 and response["Location"] == "/accounts/login/?next=/admin/"
    assert "_auth_user_id" not in client.session
    assert client_for("tule.localhost", admin).get("/admin/").status_code == 200
    # A clerk of the commune, or the commune's administrator on another commune's host: refused.
    refused = client_for("tule.localhost", clerk).get("/admin/")
    assert refused.status_code == 302 and refused["Location"].startswith("/admin/login/")
    elsewhere = client_for("yenhoa.localhost", admin).get("/admin/")
    assert elsewhere.status_code == 302 and elsewhere["Location"].startswith("/admin/login/")


def test_oversized_request_bodies_are_refused_before_reading(db, tule, make_user, client_for, settings):
    settings.XASO_MAX_REQUEST_BYTES = 1000
    specialist = make_user("big", roles={tule: [Role.SPECIALIST]})
    client = client_for("tule.localhost", specialist)
    api = client.post("/api/v1/residents/", data="x" * 10, content_type="application/json", CONTENT_LENGTH="5000000")
    assert api.status_code == 413
    assert api.json()["code"] == "request_too_large" and "1000" in api.json()["detail"]
    page = client.post("/population/residents/import/", data="x" * 10, content_type="text/plain", CONTENT_LENGTH="5000000")
    assert page.status_code == 413 and "giới hạn" in page.content.decode()
    assert client.post("/api/v1/residents/", data={}, content_type="application/json").status_code == 400
