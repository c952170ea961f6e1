"""Which roles need the second factor, from the apps' own permission tables, and the root rule
that holds every request of such a user until the session is confirmed."""
from __future__ import annotations

import pytest

from communes import second_factor as sf
from communes.models import Role

HOST = "tule.localhost"
READ_ONLY_ACTIONS = {"module.open", "notices.read"}


def _is_read(action: str) -> bool:
    return action in READ_ONLY_ACTIONS or action.endswith(".read")


def roles_with_powers() -> dict[str, set[str]]:
    """{role: actions} of every role that can do something other than read, in the permission
    tables of the apps that approve, sign, issue, broadcast, send campaigns, export or administer.
    A new action in any table counts here unless it is a read."""
    from broadcasting import permissions as broadcasting
    from documents import permissions as documents
    from ecommerce import permissions as ecommerce
    from notifications import permissions as notifications
    from onestop import permissions as onestop
    from population import permissions as population
    from signatures import permissions as signatures

    powers: dict[str, set[str]] = {}

    def grant(roles, action):
        for role in roles:
            powers.setdefault(str(role), set()).add(action)

    for app, table in (("documents", documents.ACTION_ROLES), ("onestop", onestop.ACTION_ROLES),
                       ("broadcasting", broadcasting.ACTION_ROLES)):
        for action, roles in table.items():
            if not _is_read(action):
                grant(roles, f"{app}:{action}")
    grant(signatures.SIGNER_ROLES, "signatures:sign")
    grant(signatures.ADMIN_ROLES, "signatures:manage")
    grant(notifications.SENDER_ROLES, "notifications:send campaign")
    grant(population.WRITE_ROLES, "population:write and export full IDs")
    grant(population.READ_ROLES | population.WRITE_ROLES, "population:export the registry")
    for action in ecommerce.APPROVE_ACTIONS:  # producers write their own rows: not an approval
        grant(ecommerce.ACTION_ROLES[action], f"ecommerce:{action}")
    # The schools: every action of a position in a school is the school_staff role's.
    from education import permissions as education

    for action in education.SCHOOL_ACTIONS:
        if not _is_read(action):
            grant({education.SCHOOL_STAFF}, f"education:{action}")
    return powers


def test_every_role_that_approves_signs_issues_broadcasts_or_administers_needs_the_second_factor():
    powers = roles_with_powers()
    missing = {role: sorted(actions) for role, actions in powers.items() if role not in sf.second_factor_roles()}
    assert not missing, f"roles with such actions but no second factor: {missing}"
    # The table is not empty by accident: the leaders, the clerk and the administrator are in it.
    assert {"chairman", "vice_chairman", "clerk", "commune_admin", "school_staff"} <= set(powers)


def test_the_installation_cannot_take_a_role_out(settings):
    settings.XASO_SECOND_FACTOR_ROLES = ["tech_team"]
    assert sf.second_factor_roles() == set(sf.ROLES_NEEDING_SECOND_FACTOR) | {"tech_team"}


@pytest.fixture
def chairman(make_user, tule):
    return make_user("sf_chairman", roles={tule: [Role.CHAIRMAN]}, full_name="Lò Văn Chủ")


def test_an_unconfirmed_session_reaches_only_the_login_and_code_pages(db, chairman, client_for):
    client = client_for(HOST, chairman, second_factor=False)
    page = client.get("/documents/")
    assert page.status_code == 302 and page["Location"] == "/accounts/2fa/?next=%2Fdocuments%2F"
    api = client.get("/api/v1/documents/outgoing/")
    assert api.status_code == 403
    assert api.json() == {"code": "second_factor_required", "detail": api.json()["detail"], "fields": {}}
    htmx = client.post("/radio/emergency/", HTTP_HX_REQUEST="true", HTTP_HX_CURRENT_URL="http://tule.localhost/radio/")
    assert htmx.status_code == 403 and htmx["HX-Redirect"] == "/accounts/2fa/?next=%2Fradio%2F"
    # A refused POST comes back to the page it was sent from.
    form = client.post("/radio/emergency/", HTTP_REFERER="http://tule.localhost/radio/emergency/")
    assert form["Location"] == "/accounts/2fa/?next=%2Fradio%2Femergency%2F"
    # Open: the code page itself, logout, health, the language switch, static files.
    assert client.get("/accounts/2fa/").status_code == 200
    assert client.get("/healthz").status_code in (200, 503)
    assert client.post("/i18n/setlang/", {"language": "vi"}).status_code == 302
    assert client.get("/static/vendor/htmx.min.js").status_code in (200, 404)
    assert client.post("/accounts/logout/").status_code == 302
    # Once confirmed, the same pages open.
    assert client_for(HOST, chairman).get("/documents/").status_code == 200


def test_a_role_given_after_the_login_asks_for_the_code(db, tule, make_user, client_for):
    user = make_user("sf_later", roles={tule: [Role.TECH_TEAM]})
    client = client_for(HOST, user)  # password only: the tech team does not need it
    assert client.get("/").status_code == 200
    from communes.models import Membership

    Membership.objects.create(user=user, commune=tule, role=Role.VICE_CHAIRMAN)
    response = client.get("/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/2fa/")


def test_a_token_of_a_user_who_needs_the_second_factor_only_reads(db, tule, make_user, client_for):
    from rest_framework.authtoken.models import Token

    clerk = make_user("sf_token_clerk", roles={tule: [Role.CLERK]})
    token = Token.objects.create(user=clerk)
    headers = {"HTTP_AUTHORIZATION": f"Token {token.key}"}
    client = client_for(HOST)
    assert client.get("/api/v1/documents/outgoing/", **headers).status_code == 200
    refused = client.post("/api/v1/documents/outgoing/1/issue/", {}, content_type="application/json", **headers)
    assert refused.status_code == 403 and refused.json()["code"] == "second_factor_required"
    # A token of a user who needs no second factor is not concerned (its role answers).
    health = make_user("sf_token_tech", roles={tule: [Role.TECH_TEAM]})
    other = Token.objects.create(user=health)
    answer = client.post("/api/v1/documents/outgoing/1/issue/", {}, content_type="application/json",
                         HTTP_AUTHORIZATION=f"Token {other.key}")
    assert answer.status_code == 403 and answer.json()["code"] != "second_factor_required"
