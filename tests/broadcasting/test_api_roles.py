"""Every role × every endpoint of the radio's staff API, with exact status codes.

Each call runs on the same world (its writes are undone after it). The device API takes a
device's token only: a person's session gets 401 there, whatever the role."""
from __future__ import annotations

import datetime

import pytest
from django.db import transaction

from broadcasting import permissions, services
from broadcasting.models import Emergency, Pronunciation, SlotException
from communes.models import Role

from .helpers import JSON, approved_bulletin, clock, make_cluster  # noqa: F401 - fixtures

ALL_ROLES = [None] + [r.value for r in Role]
MODULE = {"radio_operator", "commune_admin", "chairman", "vice_chairman"}
MANAGE = {"radio_operator", "commune_admin"}
OPERATOR = {"radio_operator"}
LEADERS = {"chairman", "vice_chairman"}
BASE = "/api/v1/radio"


def allowed(roles, ok, otherwise=403):
    return lambda role: ok if role in roles else otherwise


def everyone(status):
    return lambda role: status


@pytest.fixture
def world(in_tule, villages, people, clock):
    operator, chairman = people["radio_operator"], people["chairman"]
    cluster, _token = make_cluster(operator, villages[0], "Cụm loa trung tâm")
    make_cluster(operator, villages[1], "Cụm loa Bản Phạ")
    draft = approved_bulletin(title="Nháp", state="draft")
    to_approve = approved_bulletin(title="Chờ duyệt 1", state="submitted")
    to_reject = approved_bulletin(title="Chờ duyệt 2", state="submitted")
    on_air = approved_bulletin(title="Đang phát")
    storm = approved_bulletin(title="Bão", category="emergency")
    emergency = services.send_emergency(user=chairman, bulletin=storm)
    slot = services.slots_for_day(clock.now.date())[0][2]
    later = (clock.now + datetime.timedelta(days=2)).strftime("%d/%m/%Y")
    exception = services.add_slot_exception(user=operator, data={"date": later, "kind": "extra", "start": "12:00",
                                                                  "end": "12:30"})
    word = services.save_pronunciation(user=operator, data={"written": "KDC", "spoken": "khu dân cư"})
    return {"cluster": cluster, "draft": draft, "to_approve": to_approve, "to_reject": to_reject, "on_air": on_air,
            "emergency": emergency, "slot": slot, "exception": exception, "word": word, "later": later,
            "village": villages[2]}


