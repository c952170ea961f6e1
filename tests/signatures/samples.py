"""Sample documents and the demo PKI for the PDF engine's tests and the benchmark."""
from __future__ import annotations

import functools
import io
from dataclasses import dataclass

SAMPLE_PARAGRAPH = (
    "Căn cứ Luật Tổ chức chính quyền địa phương; xét đề nghị của công chức Văn phòng - Thống kê, "
    "Ủy ban nhân dân xã Tú Lệ quyết định ban hành kế hoạch chuyển đổi số năm 2026."
)


@functools.lru_cache(maxsize=16)
def sample_pdf(pages: int = 3, *, title: str = "QUYẾT ĐỊNH về việc ban hành kế hoạch chuyển đổi số",
               paragraphs_per_page: int = 9) -> bytes:
    """An A4 document in Liberation Serif with Vietnamese text on every page."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    from reportlab.pdfgen import canvas

    from signatures.pdf.fonts import serif_path

    for name, bold in (("XasoSerif", False), ("XasoSerifBold", True)):
        if name not in pdfmetrics.getRegisteredFontNames():
            pdfmetrics.registerFont(TTFont(name, serif_path(bold)))
    out = io.BytesIO()
    c = canvas.Canvas(out, pagesize=A4, invariant=1)
    width, height = A4
    for page in range(pages):
        c.setFont("XasoSerifBold", 13)
        c.drawCentredString(width / 2, height - 60, "ỦY BAN NHÂN DÂN XÃ TÚ LỆ")
        c.drawCentredString(width / 2, height - 80, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM")
        c.setFont("XasoSerif", 13)
        if page == 0:  # the number and the date are fields (see NUMBER_BOX, DATE_BOX)
            c.drawString(72, height - 124, "Số:")
        c.setFont("XasoSerifBold", 14)
        c.drawCentredString(width / 2, height - 160, title)
        c.setFont("XasoSerif", 12)
        y = height - 200
        for i in range(paragraphs_per_page):
            text = f"{i + 1}. {SAMPLE_PARAGRAPH}"
            for chunk in (text[:95], text[95:]):
                c.drawString(72, y, chunk)
                y -= 16
            y -= 6
        c.drawCentredString(width / 2, 40, f"Trang {page + 1}/{pages}")
        c.showPage()
    c.save()
    return out.getvalue()


# where the sample's fields and signatures go (points, A4)
NUMBER_BOX = (92.0, 714.0, 200.0, 732.0)
DATE_BOX = (318.0, 714.0, 523.0, 732.0)
PERSONAL_BOX = (330.0, 90.0, 530.0, 210.0)
PERSONAL_LINES = ["TM. ỦY BAN NHÂN DÂN", "CHỦ TỊCH", "Nguyễn Văn Thắng"]
NUMBER_VALUE = "05/QĐ-UBND"
DATE_VALUE = "Tú Lệ, ngày 03 tháng 04 năm 2026"


@dataclass
class DemoKey:
    """A key backend over a demo identity (what signatures.keys.SoftwareKey does)."""

    identity: object

    @property
    def cert_der(self) -> bytes:
        return self.identity.cert_der

    @property
    def chain_der(self) -> list[bytes]:
        return self.identity.chain_der

    def sign_digest(self, digest: bytes, digest_algorithm: str = "sha256") -> bytes:
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa, utils

        assert digest_algorithm == "sha256"
        prehashed = utils.Prehashed(hashes.SHA256())
        key = self.identity.key
        if isinstance(key, rsa.RSAPrivateKey):
            return key.sign(digest, padding.PKCS1v15(), prehashed)
        return key.sign(digest, ec.ECDSA(prehashed))


@dataclass
class DemoPki:
    ca: object
    personal: object
    agency: object
    tsa: object
    other_ca: object

    @property
    def roots_der(self) -> list[bytes]:
        return [self.ca.cert_der]


@functools.lru_cache(maxsize=1)
def demo_pki() -> DemoPki:
    from signatures import pki

    ca = pki.make_demo_ca("Xã Số Demo CA")
    return DemoPki(
        ca=ca,
        personal=pki.issue_personal(ca, "Nguyễn Văn Thắng", "Chủ tịch", "UBND xã Tú Lệ",
                                    email="thang@tule.example"),
        agency=pki.issue_agency(ca, "UBND xã Tú Lệ", locality="Tú Lệ"),
        tsa=pki.issue_tsa(ca),
        other_ca=pki.make_demo_ca("Unrelated CA"),
    )


# --- the outgoing-document flow: fields, leader's signature, number and date, agency's seal -----------

@dataclass
class Flow:
    fielded: bytes   # the draft with empty number/date fields
    leader: bytes    # signed by the leader (personal signature)
    filled: bytes    # number and date filled in
    final: bytes     # signed by the agency (seal)


def field_specs():
    from signatures.pdf.fields import DATE_FIELD, NUMBER_FIELD, TextFieldSpec

    return [TextFieldSpec(NUMBER_FIELD, 0, NUMBER_BOX), TextFieldSpec(DATE_FIELD, 0, DATE_BOX, align="right")]


def personal_appearance(lines=None):
    from signatures.pdf.appearance import Appearance
    from signatures.pdf.images import demo_signature_png

    lines = PERSONAL_LINES if lines is None else lines
    return Appearance("personal", list(lines), demo_signature_png(lines[-1] if lines else "x"))


def seal_appearance():
    from signatures.pdf.appearance import Appearance
    from signatures.pdf.images import demo_seal_png

    return Appearance("agency", [], demo_seal_png("UBND xã Tú Lệ"))


@functools.lru_cache(maxsize=4)
def outgoing_flow(pages: int = 2, timestamp_url: str | None = None) -> Flow:
    from signatures.pdf import fields, pades
    from signatures.pdf.appearance import agency_box_over

    pki = demo_pki()
    fielded = fields.add_text_fields(sample_pdf(pages), field_specs())
    leader = pades.sign(fielded, key=DemoKey(pki.personal), field=pades.SignatureFieldSpec("leader", -1, PERSONAL_BOX),
                        appearance=personal_appearance(), timestamp_url=timestamp_url)
    filled = fields.fill_text_fields(leader, {fields.NUMBER_FIELD: NUMBER_VALUE, fields.DATE_FIELD: DATE_VALUE})
    final = pades.sign(filled, key=DemoKey(pki.agency),
                       field=pades.SignatureFieldSpec("agency", -1, agency_box_over(PERSONAL_BOX)),
                       appearance=seal_appearance(), timestamp_url=timestamp_url)
    return Flow(fielded, leader, filled, final)
