"""The VietQR of an order, checked by a reader written here from the EMVCo rules (not
``core.vietqr``'s own parser): TLV fields, the CRC-16/CCITT-FALSE recomputed bit by bit, the
producer's own account, the total and the order code in the purpose."""
from __future__ import annotations

import pytest

from core import vietqr as core_vietqr
from ecommerce import services, vietqr


def crc_ccitt_false(data: bytes) -> str:
    """CRC-16/CCITT-FALSE as the standard states it: poly 0x1021, init 0xFFFF, MSB first."""
    register = 0xFFFF
    for byte in data:
        for bit in range(7, -1, -1):
            top = (register >> 15) & 1
            register = (register << 1) & 0xFFFF
            if top ^ ((byte >> bit) & 1):
                register ^= 0x1021
    return f"{register:04X}"


def tlv(text: str) -> list[tuple[str, str]]:
    fields, at = [], 0
    while at < len(text):
        tag, length = text[at:at + 2], int(text[at + 2:at + 4])
        fields.append((tag, text[at + 4:at + 4 + length]))
        assert len(fields[-1][1]) == length
        at += 4 + length
    return fields


def test_the_independent_crc_reader_agrees_with_the_published_check_value():
    assert crc_ccitt_false(b"123456789") == "29B1"


def test_an_orders_payload_pays_its_total_to_the_producers_account(market):
    order = services.place_order(lines=[(market["rice"], 3)], buyer_name="Nguyễn Thị Hạnh", buyer_phone="0912345001",
                                 delivery_address="Yên Bái")
    payload = vietqr.payload_for(order)
    assert payload[-8:-4] == "6304" and crc_ccitt_false(payload[:-4].encode("ascii")) == payload[-4:]
    fields = dict(tlv(payload))
    assert [tag for tag, _value in tlv(payload)] == ["00", "01", "38", "53", "54", "58", "62", "63"]
    assert (fields["00"], fields["01"], fields["53"], fields["58"]) == ("01", "12", "704", "VN")
    assert fields["54"] == "180000" == str(order.total)
    merchant = dict(tlv(fields["38"]))
    assert merchant["00"] == "A000000727" and merchant["02"] == "QRIBFTTA"
    assert dict(tlv(merchant["01"])) == {"00": "970405", "01": "000004630001"}
    purpose = dict(tlv(fields["62"]))["08"]
    assert purpose == f"DH {order.code}" == vietqr.purpose_for(order.code) and len(purpose) <= 25
    # The shared parser reads the same thing back.
    assert core_vietqr.parse_payload(payload)["62"]["08"] == purpose


def test_a_producer_without_an_account_has_no_payload(market):
    order = services.place_order(lines=[(market["tea"], 1)], buyer_name="A", buyer_phone="0912345001",
                                 delivery_address="Yên Bái")
    with pytest.raises(ValueError):
        vietqr.payload_for(order)


def test_the_purpose_of_an_order():
    assert vietqr.purpose_for("7KQ3M9XA") == "DH 7KQ3M9XA"
    assert vietqr.purpose_for("Đơn 12") == "DH Don 12"
    with pytest.raises(ValueError):
        vietqr.purpose_for("")
    with pytest.raises(ValueError):
        vietqr.purpose_for("X" * 26)
    assert vietqr.purpose_for("X" * 24) == "X" * 24  # no room for the prefix
