"""The layout of the desk's papers, read back with poppler (pdfinfo, pdftotext), which shares no
code with the portal: the receipt (form 1) holds on one page with its signatures in the common
cases, and its signature block never stands alone on a page; the register (form 7) keeps every
dossier code whole on one line and is headed 'UBND XÃ …' like the other forms."""
from __future__ import annotations

import datetime
import re
import subprocess
from zoneinfo import ZoneInfo

import pytest

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
RECEIVED = datetime.datetime(2026, 12, 7, 9, 0, tzinfo=TZ)
DUE = datetime.datetime(2026, 12, 9, 17, 0, tzinfo=TZ)
OFFICER_NAME = "Lường Thị Thu"
# Eight papers as a birth registration with its optional papers lists them: half of the names
# take two lines of the table.
PAPERS = [
    "Tờ khai đăng ký khai sinh (theo mẫu)",
    "Giấy chứng sinh; nếu không có, văn bản của người làm chứng xác nhận việc sinh",
    "Văn bản xác nhận của cơ sở y tế đã thực hiện kỹ thuật hỗ trợ sinh sản",
    "Thẻ căn cước (căn cước công dân) hoặc hộ chiếu của người đi đăng ký",
    "Giấy tờ chứng minh nơi cư trú",
    "Giấy chứng nhận kết hôn của cha mẹ (nếu có)",
    "Văn bản ủy quyền có chứng thực (khi nộp thay)",
    "Bản sao giấy chứng tử của vợ hoặc chồng đã mất",
]


def pages(data: bytes) -> int:
    info = subprocess.run(["pdfinfo", "-"], input=data, capture_output=True, check=True).stdout.decode()
    return int(info.split("Pages:")[1].split()[0])


def page_texts(data: bytes) -> list[str]:
    """The text of each page (pdftotext -layout; pages are separated by form feeds)."""
    text = subprocess.run(["pdftotext", "-layout", "-enc", "UTF-8", "-", "-"], input=data, capture_output=True,
                          check=True).stdout.decode()
    return [" ".join(page.split()) for page in text.split("\f") if page.strip()]


@pytest.fixture
def with_account(tule):
    """The commune has an account (the demo's, with its long name): form 1 carries the VietQR of
    an unpaid fee (its largest case)."""
    tule.bank_bin, tule.bank_account = "970405", "0000000004630"
    tule.bank_account_name = "TÀI KHOẢN THỬ NGHIỆM – UBND XÃ TÚ LỆ"
    return tule


def _dossier(procedure, officer, number: int, papers: list[tuple[str, str, int]]):
    from onestop.models import Dossier, DossierDocument

    dossier = Dossier.objects.create(
        code=f"000.00.X04630-261207-{number:04d}", procedure=procedure, channel="counter", state="received",
        applicant_name="Nguyễn Thị Phương Thảo", applicant_id_number="015190001234", applicant_phone="0912345678",
        applicant_email="thao.nguyen@example.vn", applicant_address="Bản Đồng, xã Tú Lệ, tỉnh Lào Cai",
        fee_amount=50000, received_at=RECEIVED, received_by=officer, due_at=DUE, original_due_at=DUE,
    )
    for name, kind, count in papers:
        DossierDocument.objects.create(dossier=dossier, name=name, provided=True, copy_kind=kind, count=count)
    return dossier


def _assert_one_page_with_signatures(data: bytes, label) -> None:
    texts = page_texts(data)
    assert pages(data) == 1 and len(texts) == 1, (label, len(texts))
    for expected in ("GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ", "Nộp phí, lệ phí qua VietQR", "NGƯỜI NỘP HỒ SƠ",
                     "NGƯỜI TIẾP NHẬN HỒ SƠ", OFFICER_NAME, "Nguyễn Thị Phương Thảo"):
        assert expected in texts[0], (label, expected)


def test_form_1_of_every_procedure_of_the_catalogue_fits_one_page(procedures, people, with_account):
    """Every paper the procedure lists (the optional ones too), an unpaid fee with its VietQR."""
    from onestop import pdf

    officer = people["onestop_officer"]
    for number, (code, procedure) in enumerate(sorted(procedures.items()), start=1):
        papers = [(r.name, r.copy_kind, r.count or 1) for r in procedure.requirements.all()]
        dossier = _dossier(procedure, officer, number, papers)
        _assert_one_page_with_signatures(pdf.render_form("1", dossier, officer=officer), code)


