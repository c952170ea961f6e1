"""Every role × every one-stop API endpoint, with exact status codes.

The caller is a fresh official of the role (so no step is handed to them by name): the
dossiers wait at steps any holder of the step's role may take."""
from __future__ import annotations

import uuid

import pytest
from django.db import transaction

from communes.models import Role
from onestop import permissions, services
from onestop.models import Dossier

from .conftest import make_pdf, upload
from .helpers import PHONE, applicant, form_data_for, full_checklist, received_dossier, required_ids

ALL_ROLES = [None] + [r.value for r in Role]
OFFICER = {"onestop_officer"}
LEADERS = {"chairman", "vice_chairman"}
STAFF = {"onestop_officer", "specialist", "clerk"} | LEADERS
JSON = {"content_type": "application/json"}


def allowed(roles, ok, otherwise=403):
    return lambda role: ok if role in roles else otherwise


def everyone(status):
    return lambda role: status


@pytest.fixture
def world(in_tule, procedures, people):
    officer, specialist, chairman = people["onestop_officer"], people["specialist"], people["chairman"]
    received = received_dossier(procedures["HT-04"], officer)
    # Waiting at the "process" step for any specialist.
    processing = services.hand_over(dossier=received_dossier(procedures["HT-04"], officer), user=officer)
    # Waiting at the signature step for any leader (the result rendered on the way).
    at_sign = services.hand_over(dossier=received_dossier(procedures["HT-02"], officer), user=officer)
    at_sign = services.hand_over(dossier=at_sign, user=specialist)
    at_sign = services.hand_over(dossier=at_sign, user=chairman)
    supplement = services.request_supplement(dossier=received_dossier(procedures["HT-04"], officer), user=officer,
                                             items=["Tờ khai có chữ ký"])
    fee = received_dossier(procedures["CT-03"], officer)
    ready = received_dossier(procedures["HT-02"], officer)
    returned = received_dossier(procedures["HT-02"], officer)
    Dossier.objects.filter(pk=received.pk).update(current_handler=None)  # any officer of the desk
    Dossier.objects.filter(pk=ready.pk).update(state="result_ready")
    Dossier.objects.filter(pk=returned.pk).update(state="returned")
    draft = services.save_draft(citizen=people["citizen"], procedure=procedures["HT-02"], applicant=applicant(),
                                form_data=form_data_for(procedures["HT-02"]))
    for pk in required_ids(draft.procedure):
        services.add_file(dossier=draft, user=people["citizen"], requirement_id=pk, upload=upload(make_pdf()))
    submitted = services.submit(dossier=draft, citizen=people["citizen"], submit_token=uuid.uuid4())
    return {
        "received": received, "processing": processing, "at_sign": at_sign, "supplement": supplement, "fee": fee,
        "ready": ready, "returned": returned, "submitted": submitted, "form": received.forms.get(),
        "intake": {"procedure": "HT-02", "applicant_name": "Lò Văn Pọm", "applicant_phone": "0987654321",
                   "checklist": full_checklist(procedures["HT-02"])},
    }


