"""VietQR (NAPAS, EMVCo merchant-presented QR) payloads for a bank transfer: shared by the apps
that are paid by transfer (the one-stop desk's fees, the OCOP marketplace's orders).

A payload is a list of fields, each ID (2 digits) + length (2 digits) + value::

    00 = "01"                       payload format indicator
    01 = "11" static / "12" dynamic (an amount is set)
    38 = { 00 = "A000000727"        NAPAS
           01 = { 00 = bank BIN (6 digits), 01 = account number }
           02 = "QRIBFTTA" (to an account) or "QRIBFTTC" (to a card) }
    53 = "704"                      currency (VND)
    54 = amount                     dynamic only
    58 = "VN"
    62 = { 08 = purpose }           ASCII without diacritics
    63 = CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF) over everything up to and including
         "6304", as 4 upper-case hexadecimal digits

``build_payload`` writes one, ``parse_payload`` reads one back (nested fields as dicts) and
rejects a wrong CRC or a broken length; ``purpose_with_code`` makes a transfer purpose of a
prefix and a code (which the bank notification brings back); ``qr_png`` and ``qr_svg`` draw it.
Each app words its own purpose (``onestop.vietqr.purpose_for``, ``ecommerce.vietqr.purpose_for``).
"""
from __future__ import annotations

import io
import re
import unicodedata

NAPAS_GUID = "A000000727"
SERVICE_ACCOUNT = "QRIBFTTA"
SERVICE_CARD = "QRIBFTTC"
SERVICES = (SERVICE_ACCOUNT, SERVICE_CARD)
CURRENCY_VND = "704"
COUNTRY = "VN"
PURPOSE_MAX = 25
# Top-level IDs whose value is itself a list of fields: the merchant account templates (26–51),
# the additional data (62), the language template (64) and the unreserved templates (80–99).
_TEMPLATE_IDS = {f"{n:02d}" for n in range(26, 52)} | {"62", "64"} | {f"{n:02d}" for n in range(80, 100)}
_BIN_RE = re.compile(r"^\d{6}$")
_ACCOUNT_RE = re.compile(r"^[0-9A-Za-z]{1,19}$")


def crc16_ccitt_false(data: bytes) -> int:
    """CRC-16/CCITT-FALSE: polynomial 0x1021, initial value 0xFFFF, no reflection, no final XOR."""
    crc = 0xFFFF
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else (crc << 1)
            crc &= 0xFFFF
    return crc


def to_ascii(text: str) -> str:
    """'Ủng hộ lũ lụt' → 'Ung ho lu lut': diacritics removed (đ → d), other characters outside
    printable ASCII dropped, spaces collapsed."""
    text = unicodedata.normalize("NFD", str(text or "")).replace("đ", "d").replace("Đ", "D")
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = text.replace("\u0111", "d").replace("\u0110", "D")
    text = "".join(ch for ch in text if " " <= ch <= "~")
    return " ".join(text.split())


def _field(tag: str, value: str) -> str:
    if len(value) > 99:
        raise ValueError(f"The value of field {tag} is longer than 99 characters.")
    if not value.isascii():
        raise ValueError(f"The value of field {tag} must be ASCII.")
    return f"{tag}{len(value):02d}{value}"


def build_payload(*, bank_bin: str, account: str, amount: int | None = None, purpose: str = "",
                  service: str = SERVICE_ACCOUNT) -> str:
    """The VietQR payload of a transfer to ``account`` at the bank ``bank_bin``.

    Dynamic ("12") when ``amount`` (whole đồng, > 0) is given, static ("11") otherwise.
    ``purpose`` is written without diacritics; at most 25 characters."""
    bank_bin, account = str(bank_bin or "").strip(), str(account or "").strip()
    if not _BIN_RE.match(bank_bin):
        raise ValueError("The bank BIN must have 6 digits.")
    if not _ACCOUNT_RE.match(account):
        raise ValueError("The account number must have 1 to 19 letters or digits.")
    if service not in SERVICES:
        raise ValueError(f"The service code must be one of {', '.join(SERVICES)}.")
    if amount is not None:
        if isinstance(amount, bool) or int(amount) != amount or int(amount) <= 0:
            raise ValueError("The amount must be a whole number of đồng above 0.")
        amount = int(amount)
        if len(str(amount)) > 13:
            raise ValueError("The amount is too large.")
    purpose = to_ascii(purpose)
    if len(purpose) > PURPOSE_MAX:
        raise ValueError(f"The purpose must have at most {PURPOSE_MAX} characters.")

    beneficiary = _field("00", bank_bin) + _field("01", account)
    merchant = _field("00", NAPAS_GUID) + _field("01", beneficiary) + _field("02", service)
    parts = [
        _field("00", "01"),
        _field("01", "12" if amount is not None else "11"),
        _field("38", merchant),
        _field("53", CURRENCY_VND),
    ]
    if amount is not None:
        parts.append(_field("54", str(amount)))
    parts.append(_field("58", COUNTRY))
    if purpose:
        parts.append(_field("62", _field("08", purpose)))
    body = "".join(parts) + "6304"
    return body + f"{crc16_ccitt_false(body.encode('ascii')):04X}"


