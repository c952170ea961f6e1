"""The registers of Decree 30: columns, date ranges, PDF (landscape A4) and .xlsx exports."""
import datetime
import io
import subprocess

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from documents import registers, selectors, services
from documents.forms import IncomingForm, RegisterForm
from documents.models import TZ, IncomingDocument

from .conftest import flat, pdftotext

OUTGOING_HEADINGS = ["Số/ký hiệu", "Ngày tháng", "Tên loại và trích yếu", "Người ký", "Nơi nhận",
                     "Đơn vị/người nhận bản lưu", "Số lượng bản", "Ngày chuyển", "Ký nhận", "Ghi chú"]
INCOMING_HEADINGS = ["Ngày đến", "Số đến", "Tác giả", "Số/ký hiệu", "Ngày tháng văn bản", "Tên loại và trích yếu",
                     "Đơn vị/người nhận", "Ngày chuyển", "Ký nhận", "Ghi chú"]


@pytest.fixture
def book(issued_factory, people, in_tule, doc_types):
    """Three outgoing documents over two months (one withdrawn) and two incoming ones."""
    a = issued_factory(on=datetime.date(2026, 3, 2), subject="Về việc tổ chức Tết Trồng cây",
                       archive_holder="Văn phòng", copies_count=5)
    b = issued_factory(on=datetime.date(2026, 3, 20), type_code="ke-hoach", subject="Kế hoạch phòng chống lụt bão")
    c = issued_factory(on=datetime.date(2026, 4, 3), subject="Về việc khen thưởng")
    services.withdraw(b, user=people["chairman"], reason="Sai thể thức")
    incoming = []
    for day, subject in ((datetime.date(2026, 3, 5), "V/v hướng dẫn bầu cử"), (datetime.date(2026, 4, 6), "V/v báo cáo thống kê")):
        doc = services.register_incoming(IncomingDocument(
            arrived_at=datetime.datetime.combine(day, datetime.time(9, 0), TZ), sender_org="UBND tỉnh Lào Cai",
            original_number_symbol="12/UBND-NC", document_date=day, doc_type=doc_types["cong-van"], subject=subject,
        ), user=people["clerk"])
        services.assign(doc, user=people["chairman"], lead_handler_id=people["specialist"].pk)
        incoming.append(doc)
    return {"outgoing": [a, b, c], "incoming": incoming}


def test_recipients_are_listed_once_each_with_one_separator(draft_factory, people, fake_signing):
    """The document's recipient lines end with ';' (and may start with '-'): the register joins
    them with one '; ', never 'Như trên;; …'."""
    doc = draft_factory(recipients_text="- Như trên;\nTT Đảng ủy, HĐND xã;\n- Lưu: VT, VP.\n ; \n")
    doc = services.submit(doc, user=people["specialist"])
    doc = services.approve(doc, user=people["chairman"])
    services.sign_as_leader(doc, people["chairman"], "1234")
    doc.refresh_from_db()
    doc = services.issue(doc, people["clerk"], "1234", on=datetime.date(2026, 5, 4))
    register = registers.build("outgoing", selectors.outgoing_register(), date_from=None, date_to=None)
    recipients = register.rows[0][OUTGOING_HEADINGS.index("Nơi nhận")]
    assert recipients == "Như trên; TT Đảng ủy, HĐND xã; Lưu: VT, VP"
    text = flat(pdftotext(registers.to_pdf(register, "ỦY BAN NHÂN DÂN\nXÃ TÚ LỆ")))
    assert "Như trên; TT Đảng ủy" in text and ";;" not in text


def test_outgoing_register_rows(book):
    register = registers.build("outgoing", selectors.outgoing_register(datetime.date(2026, 3, 1), datetime.date(2026, 3, 31)),
                               date_from=datetime.date(2026, 3, 1), date_to=datetime.date(2026, 3, 31))
    assert register.columns == OUTGOING_HEADINGS
    assert register.title == "SỔ ĐĂNG KÝ VĂN BẢN ĐI" and register.period == "Từ ngày 01/03/2026 đến ngày 31/03/2026"
    first, second = register.rows
    assert first[:7] == ["01/QĐ-UBND", "02/03/2026", "Quyết định: Về việc tổ chức Tết Trồng cây", "Lò Văn Thành",
                         "Như Điều 3; TT HĐND xã", "Văn phòng", "5"]
    assert second[0] == "02/KH-UBND" and second[-1].startswith("Đã thu hồi: Sai thể thức")


