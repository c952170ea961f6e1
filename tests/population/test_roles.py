"""Every role × every endpoint of the registry, with exact status codes."""
import pytest

from communes.models import Role
from population.permissions import READ_ROLES, WRITE_ROLES

ALL_ROLES = [None] + [r.value for r in Role]


def expected(role):
    read = role in READ_ROLES
    write = role in WRITE_ROLES
    return {
        "list page": 200 if read else 403,
        "detail page": 200 if read else 403,
        "household page": 200 if read else 403,
        "create page POST": 302 if write else 403,
        "import page": 200 if write else 403,
        "export page": 200 if read else 403,
        "API list": 200 if read else 403,
        "API detail": 200 if read else 403,
        "API create": 201 if write else 403,
        "API update": 200 if write else 403,
        "API delete": 204 if write else 403,
        "API export": 200 if read else 403,
    }


def run_all(client, registry):
    h1 = registry["households"][0]
    new_resident = {
        "household": h1.pk, "full_name": "Lò Văn Mới", "birth_date": "03/04/2020",
        "sex": "male", "ethnicity": "03", "relation": "child",
    }
    return {
        "list page": client.get("/population/").status_code,
        "detail page": client.get(f"/population/residents/{registry['an'].pk}/").status_code,
        "household page": client.get(f"/population/households/{h1.pk}/").status_code,
        "create page POST": client.post("/population/residents/new/", new_resident).status_code,
        "import page": client.get("/population/residents/import/").status_code,
        "export page": client.get("/population/residents/export.xlsx").status_code,
        "API list": client.get("/api/v1/residents/").status_code,
        "API detail": client.get(f"/api/v1/residents/{registry['an'].pk}/").status_code,
        "API create": client.post("/api/v1/residents/", new_resident, content_type="application/json").status_code,
        "API update": client.patch(f"/api/v1/residents/{registry['binh'].pk}/", {"phone": "0912000111"},
                                   content_type="application/json").status_code,
        "API delete": client.delete(f"/api/v1/residents/{registry['baby'].pk}/").status_code,
        "API export": client.get("/api/v1/residents/export/").status_code,
    }


@pytest.mark.parametrize("role", ALL_ROLES, ids=lambda r: r or "no-membership")
def test_role_matrix(role, registry, official, client_for):
    client = client_for("tule.localhost", official(role))
    assert run_all(client, registry) == expected(role)


def test_role_lists_are_as_specified():
    assert {str(r) for r in READ_ROLES} == {
        "chairman", "vice_chairman", "clerk", "onestop_officer", "specialist", "health_staff",
        "school_staff", "commune_admin"}
    assert {str(r) for r in WRITE_ROLES} == {"onestop_officer", "specialist", "commune_admin"}


def test_anonymous(registry, client_for):
    client = client_for("tule.localhost")
    for url in ["/population/", f"/population/residents/{registry['an'].pk}/", "/population/residents/new/",
                "/population/residents/import/", "/population/residents/export.xlsx", "/population/villages/"]:
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"], url
    assert client.get("/api/v1/residents/").status_code == 401
    assert client.post("/api/v1/residents/", {}, content_type="application/json").status_code == 401


def test_module_on_officials_home(official, client_for, tule):
    page = client_for("tule.localhost", official(Role.HEALTH_STAFF)).get("/")
    assert "/population/" in page.content.decode()
    page = client_for("tule.localhost", official(Role.RADIO_OPERATOR)).get("/")
    assert "/population/" not in page.content.decode()