def _split(text: str) -> dict:
    """The fields of a TLV string, in order; ValueError when a length is broken."""
    fields: dict = {}
    position = 0
    while position < len(text):
        header = text[position:position + 4]
        if len(header) < 4 or not header.isdigit():
            raise ValueError(f"Broken field header at position {position}.")
        tag, length = header[:2], int(header[2:])
        value = text[position + 4:position + 4 + length]
        if len(value) != length:
            raise ValueError(f"Field {tag} is shorter than its length {length}.")
        if tag in fields:
            raise ValueError(f"Field {tag} appears twice.")
        fields[tag] = value
        position += 4 + length
    return fields


def parse_payload(payload: str) -> dict:
    """The fields of a payload, nested templates as dicts; ``38.01`` is split into BIN and
    account. Raises ``ValueError`` for a wrong CRC, a broken length or a missing CRC field."""
    if not isinstance(payload, str) or not payload.isascii():
        raise ValueError("A VietQR payload is ASCII text.")
    payload = payload.strip()
    if len(payload) < 12 or payload[-8:-4] != "6304":
        raise ValueError("The payload does not end with its CRC field (6304).")
    expected = crc16_ccitt_false(payload[:-4].encode("ascii"))
    given = payload[-4:]
    if not re.fullmatch(r"[0-9A-Fa-f]{4}", given) or int(given, 16) != expected:
        raise ValueError("The CRC of the payload is wrong.")
    fields = _split(payload)
    if list(fields)[-1] != "63":
        raise ValueError("The CRC field must be the last one.")
    result: dict = {}
    for tag, value in fields.items():
        if tag in _TEMPLATE_IDS:
            nested = _split(value)
            if tag == "38" and "01" in nested:
                nested["01"] = _split(nested["01"])
            result[tag] = nested
        else:
            result[tag] = value
    return result


def purpose_with_code(code: str, prefixes: tuple[str, ...], *, what: str = "code") -> str:
    """A transfer purpose: the first of ``prefixes`` that fits before ``code`` within 25 ASCII
    characters, or the code alone. ValueError for an empty code or one longer than 25."""
    code = to_ascii(code).strip()
    if not code:
        raise ValueError(f"A {what} is required.")
    if len(code) > PURPOSE_MAX:
        raise ValueError(f"The {what} is longer than {PURPOSE_MAX} characters.")
    for prefix in prefixes:
        if len(prefix) + len(code) <= PURPOSE_MAX:
            return prefix + code
    return code


def _qr(payload: str, box_size: int):
    import qrcode
    from qrcode.constants import ERROR_CORRECT_M

    qr = qrcode.QRCode(error_correction=ERROR_CORRECT_M, box_size=box_size, border=4)
    qr.add_data(payload)
    qr.make(fit=True)
    return qr


def qr_png(payload: str, box_size: int = 6) -> bytes:
    """The QR code of ``payload`` as a PNG (black on white, a 4-module quiet zone)."""
    image = _qr(payload, box_size).make_image(fill_color="black", back_color="white")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def qr_svg(payload: str) -> str:
    """The QR code of ``payload`` as an SVG document (a single path; scales without blur)."""
    from qrcode.image.svg import SvgPathImage

    image = _qr(payload, 10).make_image(image_factory=SvgPathImage)
    return image.to_string(encoding="unicode")
