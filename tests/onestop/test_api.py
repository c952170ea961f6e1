"""The one-stop REST API: the public catalogue, intake at the desk (multipart with scans, one
dossier per submit token), the masked detail, actions and their error bodies, the forms, the
throttled public lookup and the rating."""
from __future__ import annotations

import json
import uuid

import pytest

from onestop.models import Dossier

from .conftest import make_pdf, upload
from .helpers import PHONE, form_data_for, full_checklist, received_dossier

JSON = {"content_type": "application/json"}


@pytest.fixture
def officer_client(people, client_for):
    return client_for("tule.localhost", people["onestop_officer"])


def test_catalogue_is_public(client_for, procedures):
    client = client_for("tule.localhost")
    listing = client.get("/api/v1/onestop/procedures/")
    assert listing.status_code == 200
    codes = [p["code"] for p in listing.json()]
    assert {"HT-01", "CT-01", "LT-01"} <= set(codes)
    detail = client.get("/api/v1/onestop/procedures/CT-01/").json()
    assert detail["cutoff"] == "15:00:00" and detail["time_unit"] == "working_days"
    assert "2.000 đ" in detail["fee"] and [s["kind"] for s in detail["steps"]][0] == "receive"
    assert detail["requirements"] and "id" in detail["requirements"][0]
    assert client.get("/api/v1/onestop/procedures/XX-99/").status_code == 404
    assert client_for("localhost").get("/api/v1/communes/04630/onestop/procedures/").status_code in (401, 404)


def test_catalogue_notes_on_sources_are_for_the_desk_only(client_for, people, procedures):
    """Anonymous callers get the catalogue without its notes on sources (as the public pages);
    an official of the commune gets them."""
    desk_only = {"published_by", "verified", "verification_note"}
    public = client_for("tule.localhost")
    assert not desk_only & set(public.get("/api/v1/onestop/procedures/").json()[0])
    assert not desk_only & set(public.get("/api/v1/onestop/procedures/LT-01/").json())
    official = client_for("tule.localhost", people["onestop_officer"])
    detail = official.get("/api/v1/onestop/procedures/LT-01/").json()
    assert desk_only <= set(detail) and detail["published_by"] == procedures["LT-01"].published_by


def test_intake_multipart_with_scans_and_one_dossier_per_token(officer_client, procedures, tule, in_commune):
    procedure = procedures["HT-01"]
    checklist = full_checklist(procedure)
    scan_for = next(iter(checklist))
    token = str(uuid.uuid4())
    payload = {
        "procedure": "HT-01", "applicant_name": "Hoàng Văn Nam", "applicant_id_number": "015090001234",
        "applicant_phone": "091 234 5678", "checklist": json.dumps(checklist),
        "form_data": json.dumps(form_data_for(procedure)), "submit_token": token,
        f"file_{scan_for}": upload(make_pdf("Giấy chứng sinh")),
    }
    created = officer_client.post("/api/v1/onestop/dossiers/", payload)
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["state"] == "received" and body["code"].startswith("000.00.X04630-")
    assert body["applicant_id_number"] == "********1234" and body["applicant_phone"] == PHONE
    # Form 1 follows as a job: the answer says where its PDF will be.
    assert body["forms"] == [] and [(f["kind"], f["state"]) for f in body["pending_forms"]] == [("1", "queued")]
    pending = body["pending_forms"][0]
    assert pending["url"] == f"http://tule.localhost/api/v1/onestop/dossiers/{body['id']}/pending-forms/{pending['job']}/"
    assert sum(d["has_file"] for d in body["documents"]) == 1
    payload[f"file_{scan_for}"] = upload(make_pdf("Giấy chứng sinh"))
    again = officer_client.post("/api/v1/onestop/dossiers/", payload)
    assert again.status_code == 200 and again.json()["id"] == body["id"]
    # No worker has taken the job: asking for the PDF renders it, once.
    form = officer_client.get(pending["url"])
    assert form.status_code == 200 and form["Content-Type"] == "application/pdf"
    assert b"".join(form.streaming_content).startswith(b"%PDF-")
    body = officer_client.get(f"/api/v1/onestop/dossiers/{body['id']}/").json()
    assert [f["kind"] for f in body["forms"]] == ["1"] and body["pending_forms"] == []
    form = officer_client.get(f"/api/v1/onestop/dossiers/{body['id']}/forms/{body['forms'][0]['id']}/")
    assert form.status_code == 200 and b"".join(form.streaming_content).startswith(b"%PDF-")
    document = next(d for d in body["documents"] if d["has_file"])
    assert officer_client.get(f"/api/v1/onestop/dossiers/{body['id']}/documents/{document['id']}/").status_code == 200
    sheet = officer_client.get(f"/api/v1/onestop/dossiers/{body['id']}/control-sheet/")
    assert sheet.status_code == 200 and sheet.content.startswith(b"%PDF-")
    assert officer_client.get(f"/api/v1/onestop/dossiers/{body['id']}/").status_code == 200
    with in_commune(tule):
        from population.models import AccessLog

        assert Dossier.objects.count() == 1
        reads = AccessLog.objects.filter(object_type="onestop.dossier", object_id=str(body["id"]))
        assert sorted(r.description.split()[0] for r in reads) == [body["code"], body["code"], "document", "form", "form"]
        assert {r.username for r in reads} == {"os_onestop_officer"}