def endpoints(world):
    d = {key: value.pk for key, value in world.items() if isinstance(value, Dossier)}
    base = "/api/v1/onestop/dossiers"
    form = world["form"].pk
    return [
        ("procedures", lambda c: c.get("/api/v1/onestop/procedures/"), everyone(200)),
        ("procedure", lambda c: c.get("/api/v1/onestop/procedures/HT-02/"), everyone(200)),
        ("list", lambda c: c.get(f"{base}/"), allowed(STAFF, 200)),
        ("detail", lambda c: c.get(f"{base}/{d['received']}/"), allowed(STAFF, 200)),
        ("form", lambda c: c.get(f"{base}/{d['received']}/forms/{form}/"), allowed(STAFF, 200)),
        ("control sheet", lambda c: c.get(f"{base}/{d['processing']}/control-sheet/"), allowed(STAFF, 200)),
        ("result", lambda c: c.get(f"{base}/{d['at_sign']}/result/"), allowed(STAFF, 200)),
        ("intake", lambda c: c.post(f"{base}/", world["intake"], **JSON), allowed(OFFICER, 201)),
        ("receive", lambda c: c.post(f"{base}/{d['submitted']}/receive/"), allowed(OFFICER, 200)),
        ("ask completion", lambda c: c.post(f"{base}/{d['submitted']}/ask-completion/", {"items": ["Tờ khai"]}, **JSON),
         allowed(OFFICER, 200)),
        ("refuse", lambda c: c.post(f"{base}/{d['submitted']}/refuse/", {"reason": "Sai thẩm quyền"}, **JSON),
         allowed(OFFICER, 200)),
        ("hand over receive", lambda c: c.post(f"{base}/{d['received']}/hand-over/", {}, **JSON), allowed(OFFICER, 200)),
        ("hand over process", lambda c: c.post(f"{base}/{d['processing']}/hand-over/", {}, **JSON),
         allowed({"specialist"}, 200)),
        ("prepare result", lambda c: c.post(f"{base}/{d['processing']}/prepare-result/", {"result_number": "5"}, **JSON),
         allowed({"specialist"} | LEADERS, 200)),
        ("request supplement", lambda c: c.post(f"{base}/{d['received']}/request-supplement/", {"items": ["Ảnh"]}, **JSON),
         allowed(OFFICER | {"specialist"}, 200)),
        ("supplement arrived", lambda c: c.post(f"{base}/{d['supplement']}/supplement-arrived/", {}, **JSON),
         allowed(OFFICER, 200)),
        ("extend", lambda c: c.post(f"{base}/{d['received']}/extend/", {"new_due_at": "31/12/2030",
                                                                         "reason": "Xác minh"}, **JSON),
         allowed(OFFICER | LEADERS, 200)),
        ("stop", lambda c: c.post(f"{base}/{d['received']}/stop/", {"reason": "Rút hồ sơ"}, **JSON),
         allowed(OFFICER | LEADERS, 200)),
        ("sign leader", lambda c: c.post(f"{base}/{d['at_sign']}/sign-leader/", {"pin": "123456"}, **JSON),
         allowed(LEADERS, 400)),  # allowed, but nobody here holds a certificate
        ("sign agency", lambda c: c.post(f"{base}/{d['at_sign']}/sign-agency/", {"pin": "123456"}, **JSON),
         allowed({"clerk"}, 409)),  # allowed, but the leader has not signed
        ("return", lambda c: c.post(f"{base}/{d['ready']}/return/", {}, **JSON), allowed(OFFICER, 200)),
        ("payment", lambda c: c.post(f"{base}/{d['fee']}/payments/", {"method": "cash"}, **JSON), allowed(OFFICER, 201)),
        ("file", lambda c: c.post(f"{base}/{d['received']}/files/", {"file": upload(make_pdf())}),
         allowed(OFFICER, 201)),
        ("statistics", lambda c: c.get("/api/v1/onestop/statistics/"),
         allowed(OFFICER | LEADERS | {"commune_admin"}, 200)),
        ("lookup", lambda c: c.post("/api/v1/onestop/lookup/", {"code": world["received"].code,
                                                                "phone_last4": PHONE[-4:]}, **JSON), everyone(200)),
        ("rating", lambda c: c.post("/api/v1/onestop/ratings/", {"token": str(world["returned"].rating_token),
                                                                 "score": 3}, **JSON), everyone(201)),
        ("bank", lambda c: c.post("/api/v1/onestop/bank-notifications/", {"transaction_id": "x"}, **JSON),
         everyone(403)),  # a session is no signature
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
    user = make_user(f"matrix_{role or 'none'}", roles={tule: [role]} if role else {})
    client = client_for("tule.localhost", user, second_factor=True)
    got, want = {}, {}
    for name, call, expected in endpoints(world):
        got[name] = isolated(call, client)
        want[name] = expected(role)
    assert got == want


def test_signing_needs_a_session_confirmed_by_the_second_factor(world, people, client_for):
    base = "/api/v1/onestop/dossiers"
    for role, action in (("chairman", "sign-leader"), ("clerk", "sign-agency")):
        client = client_for("tule.localhost", people[role], second_factor=False)  # password only
        response = client.post(f"{base}/{world['at_sign'].pk}/{action}/", {"pin": "123456"}, **JSON)
        assert response.status_code == 403 and response.json()["code"] == "second_factor_required"


def test_anonymous(world, client_for):
    client = client_for("tule.localhost")
    public = {"procedures": 200, "procedure": 200, "lookup": 200, "rating": 201, "bank": 403}
    got = {name: isolated(call, client) for name, call, _expected in endpoints(world)}
    assert got == {name: public.get(name, 401) for name in got}


def test_role_lists_are_as_specified():
    assert permissions.ACTION_ROLES["dossier.intake"] == OFFICER
    assert permissions.ACTION_ROLES["result.sign_leader"] == LEADERS
    assert permissions.ACTION_ROLES["result.sign_agency"] == {"clerk"}
    assert permissions.STAFF_ROLES == STAFF


def test_catalogue_admin_is_the_commune_administrators(procedures, people, client_for, tule, in_commune):
    from onestop.models import Procedure

    copy = procedures["CT-01"]
    with in_commune(tule):
        received_dossier(procedures["HT-02"], people["onestop_officer"])
        used = procedures["HT-02"]
    admin = client_for("tule.localhost", people["commune_admin"])
    assert admin.get("/admin/onestop/procedure/").status_code == 200
    assert admin.get(f"/admin/onestop/procedure/{copy.pk}/change/").status_code == 200
    assert admin.get("/admin/onestop/dossier/").status_code == 200
    # A procedure a dossier was received under is only read: its next version is edited instead.
    page = admin.get(f"/admin/onestop/procedure/{used.pk}/change/")
    assert page.status_code == 200 and b'name="_save"' not in page.content
    assert admin.post(f"/admin/onestop/procedure/{used.pk}/delete/", {"post": "yes"}).status_code == 403
    response = admin.post("/admin/onestop/procedure/", {"action": "new_version", "_selected_action": [used.pk]})
    assert response.status_code == 302
    with in_commune(tule):
        versions = list(Procedure.objects.filter(code="HT-02").order_by("version").values_list("version", "is_current"))
        assert versions == [(used.version, False), (used.version + 1, True)]
        new = Procedure.objects.get(code="HT-02", is_current=True)
        assert new.requirements.count() == used.requirements.count() and new.steps.count() == used.steps.count()
        assert Procedure.objects.get(pk=used.pk).dossiers.count() == 1  # the dossier keeps its version
    for role in ("onestop_officer", "chairman"):
        assert client_for("tule.localhost", people[role]).get("/admin/onestop/procedure/").status_code == 302
