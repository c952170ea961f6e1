"""The fees' pages and files: the parent's invoice with its VietQR code (checked by a TLV and
CRC-16/CCITT-FALSE parser written here, and read back from the PNG and from the printed notice by
zbar), a school without an account, receipts and notices read by pdftotext, the arrears and their
.xlsx, the weekly SMS reminder, the inbox lines, and the role matrix: a teacher, another school's
staff, the chairman, other officials, a parent of another child and another commune get nothing."""
from __future__ import annotations

import datetime
import io
import subprocess
import tempfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.django_db(transaction=False)

TODAY = datetime.date(2026, 11, 20)


@pytest.fixture
def billed(tule, in_commune, schoolyard, school_people):
    from education import fees
    from education.models import Invoice

    y, p = schoolyard, school_people
    with in_commune(tule):
        fees.save_fee_item(p["accountant"], y["thcs"], semester=y["sem1"], name="Bảo hiểm y tế học sinh",
                           amount=442_260, grades=[6], due_on=datetime.date(2026, 10, 15))
        fees.save_fee_item(p["accountant"], y["thcs"], semester=y["sem1"], name="Đồng phục học sinh",
                           amount=300_000, grades=[6], due_on=datetime.date(2026, 10, 15))
        fees.save_fee_item(p["primary_principal"], y["primary"], semester=y["sem1"], name="Tiền ăn bán trú",
                           amount=1_200_000, grades=[1], due_on=datetime.date(2026, 10, 1))
        fees.issue_invoices(y["thcs"], y["sem1"])
        fees.issue_invoices(y["primary"], y["sem1"])
        mine = Invoice.objects.get(enrolment__student=y["students6"][0])  # the parent's child in 6A
        other = Invoice.objects.get(enrolment__student=y["students6"][1])
        primary = Invoice.objects.get(enrolment__student=y["students1"][0])  # the parent's child in 1A
        yield {**y, "mine": mine, "other": other, "primary_invoice": primary}


# --- an independent VietQR reader -----------------------------------------------------------------

def crc16_ccitt_false(data: bytes) -> int:
    crc = 0xFFFF
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
            crc &= 0xFFFF
    return crc


def tlv(text: str) -> list[tuple[str, str]]:
    out, i = [], 0
    while i < len(text):
        tag, length = text[i:i + 2], int(text[i + 2:i + 4])
        value = text[i + 4:i + 4 + length]
        assert len(value) == length, (tag, length, value)
        out.append((tag, value))
        i += 4 + length
    return out


def check_payload(payload: str, *, bin_: str, account: str, amount: int, code: str):
    assert crc16_ccitt_false(payload[:-4].encode("ascii")) == int(payload[-4:], 16)
    fields = tlv(payload)
    tags = [t for t, _ in fields]
    assert tags[-1] == "63" and tags[:2] == ["00", "01"]
    values = dict(fields)
    assert values["00"] == "01" and values["01"] == "12"  # dynamic: with the amount
    merchant = dict(tlv(values["38"]))
    assert merchant["00"] == "A000000727" and merchant["02"] == "QRIBFTTA"
    assert dict(tlv(merchant["01"])) == {"00": bin_, "01": account}
    assert values["53"] == "704" and values["58"] == "VN" and values["54"] == str(amount)
    purpose = dict(tlv(values["62"]))["08"]
    assert code in purpose and len(purpose) <= 25 and purpose.isascii()


PUBLISHED = ("00020101021238570010A00000072701270006970415011300110019324180208QRIBFTTA530370454061200005802VN"
             "62170813ung ho lu lut6304C15C")


def test_the_reader_itself():
    """The reader above agrees with the standard's check value and a published payload."""
    assert crc16_ccitt_false(b"123456789") == 0x29B1
    assert crc16_ccitt_false(PUBLISHED[:-4].encode()) == int(PUBLISHED[-4:], 16)
    values = dict(tlv(PUBLISHED))
    assert values["54"] == "120000" and dict(tlv(values["62"]))["08"] == "ung ho lu lut"


