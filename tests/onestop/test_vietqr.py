"""VietQR payloads: CRC-16/CCITT-FALSE, the payload published in DOMAIN.md reproduced exactly,
round trips field by field, broken payloads rejected, the purpose of a dossier's fee, the image."""
from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET

import pytest

from onestop import vietqr

PUBLISHED = (
    "00020101021238570010A00000072701270006970415011300110019324180208QRIBFTTA"
    "530370454061200005802VN62170813ung ho lu lut6304C15C"
)


def test_crc_check_value():
    assert vietqr.crc16_ccitt_false(b"123456789") == 0x29B1
    assert vietqr.crc16_ccitt_false(b"") == 0xFFFF


def test_the_published_payload_reproduces_exactly():
    # The account inside the published payload (field 38.01.01) is 0011001932418.
    payload = vietqr.build_payload(bank_bin="970415", account="0011001932418", amount=120000, purpose="ung ho lu lut")
    assert payload == PUBLISHED
    assert vietqr.crc16_ccitt_false(PUBLISHED[:-4].encode()) == 0xC15C


def test_the_published_payload_parses_field_by_field():
    fields = vietqr.parse_payload(PUBLISHED)
    assert fields == {
        "00": "01",
        "01": "12",
        "38": {"00": "A000000727", "01": {"00": "970415", "01": "0011001932418"}, "02": "QRIBFTTA"},
        "53": "704",
        "54": "120000",
        "58": "VN",
        "62": {"08": "ung ho lu lut"},
        "63": "C15C",
    }


def test_round_trip_of_a_fee_payment():
    purpose = vietqr.purpose_for("04630-260309-0007")
    payload = vietqr.build_payload(bank_bin="970436", account="113366668888", amount=5000, purpose=purpose)
    fields = vietqr.parse_payload(payload)
    assert fields["01"] == "12"
    assert fields["38"]["00"] == "A000000727"
    assert fields["38"]["01"] == {"00": "970436", "01": "113366668888"}
    assert fields["38"]["02"] == "QRIBFTTA"
    assert (fields["53"], fields["54"], fields["58"]) == ("704", "5000", "VN")
    assert fields["62"]["08"] == purpose == "Phi HS 04630-260309-0007"
    assert fields["63"] == f"{vietqr.crc16_ccitt_false(payload[:-4].encode()):04X}"
    assert payload[-8:-4] == "6304" and re.fullmatch(r"[0-9A-F]{4}", payload[-4:])


def test_static_payload_and_card_service():
    payload = vietqr.build_payload(bank_bin="970415", account="113366668888")
    fields = vietqr.parse_payload(payload)
    assert fields["01"] == "11" and "54" not in fields and "62" not in fields
    card = vietqr.parse_payload(vietqr.build_payload(bank_bin="970415", account="9704151234", service="QRIBFTTC", amount=1))
    assert card["38"]["02"] == "QRIBFTTC"


def test_a_broken_payload_is_rejected():
    tampered = PUBLISHED.replace("120000", "920000")  # the amount changed, the CRC kept
    with pytest.raises(ValueError, match="CRC"):
        vietqr.parse_payload(tampered)
    with pytest.raises(ValueError, match="CRC"):
        vietqr.parse_payload(PUBLISHED[:-4] + "C15D")
    with pytest.raises(ValueError):
        vietqr.parse_payload(PUBLISHED[:-8])  # no CRC field
    # A length that runs past the end, with a CRC that matches.
    body = "000201010212" + "5499123" + "6304"
    broken = body + f"{vietqr.crc16_ccitt_false(body.encode()):04X}"
    with pytest.raises(ValueError, match="shorter"):
        vietqr.parse_payload(broken)
    with pytest.raises(ValueError):
        vietqr.parse_payload("Ủng hộ")
    with pytest.raises(ValueError):
        vietqr.parse_payload("")


def test_purpose_is_ascii_without_diacritics():
    payload = vietqr.build_payload(bank_bin="970415", account="0011001932418", amount=120000, purpose="Ủng hộ lũ lụt Đồng Nai")
    purpose = vietqr.parse_payload(payload)["62"]["08"]
    assert purpose == "Ung ho lu lut Dong Nai"
    assert purpose.isascii()
    for code in ("04630-260309-0007", "UBND-04630-260309-0012", "Xã-ĐỨC-01"):
        text = vietqr.purpose_for(code)
        assert text.isascii() and len(text) <= 25
        assert vietqr.to_ascii(code) in text
    assert vietqr.purpose_for("Xã-ĐỨC-01") == "Phi HS Xa-DUC-01"
    assert vietqr.purpose_for("UBND-04630-260309-0012") == "HS UBND-04630-260309-0012"
    with pytest.raises(ValueError):
        vietqr.purpose_for("X" * 26)
    with pytest.raises(ValueError):
        vietqr.build_payload(bank_bin="970415", account="1", purpose="x" * 26)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"bank_bin": "97041", "account": "1"},
        {"bank_bin": "97041A", "account": "1"},
        {"bank_bin": "970415", "account": ""},
        {"bank_bin": "970415", "account": "12345678901234567890"},
        {"bank_bin": "970415", "account": "1", "amount": 0},
        {"bank_bin": "970415", "account": "1", "amount": -1},
        {"bank_bin": "970415", "account": "1", "amount": 12.5},
        {"bank_bin": "970415", "account": "1", "service": "QRIBFTTX"},
    ],
)
def test_bad_arguments(kwargs):
    with pytest.raises(ValueError):
        vietqr.build_payload(**kwargs)


def test_qr_png_is_a_png_of_the_payload():
    import qrcode
    from PIL import Image

    box = 6
    data = vietqr.qr_png(PUBLISHED, box_size=box)
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    image = Image.open(io.BytesIO(data))
    image.verify()
    image = Image.open(io.BytesIO(data)).convert("L")
    # The modules drawn are those of the payload's QR code (error correction M, 4-module border).
    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=box, border=4)
    qr.add_data(PUBLISHED)
    qr.make(fit=True)
    matrix = qr.get_matrix()
    assert image.size == (len(matrix) * box, len(matrix) * box)
    for y, row in enumerate(matrix):
        for x, dark in enumerate(row):
            assert (image.getpixel((x * box + box // 2, y * box + box // 2)) < 128) == dark
    other = vietqr.qr_png(PUBLISHED.replace("ung ho", "UNG HO"))
    assert other != data


def test_qr_svg():
    svg = vietqr.qr_svg(PUBLISHED)
    root = ET.fromstring(svg)
    assert root.tag.endswith("svg")
    assert root.find("{http://www.w3.org/2000/svg}path") is not None
