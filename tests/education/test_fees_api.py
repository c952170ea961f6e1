"""The fees' API: fee items and invoices of a school for its fee staff (another school's staff 403,
a teacher 403, a parent 403 or 404), one invoice for the parent of the child, a parent's invoices
with their VietQR payload, and refusals in the common error body."""
from __future__ import annotations

import datetime

import pytest

pytestmark = pytest.mark.django_db(transaction=False)


@pytest.fixture
def billed(tule, in_commune, schoolyard, school_people):
    from education import fees

    y, p = schoolyard, school_people
    with in_commune(tule):
        fees.save_fee_item(p["accountant"], y["thcs"], semester=y["sem1"], name="Bảo hiểm y tế học sinh",
                           amount=442_260, grades=[6], due_on=datetime.date(2026, 10, 15))
        fees.issue_invoices(y["thcs"], y["sem1"])
        yield y


def test_fee_items_read_and_added_by_the_fee_staff(billed, client_for, school_people, tule, in_commune):
    from education.models import FeeItem

    url = f"/api/v1/education/fees/schools/{billed['thcs'].pk}/items/?semester={billed['sem1'].pk}"
    accountant = client_for("tule.localhost", school_people["accountant"])
    listed = accountant.get(url)
    assert listed.status_code == 200
    assert [(i["name"], i["amount"]) for i in listed.json()] == [("Bảo hiểm y tế học sinh", 442_260)]
    assert set(listed.json()[0]["classes"]) == {billed["class6a"].pk, billed["class6b"].pk}
    made = accountant.post(url, {"semester": billed["sem1"].pk, "name": "Đồng phục", "amount": 300_000,
                                 "classes": [billed["class6a"].pk], "due_on": "2026-10-01"},
                           content_type="application/json")
    assert made.status_code == 201, made.content
    assert made.json()["classes"] == [billed["class6a"].pk]
    for bad, field in (({"amount": 0}, "amount"), ({"amount": 50_000_001}, "amount"),
                       ({"classes": [billed["class1a"].pk]}, "classes"), ({"name": "Đồng phục"}, "name")):
        data = {"semester": billed["sem1"].pk, "name": "Quỹ khác", "amount": 1000, "grades": [6], **bad}
        refused = accountant.post(url, data, content_type="application/json")
        assert refused.status_code == 400, (bad, refused.content)
        assert set(refused.json()) == {"code", "detail", "fields"} and field in refused.json()["fields"]
    vice = client_for("tule.localhost", school_people["vice"])
    assert vice.get(url).status_code == 200
    assert vice.post(url, {"name": "X", "amount": 1, "grades": [6]}, content_type="application/json").status_code == 403
    for who in ("math", "primary_principal", "chairman", "parent", "unplaced"):
        client = client_for("tule.localhost", school_people[who])
        assert client.get(url).status_code == 403, who
        assert client.post(url, {"name": "X", "amount": 1, "grades": [6]},
                           content_type="application/json").status_code == 403
    assert client_for("tule.localhost", school_people["accountant"]).get(
        "/api/v1/education/fees/schools/999999/items/").status_code == 404
    with in_commune(tule):
        assert FeeItem.objects.count() == 2


def test_invoices_of_a_school_and_of_a_parent(billed, client_for, school_people, tule, in_commune):
    from population.models import AccessLog

    url = f"/api/v1/education/fees/schools/{billed['thcs'].pk}/invoices/?semester={billed['sem1'].pk}"
    accountant = client_for("tule.localhost", school_people["accountant"])
    page = accountant.get(url)
    assert page.status_code == 200
    body = page.json()
    assert body["count"] == 5 and {i["state"] for i in body["results"]} == {"unpaid"}
    first = body["results"][0]
    assert first["student"] == "Lò Văn An" and first["total"] == 442_260 and first["remaining"] == 442_260
    assert first["vietqr_payload"].startswith("000201010212")
    assert accountant.get(url + "&state=paid").json()["count"] == 0
    assert accountant.get(url + "&state=nope").status_code == 400
    assert accountant.get(url + f"&class={billed['class6b'].pk}").json()["count"] == 0
    for who in ("math", "primary_principal", "parent", "chairman"):
        assert client_for("tule.localhost", school_people[who]).get(url).status_code == 403
    code = first["code"]
    one = f"/api/v1/education/fees/invoices/{code}/"
    assert accountant.get(one).status_code == 200
    parent = client_for("tule.localhost", school_people["parent"])
    assert parent.get(one).json()["code"] == code
    other_code = body["results"][1]["code"]
    assert parent.get(f"/api/v1/education/fees/invoices/{other_code}/").status_code == 404
    assert client_for("tule.localhost", school_people["citizen"]).get(one).status_code == 404
    assert client_for("tule.localhost", school_people["primary_principal"]).get(one).status_code == 403
    mine = parent.get("/api/v1/education/fees/my-invoices/")
    assert mine.status_code == 200 and [i["code"] for i in mine.json()] == [code]
    assert client_for("tule.localhost", school_people["citizen"]).get(
        "/api/v1/education/fees/my-invoices/").json() == []
    assert client_for("tule.localhost").get("/api/v1/education/fees/my-invoices/").status_code in (401, 403)
    with in_commune(tule):
        assert AccessLog.objects.filter(user=school_people["accountant"], channel="api").exists()
        assert AccessLog.objects.filter(user=school_people["parent"], channel="api").exists()


def test_not_on_the_national_host(billed, client_for, school_people, settings):
    import hashlib
    import hmac

    settings.XASO_BANK_WEBHOOK_SECRET = "national-test"
    national = client_for("localhost", school_people["accountant"])
    school = billed["thcs"].pk
    for path in (f"education/fees/schools/{school}/items/", f"education/fees/schools/{school}/invoices/",
                 "education/fees/my-invoices/", "education/fees/invoices/HP26-000001/"):
        assert national.get(f"/api/v1/communes/04630/{path}").status_code in (401, 403, 404), path
    raw = b'{"commune": "04630"}'
    secret = hmac.new(b"national-test", b"education-fees:04630", hashlib.sha256).hexdigest()
    signature = hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
    for url in ("/api/v1/education/fees/bank-notification/",
                "/api/v1/communes/04630/education/fees/bank-notification/"):
        response = client_for("localhost").post(url, raw, content_type="application/json",
                                                HTTP_X_XASO_SIGNATURE=signature)
        assert response.status_code == 404, url
