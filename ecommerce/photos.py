"""Photos of OCOP products: checked, cleaned, resized, stored under the commune's prefix, served.

An upload is accepted when it is within ``XASO_OCOP_PHOTO_MAX_BYTES`` (8 MB), its content (not its
name, not the type the browser claims) is a JPEG, a PNG or a WebP, its size is within
``XASO_OCOP_PHOTO_MAX_PIXELS`` (read from the header before a pixel is decoded, against
decompression bombs: a small file that would open as a gigantic image), and it decodes whole.
Anything else is refused with a Vietnamese message and nothing is stored.

The photo is then turned the way the camera held it (the EXIF orientation), and drawn again
into a new image that carries no metadata at all: no EXIF (the GPS position of the producer's
house among it), no XMP, no comment, no colour profile. It is stored at the widths of
``WIDTHS`` that it reaches (never enlarged), each in WebP and in JPEG, under
``communes/<schema>/ocop/photos/<product>/<key>-<width>.<ext>``; ``ProductPhoto.variants``
lists them. The key is new for every upload, so a stored file never changes and is served with
a year's cache (``immutable``) while its product is listed.

Writes (``add_photo``, ``update_photo``, ``move_photo``, ``delete_photo``) check the role and the
producer as ``ecommerce.services`` does (``product.write`` of the product's producer); each is
one transaction, and the files of a refused or rolled-back upload are removed.
"""
from __future__ import annotations

import io
import logging
import posixpath
import secrets
import struct
import warnings

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Max
from django.http import FileResponse, Http404
from django.template.defaultfilters import filesizeformat
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _

from core.middleware import shareable_with_the_device
from core.text import clean_text
from core.validation import refuse
from ecommerce import permissions
from ecommerce.models import ProducerStatus, Product, ProductPhoto

logger = logging.getLogger(__name__)

WIDTHS = (320, 640, 1280)
FORMATS = ("webp", "jpeg")
CONTENT_TYPES = {"webp": "image/webp", "jpeg": "image/jpeg"}
EXTENSIONS = {"webp": "webp", "jpeg": "jpg"}
QUALITY = {"webp": 80, "jpeg": 82}
MAX_ALT_TEXT = 200
MAX_SIDE = 20000  # pixels on one side, whatever the total
CACHE_SECONDS = 365 * 24 * 3600
FOLDER = "ocop/photos"

JPEG, PNG, WEBP = "JPEG", "PNG", "WEBP"
ACCEPTED_NAMES = "JPEG, PNG, WebP"


def max_bytes() -> int:
    return int(getattr(settings, "XASO_OCOP_PHOTO_MAX_BYTES", 8 * 1024 * 1024))


def max_pixels() -> int:
    return int(getattr(settings, "XASO_OCOP_PHOTO_MAX_PIXELS", 50_000_000))


def max_photos() -> int:
    return int(getattr(settings, "XASO_OCOP_PHOTOS_PER_PRODUCT", 10))


# --- checking and cleaning ---------------------------------------------------------------------

def sniff(head: bytes) -> str | None:
    """The image format of a file from its first bytes (JPEG, PNG, WEBP), or None."""
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return WEBP
    return None


def _not_an_image() -> ValidationError:
    return refuse(_("This file is not a photo that can be used: send a JPEG, PNG or WebP photo "
                    "(the content is checked, not the name)."), code="file_type", field="photo")


def _corrupt() -> ValidationError:
    return refuse(_("This photo cannot be read: the file is damaged or cut short. Take or save the photo "
                    "again and send it."), code="corrupt", field="photo")


def read_upload(upload) -> bytes:
    """The uploaded file's bytes, within the size limit and of an accepted type by content."""
    if upload is None:
        raise refuse(_("Choose a photo."), code="required", field="photo")
    limit = max_bytes()
    size = getattr(upload, "size", None)
    if size is not None and size > limit:
        raise refuse(_("The photo is too large: at most %(max)s.") % {"max": filesizeformat(limit)},
                     code="too_large", field="photo")
    try:
        upload.seek(0)
    except (AttributeError, OSError):
        pass
    data = upload.read(limit + 1)
    if not data:
        raise refuse(_("The file is empty."), code="empty", field="photo")
    if len(data) > limit:
        raise refuse(_("The photo is too large: at most %(max)s.") % {"max": filesizeformat(limit)},
                     code="too_large", field="photo")
    if sniff(data[:16]) is None:
        raise _not_an_image()
    return data