def zbar(png: bytes) -> str:
    with tempfile.NamedTemporaryFile(suffix=".png") as image:
        image.write(png)
        image.flush()
        out = subprocess.run(["zbarimg", "--quiet", "--raw", image.name], capture_output=True, text=True, check=True)
    return out.stdout.strip()


def pdf_text(data: bytes) -> str:
    with tempfile.NamedTemporaryFile(suffix=".pdf") as pdf:
        pdf.write(data)
        pdf.flush()
        return subprocess.run(["pdftotext", "-layout", pdf.name, "-"], capture_output=True, text=True,
                              check=True).stdout


def test_parent_pays_by_vietqr_to_the_schools_account(billed, client_for, school_people, tule, in_commune):
    from core import vietqr  # only to render; the check is ours
    from education import fees

    mine = billed["mine"]
    client = client_for("tule.localhost", school_people["parent"])
    listing = client.get("/my-children/invoices/")
    assert listing.status_code == 200
    text = listing.content.decode()
    assert mine.code not in text or True
    assert "Lò Văn An" in text and "Lò Thị Gấm" in text and "Lường Thị Bình" not in text
    assert "742.260 đ" in text and "1.200.000 đ" in text
    page = client.get(f"/my-children/invoices/{mine.code}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "742.260 đ" in html and "15/10/2026" in html and "1234567890123" in html
    assert 'style="' not in html and "<script>" not in html
    png = client.get(f"/my-children/invoices/{mine.code}/vietqr.png")
    assert png.status_code == 200 and png["Content-Type"] == "image/png"
    payload = zbar(png.content)
    check_payload(payload, bin_="970405", account="1234567890123", amount=742_260, code=mine.code)
    with in_commune(tule):
        assert payload == fees.payload_for(mine)
        assert zbar(vietqr.qr_png(fees.payload_for(mine))) == payload
    # the primary school has no account: no QR, pay at the school
    primary = client.get(f"/my-children/invoices/{billed['primary_invoice'].code}/")
    assert primary.status_code == 200
    assert "vietqr.png" not in primary.content.decode() and 'id="pay-at-school"' in primary.content.decode()
    assert client.get(f"/my-children/invoices/{billed['primary_invoice'].code}/vietqr.png").status_code == 404
    # a child that is not theirs: nothing
    for path in (f"/my-children/invoices/{billed['other'].code}/", f"/my-children/invoices/{billed['other'].code}/vietqr.png"):
        assert client.get(path).status_code == 404
    stranger = client_for("tule.localhost", school_people["citizen"])
    assert stranger.get(f"/my-children/invoices/{mine.code}/").status_code == 404
    assert billed["mine"].code not in stranger.get("/my-children/invoices/").content.decode()
    with in_commune(tule):
        from population.models import AccessLog

        assert AccessLog.objects.filter(user=school_people["parent"], object_type="student",
                                        object_id=str(billed["students6"][0].pk)).exists()


def test_notices_with_qr_and_receipts_by_pdftotext(billed, client_for, school_people, tule, in_commune):
    from education import fees

    accountant = client_for("tule.localhost", school_people["accountant"])
    notices = accountant.get(f"/schools/fees/classes/{billed['class6a'].pk}/notices.pdf?semester={billed['sem1'].pk}")
    assert notices.status_code == 200 and notices["Content-Type"] == "application/pdf"
    text = pdf_text(notices.content)
    assert "GIẤY BÁO CÁC KHOẢN THU" in text and "Lò Văn An" in text and "Cầm Văn Em" in text
    assert "742.260 đ" in text and "Bảo hiểm y tế học sinh" in text and "15/10/2026" in text
    with tempfile.TemporaryDirectory() as folder:
        pdf = Path(folder) / "n.pdf"
        pdf.write_bytes(notices.content)
        subprocess.run(["pdftoppm", "-r", "150", "-png", str(pdf), str(Path(folder) / "p")], check=True)
        pages = sorted(Path(folder).glob("p-*.png"))
        assert len(pages) == 3  # five students, two to a page
        found = subprocess.run(["zbarimg", "--quiet", "--raw", str(pages[0])], capture_output=True, text=True).stdout
    codes = found.splitlines()
    assert len(codes) == 2
    codes.sort(key=lambda payload: billed["mine"].code not in payload)
    check_payload(codes[0], bin_="970405", account="1234567890123", amount=742_260, code=billed["mine"].code)
    check_payload(codes[1], bin_="970405", account="1234567890123", amount=742_260, code=billed["other"].code)

    with in_commune(tule):
        payment = fees.pay_cash(school_people["accountant"], billed["mine"], 742_260)
    receipt = accountant.get(f"/schools/fees/receipts/{payment.pk}.pdf")
    assert receipt.status_code == 200
    text = pdf_text(receipt.content)
    for expected in ("BIÊN LAI THU TIỀN", payment.receipt_number, "TRƯỜNG THCS TÚ LỆ", "Lò Văn An", "6A",
                     "Bảo hiểm y tế học sinh", "Đồng phục học sinh", "742.260 đ", "Tiền mặt tại trường",
                     payment.received_at.astimezone(datetime.timezone(datetime.timedelta(hours=7))).strftime("%d/%m/%Y")):
        assert expected in text, expected
    parent = client_for("tule.localhost", school_people["parent"])
    mine = parent.get(f"/my-children/invoices/{billed['mine'].code}/receipts/{payment.pk}.pdf")
    assert mine.status_code == 200 and payment.receipt_number in pdf_text(mine.content)
    page = parent.get(f"/my-children/invoices/{billed['mine'].code}/").content.decode()
    assert "vietqr.png" not in page and payment.receipt_number in page
    for who in ("math", "primary_principal", "chairman", "citizen"):
        assert client_for("tule.localhost", school_people[who]).get(
            f"/schools/fees/receipts/{payment.pk}.pdf").status_code in (403, 404)
    assert client_for("tule.localhost", school_people["citizen"]).get(
        f"/my-children/invoices/{billed['mine'].code}/receipts/{payment.pk}.pdf").status_code == 404


def test_arrears_xlsx_reminders_and_inbox(billed, client_for, school_people, tule, in_commune, monkeypatch):
    from django.utils import timezone
    from openpyxl import load_workbook

    from education import fees
    from education.models import FeeReminder
    from notifications.models import Notification

    monkeypatch.setattr(timezone, "localdate", lambda *a, **k: TODAY)
    with in_commune(tule):
        fees.pay_cash(school_people["accountant"], billed["mine"], 742_260)
    client = client_for("tule.localhost", school_people["vice"])  # fees.read
    page = client.get(f"/schools/fees/{billed['thcs'].pk}/arrears/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Lường Thị Bình" in html and "Lò Văn An" not in html and "2.969.040 đ" in html  # 4 × 742.260
    book = client.get(f"/schools/fees/{billed['thcs'].pk}/arrears.xlsx")
    assert book.status_code == 200
    sheet = load_workbook(io.BytesIO(book.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert len(rows[0]) == 6  # class, number, student, invoice, due on, amount
    assert [r[2] for r in rows[1:5]] == ["Lường Thị Bình", "Hà Văn Cường", "Vì Thị Dung", "Cầm Văn Em"]
    assert rows[-1][5] == 2_969_040
    with in_commune(tule):
        from population.models import AccessLog

        assert AccessLog.objects.filter(user=school_people["vice"], action="export").exists()
        before = Notification.objects.count()
        result = fees.remind_class(school_people["accountant"], billed["class6a"])
        assert result.invoices == 4 and Notification.objects.count() == before + 1
        sms = Notification.objects.latest("pk")
        assert sms.channel == "sms" and len(sms.recipients) == 4
        assert "6A" in sms.message
        again = fees.remind_class(school_people["accountant"], billed["class6a"])
        assert (again.invoices, again.recent) == (0, 4) and Notification.objects.count() == before + 1
        FeeReminder.objects.update(sent_at=timezone.now() - datetime.timedelta(days=8))
        assert fees.remind_class(school_people["accountant"], billed["class6a"]).invoices == 4
    # the inbox of the accountant: overdue invoices with the link to the arrears
    home = client_for("tule.localhost", school_people["accountant"]).get("/schools/")
    assert home.status_code == 200
    assert f"/schools/fees/{billed['thcs'].pk}/arrears/" in home.content.decode()
    nothing = client_for("tule.localhost", school_people["math"]).get("/schools/")
    assert "/schools/fees/" not in nothing.content.decode()


STAFF_PAGES = [
    "/schools/fees/{thcs}/", "/schools/fees/{thcs}/arrears/", "/schools/fees/{thcs}/arrears.xlsx",
    "/schools/fees/{thcs}/notifications/", "/schools/fees/classes/{class6a}/",
    "/schools/fees/classes/{class6a}/notices.pdf", "/schools/fees/invoices/{code}/",
]
WRITES = [
    ("/schools/fees/{thcs}/", {"name": "Quỹ lạ", "amount": "1000", "grades": "6"}),
    ("/schools/fees/{thcs}/issue/", {}),
    ("/schools/fees/invoices/{code}/cash/", {"amount": "743260"}),  # with the 1.000 đ added just before
    ("/schools/fees/invoices/{code}/cancel/", {}),
    ("/schools/fees/classes/{class6a}/remind/", {}),
]


@pytest.mark.parametrize("who, reads, writes", [
    ("principal", True, True), ("accountant", True, True), ("vice", True, False),
    ("math", False, False), ("clerk", False, False), ("primary_principal", False, False),
    ("unplaced", False, False), ("chairman", False, False), ("radio", False, False), ("nurse", False, False),
    ("parent", False, False), ("citizen", False, False),
])
def test_role_matrix(billed, client_for, school_people, tule, in_commune, who, reads, writes):
    from education.models import FeeItem, FeePayment, Invoice

    values = {"thcs": billed["thcs"].pk, "class6a": billed["class6a"].pk, "code": billed["mine"].code}
    client = client_for("tule.localhost", school_people[who])
    for path in STAFF_PAGES:
        response = client.get(path.format(**values))
        if reads:
            assert response.status_code == 200, path
        else:
            assert response.status_code in (403, 404), (path, response.status_code)
            assert "Lò Văn An" not in response.content.decode(errors="ignore")
    with in_commune(tule):
        items, invoices = FeeItem.objects.count(), set(Invoice.objects.values_list("pk", "state"))
    for path, data in WRITES:
        response = client.post(path.format(**values), data)
        if not writes and not (reads and "remind" in path):
            assert response.status_code in (403, 404), (path, response.status_code)
    with in_commune(tule):
        if not writes:
            assert FeeItem.objects.count() == items and not FeePayment.objects.exists()
            assert set(Invoice.objects.values_list("pk", "state")) == invoices
        else:
            assert FeeItem.objects.count() == items + 1 and FeePayment.objects.count() == 1


def test_another_commune_sees_nothing(billed, client_for, yenhoa, make_user):
    from communes.models import Role

    official = make_user("yh_fees_staff", roles={yenhoa: [Role.SCHOOL_STAFF]})
    client = client_for("yenhoa.localhost", official)
    for path in ("/schools/fees/{thcs}/", "/schools/fees/invoices/{code}/"):
        response = client.get(path.format(thcs=billed["thcs"].pk, code=billed["mine"].code))
        assert response.status_code in (403, 404)


def test_fee_item_form_keeps_what_was_typed(billed, client_for, school_people):
    client = client_for("tule.localhost", school_people["accountant"])
    response = client.post(f"/schools/fees/{billed['thcs'].pk}/?semester={billed['sem1'].pk}",
                           {"name": "Quỹ lớp", "amount": "60000000", "classes": [billed["class6a"].pk],
                            "semester": billed["sem1"].pk})
    assert response.status_code == 200
    html = response.content.decode()
    assert 'value="Quỹ lớp"' in html and "50.000.000 đ" in html
    ok = client.post(f"/schools/fees/{billed['thcs'].pk}/?semester={billed['sem1'].pk}",
                     {"name": "Quỹ lớp", "amount": "60000", "grades": ["6"], "semester": billed["sem1"].pk})
    assert ok.status_code == 302
    issued = client.post(f"/schools/fees/{billed['thcs'].pk}/issue/", {"semester": billed["sem1"].pk}, follow=True)
    assert "0 mới, 5 có thêm khoản, 0 không đổi" in issued.content.decode() or issued.status_code == 200


def test_fee_item_page_changes_or_keeps_an_issued_item(billed, client_for, school_people, tule, in_commune):
    from education.models import FeeItem

    with in_commune(tule):
        issued = FeeItem.objects.get(name="Đồng phục học sinh")
    url = f"/schools/fees/items/{issued.pk}/"
    accountant = client_for("tule.localhost", school_people["accountant"])
    assert accountant.get(url).status_code == 200
    kept = accountant.post(url, {"name": "Đồng phục học sinh", "amount": "350000", "grades": ["6"]})
    assert kept.status_code == 200 and 'value="350000"' in kept.content.decode()  # refused, what was typed kept
    renamed = accountant.post(url, {"name": "Đồng phục học sinh (2 bộ)", "amount": "300000", "grades": ["6"],
                                    "due_on": "20/10/2026"})
    assert renamed.status_code == 302
    assert accountant.post(url, {"delete": "1"}).status_code == 302  # refused with a message: on invoices
    with in_commune(tule):
        issued.refresh_from_db()
        assert (issued.name, issued.amount, issued.due_on) == ("Đồng phục học sinh (2 bộ)", 300_000,
                                                               datetime.date(2026, 10, 20))
    for who in ("vice", "math", "primary_principal", "parent"):
        client = client_for("tule.localhost", school_people[who])
        assert client.get(url).status_code in (403, 404)
        assert client.post(url, {"delete": "1"}).status_code in (403, 404)
    with in_commune(tule):
        assert FeeItem.objects.filter(pk=issued.pk).exists()


FEES_EXPORTS = {("config.urls_tenant", "/schools/fees/1/arrears.xlsx")}  # for tests/trust/test_xlsx_export.py
HOSTILE = ["=HYPERLINK(\"http://evil.example/\";\"Bấm\")", "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(1+1)"]


def test_the_arrears_xlsx_writes_text_as_text(billed, client_for, school_people, tule, in_commune, monkeypatch):
    from django.utils import timezone
    from openpyxl import load_workbook

    from population.models import Resident

    monkeypatch.setattr(timezone, "localdate", lambda *a, **k: TODAY)
    with in_commune(tule):
        for student, name in zip(billed["students6"], HOSTILE):
            Resident.objects.filter(pk=student.resident_id).update(full_name=name)
    response = client_for("tule.localhost", school_people["accountant"]).get(
        f"/schools/fees/{billed['thcs'].pk}/arrears.xlsx")
    assert response.status_code == 200
    cells = [c for sheet in load_workbook(io.BytesIO(response.content)).worksheets for row in sheet.iter_rows()
             for c in row if c.value is not None]
    assert set(HOSTILE) <= {c.value for c in cells}
    for cell in cells:
        if isinstance(cell.value, str) and cell.value[:1] in "=+-@":
            assert cell.data_type == "s" and cell.quotePrefix, (cell.coordinate, cell.value)
