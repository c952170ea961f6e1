"""The national host's API for supervising-unit staff."""
import re

import pytest
from rest_framework.authtoken.models import Token

from communes.models import SupervisingUnit


@pytest.fixture
def lao_cai_staff(make_user, communes):
    return make_user("staff_laocai", units=[SupervisingUnit.objects.get(code="15")])


@pytest.fixture
def thanh_hoa_staff(make_user, communes):
    return make_user("staff_thanhhoa", units=[SupervisingUnit.objects.get(code="38")])


def token_client(client_for, user):
    token, _ = Token.objects.get_or_create(user=user)
    return client_for("localhost"), {"HTTP_AUTHORIZATION": f"Token {token.key}"}


def test_staff_see_only_their_communes(lao_cai_staff, thanh_hoa_staff, client_for):
    client, auth = token_client(client_for, lao_cai_staff)
    body = client.get("/api/v1/communes/", **auth).json()
    assert [c["code"] for c in body["results"]] == ["04630"]
    assert body["results"][0]["host"] == "tule.localhost"
    client, auth = token_client(client_for, thanh_hoa_staff)
    body = client.get("/api/v1/communes/", **auth).json()
    assert [c["code"] for c in body["results"]] == ["16144"]


def test_commune_outside_unit_is_the_same_404_as_unknown(lao_cai_staff, client_for):
    client, auth = token_client(client_for, lao_cai_staff)
    outside = client.get("/api/v1/communes/16144/", **auth)
    unknown = client.get("/api/v1/communes/99999/", **auth)
    assert outside.status_code == unknown.status_code == 404
    assert outside.json() == unknown.json()
    assert set(outside.json()) == {"code", "detail", "fields"}
    assert client.get("/api/v1/communes/04630/", **auth).json()["name"] == "Tú Lệ"


def test_district_under_province_is_covered(make_user, communes, client_for):
    """Staff of a province read communes attached to a district below it."""
    province = SupervisingUnit.objects.get(code="38")
    district = SupervisingUnit.objects.create(code="38-NS", name="Nga Sơn", kind="district", parent=province)
    nga_an = communes["ngaan"]
    nga_an.supervising_unit = district
    nga_an.save()
    staff = make_user("prov38", units=[province])
    client, auth = token_client(client_for, staff)
    assert client.get("/api/v1/communes/16144/", **auth).status_code == 200
    district_staff = make_user("dist", units=[district])
    client, auth = token_client(client_for, district_staff)
    assert [c["code"] for c in client.get("/api/v1/communes/", **auth).json()["results"]] == ["16144"]


def test_anonymous_gets_machine_readable_401(db, client_for):
    response = client_for("localhost").get("/api/v1/communes/")
    assert response.status_code in (401, 403)
    body = response.json()
    assert set(body) == {"code", "detail", "fields"}
    assert body["code"] == "not_authenticated"
    assert body["detail"] != "Authentication credentials were not provided."  # Vietnamese


def test_unknown_api_path_is_json_404(db, client_for):
    response = client_for("localhost").get("/api/v1/nothing-here/")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_bad_token_is_401_json(db, client_for):
    response = client_for("localhost").get("/api/v1/communes/", HTTP_AUTHORIZATION="Token nope")
    assert response.status_code == 401
    assert response.json()["code"] == "authentication_failed"


def test_openapi_schema_and_offline_swagger(db, tule, client_for):
    for host in ("localhost", "tule.localhost"):
        client = client_for(host)
        schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
        assert schema.status_code == 200
        assert schema.json()["openapi"].startswith("3.")
        docs = client.get("/api/docs/")
        assert docs.status_code == 200
        html = docs.content.decode()
        assert "swagger-ui" in html
        # Every script and stylesheet is served from this host (a CSRF token may contain "cdn").
        outside = re.findall(r'(?:src|href)="(?:https?:)?//[^"]+"', html)
        assert not outside, outside


@pytest.mark.parametrize("code, status", [("%00", 400), ("abc", 404), ("1" * 300, 404), ("04630%00", 400)])
def test_malformed_codes_are_refused(lao_cai_staff, client_for, code, status):
    """Unknown codes are 404; a NUL character is refused at the door with 400."""
    client, auth = token_client(client_for, lao_cai_staff)
    for path in (f"/api/v1/communes/{code}/", f"/api/v1/communes/{code}/residents/"):
        response = client.get(path, **auth)
        assert response.status_code == status
        assert set(response.json()) == {"code", "detail", "fields"}


@pytest.mark.parametrize("urlconf", ["config.urls_public", "config.urls_tenant"])
def test_openapi_schemas_generate_without_warnings(urlconf, tmp_path):
    from django.core.management import call_command

    call_command("spectacular", urlconf=urlconf, validate=True, fail_on_warn=True, file=str(tmp_path / "schema.yml"))
    assert (tmp_path / "schema.yml").read_text(encoding="utf-8").startswith("openapi: 3")
