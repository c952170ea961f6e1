"""The API of producers, products, versions, certificates and photos (``/api/v1/ocop/…``): the role
matrix over every endpoint (anonymous, citizen, producer of A, producer of B, economy officer,
chairman, clerk), a commune that sees none of another's rows, bad input answered 4xx with the
project's error body, approvals only in a session confirmed by the second factor."""
from __future__ import annotations

import datetime
import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image
from rest_framework.authtoken.models import Token

from communes.models import Role, SupervisingUnit
from ecommerce import photos, services
from ecommerce.models import Certificate, Producer, Product, ProductPhoto, ProductVersion, VersionState

HOST = "tule.localhost"
ROLES = ["anonymous", "citizen", "seller", "rival", "officer", "chairman", "clerk"]


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


def jpeg(width=500, height=400) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (90, 140, 30)).save(out, "JPEG")
    return out.getvalue()


@pytest.fixture
def rows(market, in_commune, tule):
    """The ids the matrix asks for: our producer, its listed rice (a photo, a certificate) and a
    submitted change; their tea."""
    with in_commune(tule):
        photo = photos.add_photo(market["seller"], market["rice"], SimpleUploadedFile("a.jpg", jpeg(), "image/jpeg"))
        certificate = Certificate.objects.create(product=market["rice"], number="1/QĐ", score=80,
                                                 issuing_authority="UBND tỉnh", issued_on=datetime.date(2025, 1, 2))
        services.save_version(market["seller"], market["rice"], price=62000)
        change = services.submit_version(market["seller"], market["rice"])
    return {"ours": market["ours"].pk, "theirs": market["theirs"].pk, "rice": market["rice"].pk,
            "tea": market["tea"].pk, "photo": photo.pk, "certificate": certificate.pk, "change": change.pk}


def client(client_for, market, role):
    if role == "anonymous":
        return client_for(HOST)
    user = market["buyer"] if role == "citizen" else market[role]
    return client_for(HOST, user)


def call(api, method, path, data=None, **extra):
    body = json.dumps(data) if data is not None else None
    return getattr(api, method)(path, body, content_type="application/json", **extra) if method != "get" else api.get(path)


# Expected statuses: a role missing from a row's dict gets the row's default.
READS = [
    ("get", "/api/v1/ocop/producers/", {"anonymous": 401}, 200),
    ("get", "/api/v1/ocop/producers/{ours}/", {"anonymous": 401, "seller": 200, "officer": 200, "chairman": 200}, 404),
    ("get", "/api/v1/ocop/products/", {"anonymous": 401, "citizen": 403, "clerk": 403}, 200),
    ("get", "/api/v1/ocop/products/{rice}/", {"anonymous": 401, "citizen": 403, "clerk": 403, "rival": 404}, 200),
    ("get", "/api/v1/ocop/products/{rice}/versions/", {"anonymous": 401, "citizen": 403, "clerk": 403, "rival": 404}, 200),
    ("get", "/api/v1/ocop/products/{rice}/photos/", {"anonymous": 401, "citizen": 403, "clerk": 403, "rival": 404}, 200),
    ("get", "/api/v1/ocop/products/{rice}/certificates/", {"anonymous": 401, "citizen": 403, "clerk": 403, "rival": 404},
     200),
    ("get", "/api/v1/ocop/versions/", {"anonymous": 401, "citizen": 403, "clerk": 403}, 200),
    ("get", "/api/v1/ocop/versions/{change}/", {"anonymous": 401, "citizen": 403, "clerk": 403, "rival": 404}, 200),
    ("get", "/api/v1/ocop/photos/{photo}/", {"anonymous": 401, "citizen": 403, "clerk": 403, "rival": 404}, 200),
    ("get", "/api/v1/ocop/certificates/", {"anonymous": 401, "citizen": 403, "clerk": 403}, 200),
    ("get", "/api/v1/ocop/certificates/{certificate}/", {"anonymous": 401, "citizen": 403, "clerk": 403, "rival": 404},
     200),
]