def test_actions_and_their_error_bodies(officer_client, procedures, people, client_for, in_commune, tule):
    with in_commune(tule):
        dossier = received_dossier(procedures["HT-04"], people["onestop_officer"])
    base = f"/api/v1/onestop/dossiers/{dossier.pk}"
    handed = officer_client.post(f"{base}/hand-over/", {"to_user": people["specialist"].pk, "note": "Đủ"}, **JSON)
    assert handed.status_code == 200 and handed.json()["current_step"] == "Thẩm định, xử lý hồ sơ"
    conflict = officer_client.post(f"{base}/receive/")
    assert conflict.status_code == 409 and conflict.json()["code"] == "wrong_state"
    missing = officer_client.post(f"{base}/extend/", {"reason": "x"}, **JSON)
    assert missing.status_code == 400 and "new_due_at" in missing.json()["fields"]
    stopped = officer_client.post(f"{base}/stop/", {"reason": "Người nộp rút hồ sơ"}, **JSON)
    assert stopped.status_code == 200 and stopped.json()["state"] == "stopped"
    specialist = client_for("tule.localhost", people["specialist"])
    denied = specialist.post(f"{base}/stop/", {"reason": "x"}, **JSON)
    assert denied.status_code == 403 and set(denied.json()) == {"code", "detail", "fields"}
    assert officer_client.get("/api/v1/onestop/dossiers/?state=stopped").json()["count"] == 1
    assert officer_client.get("/api/v1/onestop/dossiers/?state=nonsense").status_code == 400
    assert officer_client.get(f"{base}/result/").status_code == 404  # the result was never rendered


def test_lookup_is_throttled_per_address(procedures, people, client_for, settings, in_commune, tule):
    settings.XASO_LOOKUP_RATE = "3/hour"
    with in_commune(tule):
        dossier = received_dossier(procedures["HT-02"], people["onestop_officer"])
    client = client_for("tule.localhost")
    statuses = [client.post("/api/v1/onestop/lookup/", {"code": dossier.code, "phone_last4": PHONE[-4:]}, **JSON)
                .status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    throttled = client.post("/api/v1/onestop/lookup/", {"code": dossier.code, "phone_last4": PHONE[-4:]}, **JSON)
    assert throttled.json()["code"] == "throttled" and set(throttled.json()) == {"code", "detail", "fields"}
    from django.test import Client

    elsewhere = Client(HTTP_HOST="tule.localhost", REMOTE_ADDR="10.0.0.9")
    assert elsewhere.post("/api/v1/onestop/lookup/", {"code": dossier.code, "phone_last4": PHONE[-4:]},
                          **JSON).status_code == 200


def test_wrong_phones_lock_the_address_out_of_the_code_not_the_owner(procedures, people, client_for, settings,
                                                                     in_commune, tule):
    settings.XASO_LOOKUP_MAX_FAILURES = 2
    with in_commune(tule):
        target = received_dossier(procedures["HT-02"], people["onestop_officer"])
        other = received_dossier(procedures["HT-02"], people["onestop_officer"])
    client = client_for("tule.localhost")

    def ask(code, digits, who=client):
        return who.post("/api/v1/onestop/lookup/", {"code": code, "phone_last4": digits}, **JSON).status_code

    assert [ask(target.code, "1111"), ask(target.code, "2222")] == [404, 404]
    assert ask(target.code, PHONE[-4:]) == 429  # this address, this code: refused for the hour
    assert ask(other.code, PHONE[-4:]) == 200
    assert ask(target.code.lower(), PHONE[-4:]) == 429
    from django.test import Client

    owner = Client(HTTP_HOST="tule.localhost", REMOTE_ADDR="10.0.0.10")
    assert ask(target.code, PHONE[-4:], owner) == 200  # the owner elsewhere is not locked out
    bad = client.post("/api/v1/onestop/lookup/", {"code": other.code, "phone_last4": "12a4"}, **JSON)
    assert bad.status_code == 400 and "phone_last4" in bad.json()["fields"]


def test_rating_by_token_once_when_ready(procedures, people, client_for, in_commune, tule):
    with in_commune(tule):
        dossier = received_dossier(procedures["HT-02"], people["onestop_officer"])
    client = client_for("tule.localhost")
    url = "/api/v1/onestop/ratings/"
    early = client.post(url, {"token": str(dossier.rating_token), "score": 3}, **JSON)
    assert early.status_code == 409 and early.json()["code"] == "wrong_state"
    assert client.post(url, {"token": str(uuid.uuid4()), "score": 3}, **JSON).status_code == 404
    with in_commune(tule):
        Dossier.objects.filter(pk=dossier.pk).update(state="returned")
    assert client.post(url, {"token": str(dossier.rating_token), "score": 4}, **JSON).status_code == 400
    assert client.post(url, {"token": str(dossier.rating_token), "score": 2, "comment": "Nhanh"}, **JSON).status_code == 201
    again = client.post(url, {"token": str(dossier.rating_token), "score": 1}, **JSON)
    assert again.status_code == 409 and again.json()["code"] == "already_rated"


def test_a_work_list_keeps_the_other_filters(officer_client, procedures, people, in_commune, tule):
    """?view=overdue&procedure=… lists the overdue dossiers of that procedure only."""
    import datetime

    from django.utils import timezone

    with in_commune(tule):
        late_birth = received_dossier(procedures["HT-01"], people["onestop_officer"])
        late_status = received_dossier(procedures["HT-08"], people["onestop_officer"])
        on_time = received_dossier(procedures["HT-01"], people["onestop_officer"])
        past = timezone.now() - datetime.timedelta(days=2)
        Dossier.objects.filter(pk__in=[late_birth.pk, late_status.pk]).update(due_at=past)
    listed = officer_client.get("/api/v1/onestop/dossiers/?view=overdue&procedure=HT-01").json()
    codes = {row["code"] for row in (listed["results"] if isinstance(listed, dict) else listed)}
    assert codes == {late_birth.code} and on_time.code not in codes