def endpoints(w):
    c, b = w["cluster"].pk, w["draft"].pk
    return [
        ("clusters", lambda x: x.get(f"{BASE}/clusters/"), allowed(MODULE, 200)),
        ("cluster", lambda x: x.get(f"{BASE}/clusters/{c}/"), allowed(MODULE, 200)),
        ("cluster create", lambda x: x.post(f"{BASE}/clusters/", {"name": "Cụm mới", "village_id": w["village"].pk},
                                            **JSON), allowed(MANAGE, 201)),
        ("cluster change", lambda x: x.patch(f"{BASE}/clusters/{c}/", {"speakers": 4, "latitude": "21.7712"}, **JSON),
         allowed(MANAGE, 200)),
        ("rotate token", lambda x: x.post(f"{BASE}/clusters/{c}/rotate-token/"), allowed(MANAGE, 200)),
        ("revoke token", lambda x: x.post(f"{BASE}/clusters/{c}/revoke-token/"), allowed(MANAGE, 200)),
        ("bulletins", lambda x: x.get(f"{BASE}/bulletins/"), allowed(MODULE, 200)),
        ("bulletin", lambda x: x.get(f"{BASE}/bulletins/{b}/"), allowed(MODULE, 200)),
        ("bulletin audio", lambda x: x.get(f"{BASE}/bulletins/{b}/audio/"), allowed(MODULE, 200)),
        ("bulletin create", lambda x: x.post(f"{BASE}/bulletins/", {"title": "Tin mới", "text": "Chào bà con."},
                                             **JSON), allowed(OPERATOR, 201)),
        ("bulletin change", lambda x: x.patch(f"{BASE}/bulletins/{b}/", {"repeats_per_day": 2}, **JSON),
         allowed(OPERATOR, 200)),
        ("submit", lambda x: x.post(f"{BASE}/bulletins/{b}/submit/"), allowed(OPERATOR, 200)),
        ("approve", lambda x: x.post(f"{BASE}/bulletins/{w['to_approve'].pk}/approve/", {}, **JSON),
         allowed(LEADERS, 200)),
        ("reject", lambda x: x.post(f"{BASE}/bulletins/{w['to_reject'].pk}/reject/", {"note": "Viết lại"}, **JSON),
         allowed(LEADERS, 200)),
        ("withdraw", lambda x: x.post(f"{BASE}/bulletins/{w['on_air'].pk}/withdraw/"),
         allowed(OPERATOR | LEADERS, 200)),
        ("emergencies", lambda x: x.get(f"{BASE}/emergencies/"), allowed(MODULE, 200)),
        ("emergency send", lambda x: x.post(f"{BASE}/emergencies/", {"bulletin_id": w["on_air"].pk, "repeats": 2},
                                            **JSON), allowed(LEADERS, 201)),
        ("emergency cancel", lambda x: x.post(f"{BASE}/emergencies/{w['emergency'].pk}/cancel/"),
         allowed(LEADERS, 200)),
        ("slots", lambda x: x.get(f"{BASE}/slots/"), allowed(MODULE, 200)),
        ("slot create", lambda x: x.post(f"{BASE}/slots/", {"name": "Trưa", "start": "11:00", "end": "11:30"}, **JSON),
         allowed(MANAGE, 201)),
        ("slot change", lambda x: x.patch(f"{BASE}/slots/{w['slot'].pk}/", {"name": "Sáng sớm"}, **JSON),
         allowed(MANAGE, 200)),
        ("slot delete", lambda x: x.delete(f"{BASE}/slots/{w['slot'].pk}/"), allowed(MANAGE, 204)),
        ("slot exceptions", lambda x: x.get(f"{BASE}/slot-exceptions/"), allowed(MODULE, 200)),
        ("slot exception add", lambda x: x.post(f"{BASE}/slot-exceptions/", {
            "date": w["later"], "kind": "cancel", "slot_id": w["slot"].pk}, **JSON), allowed(MANAGE, 201)),
        ("slot exception delete", lambda x: x.delete(f"{BASE}/slot-exceptions/{w['exception'].pk}/"),
         allowed(MANAGE, 204)),
        ("schedule", lambda x: x.get(f"{BASE}/schedule/?date={w['later']}"), allowed(MODULE, 200)),
        ("playlists", lambda x: x.get(f"{BASE}/playlists/"), allowed(MODULE, 200)),
        ("pronunciations", lambda x: x.get(f"{BASE}/pronunciations/"), allowed(MODULE, 200)),
        ("pronunciation add", lambda x: x.post(f"{BASE}/pronunciations/", {"written": "NVH", "spoken": "nhà văn hóa"},
                                               **JSON), allowed(MANAGE, 201)),
        ("pronunciation change", lambda x: x.patch(f"{BASE}/pronunciations/{w['word'].pk}/", {"note": "x"}, **JSON),
         allowed(MANAGE, 200)),
        ("pronunciation delete", lambda x: x.delete(f"{BASE}/pronunciations/{w['word'].pk}/"), allowed(MANAGE, 204)),
        ("reports", lambda x: x.get(f"{BASE}/reports/?month=2026-12"), allowed(MODULE, 200)),
        ("device playlist", lambda x: x.get(f"{BASE}/device/playlist/"), everyone(401)),
        ("device heartbeat", lambda x: x.post(f"{BASE}/device/heartbeat/", {}, **JSON), everyone(401)),
    ]


def isolated(call, client) -> int:
    """The status of one call, whose writes are then undone (each endpoint sees the same world)."""
    savepoint = transaction.savepoint()
    try:
        return call(client).status_code
    finally:
        transaction.savepoint_rollback(savepoint)


