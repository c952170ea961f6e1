"""The traceability API (/api/v1/ocop/lots/, stamp-sheets/, stock-updates/, trace/, map/, feed.*):
a role matrix over every endpoint (anonymous, producer of A, producer of B, the economy officer,
a leader who reads, a clerk without the module), the project's error bodies, and a commune that
never sees another's lots."""
from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from ecommerce import services

HOST = "tule.localhost"


@pytest.fixture
def lots(market, in_commune, tule):
    with in_commune(tule):
        ours = services.create_lot(market["seller"], market["rice"], number="NEP-1",
                                   produced_on=timezone.localdate() - datetime.timedelta(days=3), quantity=100,
                                   unit="kg", item_codes=2)
        theirs = services.create_lot(market["rival"], market["tea"], number="CHE-1",
                                     produced_on=timezone.localdate() - datetime.timedelta(days=3), quantity=50,
                                     unit="hộp")
        code = ours.codes.get(serial__isnull=True).code
    return {**market, "ours_lot": ours, "theirs_lot": theirs, "code": code}


def endpoints(lots) -> list[tuple[str, str, dict | None]]:
    lot = lots["ours_lot"].pk
    return [
        ("get", "/api/v1/ocop/lots/", None),
        ("post", "/api/v1/ocop/lots/", {"product": lots["rice"].pk, "number": "NEP-M", "produced_on": "01/01/2026",
                                        "quantity": 10, "unit": "kg"}),
        ("get", f"/api/v1/ocop/lots/{lot}/", None),
        ("get", f"/api/v1/ocop/lots/{lot}/events/", None),
        ("post", f"/api/v1/ocop/lots/{lot}/events/", {"kind": "packed", "place": "Nhà HTX"}),
        ("get", f"/api/v1/ocop/lots/{lot}/codes/", None),
        ("post", f"/api/v1/ocop/lots/{lot}/codes/", {"count": 3}),
        ("get", f"/api/v1/ocop/lots/{lot}/stamps/?copies=2", None),
        ("post", f"/api/v1/ocop/lots/{lot}/stamp-sheets/", {"copies": 200}),
        ("post", "/api/v1/ocop/stock-updates/", {"items": [{"sku": lots["rice"].slug, "stock": 9}]}),
        ("get", f"/api/v1/ocop/trace/{lots['code']}/", None),
        ("get", "/api/v1/ocop/map/", None),
        ("get", "/api/v1/ocop/feed.json", None),
        ("get", "/api/v1/ocop/feed.csv", None),
    ]


# (anonymous, seller = producer of A, rival = producer of B, officer, chairman, clerk): the
# status of each endpoint above, in order. Producer B finds producer A's lot nowhere (404).
MATRIX = {
    "anonymous": [403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 200, 200, 200, 200],
    "seller": [200, 201, 200, 200, 201, 200, 201, 200, 202, 200, 200, 200, 200, 200],
    "rival": [200, 400, 404, 404, 404, 404, 404, 404, 404, 400, 200, 200, 200, 200],
    "officer": [200, 201, 200, 200, 201, 200, 201, 200, 202, 200, 200, 200, 200, 200],
    "chairman": [200, 403, 200, 200, 403, 200, 403, 403, 403, 403, 200, 200, 200, 200],
    "clerk": [403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 200, 200, 200, 200],
}


@pytest.mark.parametrize("who", list(MATRIX))
def test_role_matrix(lots, client_for, who, django_capture_on_commit_callbacks):
    user = None if who == "anonymous" else lots[who]
    client = client_for(HOST, user)
    got = []
    for method, path, body in endpoints(lots):
        with django_capture_on_commit_callbacks(execute=False):
            if method == "get":
                response = client.get(path)
            else:
                response = client.post(path, body, content_type="application/json")
        got.append(response.status_code)
        if response.status_code >= 400:
            assert set(response.json()) == {"code", "detail", "fields"}, (method, path, response.content[:200])
    expected = MATRIX[who]
    if who == "anonymous":  # 401 or 403: not logged in, whichever the authentication says
        got = [403 if status == 401 else status for status in got]
    assert got == expected, list(zip([f"{m} {p}" for m, p, _ in endpoints(lots)], got, expected))


def test_a_producer_lists_only_its_lots_and_reads_them_whole(lots, client_for):
    seller = client_for(HOST, lots["seller"])
    listed = seller.get("/api/v1/ocop/lots/").json()["results"]
    assert [lot["number"] for lot in listed] == ["NEP-1"]
    [lot] = listed
    assert (lot["code"], lot["item_codes"], lot["scans"], lot["product_name"]) == (lots["code"], 2, 0, "Gạo nếp Thử")
    detail = seller.get(f"/api/v1/ocop/lots/{lot['id']}/").json()
    assert detail["trace_url"] == f"http://tule.localhost/t/{lots['code']}/"
    client_for(HOST).get(f"/t/{lots['code']}/")
    detail = seller.get(f"/api/v1/ocop/lots/{lot['id']}/").json()
    assert detail["scans"] == 1 and detail["scans_by_day"] == [{"day": timezone.localdate().isoformat(), "count": 1}]
    codes = seller.get(f"/api/v1/ocop/lots/{lot['id']}/codes/").json()["results"]
    assert [(c["serial"], c["scans"]) for c in codes] == [(None, 1), (1, 0), (2, 0)]
    assert codes[1]["url"] == f"http://tule.localhost/t/{codes[1]['code']}/"
    officer = client_for(HOST, lots["officer"]).get("/api/v1/ocop/lots/").json()["results"]
    assert {lot["number"] for lot in officer} == {"NEP-1", "CHE-1"}