@pytest.mark.parametrize("role", ROLES)
def test_reads_follow_the_role_matrix(market, rows, client_for, role):
    api = client(client_for, market, role)
    for method, path, special, default in READS:
        response = call(api, method, path.format(**rows))
        expected = special.get(role, default)
        assert response.status_code == expected, (role, path, response.status_code, response.content[:300])
        if response.status_code >= 400:
            body = response.json()
            assert set(body) == {"code", "detail", "fields"} and body["detail"], body


@pytest.mark.parametrize("role", ROLES)
def test_each_role_lists_only_its_rows(market, rows, client_for, role):
    api = client(client_for, market, role)
    producers = api.get("/api/v1/ocop/producers/")
    products = api.get("/api/v1/ocop/products/")
    mine = {"seller": {rows["ours"]}, "rival": {rows["theirs"]}, "officer": {rows["ours"], rows["theirs"]},
            "chairman": {rows["ours"], rows["theirs"]}}.get(role, set())
    if role == "anonymous":
        assert producers.status_code == 401
        return
    assert {p["id"] for p in producers.json()["results"]} == mine
    if products.status_code == 200:
        listed = {p["producer"] for p in products.json()["results"]}
        assert listed == mine


WRITES = [
    # (method, path, body, {role: status}, default)
    ("patch", "/api/v1/ocop/producers/{ours}/", {"description": "Hợp tác xã 46 hộ."},
     {"anonymous": 401, "seller": 200, "officer": 200, "chairman": 403}, 404),
    ("post", "/api/v1/ocop/producers/{theirs}/approve/", None,
     {"anonymous": 401, "officer": 409}, 403),
    ("post", "/api/v1/ocop/producers/{theirs}/suspend/", {"reason": ""},
     {"anonymous": 401, "officer": 400}, 403),
    ("post", "/api/v1/ocop/products/{rice}/stock/", {"stock": 7},
     {"anonymous": 401, "seller": 200, "officer": 200, "rival": 404}, 403),
    ("post", "/api/v1/ocop/products/{rice}/versions/", {"unit": "túi 2 kg"},
     {"anonymous": 401, "seller": 201, "officer": 201, "rival": 404}, 403),
    ("post", "/api/v1/ocop/products/{rice}/hide/", {"reason": ""},
     {"anonymous": 401, "seller": 200, "officer": 200, "rival": 404}, 403),
    ("post", "/api/v1/ocop/products/{rice}/certificates/",
     {"number": "2/QĐ", "score": 91, "issuing_authority": "UBND tỉnh", "issued_on": "03/04/2025"},
     {"anonymous": 401, "officer": 201}, 403),
    ("post", "/api/v1/ocop/certificates/",
     {"product": "{tea}", "number": "3/QĐ", "score": 55, "issuing_authority": "UBND tỉnh", "issued_on": "2025-04-03"},
     {"anonymous": 401, "officer": 201}, 403),
    ("patch", "/api/v1/ocop/photos/{photo}/", {"alt_text": "Túi gạo"},
     {"anonymous": 401, "seller": 200, "officer": 200, "rival": 404}, 403),
    # The officer's write of the version above took it back to a draft: nothing to send back (409).
    ("post", "/api/v1/ocop/versions/{change}/reject/", {"reason": "Thiếu hóa đơn."},
     {"anonymous": 401, "officer": 409}, 403),
    ("delete", "/api/v1/ocop/photos/{photo}/", None, {"anonymous": 401, "seller": 204, "officer": 204, "rival": 404}, 403),
]


@pytest.mark.parametrize("role", ROLES)
def test_writes_follow_the_role_matrix(market, rows, client_for, in_commune, tule, role):
    api = client(client_for, market, role)
    for method, path, body, special, default in WRITES:
        if isinstance(body, dict):
            body = {k: (int(v.format(**rows)) if isinstance(v, str) and v.startswith("{") else v) for k, v in body.items()}
        response = call(api, method, path.format(**rows), body)
        expected = special.get(role, default)
        assert response.status_code == expected, (role, method, path, response.status_code, response.content[:300])
        if response.status_code >= 400:
            assert set(response.json()) == {"code", "detail", "fields"}
    with in_commune(tule):
        rice = Product.objects.get(pk=rows["rice"])
        if role in ("seller", "officer"):
            assert rice.stock == 7
        else:
            assert rice.stock == 10 and ProductPhoto.objects.filter(pk=rows["photo"]).exists()
            assert Producer.objects.get(pk=rows["ours"]).description == ""