@pytest.mark.parametrize("role", ALL_ROLES, ids=lambda r: r or "no-membership")
def test_role_matrix(role, world, make_user, client_for, tule):
    user = make_user(f"radio_matrix_{role or 'none'}", roles={tule: [role]} if role else {})
    client = client_for("tule.localhost", user)
    got, want = {}, {}
    for name, call, expected in endpoints(world):
        got[name] = isolated(call, client)
        want[name] = expected(role)
    assert got == want


def test_anonymous(world, client_for):
    client = client_for("tule.localhost")
    got = {name: isolated(call, client) for name, call, _expected in endpoints(world)}
    assert got == {name: 401 for name in got}


def test_another_communes_officials_get_nothing(world, make_user, client_for, yenhoa):
    outsider = make_user("radio_yenhoa_operator", roles={yenhoa: [Role.RADIO_OPERATOR, Role.CHAIRMAN]})
    client = client_for("tule.localhost", outsider)
    got = {name: isolated(call, client) for name, call, _expected in endpoints(world)}
    assert got == {name: 401 if name.startswith("device") else 403 for name in got}


def test_the_writes_happened(world, people, client_for, in_commune, tule):
    """The matrix checks codes; here the allowed calls are seen to change what they say."""
    operator = client_for("tule.localhost", people["radio_operator"])
    chairman = client_for("tule.localhost", people["chairman"])
    token = operator.post(f"{BASE}/clusters/{world['cluster'].pk}/rotate-token/").json()["token"]
    assert len(token) >= 40
    created = operator.post(f"{BASE}/clusters/", {"name": "Cụm mới", "village_id": world["village"].pk}, **JSON)
    assert created.status_code == 201 and created.json()["token"] and created.json()["online"] is False
    again = operator.post(f"{BASE}/clusters/", {"name": "Cụm mới", "village_id": world["village"].pk}, **JSON)
    assert again.status_code == 400 and "name" in again.json()["fields"]
    revoked = operator.post(f"{BASE}/clusters/{world['cluster'].pk}/revoke-token/")
    assert revoked.json()["token_revoked"] is True
    assert operator.post(f"{BASE}/clusters/{world['cluster'].pk}/revoke-token/").status_code == 409
    assert chairman.post(f"{BASE}/emergencies/{world['emergency'].pk}/cancel/").json()["active"] is False
    assert chairman.post(f"{BASE}/emergencies/{world['emergency'].pk}/cancel/").status_code == 409
    sent = chairman.post(f"{BASE}/emergencies/", {"title": "Cháy rừng", "text": "Cháy rừng ở đồi thông, bà con "
                                                  "tránh xa khu vực.", "cluster_ids": [world["cluster"].pk]}, **JSON)
    assert sent.status_code == 201 and sent.json()["cluster_ids"] == [world["cluster"].pk]
    assert chairman.post(f"{BASE}/emergencies/", {"bulletin_id": 10**20}, **JSON).status_code == 400
    schedule = operator.get(f"{BASE}/schedule/?date={world['later']}").json()
    assert [(w["starts_at"][11:16], w["slot"] is None) for w in schedule] == [
        ("05:00", False), ("12:00", True), ("17:00", False)]
    assert operator.get(f"{BASE}/schedule/?date=32/12/2026").status_code == 400
    assert operator.get(f"{BASE}/playlists/?cluster=abc").status_code == 400
    playlists = operator.get(f"{BASE}/playlists/?cluster={world['cluster'].pk}").json()
    assert playlists and all(p["cluster"] == world["cluster"].pk for p in playlists)
    assert operator.get(f"{BASE}/slot-exceptions/?from=01/12/2026&to=31/12/2026").json()["count"] == 1
    assert operator.get(f"{BASE}/slot-exceptions/?from=31/12/2026&to=01/12/2026").status_code == 400
    with in_commune(tule):
        assert Emergency.objects.count() == 2 and SlotException.objects.count() == 1
        assert Pronunciation.objects.filter(written="KDC").exists()