def test_bad_input_gets_a_vietnamese_refusal_on_its_field(lots, client_for):
    seller = client_for(HOST, lots["seller"])
    lot = lots["ours_lot"].pk
    future = (timezone.localdate() + datetime.timedelta(days=2)).strftime("%d/%m/%Y")
    cases = [
        ("/api/v1/ocop/lots/", {"product": lots["rice"].pk, "number": "X", "produced_on": future, "quantity": 1,
                                "unit": "kg"}, "produced_on", "tương lai"),
        ("/api/v1/ocop/lots/", {"product": lots["rice"].pk, "number": "NEP-1", "produced_on": "01/01/2026",
                                "quantity": 1, "unit": "kg"}, "number", "đã có lô"),
        ("/api/v1/ocop/lots/", {"product": lots["tea"].pk, "number": "Y", "produced_on": "01/01/2026", "quantity": 1,
                                "unit": "kg"}, "product", "sản phẩm của bạn"),
        ("/api/v1/ocop/lots/", {"product": lots["rice"].pk, "number": "Z", "produced_on": "01/01/2026",
                                "quantity": 10**12, "unit": "kg"}, "quantity", ""),
        (f"/api/v1/ocop/lots/{lot}/events/", {"kind": "eaten"}, "kind", "Chọn việc đã diễn ra"),
        (f"/api/v1/ocop/lots/{lot}/events/", {"kind": "packed", "at": "2099-01-01T00:00:00"}, "at", "tương lai"),
        (f"/api/v1/ocop/lots/{lot}/codes/", {"count": 6000}, "count", ""),
        (f"/api/v1/ocop/lots/{lot}/stamp-sheets/", {"serial_from": 2, "serial_to": 1}, "serial_to", "không được nhỏ hơn"),
    ]
    for path, body, field, words in cases:
        response = seller.post(path, body, content_type="application/json")
        assert response.status_code == 400, (path, body, response.content)
        data = response.json()
        assert field in data["fields"], (path, body, data)
        assert words in " ".join(data["fields"][field]), (path, body, data)
    too_many = seller.get(f"/api/v1/ocop/lots/{lot}/stamps/?copies=500")
    assert too_many.status_code == 400 and too_many.json()["code"] == "too_many"
    pdf = seller.get(f"/api/v1/ocop/lots/{lot}/stamps/?serial_from=1&serial_to=2")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF-")


def test_a_stamp_sheet_job_is_followed_until_its_pdf(lots, client_for, in_commune, tule):
    from ecommerce.models import StampSheetJob
    from jobs.services import execute

    seller = client_for(HOST, lots["seller"])
    queued = seller.post(f"/api/v1/ocop/lots/{lots['ours_lot'].pk}/stamp-sheets/", {"copies": 130},
                         content_type="application/json")
    assert queued.status_code == 202
    job = queued.json()
    assert (job["state"], job["copies"], job["pdf"]) == ("queued", 130, "")
    not_ready = seller.get(f"/api/v1/ocop/stamp-sheets/{job['id']}/pdf/")
    assert not_ready.status_code == 409 and not_ready.json()["code"] == "not_ready"
    with in_commune(tule):
        assert execute(StampSheetJob, job["id"], tule.schema_name) == "succeeded"
    state = seller.get(f"/api/v1/ocop/stamp-sheets/{job['id']}/").json()
    assert (state["state"], state["stamps"], state["pages"]) == ("succeeded", 130, 4)
    assert b"".join(seller.get(state["pdf"]).streaming_content).startswith(b"%PDF-")
    assert client_for(HOST, lots["rival"]).get(f"/api/v1/ocop/stamp-sheets/{job['id']}/").status_code == 404


def test_the_public_trace_answer_has_no_personal_data(lots, client_for, in_commune, tule):
    response = client_for(HOST).get(f"/api/v1/ocop/trace/{lots['code'].lower()}/")
    assert response.status_code == 200
    body = response.json()
    assert (body["code"], body["serial"], body["lot"]["number"]) == (lots["code"], None, "NEP-1")
    assert body["producer"] == {"name": "HTX Nếp Thử", "kind": "Hợp tác xã (HTX)", "approved": True}
    assert body["page_url"] == f"http://tule.localhost/t/{lots['code']}/"
    raw = response.content.decode()
    assert "0912000101" not in raw and "Lò Văn Pản" not in raw
    missing = client_for(HOST).get("/api/v1/ocop/trace/ACDEFGHJ/")
    assert missing.status_code == 404 and "Không có sản phẩm nào có mã truy xuất này" in missing.json()["detail"]
    # Reading the API is not a scan.
    from ecommerce.models import TraceScanDay

    with in_commune(tule):
        assert not TraceScanDay.objects.filter(code__code=lots["code"]).exists()


def test_another_commune_sees_none_of_these_lots(lots, client_for, make_user, yenhoa):
    from communes.models import Role

    officer = make_user("ocop_officer_yenhoa", roles={yenhoa: [Role.ECONOMY_OFFICER]})
    client = client_for("yenhoa.localhost", officer)
    assert client.get("/api/v1/ocop/lots/").json()["results"] == []
    assert client.get(f"/api/v1/ocop/lots/{lots['ours_lot'].pk}/").status_code == 404
    assert client_for("yenhoa.localhost").get(f"/api/v1/ocop/trace/{lots['code']}/").status_code == 404
    # Tú Lệ's officer on Yên Mô's host holds no role there.
    assert client_for("yenhoa.localhost", lots["officer"]).get("/api/v1/ocop/lots/").status_code == 403
