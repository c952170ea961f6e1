"""Visible signatures per Decree 30: the personal signature (blue image between title and name),
the agency's red seal at real size over the left third of it, the text-only attachment mark."""
from __future__ import annotations

import datetime as dt
import io
import subprocess

import pytest

from signatures.pdf import appearance, images, pades
from signatures.pdf.appearance import Appearance

from .samples import PERSONAL_BOX, PERSONAL_LINES, DemoKey, demo_pki, outgoing_flow, sample_pdf

A4 = (595.28, 841.89)


def _png(data):
    from PIL import Image

    return Image.open(io.BytesIO(data))


def _render(pdf: bytes, page: int, dpi: int = 72):
    """The page as a Pillow image (pdftoppm), 1 px = 1 pt at 72 dpi."""
    import os
    import tempfile

    from PIL import Image

    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, "in.pdf")
        with open(src, "wb") as fh:
            fh.write(pdf)
        subprocess.run(["pdftoppm", "-r", str(dpi), "-f", str(page), "-l", str(page), "-singlefile", "-png",
                        src, os.path.join(tmp, "out")], check=True, capture_output=True)
        with Image.open(os.path.join(tmp, "out.png")) as img:
            return img.convert("RGB")


def _count(img, box, predicate):
    """Pixels in a PDF-coordinates box (x1, y1, x2, y2) of a 72 dpi rendering matching predicate."""
    x1, y1, x2, y2 = box
    height = img.height
    crop = img.crop((int(x1), int(height - y2), int(x2), int(height - y1)))
    return sum(1 for px in crop.getdata() if predicate(px))


def blue(px):
    r, g, b = px
    return b > 120 and b > r + 60 and b > g + 40


def red(px):
    r, g, b = px
    return r > 150 and r > g + 80 and r > b + 80


def test_demo_images_are_transparent_pngs_in_the_right_colours():
    sig = _png(images.demo_signature_png("Nguyễn Văn Thắng"))
    seal = _png(images.demo_seal_png("UBND xã Tú Lệ"))
    for img in (sig, seal):
        assert img.format == "PNG" and img.mode == "RGBA"
        assert img.getchannel("A").getextrema()[0] == 0       # transparent background
    inked = [px for px in sig.getdata() if px[3] > 200]
    assert inked and all(px[2] > px[0] + 60 for px in inked[::50])   # blue ink
    inked = [px for px in seal.getdata() if px[3] > 200]
    assert inked and all(px[0] > px[2] + 80 for px in inked[::50])   # red
    assert seal.width == seal.height
    assert images.demo_signature_png("A") == images.demo_signature_png("A")  # stable per name


def test_box_placement():
    seal_box = appearance.agency_box_over(PERSONAL_BOX)
    assert round(seal_box[2] - seal_box[0]) == 113 and round(seal_box[3] - seal_box[1]) == 113   # 40 mm
    x1, y1, x2, y2 = PERSONAL_BOX
    # the seal's right edge lies in the left half of the signature box, over its image's left third
    assert x1 < seal_box[2] < x1 + (x2 - x1) / 2
    assert y1 < (seal_box[1] + seal_box[3]) / 2 < y2
    box = appearance.attachment_box(*A4)
    assert box[2] > A4[0] - 40 and box[3] > A4[1] - 40 and box[0] > A4[0] / 2   # top right
    assert appearance.iso_vn(dt.datetime(2026, 4, 3, 2, 15, tzinfo=dt.timezone.utc)) == "2026-04-03T09:15:00+07:00"
    with pytest.raises(ValueError):
        Appearance("stamp", [])
    with pytest.raises(ValueError):
        Appearance("agency", [])