def test_incoming_register_rows(book):
    register = registers.build("incoming", selectors.incoming_register(datetime.date(2026, 4, 1), datetime.date(2026, 4, 30)))
    assert register.columns == INCOMING_HEADINGS
    (row,) = register.rows
    assert row[:7] == ["06/04/2026", "02", "UBND tỉnh Lào Cai", "12/UBND-NC", "06/04/2026",
                       "Công văn: V/v báo cáo thống kê", "Trần Văn Lâm"]
    assert row[7] == timezone.localdate().strftime("%d/%m/%Y")


def test_pdf_export_has_the_headings_and_vietnamese_text(book):
    register = registers.build("outgoing", selectors.outgoing_register())
    pdf = registers.to_pdf(register, "ỦY BAN NHÂN DÂN\nXÃ TÚ LỆ")
    text = flat(pdftotext(pdf))
    assert "SỔ ĐĂNG KÝ VĂN BẢN ĐI" in text and "ỦY BAN NHÂN DÂN XÃ TÚ LỆ" in text
    for heading in OUTGOING_HEADINGS:
        assert heading in text, heading
    assert "Về việc tổ chức Tết Trồng cây" in text and "Lò Văn Thành" in text
    info = subprocess.run(["pdfinfo", "-"], input=pdf, capture_output=True, check=True).stdout.decode()
    assert "841.89 x 595.276 pts (A4)" in info  # landscape A4
    fonts = subprocess.run(["pdffonts", "-"], input=pdf, capture_output=True, check=True).stdout.decode()
    assert "LiberationSerif" in fonts


def test_xlsx_export_has_the_headings(book):
    for kind, headings in (("outgoing", OUTGOING_HEADINGS), ("incoming", INCOMING_HEADINGS)):
        queryset = selectors.outgoing_register() if kind == "outgoing" else selectors.incoming_register()
        data = registers.to_xlsx(registers.build(kind, queryset), "ỦY BAN NHÂN DÂN XÃ TÚ LỆ")
        sheet = load_workbook(io.BytesIO(data)).active
        rows = list(sheet.iter_rows(values_only=True))
        assert list(rows[3]) == headings
        assert len(rows) == 4 + (3 if kind == "outgoing" else 2)
        assert sheet.page_setup.orientation == "landscape"


def test_register_pages_and_exports(book, people, client_for):
    client = client_for("tule.localhost", people["clerk"])
    page = client.get("/documents/registers/outgoing/?date_from=01/03/2026&date_to=31/03/2026")
    assert page.status_code == 200
    body = page.content.decode()
    assert "02/KH-UBND" in body and "03/QĐ-UBND" not in body and "Đơn vị/người nhận bản lưu" in body
    pdf = client.get("/documents/registers/incoming.pdf?date_from=01/03/2026")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert "Số đến" in pdftotext(pdf.content)
    xlsx = client.get("/documents/registers/outgoing.xlsx?q=tet trong cay")
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert [r[0] for r in sheet.iter_rows(min_row=5, values_only=True)] == ["01/QĐ-UBND"]
    bad = client.get("/documents/registers/outgoing/?date_from=31/03/2026&date_to=01/03/2026")
    assert bad.status_code == 400
    api = client.get("/api/v1/documents/registers/incoming/?date_from=01/04/2026").json()
    assert api["count"] == 1 and api["results"][0]["Số đến"] == "02" and api["columns"] == INCOMING_HEADINGS
    assert client.get("/api/v1/documents/registers/outgoing/xlsx/").status_code == 200
    bad = client.get("/api/v1/documents/registers/outgoing/?date_from=32/13/2026")
    assert bad.status_code == 400 and "date_from" in bad.json()["fields"]


def test_dates_are_read_day_first():
    form = RegisterForm({"date_from": "03/04/2026", "date_to": "04/04/2026"})
    assert form.is_valid() and form.cleaned_data["date_from"] == datetime.date(2026, 4, 3)
    form = IncomingForm({"arrived_at": "03/04/2026 08:30"})
    form.is_valid()
    assert form.cleaned_data["arrived_at"].astimezone(TZ).date() == datetime.date(2026, 4, 3)