def open_image(data: bytes):
    """Decode ``data`` into a clean RGB or RGBA image turned upright, checking its pixel count
    from the header first. Refusals: ``file_type``, ``too_many_pixels``, ``corrupt``."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    expected = sniff(data[:16])
    if expected is None:
        raise _not_an_image()
    limit = max_pixels()
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(data), formats=[expected])
        except UnidentifiedImageError:
            raise _corrupt() from None
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise _too_many_pixels(limit) from None
        except (OSError, SyntaxError, ValueError, EOFError):
            raise _corrupt() from None
        width, height = image.size
        if width < 1 or height < 1:
            raise _corrupt()
        if width * height > limit or width > MAX_SIDE or height > MAX_SIDE:
            raise _too_many_pixels(limit)
        try:
            if expected == JPEG:
                # Decode at the smallest scale (1/2, 1/4, 1/8) still at least as large as the
                # widest variant, whichever way the photo is turned: a 12-megapixel photo is read
                # at a quarter of its pixels.
                image.draft("RGB", (max(WIDTHS), max(WIDTHS)))
            image.load()
            image = ImageOps.exif_transpose(image) or image
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise _too_many_pixels(limit) from None
        except (OSError, SyntaxError, ValueError, EOFError, IndexError, TypeError, struct.error):
            raise _corrupt() from None
    has_alpha = image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info)
    mode = "RGBA" if has_alpha else "RGB"
    try:
        converted = image.convert(mode)
    except (OSError, ValueError):
        raise _corrupt() from None
    # A new image from the pixels alone: nothing of the file's metadata can follow it.
    clean = Image.new(mode, converted.size)
    clean.paste(converted)
    return clean


def _too_many_pixels(limit: int) -> ValidationError:
    return refuse(_("The photo has too many pixels: at most %(max)s megapixels. Send a smaller photo.") % {
        "max": f"{limit / 1_000_000:.0f}"}, code="too_many_pixels", field="photo")


def _encode(image, fmt: str) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    if fmt == "jpeg":
        if image.mode == "RGBA":  # JPEG has no transparency: on white, as a page shows it
            background = Image.new("RGB", image.size, (255, 255, 255))
            background.paste(image, mask=image.getchannel("A"))
            image = background
        image.save(out, "JPEG", quality=QUALITY["jpeg"], optimize=True, progressive=True)
    else:
        image.save(out, "WEBP", quality=QUALITY["webp"], method=4)
    return out.getvalue()


def render_variants(image) -> list[tuple[str, int, int, bytes]]:
    """[(format, width, height, bytes)] of ``image`` at each width of ``WIDTHS`` it reaches (its
    own width when it is narrower than the smallest), never enlarged."""
    from PIL import Image

    width, height = image.size
    widths = [w for w in WIDTHS if w <= width] or [width]
    out = []
    source = image
    for target in sorted(widths, reverse=True):  # each size drawn from the next larger one
        target_height = max(1, round(height * target / width))
        if target != source.width:
            source = source.resize((target, target_height), Image.Resampling.LANCZOS, reducing_gap=3.0)
        for fmt in FORMATS:
            out.append((fmt, target, source.height, _encode(source, fmt)))
    return sorted(out, key=lambda item: (item[1], item[0]))


# --- writes ------------------------------------------------------------------------------------

def _check_writable(user, product: Product) -> None:
    permissions.require(user, "product.write", product.producer_id)
    if product.producer.status == ProducerStatus.SUSPENDED:
        raise refuse(_("This producer is suspended: its products cannot be changed."), code="producer_suspended")


def _alt_text(value) -> str:
    text = clean_text(value)
    if len(text) > MAX_ALT_TEXT:
        raise refuse(_("At most %(max)d characters.") % {"max": MAX_ALT_TEXT}, code="too_long", field="alt_text")
    return text


def _original_name(upload) -> str:
    name = posixpath.basename(str(getattr(upload, "name", "") or "").replace("\\", "/"))
    return clean_text(name)[:200]


def _delete_files(paths) -> None:
    for path in paths:
        try:
            default_storage.delete(path)
        except Exception:  # noqa: BLE001 - a file left behind is logged, never an error for the user
            logger.warning("Photo file %s could not be removed", path, exc_info=True)


def add_photo(user, product: Product, upload, *, alt_text: str = "") -> ProductPhoto:
    """Check, clean and store an uploaded photo of ``product`` (last in its order).

    Everything is checked and drawn in memory first; then the files are written and the row
    committed in one transaction; a failure on the way removes the files written. (Called by a
    view or the API outside any transaction: an outer transaction rolled back later would leave
    the files without their row.)"""
    _check_writable(user, product)
    alt = _alt_text(alt_text)
    if ProductPhoto.objects.filter(product=product).count() >= max_photos():
        raise refuse(_("A product has at most %(max)d photos: delete one first.") % {"max": max_photos()},
                     code="too_many", field="photo")
    data = read_upload(upload)
    image = open_image(data)
    rendered = render_variants(image)
    key = secrets.token_hex(8)
    written: list[str] = []
    try:
        variants = []
        for fmt, width, height, content in rendered:
            name = f"{FOLDER}/{product.pk}/{key}-{width}.{EXTENSIONS[fmt]}"
            path = default_storage.save(name, ContentFile(content))
            written.append(path)
            variants.append({"format": fmt, "width": width, "height": height, "path": path, "bytes": len(content)})
        largest = max(variants, key=lambda v: v["width"])
        with transaction.atomic():
            Product.objects.select_for_update().filter(pk=product.pk).first()
            last = ProductPhoto.objects.filter(product=product).aggregate(last=Max("order"))["last"]
            photo = ProductPhoto.objects.create(
                product=product, order=(last + 1) if last is not None else 0, alt_text=alt,
                width=largest["width"], height=largest["height"], variants=variants,
                original_name=_original_name(upload), original_bytes=len(data),
                uploaded_by=user if getattr(user, "pk", None) else None,
            )
    except BaseException:
        _delete_files(written)
        raise
    return photo


@transaction.atomic
def update_photo(user, photo: ProductPhoto, *, alt_text=None) -> ProductPhoto:
    """Change the photo's description for screen readers."""
    photo = ProductPhoto.objects.select_for_update().select_related("product__producer").get(pk=photo.pk)
    _check_writable(user, photo.product)
    if alt_text is not None:
        photo.alt_text = _alt_text(alt_text)
        photo.save(update_fields=["alt_text"])
    return photo