def test_personal_and_agency_appearances_render_in_blue_and_red():
    flow = outgoing_flow()
    page = _render(flow.final, 2)
    seal_box = appearance.agency_box_over(PERSONAL_BOX)
    x1, y1, x2, y2 = PERSONAL_BOX
    right_of_seal = (seal_box[2] + 2, y1 + 20, x2, y2 - 30)
    assert _count(page, right_of_seal, blue) > 200            # the signature image beside the seal
    assert _count(page, seal_box, red) > 800                  # the seal
    assert _count(_render(flow.leader, 2), seal_box, red) == 0
    text = subprocess.run(["pdftotext", "-f", "2", "-l", "2", "-", "-"], input=flow.final,
                          capture_output=True, check=True).stdout.decode()
    for line in PERSONAL_LINES:
        assert line in text                                   # title above, name below, real glyphs


def test_personal_appearance_embeds_the_image_with_transparency_and_a_serif_subset():
    from pyhanko.pdf_utils.reader import PdfFileReader

    flow = outgoing_flow()
    reader = PdfFileReader(io.BytesIO(flow.leader))
    (embedded,) = reader.embedded_signatures
    widget = embedded.sig_field
    form = widget["/AP"]["/N"].get_object()
    resources = form["/Resources"]
    image = resources["/XObject"]["/Img0"].get_object()
    assert image["/Subtype"] == "/Image" and "/SMask" in image
    font = resources["/Font"]["/FB"].get_object()
    assert str(font["/BaseFont"]).endswith("+LiberationSerif-Bold")
    assert "/FontFile2" in font["/DescendantFonts"][0]["/FontDescriptor"]
    content = form.data
    assert content.index(b"/Img0 Do") < content.rindex(b"BT")          # text drawn over the image area
    rect = [float(v) for v in widget["/Rect"]]
    assert rect == list(PERSONAL_BOX)


def test_attachment_mark_is_text_only_top_right_with_the_signing_time():
    pki = demo_pki()
    moment = dt.datetime.now(appearance.VN_TZ).replace(microsecond=0)
    box = appearance.attachment_box(*A4)
    mark = Appearance("attachment", appearance.attachment_lines("Số: 05/QĐ-UBND"))
    signed = pades.sign(sample_pdf(1), key=DemoKey(pki.agency), field=pades.SignatureFieldSpec("attachment", 0, box),
                        appearance=mark, signing_time=moment)
    text = subprocess.run(["pdftotext", "-f", "1", "-l", "1", "-x", str(int(box[0])), "-y", "0", "-W",
                           str(int(box[2] - box[0])), "-H", "60", "-", "-"], input=signed,
                          capture_output=True, check=True).stdout.decode()
    assert "Số: 05/QĐ-UBND" in text
    assert moment.isoformat() in text and moment.isoformat().endswith("+07:00")
    from pyhanko.pdf_utils.reader import PdfFileReader

    (embedded,) = PdfFileReader(io.BytesIO(signed)).embedded_signatures
    form = embedded.sig_field["/AP"]["/N"].get_object()
    assert "/XObject" not in form["/Resources"]                   # no image
    assert embedded.self_reported_timestamp == moment


def test_invisible_signature_has_no_appearance_and_visible_needs_one():
    pki = demo_pki()
    signed = pades.sign(sample_pdf(1), key=DemoKey(pki.agency), field=pades.SignatureFieldSpec("hidden"),
                        appearance=None)
    assert pades.signature_fields(signed) == {"hidden": True}
    with pytest.raises(ValueError):
        pades.prepare(sample_pdf(1), field=pades.SignatureFieldSpec("v", 0, (10, 10, 100, 60)), appearance=None,
                      signing_cert_der=pki.agency.cert_der, chain_der=pki.agency.chain_der)


def test_unreadable_signature_image_is_refused():
    pki = demo_pki()
    bad = Appearance("personal", ["CHỦ TỊCH", "A"], b"not a png")
    with pytest.raises(images.ImageRejected):
        pades.prepare(sample_pdf(1), field=pades.SignatureFieldSpec("s", 0, (300, 90, 500, 200)), appearance=bad,
                      signing_cert_der=pki.personal.cert_der, chain_der=pki.personal.chain_der)
