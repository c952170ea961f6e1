"""Traceability: lots and their codes through the services, the public trace page of a code (the
local path and the GS1 Digital Link), scans counted without the producer's own looks, a code that
does not exist, a commune that does not see another's codes, and the producer's lot pages."""
from __future__ import annotations

import datetime
import html
import re
import threading

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.utils import timezone

from ecommerce import services, trace
from ecommerce.models import CODE_ALPHABET, Lot, TraceCode, TraceEvent, TraceScanDay, add_months

HOST = "tule.localhost"
GTIN13 = "8936012345674"  # a GTIN-13 with its check digit; read as 08936012345674


def text_of(response) -> str:
    return html.unescape(response.content.decode())


def scans(tule, in_commune, code: str) -> int:
    with in_commune(tule):
        return sum(TraceScanDay.objects.filter(code__code=code).values_list("count", flat=True))


@pytest.fixture
def traced(market, in_commune, tule):
    """Tú Lệ's rice with a certificate (4 stars), a lot of 3 items, two events."""
    from population.models import Village

    with in_commune(tule):
        Village.objects.filter(pk=market["village"].pk).update(latitude="21.795000", longitude="104.290000")
        Village.objects.create(name="Bản Thử Nà", latitude="21.810000", longitude="104.310000")
        Village.objects.create(name="Bản Thử Mường", latitude="21.770000", longitude="104.270000")
        seller, rice = market["seller"], market["rice"]
        services.add_certificate(market["officer"], rice, number="OCOP-YB-2025-017", score=78,
                                 issuing_authority="Ủy ban nhân dân tỉnh Yên Bái",
                                 issued_on=timezone.localdate() - datetime.timedelta(days=200))
        lot = services.create_lot(seller, rice, number="NEP-2025-10", produced_on=timezone.localdate() - datetime.timedelta(days=20),
                                  quantity="1.200", unit="kg", input_notes="Phân chuồng hoai mục, không thuốc diệt cỏ.",
                                  item_codes=3)
        services.add_trace_event(seller, lot, kind="harvested", at=timezone.now() - datetime.timedelta(days=20),
                                 place="Ruộng bậc thang Tú Lệ")
        services.add_trace_event(seller, lot, kind="packed", at=timezone.now() - datetime.timedelta(days=10),
                                 place="Nhà sơ chế HTX", note="Túi hút chân không 2 kg")
        codes = {c.serial: c.code for c in lot.codes.all()}
        yield {**market, "lot": lot, "lot_code": codes[None], "item_codes": [codes[1], codes[2], codes[3]]}


# --- services ----------------------------------------------------------------------------------

def test_a_lot_gets_its_code_and_a_series_numbered_after_its_last_item(traced, in_commune, tule):
    with in_commune(tule):
        lot = traced["lot"]
        assert all(len(c) == 8 and set(c) <= set(CODE_ALPHABET) for c in [traced["lot_code"], *traced["item_codes"]])
        more = services.issue_item_codes(traced["seller"], lot, "2")
        assert [c.serial for c in more] == [4, 5]
        assert sorted(lot.codes.values_list("serial", flat=True), key=lambda s: s or 0) == [None, 1, 2, 3, 4, 5]
        with pytest.raises(ValidationError) as too_many:
            services.issue_item_codes(traced["seller"], lot, services.MAX_ITEM_CODES - 4)
        assert services.error_code(too_many.value) == "too_many"
        assert "4.995" in str(too_many.value)
        for bad in ("0", "-3", "abc", "", True):
            with pytest.raises(ValidationError):
                services.issue_item_codes(traced["seller"], lot, bad)
        # Another producer, a leader, a clerk: refused, nothing issued.
        for user in (traced["rival"], traced["chairman"], traced["clerk"]):
            with pytest.raises(PermissionDenied):
                services.issue_item_codes(user, lot, 1)
        assert lot.codes.count() == 6


