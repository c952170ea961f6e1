"""Images for visible signatures: reading the PNGs officials provide, and demo images
(a blue handwritten-looking signature, a red round seal) for demonstrations and tests."""
from __future__ import annotations

import functools
import hashlib
import io
import math
import random
import zlib

MAX_SIDE_PX = 1200          # larger images are scaled down (1200 px over 40 mm is ~760 dpi)
MAX_INPUT_PIXELS = 40_000_000


class ImageRejected(ValueError):
    """The signature or seal image is not a readable PNG/JPEG of sensible size."""


@functools.lru_cache(maxsize=32)
def encoded_image(data: bytes) -> tuple[int, int, bytes, bytes | None]:
    """(width, height, deflated RGB samples, deflated alpha samples or None) of an image file."""
    from PIL import Image

    try:
        with Image.open(io.BytesIO(data)) as img:
            if img.width * img.height > MAX_INPUT_PIXELS:
                raise ImageRejected(f"image of {img.width}x{img.height} pixels is too large")
            img.load()
            img = img.convert("RGBA") if ("A" in img.getbands() or "transparency" in img.info) else img.convert("RGB")
    except ImageRejected:
        raise
    except Exception as exc:  # noqa: BLE001 - any decoder failure
        raise ImageRejected(f"unreadable image: {exc}") from None
    if max(img.size) > MAX_SIDE_PX:
        ratio = MAX_SIDE_PX / max(img.size)
        img = img.resize((max(1, round(img.width * ratio)), max(1, round(img.height * ratio))), Image.LANCZOS)
    alpha = None
    if img.mode == "RGBA":
        alpha_band = img.getchannel("A")
        if alpha_band.getextrema() != (255, 255):
            alpha = zlib.compress(alpha_band.tobytes(), 6)
        img = img.convert("RGB")
    return img.width, img.height, zlib.compress(img.tobytes(), 6), alpha


def image_xobject(writer, data: bytes):
    """Write the image (with its transparency as a soft mask) and return (reference, width, height)."""
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.generic import pdf_name

    width, height, rgb, alpha = encoded_image(bytes(data))

    def stream(samples, colour_space):
        return generic.StreamObject({
            pdf_name("/Type"): pdf_name("/XObject"),
            pdf_name("/Subtype"): pdf_name("/Image"),
            pdf_name("/Width"): generic.NumberObject(width),
            pdf_name("/Height"): generic.NumberObject(height),
            pdf_name("/ColorSpace"): pdf_name(colour_space),
            pdf_name("/BitsPerComponent"): generic.NumberObject(8),
            pdf_name("/Filter"): pdf_name("/FlateDecode"),
        }, encoded_data=samples)

    image = stream(rgb, "/DeviceRGB")
    if alpha is not None:
        image[pdf_name("/SMask")] = writer.add_object(stream(alpha, "/DeviceGray"))
    return writer.add_object(image), width, height


# --- demo images ---------------------------------------------------------------------------------

def _seed(text: str) -> int:
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big")


def demo_signature_png(name: str, *, width: int = 600, height: int = 240) -> bytes:
    """A blue, handwritten-looking scribble on a transparent background (the same for the same name)."""
    from PIL import Image, ImageDraw

    rnd = random.Random(_seed(name))
    scale = 3  # drawn large, then reduced: smooth strokes
    img = Image.new("RGBA", (width * scale, height * scale), (0, 0, 0, 0))
    draw = ImageDraw.Draw(img)
    blue = (20, 45, 165, 255)
    w, h = width * scale, height * scale
    loops = 4 + len(name) % 4
    freq = [1.0 + rnd.random() * 0.6, 2.3 + rnd.random(), 4.1 + rnd.random()]
    phase = [rnd.random() * math.tau for _ in freq]
    amp = [0.22, 0.1, 0.05]
    points = []
    steps = 600
    for i in range(steps + 1):
        t = i / steps
        # a pen moving right while looping: x goes slightly backwards inside each loop
        x = w * (0.08 + 0.78 * t) - math.sin(t * loops * math.tau) * w * 0.035
        y = h * 0.5 + sum(a * h * math.sin(f * t * math.tau * 2 + p) for a, f, p in zip(amp, freq, phase))
        y += math.cos(t * loops * math.tau) * h * 0.12
        points.append((x, y))
    draw.line(points, fill=blue, width=4 * scale, joint="curve")
    # a capital-like initial loop and a final underline flourish
    cx, cy, r = w * 0.14, h * 0.4, h * 0.2
    draw.arc((cx - r, cy - r * 1.3, cx + r, cy + r * 1.3), start=100, end=430, fill=blue, width=4 * scale)
    flourish = [(w * (0.1 + 0.8 * k / 40), h * (0.8 - 0.06 * math.sin(k / 40 * math.pi))) for k in range(41)]
    draw.line(flourish, fill=blue, width=3 * scale, joint="curve")
    img = img.resize((width, height), Image.LANCZOS)
    out = io.BytesIO()
    img.save(out, "PNG", optimize=True)
    return out.getvalue()


def demo_seal_png(organisation: str, *, size: int = 600) -> bytes:
    """A red round seal: two rings, the organisation's name along the top, a star and DEMO in the middle."""
    from PIL import Image, ImageDraw, ImageFont

    from .fonts import serif_path

    red = (210, 24, 30, 235)
    img = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    draw = ImageDraw.Draw(img)
    c = size / 2
    draw.ellipse((6, 6, size - 6, size - 6), outline=red, width=max(4, size // 60))
    inner = size * 0.3
    draw.ellipse((c - inner, c - inner, c + inner, c + inner), outline=red, width=max(2, size // 120))
    # five-pointed star
    star, r_out, r_in = [], size * 0.13, size * 0.052
    for k in range(10):
        ang = -math.pi / 2 + k * math.pi / 5
        r = r_out if k % 2 == 0 else r_in
        star.append((c + r * math.cos(ang), c - size * 0.03 + r * math.sin(ang)))
    draw.polygon(star, fill=red)
    small = ImageFont.truetype(serif_path(bold=True), size // 16)
    draw.text((c, c + size * 0.16), "DEMO", fill=red, font=small, anchor="mm")
    # the name along the ring, centred on the top
    text = organisation.upper()
    font = ImageFont.truetype(serif_path(bold=True), max(12, min(size // 13, int(size * 2.6 / max(len(text), 1)))))
    radius = size * 0.39
    widths = [font.getlength(ch) for ch in text]
    total = sum(widths) * 1.05
    span = min(total / radius, math.pi * 1.7)
    angle = -math.pi / 2 - span / 2
    for ch, w in zip(text, widths):
        step = span * (w * 1.05) / total
        mid = angle + step / 2
        tile = Image.new("RGBA", (font.size * 2, font.size * 2), (0, 0, 0, 0))
        ImageDraw.Draw(tile).text((font.size, font.size), ch, fill=red, font=font, anchor="mm")
        tile = tile.rotate(-math.degrees(mid) - 90, resample=Image.BICUBIC)
        x, y = c + radius * math.cos(mid), c + radius * math.sin(mid)
        img.alpha_composite(tile, (int(x - tile.width / 2), int(y - tile.height / 2)))
        angle += step
    out = io.BytesIO()
    img.save(out, "PNG", optimize=True)
    return out.getvalue()