def test_role_lists_are_as_specified():
    assert permissions.ACTION_ROLES["bulletin.write"] == OPERATOR
    assert permissions.ACTION_ROLES["bulletin.approve"] == LEADERS
    assert permissions.ACTION_ROLES["emergency.send"] == LEADERS
    assert permissions.ACTION_ROLES["cluster.manage"] == MANAGE
    assert permissions.MODULE_ROLES == MODULE


def test_commune_admin_pages(world, people, client_for):
    admin = client_for("tule.localhost", people["commune_admin"])
    models = ["cluster", "slot", "slotexception", "pronunciation", "bulletin", "audioasset", "speechjob", "emergency",
              "playlist", "heartbeat", "asrunentry"]
    assert {m: admin.get(f"/admin/broadcasting/{m}/").status_code for m in models} == {m: 200 for m in models}
    assert admin.get(f"/admin/broadcasting/cluster/{world['cluster'].pk}/change/").status_code == 200
    assert admin.get("/admin/broadcasting/cluster/add/").status_code == 403  # clusters come with their token
    assert admin.get(f"/admin/broadcasting/bulletin/{world['draft'].pk}/change/").status_code == 200  # read-only view
    operator = client_for("tule.localhost", people["radio_operator"])
    assert operator.get("/admin/broadcasting/cluster/").status_code == 302


GARBAGE = [None, [], {}, "", "x" * 3000, -1, 10**30, True, 1.5, "\x00", "☃", ["1", {"a": 1}], "NaN", "1e400"]


def test_garbage_never_makes_a_500(world, people, client_for):
    """Every write endpoint, every field, odd values: a 4xx (or a success), never a 500."""
    operator = client_for("tule.localhost", people["radio_operator"])
    chairman = client_for("tule.localhost", people["chairman"])
    c, b = world["cluster"].pk, world["draft"].pk
    targets = [
        (operator, "post", f"{BASE}/clusters/", ["name", "village_id", "latitude", "longitude", "speakers", "active"]),
        (operator, "patch", f"{BASE}/clusters/{c}/", ["name", "village_id", "latitude", "speakers"]),
        (operator, "post", f"{BASE}/bulletins/", ["title", "text", "category", "priority", "voice", "village_ids",
                                                   "cluster_ids", "valid_from", "valid_until", "repeats_per_day"]),
        (operator, "patch", f"{BASE}/bulletins/{b}/", ["title", "text", "valid_until", "cluster_ids"]),
        (chairman, "post", f"{BASE}/bulletins/{world['to_reject'].pk}/reject/", ["note"]),
        (chairman, "post", f"{BASE}/emergencies/", ["bulletin_id", "title", "text", "cluster_ids", "repeats"]),
        (operator, "post", f"{BASE}/slots/", ["name", "start", "end", "active"]),
        (operator, "post", f"{BASE}/slot-exceptions/", ["date", "kind", "slot_id", "start", "end", "note"]),
        (operator, "post", f"{BASE}/pronunciations/", ["written", "spoken", "case_sensitive", "note"]),
    ]
    base = {"name": "Cụm X", "village_id": world["village"].pk, "title": "Tin", "text": "Chào bà con.",
            "start": "11:00", "end": "11:30", "date": world["later"], "kind": "extra", "written": "AB",
            "spoken": "a bê", "note": "ghi chú"}
    statuses = set()
    for client, method, url, fields in targets:
        for field in fields:
            for value in GARBAGE:
                payload = {**{k: v for k, v in base.items()}, field: value}
                response = isolated(lambda x: getattr(x, method)(url, payload, **JSON), client)
                statuses.add(response)
                assert response < 500, (url, field, value)
    for query in ("/reports/?month=", "/schedule/?date=", "/playlists/?date=", "/playlists/?cluster=",
                  "/slot-exceptions/?from=", "/bulletins/?state="):
        for value in ("", "x" * 500, "%00", "☃", "-1", "99999999999999999999"):
            assert operator.get(f"{BASE}{query}{value}").status_code < 500, (query, value)
    assert 400 in statuses