@pytest.mark.parametrize("role", ROLES)
def test_creating_follows_the_role_matrix(market, rows, client_for, in_commune, tule, role):
    api = client(client_for, market, role)
    producer = call(api, "post", "/api/v1/ocop/producers/", {
        "kind": "household_business", "name": f"Hộ Thử {role}", "representative": "A", "phone": "0912000123",
        "address": "Bản", "village": market["village"].pk})
    assert producer.status_code == (401 if role == "anonymous" else 201), producer.content
    product = call(api, "post", "/api/v1/ocop/products/", {
        "producer": rows["ours"], "name": "Bánh Thử", "group": "1", "price": 20000, "unit": "hộp", "description": "Bánh."})
    expected = {"anonymous": 401, "seller": 201, "officer": 201, "rival": 400}.get(role, 403)
    assert product.status_code == expected, (role, product.content)
    if role == "rival":
        assert product.json()["fields"] == {"producer": ["Chọn một chủ thể của bạn."]}
    with in_commune(tule):
        assert Product.objects.filter(versions__name="Bánh Thử").count() == (1 if expected == 201 else 0)


def test_a_producer_lifecycle_through_the_api(market, client_for, in_commune, tule):
    citizen = client_for(HOST, market["buyer"])
    created = call(citizen, "post", "/api/v1/ocop/producers/", {
        "kind": "cooperative", "name": "HTX Chè Thử API", "representative": "Lò Văn A", "phone": "0912000321",
        "address": "Bản Thử", "village": market["village"].pk, "tax_code": "0300588569"})
    assert created.status_code == 201 and created.json()["status"] == "pending"
    producer_id = created.json()["id"]
    assert citizen.get(f"/api/v1/ocop/producers/{producer_id}/").status_code == 200
    officer = client_for(HOST, market["officer"])
    approved = call(officer, "post", f"/api/v1/ocop/producers/{producer_id}/approve/")
    assert approved.status_code == 200, approved.content
    assert approved.json()["granted_role_to"] == [market["buyer"].pk] and approved.json()["producer"]["status"] == "approved"
    citizen = client_for(HOST, market["buyer"])
    product = call(citizen, "post", "/api/v1/ocop/products/", {
        "producer": producer_id, "name": "Chè Thử API", "group": "1", "subgroup": "1.5", "price": 150000,
        "unit": "hộp 200 g", "season_months": [3, 4, 5], "description": "Chè búp.", "stock": 20, "submit": True})
    assert product.status_code == 201, product.content
    body = product.json()
    assert body["status"] == "pending" and body["live_version"] is None and body["stars_today"] == 0
    version = body["pending_version"]
    pending = officer.get("/api/v1/ocop/versions/?state=submitted").json()["results"]
    assert version in [v["id"] for v in pending]
    detail = officer.get(f"/api/v1/ocop/versions/{version}/").json()
    assert "price" in detail["changed"] and detail["live_version"] is None
    listed = call(officer, "post", f"/api/v1/ocop/versions/{version}/approve/")
    assert listed.status_code == 200 and listed.json()["status"] == "published"
    # A change of the listed product waits; the listing keeps the approved version.
    change = call(citizen, "post", f"/api/v1/ocop/products/{body['id']}/versions/", {"price": 160000, "submit": True})
    assert change.status_code == 201 and change.json()["state"] == "submitted" and change.json()["changed"] == ["price"]
    now = citizen.get(f"/api/v1/ocop/products/{body['id']}/").json()
    assert now["live_version"]["price"] == 150000 and now["pending_version"] == change.json()["id"]
    # Submitting again with nothing open: a conflict with the state.
    again = call(citizen, "post", f"/api/v1/ocop/products/{body['id']}/submit/")
    assert again.status_code == 409 and again.json()["code"] == "wrong_state"
    # The tax code is a company's: shown whole; a 12-digit one would be masked.
    assert citizen.get(f"/api/v1/ocop/producers/{producer_id}/").json()["tax_code"] == "0300588569"


def test_a_household_business_tax_code_that_is_an_id_number_is_masked(market, client_for):
    seller = client_for(HOST, market["seller"])
    response = call(seller, "patch", f"/api/v1/ocop/producers/{market['ours'].pk}/", {"tax_code": "001087012345"})
    assert response.status_code == 200 and response.json()["tax_code"] == "001******345"