def test_two_series_issued_at_once_never_share_a_number(tule_live):
    """Two series of the same lot issued at the same moment, each on its own connection with
    committed rows: the lot's lock gives them consecutive numbers, never the same."""
    from django.db import connections
    from django_tenants.utils import tenant_context

    from tests.ecommerce.orders_live import committed_shop

    with committed_shop(tag="series") as shop:
        with tenant_context(shop["commune"]):
            lot = services.create_lot(shop["seller"], shop["product"], number="K-1", produced_on=timezone.localdate(),
                                      quantity=10, unit="kg")
        barrier = threading.Barrier(2)
        errors = []

        def issue():
            try:
                with tenant_context(shop["commune"]):
                    barrier.wait()
                    services.issue_item_codes(shop["seller"], Lot.objects.get(pk=lot.pk), 20)
            except Exception as exc:  # noqa: BLE001 - reported below
                errors.append(exc)
            finally:
                connections.close_all()

        threads = [threading.Thread(target=issue) for _ in range(2)]
        try:
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            assert errors == []
            with tenant_context(shop["commune"]):
                serials = sorted(TraceCode.objects.filter(lot_id=lot.pk, serial__isnull=False)
                                 .values_list("serial", flat=True))
                assert serials == list(range(1, 41))
        finally:
            with tenant_context(shop["commune"]):
                TraceCode.objects.filter(lot_id=lot.pk).delete()
                Lot.objects.filter(pk=lot.pk).delete()
                Lot.history.model.objects.filter(id=lot.pk).delete()
            connection.set_schema_to_public()


def test_codes_are_found_as_typed_and_by_their_gs1_link(traced, in_commune, tule):
    with in_commune(tule):
        code = traced["lot_code"]
        assert trace.find_code(code.lower()).code == code
        assert trace.find_code(f"{code[:4]}-{code[4:]} ").code == code
        assert trace.find_code("O0I1") is None and trace.find_code("") is None
        # The rice has no GTIN: its stamps carry the local path, and GS1 links find nothing.
        lot_code = TraceCode.objects.select_related("lot__product").get(code=code)
        assert trace.public_path(lot_code) == f"/t/{code}/"
        assert trace.find_gs1(GTIN13, "NEP-2025-10") is None
        rice = traced["rice"]
        rice.gtin = "0" + GTIN13
        rice.save(update_fields=["gtin"])
        lot_code = TraceCode.objects.select_related("lot__product").get(code=code)
        assert trace.public_path(lot_code) == "/01/08936012345674/10/NEP-2025-10"
        assert trace.trace_url(lot_code) == "http://tule.localhost/01/08936012345674/10/NEP-2025-10"
        assert trace.find_gs1(GTIN13, "NEP-2025-10").code == code
        assert trace.find_gs1("08936012345674", "NEP-2025-10", "2").code == traced["item_codes"][1]
        assert trace.find_gs1("08936012345674", "NEP-2025-10", "9") is None
        assert trace.find_gs1("08936012345675", "NEP-2025-10") is None  # wrong check digit
        assert trace.find_gs1("08936012345674", "NEP-2025-11") is None


# --- the public trace page ---------------------------------------------------------------------

def test_the_trace_page_shows_origin_certificate_lot_and_journey(traced, client_for):
    code = traced["lot_code"]
    response = client_for(HOST).get(f"/t/{code}/")
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-cache"
    page = text_of(response)
    assert "<html lang=\"vi\"" in page
    for expected in ("Gạo nếp Thử", "HTX Nếp Thử", "Bản Thử Chợ, xã Tú Lệ", "OCOP-YB-2025-017",
                     "Ủy ban nhân dân tỉnh Yên Bái", "★★★★", "NEP-2025-10", "1.200 kg", "Phân chuồng hoai mục",
                     "Ruộng bậc thang Tú Lệ", "Túi hút chân không 2 kg", "Thu hoạch", "Đóng gói"):
        assert expected in page, expected
    assert page.index("Ruộng bậc thang") < page.index("Túi hút chân không")  # the chain in order
    # The origin among the commune's villages: an inline drawing, no tiles, no script.
    svg = re.search(r"<svg[^>]*>(.*?)</svg>", page, re.S).group(1)
    assert svg.count("<circle") == 3 and 'fill="#b3261e"' in svg and "Bản Thử Chợ" in svg
    assert "<script" not in page.split("<main", 1)[1]
    # No personal data of the producer: neither its phone nor its representative.
    assert "0912000101" not in page and "Lò Văn Pản" not in page


