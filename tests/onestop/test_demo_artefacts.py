"""The demo's artefacts, checked with tools that share no code with the portal (poppler, zbar
and a VietQR reader written here from the NAPAS/EMVCo layout): each demo commune has a clearly
fictitious bank account, so a dossier with an unpaid fee shows a VietQR that reads back with a
right CRC; every demo receipt (form 1) holds on one page with its signatures; the demo's form 4
gives a working day."""
from __future__ import annotations

import binascii
import re
import shutil
import subprocess

import pytest
from django_tenants.utils import tenant_context

from communes.models import Commune
from tests.onestop.helpers import CLERK_PIN, PIN, pki_set, signing_setup  # noqa: F401 (fixtures)
from tests.onestop.test_demo import officials_of

HOST = "tule.localhost"
# Member banks of the NAPAS VietQR list (BIN: bank).
NAPAS_BINS = {"970405": "Agribank", "970415": "VietinBank", "970418": "BIDV", "970436": "Vietcombank",
              "970422": "MB", "970407": "Techcombank", "970432": "VPBank", "970423": "TPBank"}


def read_tlv(text: str) -> dict:
    """EMVCo fields: ID (2) + length (2) + value; nested templates read again."""
    fields, at = {}, 0
    while at < len(text):
        tag, size = text[at:at + 2], int(text[at + 2:at + 4])
        value = text[at + 4:at + 4 + size]
        assert len(value) == size, (tag, size, value)
        fields[tag] = read_tlv(value) if tag in {"38", "62"} else value
        at += 4 + size
    return fields


def check_vietqr(payload: str) -> dict:
    """The payload's fields, after checking its CRC-16/CCITT-FALSE (binascii.crc_hqx, init 0xFFFF)."""
    assert payload.isascii() and payload[-8:-4] == "6304", payload
    assert f"{binascii.crc_hqx(payload[:-4].encode('ascii'), 0xFFFF):04X}" == payload[-4:], payload
    return read_tlv(payload)


def test_the_vietqr_check_here_reads_the_published_example():
    published = ("00020101021238570010A00000072701270006970415011300110019324180208QRIBFTTA530370454061200005802VN"
                 "62170813ung ho lu lut6304C15C")
    fields = check_vietqr(published)
    assert read_tlv(fields["38"]["01"]) == {"00": "970415", "01": "0011001932418"}
    assert fields["54"] == "120000" and fields["62"]["08"] == "ung ho lu lut"
    with pytest.raises(AssertionError):
        check_vietqr(published[:-1] + "D")


def _decode_qr_codes(pdf_bytes: bytes, tmp_path) -> list[str]:
    out = tmp_path / "img"
    out.mkdir(exist_ok=True)
    subprocess.run(["pdfimages", "-png", "-", str(out / "i")], input=pdf_bytes, check=True, capture_output=True)
    decoded = []
    for path in sorted(out.glob("i-*.png")):
        text = subprocess.run(["zbarimg", "--raw", "-q", str(path)], capture_output=True, text=True).stdout.strip()
        decoded.append(text)
    return decoded


def test_after_the_demo_a_dossier_with_an_unpaid_fee_shows_a_vietqr(tule, people, signing_setup, client_for,
                                                                   tmp_path):
    from onestop import demo, pdf
    from onestop.models import Dossier
    from workcalendar.services import is_working_day, to_local

    assert demo.populate(tule, officials_of(people), citizen=people["citizen"], leader_pin=PIN, clerk_pin=CLERK_PIN)
    commune = Commune.objects.get(pk=tule.pk)
    assert commune.bank_bin in NAPAS_BINS and commune.bank_account
    assert "THỬ NGHIỆM" in commune.bank_account_name
    assert set(commune.bank_account.lstrip("0")) <= set(commune.code) | {"0"}  # zeros and the commune's code

    with tenant_context(tule):
        unpaid = (Dossier.objects.exclude(code=None).filter(fee_amount__gt=0, fee_paid_at=None, fee_exempt_reason="")
                  .exclude(state__in=["refused", "withdrawn", "stopped", "draft"]).order_by("pk"))
        dossier = unpaid.first()
        assert dossier is not None
        data = pdf.render_form("1", dossier, officer=people["onestop_officer"])
        # Every demo receipt holds on one page with its signatures.
        for received in Dossier.objects.exclude(received_at=None).exclude(code=None):
            receipt = pdf.render_form("1", received, officer=people["onestop_officer"])
            info = subprocess.run(["pdfinfo", "-"], input=receipt, capture_output=True, check=True).stdout.decode()
            assert int(info.split("Pages:")[1].split()[0]) == 1, received.code
        # The demo's form 4 gives a working day.
        extended = Dossier.objects.exclude(extended_due_at=None)
        assert extended.exists() and all(is_working_day(to_local(d.extended_due_at).date()) for d in extended)

    text = subprocess.run(["pdftotext", "-layout", "-", "-"], input=data, capture_output=True, check=True).stdout.decode()
    assert "Nộp phí, lệ phí qua VietQR" in text and "THỬ NGHIỆM" in " ".join(text.split())
    assert shutil.which("zbarimg"), "zbarimg is missing: bin/test installs Debian's zbar-tools"
    payloads = [p for p in _decode_qr_codes(data, tmp_path) if p.startswith("000201")]
    assert len(payloads) == 1  # the VietQR read from the printed receipt
    page = client_for(HOST, people["onestop_officer"]).get(f"/onestop/dossiers/{dossier.pk}/").content.decode()
    shown = re.search(r'<p class="payload">([^<]+)</p>', page)
    assert shown is not None
    payloads.append(shown.group(1).replace("&amp;", "&"))
    for payload in payloads:
        fields = check_vietqr(payload)
        assert fields["01"] == "12" and fields["53"] == "704" and fields["58"] == "VN"
        assert fields["38"]["00"] == "A000000727" and fields["38"]["02"] == "QRIBFTTA"
        account = read_tlv(fields["38"]["01"])
        assert account == {"00": commune.bank_bin, "01": commune.bank_account}
        assert fields["54"] == str(int(dossier.fee_amount))
        assert dossier.code.replace("-", "").replace(".", "") in fields["62"]["08"].replace("-", "").replace(".", "")