@pytest.mark.parametrize("path, body, field, code", [
    ("/api/v1/ocop/products/", {"producer": "{ours}", "name": "X", "group": "1", "price": -5, "unit": "kg",
                                "description": "x"}, "price", "invalid"),
    ("/api/v1/ocop/products/", {"producer": "{ours}", "name": "X", "group": "99", "price": 5, "unit": "kg",
                                "description": "x"}, "group", "invalid_choice"),
    ("/api/v1/ocop/products/", {"producer": "{ours}", "name": "X", "group": "1", "subgroup": "2.1", "price": 5,
                                "unit": "kg", "description": "x"}, "subgroup", "invalid_choice"),
    ("/api/v1/ocop/products/", {"producer": "{ours}", "name": "X", "group": "1", "price": 5, "unit": "kg",
                                "description": "x", "gtin": "12345678"}, "gtin", "invalid_gtin"),
    ("/api/v1/ocop/products/", {"producer": "{ours}", "name": "X", "group": "1", "price": 5, "unit": "kg",
                                "description": "x", "season_months": [13]}, "season_months", "invalid"),
    ("/api/v1/ocop/products/", {"producer": "{ours}", "name": "  ", "group": "1", "price": 5, "unit": "kg",
                                "description": "x"}, "name", "invalid"),
    ("/api/v1/ocop/products/{rice}/stock/", {"stock": "nhiều"}, "stock", "invalid"),
    ("/api/v1/ocop/products/{rice}/stock/", {"stock": 10 ** 12}, "stock", "invalid"),
    ("/api/v1/ocop/producers/", {"kind": "shop", "name": "X"}, "kind", "invalid"),
    ("/api/v1/ocop/producers/", {"kind": "cooperative", "name": "X", "representative": "A", "phone": "12",
                                 "address": "B", "village": 1}, "phone", "invalid_phone"),
    ("/api/v1/ocop/producers/", {"kind": "cooperative", "name": "X", "representative": "A", "phone": "0912000111",
                                 "address": "B", "village": 999999}, "village", "invalid_choice"),
])
def test_bad_input_is_a_4xx_with_the_error_body(market, rows, client_for, in_commune, tule, path, body, field, code):
    body = {k: (int(v.format(**rows)) if isinstance(v, str) and v.startswith("{") else v) for k, v in body.items()}
    response = call(client_for(HOST, market["seller"]), "post", path.format(**rows), body)
    assert response.status_code == 400, response.content
    data = response.json()
    assert data["code"] == code and field in data["fields"], data
    assert not data["detail"].isascii() or data["code"] == "invalid"  # Vietnamese
    with in_commune(tule):
        assert not Product.objects.filter(versions__name="X").exists()
        assert not Producer.objects.filter(name="X").exists()


def test_malformed_bodies_and_files(market, rows, client_for):
    seller = client_for(HOST, market["seller"])
    broken = seller.post("/api/v1/ocop/products/", "{not json", content_type="application/json")
    assert broken.status_code == 400 and set(broken.json()) == {"code", "detail", "fields"}
    deep = seller.post("/api/v1/ocop/products/", "[" * 5000 + "]" * 5000, content_type="application/json")
    assert deep.status_code == 400
    not_image = seller.post(f"/api/v1/ocop/products/{rows['rice']}/photos/", {
        "photo": SimpleUploadedFile("a.jpg", b"%PDF-1.4 not a photo", "image/jpeg")})
    assert not_image.status_code == 400 and not_image.json()["code"] == "file_type"
    assert "photo" in not_image.json()["fields"]
    good = seller.post(f"/api/v1/ocop/products/{rows['rice']}/photos/", {
        "photo": SimpleUploadedFile("b.png", jpeg(1400, 1000), "image/png"), "alt_text": "Ruộng"})
    assert good.status_code == 201, good.content
    variants = good.json()["variants"]
    assert sorted((v["format"], v["width"]) for v in variants) == [
        ("jpeg", 320), ("jpeg", 640), ("jpeg", 1280), ("webp", 320), ("webp", 640), ("webp", 1280)]
    assert all(v["url"].startswith("http://tule.localhost/anh-san-pham/") for v in variants)
    moved = call(seller, "patch", f"/api/v1/ocop/photos/{good.json()['id']}/", {"position": 0})
    assert moved.status_code == 200 and moved.json()["order"] == 0
    bad_date = call(client_for(HOST, market["officer"]), "post", f"/api/v1/ocop/products/{rows['rice']}/certificates/",
                    {"number": "9/QĐ", "score": 70, "issuing_authority": "UBND", "issued_on": "31/02/2025"})
    assert bad_date.status_code == 400 and "issued_on" in bad_date.json()["fields"]


