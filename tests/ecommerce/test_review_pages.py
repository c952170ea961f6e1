"""The economy officer's review pages: what waits, a version beside the approved one with the
changed fields marked, approval and refusal with a reason, certificates; approving only in a
session confirmed by the second factor, only the officer, only rows of the host's commune."""
from __future__ import annotations

import datetime
import re

import pytest
from django.utils import timezone

from communes.models import Role
from ecommerce import services
from ecommerce.models import Certificate, Producer, ProducerStatus, Product, ProductStatus, VersionState

HOST = "tule.localhost"


def text_of(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


@pytest.fixture
def change(market, in_commune, tule):
    """A submitted change of the listed rice: a new price and season, the rest as approved."""
    with in_commune(tule):
        services.save_version(market["seller"], market["rice"], price=65000, season_months=[9, 10])
        version = services.submit_version(market["seller"], market["rice"])
    return version


def test_what_waits_links_to_each_item(market, change, client_for, in_commune, tule):
    with in_commune(tule):
        waiting = services.request_producer(market["buyer"], kind="cooperative", name="HTX Chờ Duyệt",
                                            representative="A", phone="0912000555", address="Bản",
                                            village=market["village"].pk)
    page = client_for(HOST, market["officer"]).get("/ocop/review/")
    assert page.status_code == 200
    html = page.content.decode()
    assert f'href="/ocop/review/producers/{waiting.pk}/"' in html
    assert f'href="/ocop/review/versions/{change.pk}/"' in html
    assert "thay đổi của sản phẩm đang bán" in text_of(page)


def test_a_change_is_shown_beside_the_approved_version_with_the_changed_fields_marked(market, change, client_for):
    page = client_for(HOST, market["officer"]).get(f"/ocop/review/versions/{change.pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    rows = re.findall(r'<tr class="(changed)?"><th scope="row">(.*?)</th><td>(.*?)</td><td>(.*?)</td></tr>', html, re.S)
    marked = {re.sub(r"<[^>]+>|\s+", " ", label).split(" thay đổi")[0].strip(): (old, new) for flag, label, old, new in rows
              if flag}
    assert len(marked) == 2 and "Giá (đồng)" in marked, marked
    assert [old_new for label, old_new in marked.items() if label.startswith("Các tháng")] == [("Quanh năm", "9, 10")]
    assert marked["Giá (đồng)"] == ("60.000 đ", "65.000 đ")
    assert "2 trường khác với phiên bản đã duyệt" in text_of(page)


def test_approving_a_change_makes_it_the_listing(market, change, client_for, in_commune, tule):
    officer = client_for(HOST, market["officer"])
    response = officer.post(f"/ocop/review/versions/{change.pk}/approve/")
    assert response.status_code == 302 and response["Location"] == "/ocop/review/"
    with in_commune(tule):
        rice = Product.objects.get(pk=market["rice"].pk)
        assert rice.live_version_id == change.pk and rice.live_version.price == 65000 and rice.pending_version_id is None
    # Approving twice: a clear message, nothing changes.
    again = officer.post(f"/ocop/review/versions/{change.pk}/approve/", follow=True)
    assert "Không thể thực hiện thao tác này" in text_of(again)


def test_sending_back_needs_a_reason_and_keeps_the_listing(market, change, client_for, in_commune, tule):
    officer = client_for(HOST, market["officer"])
    empty = officer.post(f"/ocop/review/versions/{change.pk}/reject/", {"reason": ""})
    assert empty.status_code == 400 and "error-summary" in empty.content.decode()
    sent_back = officer.post(f"/ocop/review/versions/{change.pk}/reject/", {"reason": "Giá mới cần có hóa đơn."})
    assert sent_back.status_code == 302
    with in_commune(tule):
        change.refresh_from_db()
        rice = Product.objects.get(pk=market["rice"].pk)
        assert change.state == VersionState.REJECTED and change.reject_reason == "Giá mới cần có hóa đơn."
        assert rice.status == ProductStatus.PUBLISHED and rice.live_version.price == 60000


def test_approving_needs_the_second_factor(market, change, client_for, in_commune, tule):
    unconfirmed = client_for(HOST, market["officer"], second_factor=False)
    response = unconfirmed.post(f"/ocop/review/versions/{change.pk}/approve/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/2fa/")
    refused = unconfirmed.post(f"/ocop/review/producers/{market['ours'].pk}/refuse/", {"reason": "x"})
    assert refused.status_code == 302 and refused["Location"].startswith("/accounts/2fa/")
    with in_commune(tule):
        change.refresh_from_db()
        assert change.state == VersionState.SUBMITTED


@pytest.mark.parametrize("who", ["chairman", "seller", "rival", "clerk", "buyer"])
def test_only_the_economy_officer_approves(market, change, client_for, in_commune, tule, who):
    client = client_for(HOST, market[who])
    assert client.post(f"/ocop/review/versions/{change.pk}/approve/").status_code == 403
    assert client.post(f"/ocop/review/versions/{change.pk}/reject/", {"reason": "Không."}).status_code == 403
    assert client.post(f"/ocop/review/producers/{market['theirs'].pk}/refuse/", {"reason": "Không."}).status_code == 403
    assert client.post(f"/ocop/products/{market['rice'].pk}/certificates/new/", {}).status_code == 403
    with in_commune(tule):
        change.refresh_from_db()
        assert change.state == VersionState.SUBMITTED
        assert Producer.objects.get(pk=market["theirs"].pk).status == ProducerStatus.APPROVED


def test_the_chairman_reads_the_review_pages_without_the_buttons(market, change, client_for):
    client = client_for(HOST, market["chairman"])
    page = client.get(f"/ocop/review/versions/{change.pk}/")
    assert page.status_code == 200 and "Duyệt phiên bản này" not in text_of(page)
    assert client.get("/ocop/review/").status_code == 200
    assert client_for(HOST, market["seller"]).get("/ocop/review/").status_code == 403


def test_each_action_only_on_rows_of_the_hosts_commune(market, change, client_for, make_user, yenhoa, in_commune, tule):
    # Tú Lệ's officer has no role on Yên Mô's host; Yên Mô's officer finds none of Tú Lệ's rows.
    assert client_for("yenhoa.localhost", market["officer"]).post(
        f"/ocop/review/versions/{change.pk}/approve/").status_code == 403
    other = make_user("ocop_officer_ym", roles={yenhoa: [Role.ECONOMY_OFFICER]})
    client = client_for("yenhoa.localhost", other)
    assert client.get(f"/ocop/review/versions/{change.pk}/").status_code == 404
    assert client.post(f"/ocop/review/versions/{change.pk}/approve/").status_code == 404
    assert client.post(f"/ocop/review/producers/{market['ours'].pk}/approve/").status_code == 404
    assert client.get(f"/ocop/products/{market['rice'].pk}/certificates/new/").status_code == 404
    with in_commune(tule):
        change.refresh_from_db()
        assert change.state == VersionState.SUBMITTED


def test_recording_a_certificate_computes_its_end(market, client_for, in_commune, tule):
    officer = client_for(HOST, market["officer"])
    form = officer.get(f"/ocop/products/{market['rice'].pk}/certificates/new/")
    assert form.status_code == 200 and "36 tháng" in text_of(form)
    future = (timezone.localdate() + datetime.timedelta(days=3)).strftime("%d/%m/%Y")
    for data, message in [
        ({"number": "12/QĐ-UBND", "score": "101", "issuing_authority": "UBND tỉnh", "issued_on": "01/02/2025"},
         "Điểm là số nguyên từ 0 đến 100"),
        ({"number": "12/QĐ-UBND", "score": "80", "issuing_authority": "UBND tỉnh", "issued_on": "31/02/2025"},
         "Nhập ngày theo dạng dd/mm/yyyy"),
        ({"number": "12/QĐ-UBND", "score": "80", "issuing_authority": "UBND tỉnh", "issued_on": future},
         "Ngày cấp không được ở tương lai"),
        ({"number": "12/QĐ-UBND", "score": "80", "issuing_authority": "UBND tỉnh", "issued_on": "01/02/2025",
          "expires_on": "01/01/2025"}, "sau ngày cấp"),
    ]:
        refused = officer.post(f"/ocop/products/{market['rice'].pk}/certificates/new/", data)
        assert refused.status_code == 400, data
        assert message in text_of(refused), (message, text_of(refused)[-3000:])
        assert 'value="12/QĐ-UBND"' in refused.content.decode()
    done = officer.post(f"/ocop/products/{market['rice'].pk}/certificates/new/", {
        "number": "12/QĐ-UBND", "score": "80", "issuing_authority": "UBND tỉnh Lào Cai", "issued_on": "03/04/2025"},
        follow=True)
    assert "có hiệu lực đến 03/04/2028" in text_of(done)
    with in_commune(tule):
        certificate = Certificate.objects.get(number="12/QĐ-UBND")
        assert certificate.issued_on == datetime.date(2025, 4, 3) and certificate.expires_on == datetime.date(2028, 4, 3)
        assert certificate.stars == 4
