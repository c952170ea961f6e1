"""Every page of both hosts, for every role, with hostile query strings: never a 500."""
import re

import pytest

from communes.models import Role

JUNK = [
    "", "?page=abc", "?page=-1", "?page=99999999999999999999", "?q=%00", "?q=" + "ả" * 500,
    "?village=1e309", "?village=-5", "?sex=both", "?year=0", "?ordering=;drop", "?next=//evil.example",
    "?search=%ff%fe", "?page_size=100000000",
]


def page_paths(urlconf: str, **kwargs) -> list[str]:
    """Every GET page of a URLconf outside the API and the admin, with 1 for numeric parameters."""
    from tests.trust.url_walk import routes

    paths = [route.pattern for route in routes(urlconf)]
    out = []
    for route in paths:
        # /healthz answers 503 by design when no Celery worker runs (tests/jobs covers it).
        if route.startswith(("api/", "admin/", "i18n/", "healthz")) or "^" in route or "(?P" in route:
            continue
        values = {"pk": "1", "year": "2026", **kwargs}
        concrete = re.sub(r"<\w+:(\w+)>", lambda m: values.get(m.group(1), m.group(0)), route)
        if "<" in concrete:
            continue
        out.append("/" + concrete)
    return sorted(set(out))


@pytest.mark.parametrize("role", [None, *Role])
def test_every_role_gets_an_answer_on_every_commune_page(db, tule, make_user, client_for, role):
    user = make_user(f"fuzz_{role or 'none'}", roles={tule: [role]} if role else {})
    client = client_for("tule.localhost", user)
    for path in page_paths("config.urls_tenant"):
        response = client.get(path)
        assert response.status_code < 500, (path, response.status_code)


def test_commune_pages_never_fail_on_hostile_queries(db, tule, make_user, client_for):
    user = make_user("fuzz_all_roles", roles={tule: list(Role)})
    client = client_for("tule.localhost", user)
    paths = page_paths("config.urls_tenant")
    assert "/population/" in paths and "/notifications/" in paths
    for path in paths:
        for junk in JUNK:
            response = client.get(path + junk)
            assert response.status_code < 500, (path + junk, response.status_code)


def test_national_pages_never_fail(db, communes, make_user, client_for):
    client = client_for("localhost", make_user("fuzz_national"))
    paths = page_paths("config.urls_public", code="15")
    assert "/" in paths and "/provinces/15/" in paths
    for path in paths + ["/provinces/%00/", "/provinces/" + "9" * 300 + "/", "/calendar/99999/"]:
        for junk in JUNK:
            response = client.get(path + junk)
            assert response.status_code < 500, (path + junk, response.status_code)


def test_nul_characters_are_refused_at_the_door(db, tule, client_for):
    client = client_for("localhost")
    assert client.get("/provinces/%00/").status_code == 400
    api = client.get("/api/v1/communes/?kind=%00")
    assert api.status_code == 400 and api.json()["code"] == "bad_request"