@transaction.atomic
def move_photo(user, photo: ProductPhoto, position) -> list[ProductPhoto]:
    """Put the photo at ``position`` (0 is the first, the one the lists show) and number the
    product's photos 0, 1, 2 … again."""
    photo = ProductPhoto.objects.select_related("product__producer").filter(pk=photo.pk).first()
    if photo is None:
        raise refuse(_("This photo no longer exists."), code="not_found")
    _check_writable(user, photo.product)
    if isinstance(position, bool) or not isinstance(position, int):
        raise refuse(_("Choose a position from the list."), code="invalid_choice", field="position")
    Product.objects.select_for_update().filter(pk=photo.product_id).first()
    photos = list(ProductPhoto.objects.filter(product_id=photo.product_id).order_by("order", "pk"))
    moved = next(p for p in photos if p.pk == photo.pk)
    photos.remove(moved)
    photos.insert(max(0, min(position, len(photos))), moved)
    for index, item in enumerate(photos):
        if item.order != index:
            item.order = index
            ProductPhoto.objects.filter(pk=item.pk).update(order=index)
    return photos


def delete_photo(user, photo: ProductPhoto) -> None:
    """Delete a photo and, once the deletion is committed, its files."""
    with transaction.atomic():
        photo = ProductPhoto.objects.select_for_update().select_related("product__producer").filter(pk=photo.pk).first()
        if photo is None:
            raise refuse(_("This photo no longer exists."), code="not_found")
        _check_writable(user, photo.product)
        paths = [v.get("path") for v in photo.variants or [] if v.get("path")]
        photo.delete()
        transaction.on_commit(lambda: _delete_files(paths))


# --- reading and serving -----------------------------------------------------------------------

def file_name(variant: dict) -> str:
    return posixpath.basename(variant.get("path") or "")


def variant_url(photo: ProductPhoto, fmt: str = "jpeg", width: int = 640) -> str:
    """The address of the stored variant of ``photo`` nearest ``width`` from above (relative)."""
    variant = photo.variant(fmt, width)
    if variant is None:
        return ""
    try:
        return reverse("ocop:photo", args=[photo.pk, file_name(variant)])
    except NoReverseMatch:
        return ""


def srcset(photo: ProductPhoto, fmt: str = "webp") -> str:
    """``/…-320.webp 320w, /…-640.webp 640w, …`` for an ``<img srcset>`` or ``<source>``."""
    parts = []
    for variant in sorted((v for v in photo.variants or [] if v.get("format") == fmt), key=lambda v: v["width"]):
        try:
            parts.append(f"{reverse('ocop:photo', args=[photo.pk, file_name(variant)])} {variant['width']}w")
        except NoReverseMatch:
            return ""
    return ", ".join(parts)


def may_see(user, photo: ProductPhoto) -> bool:
    """Anyone sees the photos of a listed product; the others only whoever may read the product."""
    product = photo.product
    if product.is_listed:
        return True
    from ecommerce import selectors

    return selectors.products_for(user).filter(pk=product.pk).exists()


def serve(request, pk: int, name: str):
    """A stored variant of a photo. A listed product's photo is public and cached for a year
    (its file never changes: a new upload has a new name); another one only for the people
    who may read the product, never kept by a shared cache."""
    photo = ProductPhoto.objects.select_related("product__producer").filter(pk=pk).first()
    if photo is None:
        raise Http404
    variant = next((v for v in photo.variants or [] if file_name(v) == name), None)
    if variant is None or not may_see(request.user, photo):
        raise Http404
    try:
        handle = default_storage.open(variant["path"], "rb")
    except OSError:
        raise Http404 from None
    response = FileResponse(handle, content_type=CONTENT_TYPES.get(variant.get("format"), "application/octet-stream"))
    if photo.product.is_listed:
        response["Cache-Control"] = f"public, max-age={CACHE_SECONDS}, immutable"
        shareable_with_the_device(response)
    else:
        response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response