def test_approving_needs_a_session_confirmed_by_the_second_factor(market, rows, client_for, in_commune, tule):
    unconfirmed = client_for(HOST, market["officer"], second_factor=False)
    response = call(unconfirmed, "post", f"/api/v1/ocop/versions/{rows['change']}/approve/")
    assert response.status_code == 403 and response.json()["code"] == "second_factor_required"
    token, _created = Token.objects.get_or_create(user=market["officer"])
    api = client_for(HOST)
    by_token = api.post(f"/api/v1/ocop/versions/{rows['change']}/approve/", HTTP_AUTHORIZATION=f"Token {token.key}")
    assert by_token.status_code == 403 and by_token.json()["code"] == "second_factor_required"
    reads = api.get("/api/v1/ocop/versions/?state=submitted", HTTP_AUTHORIZATION=f"Token {token.key}")
    assert reads.status_code == 200
    with in_commune(tule):
        assert ProductVersion.objects.get(pk=rows["change"]).state == VersionState.SUBMITTED
    confirmed = call(client_for(HOST, market["officer"]), "post", f"/api/v1/ocop/versions/{rows['change']}/approve/")
    assert confirmed.status_code == 200 and confirmed.json()["live_version"]["price"] == 62000


def test_a_commune_sees_none_of_another_communes_rows(market, rows, client_for, make_user, yenhoa, communes):
    other = make_user("ocop_officer_other", roles={yenhoa: [Role.ECONOMY_OFFICER]})
    api = client_for("yenhoa.localhost", other)
    assert api.get("/api/v1/ocop/producers/").json()["results"] == []
    assert api.get("/api/v1/ocop/products/").json()["results"] == []
    for path in ("producers/{ours}/", "products/{rice}/", "versions/{change}/", "photos/{photo}/",
                 "certificates/{certificate}/"):
        assert api.get("/api/v1/ocop/" + path.format(**rows)).status_code == 404, path
    assert call(api, "post", f"/api/v1/ocop/versions/{rows['change']}/approve/").status_code == 404
    # Tú Lệ's own producer on Yên Mô's host: no role there.
    assert client_for("yenhoa.localhost", market["seller"]).get("/api/v1/ocop/products/").status_code == 403
    # A supervising unit does not reach producers' rows through the national host.
    staff = make_user("ocop_supervisor", units=[SupervisingUnit.objects.get(code="15")])
    national = client_for("localhost", staff)
    assert national.get("/api/v1/communes/04630/ocop/products/").status_code == 403
    assert national.get("/api/v1/communes/04630/ocop/producers/").status_code == 403


def test_stars_and_their_reason_in_the_api(market, client_for, in_commune, tule):
    import datetime

    from django.utils import timezone

    today = timezone.localdate()
    with in_commune(tule):
        Certificate.objects.create(product=market["tea"], number="4/QĐ", score=88, issuing_authority="UBND",
                                   issued_on=today - datetime.timedelta(days=1200),
                                   expires_on=today - datetime.timedelta(days=1))
    tea = client_for(HOST, market["rival"]).get(f"/api/v1/ocop/products/{market['tea'].pk}/").json()
    assert tea["stars_today"] == 0
    assert tea["stars_reason"] == f"Giấy chứng nhận OCOP đã hết hạn ngày {today - datetime.timedelta(days=1):%d/%m/%Y}."
    certs = client_for(HOST, market["rival"]).get(f"/api/v1/ocop/products/{market['tea'].pk}/certificates/").json()
    assert certs[0]["stars"] == 4 and certs[0]["stars_now"] == 0 and certs[0]["expired"] is True