@pytest.mark.parametrize("kind", ["either", "certified_copy", "original"])
def test_form_1_with_eight_papers_fits_one_page(procedures, people, with_account, kind):
    from onestop import pdf

    officer = people["onestop_officer"]
    dossier = _dossier(procedures["HT-01"], officer, 1, [(name, kind, 1) for name in PAPERS])
    data = pdf.render_form("1", dossier, officer=officer)
    _assert_one_page_with_signatures(data, kind)
    # 'Bản chính hoặc bản sao chứng thực' and the heading 'Số lượng' each hold on one line.
    text = subprocess.run(["pdftotext", "-layout", "-enc", "UTF-8", "-", "-"], input=data, capture_output=True,
                          check=True).stdout.decode()
    assert re.search(r"STT\s+Tên giấy tờ\s+Hình thức\s+Số lượng", text)
    if kind == "either":
        assert text.count("Bản chính hoặc bản sao chứng thực") == len(PAPERS)


def test_the_signature_block_never_stands_alone_on_a_page(procedures, people, with_account):
    """Dossiers too long for one page: the signatures go over with the block before them."""
    from onestop import pdf

    officer = people["onestop_officer"]
    names = PAPERS + [f"{name} (bản thứ hai)" for name in PAPERS]
    for count in range(9, 17):
        papers = [(name, "either", 1) for name in names[:count]]
        texts = page_texts(pdf.render_form("1", _dossier(procedures["HT-01"], officer, count, papers), officer=officer))
        last = texts[-1]
        assert "NGƯỜI TIẾP NHẬN HỒ SƠ" in last and OFFICER_NAME in last, count
        assert "Tra cứu tình trạng hồ sơ" in last, count  # not the signatures alone


def test_other_forms_keep_their_signatures_with_their_text(procedures, people, with_account):
    from onestop import pdf

    officer = people["onestop_officer"]
    dossier = _dossier(procedures["HT-01"], officer, 3, [(PAPERS[0], "form", 1)])
    for count in range(20, 44):
        items = [f"Bổ sung giấy tờ số {n}: {PAPERS[n % len(PAPERS)]}" for n in range(1, count + 1)]
        texts = page_texts(pdf.render_form("2", dossier, officer=officer, extra={"items": items, "reason": "Chưa đủ"}))
        assert "NGƯỜI HƯỚNG DẪN" in texts[-1], count
        assert "liên hệ với" in texts[-1], count  # the last paragraph goes over with the signature


def _register_rows(procedure, officer, count: int) -> list[dict]:
    from onestop.models import Dossier
    from onestop.registers import register_rows

    for number in range(1, count + 1):
        Dossier.objects.create(
            code=f"000.00.X04630-261207-{number:04d}", procedure=procedure, channel="counter", state="received",
            applicant_name="Hoàng Thị Ngọc Ánh", applicant_address="Bản Đồng, xã Tú Lệ, tỉnh Lào Cai",
            received_at=RECEIVED + datetime.timedelta(minutes=number), received_by=officer, due_at=DUE,
            original_due_at=DUE,
        )
    return register_rows(Dossier.objects.filter(procedure=procedure).order_by("code"), now=RECEIVED)


def test_form_7_keeps_each_dossier_code_whole_on_one_line(procedures, people, tule):
    from onestop import pdf

    rows = _register_rows(procedures["HT-01"], people["onestop_officer"], 12)
    data = pdf.render_register(rows, commune_name=str(tule), date_from=datetime.date(2026, 12, 1),
                               date_to=datetime.date(2026, 12, 31))
    text = subprocess.run(["pdftotext", "-layout", "-enc", "UTF-8", "-", "-"], input=data, capture_output=True,
                          check=True).stdout.decode()
    for number in range(1, 13):
        code = f"000.00.X04630-261207-{number:04d}"
        assert sum(line.count(code) for line in text.splitlines()) == 1, code
    assert not re.search(r"000\.00\.X04630-\s*$", text, re.MULTILINE)  # no code cut at its end of line


def test_form_7_is_headed_like_the_other_forms(procedures, people, tule):
    from onestop import pdf

    rows = _register_rows(procedures["HT-01"], people["onestop_officer"], 1)
    for name in (str(tule), "Ủy ban nhân dân xã Tú Lệ", ""):
        texts = page_texts(pdf.render_register(rows, commune_name=name))
        head = texts[0].split("CỘNG HÒA")[0] + texts[0].split("Hạnh phúc")[1][:80]
        assert "UBND XÃ TÚ LỆ" in texts[0] and "BỘ PHẬN MỘT CỬA" in texts[0], name
        assert "ỦY BAN NHÂN DÂN" not in head and not re.search(r"(?<!UBND )XÃ TÚ LỆ", texts[0]), name
