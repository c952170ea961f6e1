"""Notifications: who may send, what is accepted, pages and API (the job itself runs elsewhere)."""
from __future__ import annotations

import pytest

from communes.models import Role
from notifications.models import Notification

SENDERS = [Role.CHAIRMAN, Role.VICE_CHAIRMAN, Role.CLERK, Role.RADIO_OPERATOR, Role.COMMUNE_ADMIN]
OTHERS = [r for r in Role if r not in SENDERS]
API = "/api/v1/notifications/"


def _payload(**extra):
    return {"channel": "sms", "message": "Mời bà con họp thôn", "recipients": ["0912 345 678", "+84987654321"], **extra}


@pytest.mark.parametrize("role", SENDERS)
def test_senders_can_list_create_and_read(db, tule, make_user, client_for, in_commune, role):
    client = client_for("tule.localhost", make_user(f"u_{role}", roles={tule: [role]}))
    response = client.post(API, _payload(), content_type="application/json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["state"] == "queued" and body["progress_percent"] == 0 and body["attempts"] == 0
    assert body["recipients"] == ["091*******", "098*******"]  # masked: the last digits are the lookup's secret
    with in_commune(tule):
        assert Notification.objects.get(pk=body["id"]).recipients == ["0912345678", "0987654321"]  # normalised
    assert client.get(API).json()["count"] == 1
    assert client.get(f"{API}{body['id']}/").json()["idempotency_key"] == body["idempotency_key"]
    assert client.get("/notifications/").status_code == 200
    assert client.get(f"/notifications/{body['id']}/").status_code == 200


@pytest.mark.parametrize("role", OTHERS)
def test_other_roles_are_refused(db, tule, make_user, client_for, in_commune, role):
    client = client_for("tule.localhost", make_user(f"u_{role}", roles={tule: [role]}))
    assert client.get(API).status_code == 403
    assert client.post(API, _payload(), content_type="application/json").status_code == 403
    assert client.get("/notifications/").status_code == 403
    assert client.post("/notifications/new/", {"channel": "sms", "target": "list", "recipients": "0912345678",
                                                "message": "x"}).status_code == 403
    with in_commune(tule):
        assert not Notification.objects.exists()


def test_anonymous_and_other_commune_are_refused(db, tule, yenhoa, make_user, client_for):
    assert client_for("tule.localhost").get(API).status_code in (401, 403)
    assert client_for("tule.localhost").get("/notifications/").status_code == 302
    clerk_elsewhere = make_user("clerk_yh", roles={yenhoa: [Role.CLERK]})
    assert client_for("tule.localhost", clerk_elsewhere).get(API).status_code == 403


@pytest.mark.parametrize("payload, field", [
    (_payload(recipients=["0912345678", "12345"]), "recipients"),
    (_payload(recipients=[]), "recipients"),
    (_payload(message="   "), "message"),
    (_payload(message="x" * 700), "message"),
    (_payload(channel="fax"), "channel"),
    (_payload(channel="email", recipients=["not-an-email"]), "recipients"),
    (_payload(target="village"), "village"),
    (_payload(target="village", village=999999), "village"),
    (_payload(recipients="0912345678"), "recipients"),
])
def test_bad_input_is_a_clear_400_and_saves_nothing(db, tule, make_user, client_for, in_commune, payload, field):
    client = client_for("tule.localhost", make_user("clerk", roles={tule: [Role.CLERK]}))
    response = client.post(API, payload, content_type="application/json")
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["code"] == "invalid" and field in body["fields"], body
    with in_commune(tule):
        assert not Notification.objects.exists()


def test_all_households_and_village_targets_use_the_registry(db, tule, make_user, client_for, in_commune):
    from population.models import Household, Village

    with in_commune(tule):
        ban_a = Village.objects.create(name="Bản A")
        ban_b = Village.objects.create(name="Bản B")
        Household.objects.create(code="H1", village=ban_a, phone="0912000001")
        Household.objects.create(code="H2", village=ban_a, phone="")
        Household.objects.create(code="H3", village=ban_b, phone="0912000003")
    client = client_for("tule.localhost", make_user("radio", roles={tule: [Role.RADIO_OPERATOR]}))
    everyone = client.post(API, _payload(target="all_households", recipients=[]), content_type="application/json")
    assert everyone.status_code == 201 and everyone.json()["recipients"] == ["091*******", "091*******"]
    village = client.post(API, _payload(target="village", village=ban_b.pk), content_type="application/json")
    assert village.status_code == 201 and village.json()["recipients"] == ["091*******"]
    with in_commune(tule):
        assert Notification.objects.get(pk=everyone.json()["id"]).recipients == ["0912000001", "0912000003"]
        assert Notification.objects.get(pk=village.json()["id"]).recipients == ["0912000003"]
    by_email = client.post(API, _payload(channel="email", target="all_households"), content_type="application/json")
    assert by_email.status_code == 400 and "channel" in by_email.json()["fields"]


def test_compose_page_creates_and_shows_progress(db, tule, make_user, client_for, in_commune):
    client = client_for("tule.localhost", make_user("chair", roles={tule: [Role.CHAIRMAN]}))
    form = client.get("/notifications/new/")
    assert form.status_code == 200 and 'name="recipients"' in form.content.decode()
    bad = client.post("/notifications/new/", {"channel": "sms", "target": "list", "recipients": "0912345678\nabc",
                                              "message": "Họp"})
    assert bad.status_code == 400 and "abc" in bad.content.decode()
    with in_commune(tule):
        assert not Notification.objects.exists()
    response = client.post("/notifications/new/", {"channel": "sms", "target": "list",
                                                   "recipients": "0912345678, 0987654321", "message": "Họp"})
    assert response.status_code == 302
    with in_commune(tule):
        notification = Notification.objects.get()
    assert notification.recipients == ["0912345678", "0987654321"]
    detail = client.get(response["Location"]).content.decode()
    assert f'hx-get="/notifications/{notification.pk}/progress/"' in detail
    assert 'hx-trigger="every 2s"' in detail and 'class="progress"' in detail


def test_official_home_shows_the_module_to_senders_only(db, tule, make_user, client_for):
    clerk = client_for("tule.localhost", make_user("clerk", roles={tule: [Role.CLERK]}))
    assert "/notifications/" in clerk.get("/").content.decode()
    health = client_for("tule.localhost", make_user("nurse", roles={tule: [Role.HEALTH_STAFF]}))
    assert "/notifications/" not in health.get("/").content.decode()


def test_supervisor_reads_but_cannot_send(db, tule, make_user, client_for):
    supervisor = make_user("province", units=[tule.supervising_unit])
    client = client_for("localhost", supervisor)
    url = f"/api/v1/communes/{tule.code}/notifications/"
    assert client.get(url).status_code == 200
    assert client.post(url, _payload(), content_type="application/json").status_code == 403