def test_an_item_code_and_the_gs1_link_open_the_same_page(traced, client_for, in_commune, tule):
    with in_commune(tule):
        traced["rice"].gtin = "0" + GTIN13
        traced["rice"].save(update_fields=["gtin"])
    client = client_for(HOST)
    by_code = text_of(client.get(f"/t/{traced['item_codes'][1]}/"))
    assert "sản phẩm số 2" in by_code
    for path in ("/01/08936012345674/10/NEP-2025-10/21/2", "/01/8936012345674/10/NEP-2025-10/21/2/"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert "sản phẩm số 2" in text_of(response) and traced["item_codes"][1] in text_of(response)
    lot_page = client.get("/01/08936012345674/10/NEP-2025-10")
    assert lot_page.status_code == 200 and traced["lot_code"] in text_of(lot_page)
    assert f'<link rel="canonical" href="/t/{traced["lot_code"]}/">' in lot_page.content.decode()
    assert client.get("/01/08936012345674/10/NEP-2025-10/21/7").status_code == 404


def test_scans_are_counted_per_day_but_not_the_producers_own_looks(traced, client_for, in_commune, tule):
    code = traced["lot_code"]
    anonymous = client_for(HOST)
    anonymous.get(f"/t/{code}/")
    anonymous.get(f"/t/{code}/")
    assert scans(tule, in_commune, code) == 2
    anonymous.head(f"/t/{code}/")
    preview = anonymous.get(f"/t/{code}/?preview=1")
    assert "không được tính là một lượt quét" in text_of(preview)
    anonymous.get(f"/t/{code}/", HTTP_SEC_PURPOSE="prefetch")
    client_for(HOST, traced["seller"]).get(f"/t/{code}/")  # the producer's member
    client_for(HOST, traced["officer"]).get(f"/t/{code}/")  # the commune's staff
    assert scans(tule, in_commune, code) == 2
    client_for(HOST, traced["rival"]).get(f"/t/{code}/")  # another producer is a buyer here
    client_for(HOST, traced["buyer"]).get(f"/t/{code}/")
    assert scans(tule, in_commune, code) == 4
    with in_commune(tule):
        [day] = TraceScanDay.objects.filter(code__code=code)
        assert (day.day, day.count) == (timezone.localdate(), 4)
        # Nothing about the scanners: the row is a code, a day and a count.
        assert {f.name for f in TraceScanDay._meta.get_fields()} == {"id", "code", "day", "count"}


def test_a_code_typed_in_lower_case_goes_to_its_page(traced, client_for):
    code = traced["lot_code"]
    response = client_for(HOST).get(f"/t/{code.lower()}/?preview=1")
    assert response.status_code == 302 and response["Location"] == f"/t/{code}/?preview=1"
    lookup = client_for(HOST).get("/t/", {"code": f" {code[:4]} {code[4:].lower()} "})
    assert lookup.status_code == 302 and lookup["Location"] == f"/t/{code}/"


@pytest.mark.parametrize("path", ["/t/ACDEFGHJ/", "/t/abc/", "/t/<script>/", "/01/08936012345674/10/NEP-2025-10",
                                  "/01/12345678901234/10/X/21/1"])
def test_a_code_that_does_not_exist_gets_a_clear_page_and_404(traced, client_for, path):
    response = client_for(HOST).get(path)
    assert response.status_code == 404
    page = text_of(response)
    assert "Không tìm thấy mã truy xuất" in page and "Không có sản phẩm nào" in page
    assert 'name="code"' in page  # a form to type the code again
    assert "<script>" not in response.content.decode().split("<main", 1)[1]


def test_the_lookup_keeps_what_was_typed_when_nothing_matches(traced, client_for):
    response = client_for(HOST).get("/t/", {"code": "XYZW-7777"})
    assert response.status_code == 404
    assert "“XYZW-7777”" in text_of(response) and 'value="XYZW-7777"' in response.content.decode()
    assert client_for(HOST).get("/t/").status_code == 200


def test_another_commune_does_not_know_the_code(traced, client_for):
    response = client_for("yenhoa.localhost").get(f"/t/{traced['lot_code']}/")
    assert response.status_code == 404


def test_an_expired_certificate_hides_the_stars_and_says_why(traced, client_for, in_commune, tule):
    from ecommerce.models import Certificate

    code = traced["lot_code"]
    with in_commune(tule):
        issued = add_months(timezone.localdate(), -37)
        Certificate.objects.filter(product=traced["rice"]).update(
            issued_on=issued, expires_on=add_months(issued, 36))
        expired_on = add_months(issued, 36)
    page = text_of(client_for(HOST).get(f"/t/{code}/"))
    assert "★" not in page
    assert f"Giấy chứng nhận OCOP đã hết hạn ngày {expired_on:%d/%m/%Y}" in page
    assert "OCOP-YB-2025-017" in page  # the certificate is still named, without its stars


def test_a_suspended_producer_is_said_and_the_product_not_offered(traced, client_for, in_commune, tule):
    with in_commune(tule):
        services.suspend_producer(traced["officer"], traced["ours"], "Kiểm tra chất lượng")
    page = text_of(client_for(HOST).get(f"/t/{traced['lot_code']}/"))
    assert "không được xã phê duyệt" in page
    assert "không được bán trong danh mục" in page


# --- the producer's lot pages ------------------------------------------------------------------

def test_a_producer_records_a_lot_on_the_phone_page(market, client_for, in_commune, tule):
    client = client_for(HOST, market["seller"])
    form = client.get("/ocop/lots/new/")
    assert form.status_code == 200
    assert "Gạo nếp Thử" in text_of(form) and "Chè Thử" not in text_of(form)  # only its own products
    data = {"product": market["rice"].pk, "number": "NEP-2026-01", "produced_on": "02/01/2026",
            "quantity": "500", "unit": "kg", "input_notes": "Giống nếp Tan", "item_codes": "5"}
    # A date in the future is refused on its field, with everything typed kept.
    future = (timezone.localdate() + datetime.timedelta(days=3)).strftime("%d/%m/%Y")
    refused = client.post("/ocop/lots/new/", {**data, "produced_on": future})
    assert refused.status_code == 400
    page = text_of(refused)
    assert "không được ở tương lai" in page and 'value="NEP-2026-01"' in page and "Giống nếp Tan" in page
    created = client.post("/ocop/lots/new/", data)
    assert created.status_code == 302
    with in_commune(tule):
        lot = Lot.objects.get(number="NEP-2026-01")
        assert lot.produced_on == datetime.date(2026, 1, 2) and lot.codes.count() == 6
        lot_code = lot.codes.get(serial__isnull=True).code
    page = text_of(client.get(created["Location"]))
    assert "NEP-2026-01" in page and "5 mã, đánh số từ 1 đến 5" in page
    assert f"/t/{lot_code}/?preview=1" in page


def test_a_producer_adds_steps_and_a_series_from_the_lot_page(traced, client_for, in_commune, tule):
    lot = traced["lot"]
    client = client_for(HOST, traced["seller"])
    added = client.post(f"/ocop/lots/{lot.pk}/events/", {"kind": "shipped", "at": "05/01/2026 08:30",
                                                         "place": "Bưu điện Văn Chấn", "note": ""})
    assert added.status_code == 302
    bad = client.post(f"/ocop/lots/{lot.pk}/events/", {"kind": "eaten", "at": "31/02/2026", "place": "X"})
    assert bad.status_code == 400
    assert "Nhập ngày giờ theo dạng dd/mm/yyyy hh:mm" in text_of(bad) and 'value="X"' in bad.content.decode()
    future = client.post(f"/ocop/lots/{lot.pk}/events/", {"kind": "packed", "at": "05/01/2099 08:30", "place": "Y"})
    assert future.status_code == 400 and "Thời điểm không được ở tương lai" in text_of(future)
    issued = client.post(f"/ocop/lots/{lot.pk}/series/", {"count": "10"})
    assert issued.status_code == 302
    with in_commune(tule):
        assert TraceEvent.objects.filter(lot=lot, kind="shipped", place="Bưu điện Văn Chấn").exists()
        assert lot.codes.filter(serial__isnull=False).count() == 13
    page = text_of(client.get(f"/ocop/lots/{lot.pk}/"))
    assert "Bưu điện Văn Chấn" in page and "13 mã, đánh số từ 1 đến 13" in page


def test_lot_pages_follow_the_producer_and_the_role(traced, client_for):
    lot = traced["lot"]
    assert client_for(HOST).get(f"/ocop/lots/{lot.pk}/").status_code == 302  # to the login page
    rival = client_for(HOST, traced["rival"])
    assert rival.get(f"/ocop/lots/{lot.pk}/").status_code == 404
    assert rival.post(f"/ocop/lots/{lot.pk}/events/", {"kind": "packed", "at": "05/01/2026 08:30"}).status_code == 404
    assert traced["lot"].number not in text_of(rival.get("/ocop/lots/"))
    officer = client_for(HOST, traced["officer"])
    assert officer.get(f"/ocop/lots/{lot.pk}/").status_code == 200
    chairman = client_for(HOST, traced["chairman"])
    assert chairman.get(f"/ocop/lots/{lot.pk}/").status_code == 200
    assert chairman.post(f"/ocop/lots/{lot.pk}/series/", {"count": "1"}).status_code == 403
    assert client_for(HOST, traced["clerk"]).get("/ocop/lots/").status_code == 403
    assert client_for(HOST, traced["buyer"]).get("/ocop/lots/").status_code == 403
    seller = text_of(client_for(HOST, traced["seller"]).get("/ocop/lots/"))
    assert "NEP-2025-10" in seller and "Gạo nếp Thử" in seller


def test_the_lot_page_counts_its_scans(traced, client_for):
    anonymous = client_for(HOST)
    for code in (traced["lot_code"], traced["item_codes"][0], traced["item_codes"][0]):
        anonymous.get(f"/t/{code}/")
    page = text_of(client_for(HOST, traced["seller"]).get(f"/ocop/lots/{traced['lot'].pk}/"))
    assert re.search(r"<strong>3</strong>\s*lượt quét tất cả", page)
    assert f"{traced['item_codes'][0]} (sản phẩm 1): 2" in page


def test_huge_or_unknown_ids_are_404(traced, client_for):
    client = client_for(HOST, traced["seller"])
    assert client.get("/ocop/lots/99999999999999999999999/").status_code == 404
    assert client.get("/ocop/lots/0/").status_code == 404
    assert connection.schema_name  # the request left the connection usable


def test_the_public_home_offers_the_trace_lookup_and_the_map(market, client_for):
    page = text_of(client_for(HOST).get("/"))
    section = page[page.index('id="ocop-trace"'):]
    assert 'action="/t/"' in section and 'name="code"' in section and 'href="/ban-do/"' in section
    assert "Sản phẩm đến từ đâu?" in section and "Bản đồ sản phẩm OCOP" in section
