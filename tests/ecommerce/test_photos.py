"""Product photos against the real PostgreSQL and the storage: checked by content, cleaned of
their metadata (EXIF with the GPS position, XMP, comments), turned upright, stored at a few
widths in WebP and JPEG under the commune's prefix, served with a year's cache while listed;
a refused file leaves nothing behind."""
from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from ecommerce import photos, services
from ecommerce.models import ProductPhoto

GPS_IFD = 0x8825
ORIENTATION = 0x0112


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return Path(settings.MEDIA_ROOT)


def camera_jpeg(width=4000, height=3000, orientation=6) -> bytes:
    """A phone camera's JPEG: held upright (EXIF orientation 6: turn 90° clockwise), with the GPS
    position of the producer's house, an XMP packet and a comment."""
    image = Image.new("RGB", (width, height), (180, 120, 40))
    for x in range(0, width, 97):  # some detail, so that sizes differ
        image.paste((30, 90, 30), (x, 0, x + 20, height // 3))
    exif = Image.Exif()
    exif[ORIENTATION] = orientation
    exif[0x010F] = "PhoneMaker"
    exif[GPS_IFD] = {1: "N", 2: (21.0, 47.0, 12.5), 3: "E", 4: (104.0, 25.0, 7.25)}
    xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF><exif:GPSLatitude>21,47.2N</exif:GPSLatitude></rdf:RDF></x:xmpmeta>'
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90, exif=exif.tobytes(), xmp=xmp, comment=b"nha ong Pan, ban Luot")
    return out.getvalue()


def upload(data: bytes, name="anh.jpg", content_type="image/jpeg"):
    return SimpleUploadedFile(name, data, content_type=content_type)


def stored_files(media: Path) -> list[Path]:
    return sorted(p for p in media.rglob("*") if p.is_file() and "kept-uploads" not in p.parts)


def test_a_camera_photo_is_turned_upright_cleaned_and_stored_in_three_widths_twice(market, in_commune, tule, media):
    data = camera_jpeg()
    assert b"GPS" in data or Image.open(io.BytesIO(data)).getexif().get_ifd(GPS_IFD)
    with in_commune(tule):
        photo = photos.add_photo(market["seller"], market["rice"], upload(data), alt_text=" Túi gạo nếp  500 g ")
        assert photo.alt_text == "Túi gạo nếp 500 g" and photo.order == 0 and photo.original_bytes == len(data)
        formats = sorted((v["format"], v["width"]) for v in photo.variants)
        assert formats == [("jpeg", 320), ("jpeg", 640), ("jpeg", 1280), ("webp", 320), ("webp", 640), ("webp", 1280)]
        # Held upright: the 4000×3000 sensor image becomes 3000×4000, so 1280 wide is 1707 high.
        assert (photo.width, photo.height) == (1280, 1707)
        for variant in photo.variants:
            path = media / variant["path"]
            assert variant["path"].startswith(f"communes/{tule.schema_name}/ocop/photos/{market['rice'].pk}/")
            raw = path.read_bytes()
            assert len(raw) == variant["bytes"]
            image = Image.open(io.BytesIO(raw))
            assert image.format == {"jpeg": "JPEG", "webp": "WEBP"}[variant["format"]]
            assert image.size == (variant["width"], variant["height"]) and image.height > image.width
            assert not image.getexif(), "EXIF left in " + variant["path"]
            assert not image.info.get("xmp") and not image.info.get("comment") and not image.info.get("exif")
            for secret in (b"Exif", b"GPS", b"xmpmeta", b"PhoneMaker", b"ban Luot"):
                assert secret not in raw, (secret, variant["path"])
        # The WebP files are the smaller ones.
        by_key = {(v["format"], v["width"]): v["bytes"] for v in photo.variants}
        assert by_key[("webp", 1280)] < by_key[("jpeg", 1280)]


def test_transparency_stays_in_webp_and_turns_white_in_jpeg(market, in_commune, tule, media):
    image = Image.new("RGBA", (400, 300), (0, 0, 0, 0))
    image.paste((200, 0, 0, 255), (0, 0, 200, 300))
    out = io.BytesIO()
    image.save(out, "PNG")
    with in_commune(tule):
        photo = photos.add_photo(market["seller"], market["rice"], upload(out.getvalue(), "logo.png", "image/png"))
    # Narrower than 640: stored at 320 and nothing larger (never enlarged).
    assert sorted((v["format"], v["width"]) for v in photo.variants) == [("jpeg", 320), ("webp", 320)]
    webp = Image.open(media / photo.variant("webp", 320)["path"])
    jpeg = Image.open(media / photo.variant("jpeg", 320)["path"]).convert("RGB")
    assert webp.mode == "RGBA" and webp.getpixel((300, 10))[3] == 0
    assert jpeg.getpixel((300, 10)) == (255, 255, 255)


def test_a_photo_narrower_than_the_smallest_width_is_kept_at_its_own(market, in_commune, tule):
    out = io.BytesIO()
    Image.new("RGB", (200, 150), (10, 200, 10)).save(out, "WEBP")
    with in_commune(tule):
        photo = photos.add_photo(market["seller"], market["rice"], upload(out.getvalue(), "nho.webp", "image/webp"))
    assert sorted((v["format"], v["width"], v["height"]) for v in photo.variants) == [
        ("jpeg", 200, 150), ("webp", 200, 150)]


def _gif() -> bytes:
    out = io.BytesIO()
    Image.new("P", (10, 10)).save(out, "GIF")
    return out.getvalue()


def _bomb() -> bytes:
    """A 40,000 × 40,000 PNG (1.6 gigapixels) of about 200 KB: decoding it would take gigabytes."""
    out = io.BytesIO()
    Image.new("1", (40000, 40000)).save(out, "PNG", optimize=True)
    return out.getvalue()


@pytest.mark.parametrize("data, name, code", [
    (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj", "anh.jpg", "file_type"),
    (b"not an image at all", "anh.png", "file_type"),
    (_gif(), "anh.gif", "file_type"),
    (camera_jpeg(800, 600)[:3000], "cut.jpg", "corrupt"),
    (b"\x89PNG\r\n\x1a\n" + b"\x00" * 200, "broken.png", "corrupt"),
    (b"RIFF\x10\x00\x00\x00WEBPVP8 junkjunkjunk", "broken.webp", "corrupt"),
    (b"", "empty.jpg", "empty"),
    (_bomb(), "bomb.png", "too_many_pixels"),
])
def test_bad_files_are_refused_with_a_clear_message_and_nothing_is_stored(market, in_commune, tule, media, data, name,
                                                                           code):
    from django.utils import translation

    with in_commune(tule), translation.override("vi"):
        with pytest.raises(ValidationError) as refused:
            photos.add_photo(market["seller"], market["rice"], upload(data, name))
        assert services.error_code(refused.value) == code
        message = refused.value.message_dict["photo"][0]
        assert message and message.isprintable() and not message.isascii(), message  # said in Vietnamese
        assert ProductPhoto.objects.count() == 0
    assert stored_files(media) == []


def test_the_size_limit_is_checked_before_reading(market, in_commune, tule, media, settings):
    settings.XASO_OCOP_PHOTO_MAX_BYTES = 10_000
    with in_commune(tule):
        with pytest.raises(ValidationError) as refused:
            photos.add_photo(market["seller"], market["rice"], upload(camera_jpeg(1200, 900)))
    assert services.error_code(refused.value) == "too_large"
    assert stored_files(media) == []


def test_a_failure_after_the_files_are_written_removes_them(market, in_commune, tule, media, monkeypatch):
    from ecommerce.models import ProductPhoto as Model

    def broken(*args, **kwargs):
        raise RuntimeError("database gone")

    monkeypatch.setattr(Model.objects, "create", broken)
    with in_commune(tule):
        with pytest.raises(RuntimeError):
            photos.add_photo(market["seller"], market["rice"], upload(camera_jpeg(700, 500)))
    assert stored_files(media) == []


def test_only_the_producers_members_and_the_officer_add_photos(market, in_commune, tule, settings):
    settings.XASO_OCOP_PHOTOS_PER_PRODUCT = 2
    with in_commune(tule):
        for someone in ("rival", "chairman", "clerk", "buyer"):
            with pytest.raises(PermissionDenied):
                photos.add_photo(market[someone], market["rice"], upload(camera_jpeg(400, 300)))
        photos.add_photo(market["officer"], market["rice"], upload(camera_jpeg(400, 300)))
        photos.add_photo(market["seller"], market["rice"], upload(camera_jpeg(400, 300)))
        with pytest.raises(ValidationError) as full:
            photos.add_photo(market["seller"], market["rice"], upload(camera_jpeg(400, 300)))
        assert services.error_code(full.value) == "too_many"


def test_order_text_and_deletion(market, in_commune, tule, media, django_capture_on_commit_callbacks):
    with in_commune(tule):
        first, second, third = (photos.add_photo(market["seller"], market["rice"], upload(camera_jpeg(400, 300)))
                                for _i in range(3))
        assert [first.order, second.order, third.order] == [0, 1, 2]
        photos.move_photo(market["seller"], third, 0)
        assert list(ProductPhoto.objects.order_by("order").values_list("pk", flat=True)) == [third.pk, first.pk, second.pk]
        photos.update_photo(market["seller"], first, alt_text="Ruộng bậc thang")
        first.refresh_from_db()
        assert first.alt_text == "Ruộng bậc thang"
        with pytest.raises(ValidationError):
            photos.update_photo(market["seller"], first, alt_text="x" * 201)
        with pytest.raises(PermissionDenied):
            photos.delete_photo(market["rival"], first)
        files = [media / v["path"] for v in first.variants]
        assert all(f.exists() for f in files)
        with django_capture_on_commit_callbacks(execute=True):
            photos.delete_photo(market["seller"], first)
        assert not ProductPhoto.objects.filter(pk=first.pk).exists()
        assert not any(f.exists() for f in files)


def test_a_listed_products_photo_is_public_and_cached_for_a_year(market, in_commune, tule, client_for, media):
    with in_commune(tule):
        photo = photos.add_photo(market["seller"], market["rice"], upload(camera_jpeg(1000, 800)))
        url = photos.variant_url(photo, "webp", 640)
        srcset = photos.srcset(photo, "webp")
    assert url.startswith(f"/anh-san-pham/{photo.pk}/") and url.endswith("-640.webp")
    assert srcset.count("w,") == 1 and srcset.endswith(" 640w")
    response = client_for("tule.localhost").get(url)
    assert response.status_code == 200 and response["Content-Type"] == "image/webp"
    assert response["Cache-Control"] == "public, max-age=31536000, immutable"
    assert b"".join(response.streaming_content)[:4] == b"RIFF"
    # A logged-in buyer's browser may keep it too: there is nothing personal in it.
    logged = client_for("tule.localhost", market["buyer"]).get(url)
    assert logged.status_code == 200 and "immutable" in logged["Cache-Control"]
    assert client_for("tule.localhost").get(url.replace("-640.", "-641.")).status_code == 404
    assert client_for("tule.localhost").get(f"/anh-san-pham/{photo.pk}/..%2f..%2fsettings.py").status_code == 404
    # Another commune's host has no such photo.
    assert client_for("yenhoa.localhost").get(url).status_code == 404


def test_an_unlisted_products_photo_is_for_its_producer_and_the_commune_only(market, in_commune, tule, client_for,
                                                                           media):
    with in_commune(tule):
        draft = services.create_product(market["seller"], market["ours"], name="Cốm thử", group="1", price=90000,
                                        unit="kg", description="Cốm.")
        photo = photos.add_photo(market["seller"], draft, upload(camera_jpeg(700, 500)))
        url = photos.variant_url(photo, "jpeg", 320)
    assert client_for("tule.localhost").get(url).status_code == 404
    assert client_for("tule.localhost", market["rival"]).get(url).status_code == 404
    for someone in ("seller", "officer", "chairman"):
        response = client_for("tule.localhost", market[someone]).get(url)
        assert response.status_code == 200, someone
        assert response["Cache-Control"].startswith("no-store") or "no-store" in response["Cache-Control"]
