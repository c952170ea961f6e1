"""Form 7, the dossier register: its rows (early / on time / late against the appointment, an
extension never helping), the .xlsx workbook read back with openpyxl, and the landscape PDF."""
from __future__ import annotations

import datetime
import io
import subprocess
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from .conftest import flat, pdftotext

TZ = ZoneInfo("Asia/Ho_Chi_Minh")


def at(day: int, hour: int, minute: int = 0) -> datetime.datetime:
    return datetime.datetime(2026, 1, day, hour, minute, tzinfo=TZ)


@pytest.fixture
def procedure(in_tule):
    from onestop.models import Procedure, ProcedureStep, Sector

    sector, _ = Sector.objects.get_or_create(code="register-test", defaults={"name": "Hộ tịch"})
    procedure = Procedure.objects.create(
        code="REG-HT-05", version=1, valid_from=datetime.date(2025, 7, 1), sector=sector,
        name="Cấp Giấy xác nhận tình trạng hôn nhân", time_amount=Decimal("3"),
    )
    for order, (kind, name, role) in enumerate([("receive", "Tiếp nhận hồ sơ", "onestop_officer"),
                                                 ("process", "Xử lý hồ sơ", "specialist"),
                                                 ("sign", "Ký kết quả", "leader")], start=1):
        ProcedureStep.objects.create(procedure=procedure, order=order, kind=kind, name=name, role=role, duration_hours=4)
    return procedure


@pytest.fixture
def dossiers(procedure):
    """Five dossiers of January 2026: early, on time, late despite a form-4 extension, open and
    overdue (online, one supplement), refused at the desk."""
    from onestop.models import Dossier, DossierEvent, SupplementPause

    steps = {s.kind: s for s in procedure.steps.all()}

    def make(code, **fields):
        base = dict(procedure=procedure, channel="counter", applicant_address="Bản Nà Làng, xã Tú Lệ")
        return Dossier.objects.create(code=code, **{**base, **fields})

    early = make("04630-260105-0001", state="returned", applicant_name="Lò Thị Mai", received_at=at(5, 10),
                 due_at=at(7, 17), completed_at=at(6, 15), returned_at=at(7, 8))
    DossierEvent.objects.create(dossier=early, kind="handover", at=at(5, 10, 30), actor_name="Lường Thị Thu",
                                to_user_name="Trần Văn Lâm", from_step=steps["receive"], to_step=steps["process"])
    DossierEvent.objects.create(dossier=early, kind="handover", at=at(6, 9), actor_name="Trần Văn Lâm",
                                to_user_name="Lò Văn Thành", from_step=steps["process"], to_step=steps["sign"])
    on_time = make("04630-260105-0002", state="result_ready", applicant_name="Hà Văn Tùng", received_at=at(5, 14),
                   due_at=at(6, 17), completed_at=at(6, 16), delivery="post")
    late = make("04630-260106-0001", state="returned", applicant_name="Đinh Thị Hạnh", received_at=at(6, 9),
                due_at=at(7, 17), extended_due_at=at(9, 17), completed_at=at(8, 10), returned_at=at(8, 11))
    overdue = make("04630-260106-0002", state="in_progress", channel="online", applicant_name="Cầm Văn Pọm",
                   received_at=at(6, 10), due_at=at(9, 17))
    SupplementPause.objects.create(dossier=overdue, started_at=at(7, 9), ended_at=at(7, 15), items=["Tờ khai"])
    refused = Dossier.objects.create(procedure=procedure, channel="counter", state="refused",
                                     applicant_name="Vàng A Sử", closed_reason="Không thuộc thẩm quyền của xã")
    return [early, on_time, late, overdue, refused]


def test_register_rows(dossiers, procedure):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from onestop.models import Dossier
    from onestop.registers import KEYS, register_rows

    queryset = Dossier.objects.filter(procedure=procedure).order_by("received_at", "pk")
    with CaptureQueriesContext(connection) as queries:
        rows = register_rows(queryset, now=at(12, 9))
    selects = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("SELECT")]
    assert len(selects) == 3  # dossiers with procedures, pauses, hand-overs: no query per row
    assert [r["stt"] for r in rows] == [1, 2, 3, 4, 5]
    assert [r["status_code"] for r in rows] == ["early", "on_time", "late", "overdue", "refused"]
    assert [r["status"] for r in rows] == ["Trước hạn", "Đúng hạn", "Quá hạn", "Đang giải quyết, đã quá hạn",
                                            "Từ chối tiếp nhận"]
    assert all(set(KEYS) <= set(r) for r in rows)
    first = rows[0]
    assert first["code"] == "04630-260105-0001" and first["applicant"] == "Lò Thị Mai"
    assert first["procedure"] == "Cấp Giấy xác nhận tình trạng hôn nhân"
    assert first["received_at"] == "05/01/2026 10:00" and first["appointment"] == "07/01/2026 17:00"
    assert first["transferred"] == "05/01/2026 10:30 – Xử lý hồ sơ (Trần Văn Lâm)"
    assert first["result_date"] == "06/01/2026 15:00" and first["returned"] == "07/01/2026 08:00"
    assert "Trả qua dịch vụ bưu chính" in rows[1]["notes"]
    # Late stays late: the extension is shown, not counted.
    assert rows[2]["appointment"] == "07/01/2026 17:00 (hẹn lại: 09/01/2026 17:00)"
    assert "Xin lỗi, hẹn lại ngày 09/01/2026" in rows[2]["notes"]
    assert rows[3]["notes"] == "Nộp trực tuyến. Bổ sung hồ sơ: 1 lần"
    assert rows[3]["result_date"] == "" and rows[3]["transferred"] == ""
    assert rows[4]["code"] == "" and rows[4]["notes"] == "Lý do: Không thuộc thẩm quyền của xã"

    # The same dossier not yet overdue on its due day; the rows of a plain list too.
    assert register_rows([dossiers[3]], now=at(9, 16))[0]["status"] == "Đang giải quyết"


def test_register_xlsx(dossiers, procedure):
    from openpyxl import load_workbook

    from onestop.models import Dossier
    from onestop.registers import HEADINGS, TITLE, register_rows, to_xlsx

    dossiers[1].applicant_name = '=HYPERLINK("http://evil.example","x")'
    dossiers[1].save()
    rows = register_rows(Dossier.objects.filter(procedure=procedure).order_by("received_at", "pk"), now=at(12, 9))
    data = to_xlsx(rows, commune_name="Ủy ban nhân dân xã Tú Lệ", date_from=datetime.date(2026, 1, 1),
                   date_to=datetime.date(2026, 1, 31))
    sheet = load_workbook(io.BytesIO(data)).active
    assert sheet["A1"].value == "Ủy ban nhân dân xã Tú Lệ"
    assert sheet["A2"].value == TITLE == "SỔ THEO DÕI HỒ SƠ"
    assert sheet["A3"].value == "Từ ngày 01/01/2026 đến ngày 31/01/2026"
    assert [c.value for c in sheet[4]] == HEADINGS
    assert sheet.max_row == 4 + 5
    values = [[c.value for c in line] for line in sheet.iter_rows(min_row=5)]
    assert values[0][:3] == [1, "04630-260105-0001", "Cấp Giấy xác nhận tình trạng hôn nhân"]
    assert values[0][HEADINGS.index("Trước hạn / Đúng hạn / Quá hạn")] == "Trước hạn"
    assert values[2][HEADINGS.index("Trước hạn / Đúng hạn / Quá hạn")] == "Quá hạn"
    assert values[0][HEADINGS.index("Chuyển hồ sơ đến bộ phận giải quyết")] == "05/01/2026 10:30 – Xử lý hồ sơ (Trần Văn Lâm)"
    # A name that looks like a formula stays text.
    cell = sheet.cell(row=6, column=HEADINGS.index("Tên cá nhân, tổ chức") + 1)
    assert cell.value.startswith("=HYPERLINK") and cell.data_type == "s"


def test_register_pdf(dossiers, procedure):
    from onestop import pdf
    from onestop.models import Dossier
    from onestop.registers import register_rows

    rows = register_rows(Dossier.objects.filter(procedure=procedure).order_by("received_at", "pk"), now=at(12, 9))
    data = pdf.render_register(rows, commune_name="Ủy ban nhân dân xã Tú Lệ", date_from=datetime.date(2026, 1, 1),
                               date_to=datetime.date(2026, 1, 31))
    info = subprocess.run(["pdfinfo", "-"], input=data, capture_output=True, check=True).stdout.decode()
    assert "841.89 x 595.276" in info  # landscape A4
    text = pdftotext(data)
    single = flat(text)
    for expected in ["CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc", "UBND XÃ TÚ LỆ",
                     "Mẫu số 07", "SỔ THEO DÕI HỒ SƠ", "Từ ngày 01/01/2026 đến ngày 31/01/2026", "Mã hồ sơ",
                     "04630-260105-0001", "04630-260106-0002", "Lò Thị Mai", "Đinh Thị Hạnh", "Trước hạn",
                     "Đúng hạn", "Quá hạn", "Từ chối", "Tổng số: 5 hồ sơ."]:
        assert expected in single, expected
    line = next(flat(l) for l in text.splitlines() if "04630-260106-0001" in l)
    assert "Quá hạn" in line  # the late dossier's line


def test_register_pdf_over_many_pages(procedure):
    from onestop import pdf
    from onestop.models import Dossier
    from onestop.registers import register_rows

    Dossier.objects.bulk_create([
        Dossier(code=f"04630-260112-{n:04d}", procedure=procedure, channel="counter", state="received",
                applicant_name=f"Người nộp số {n} " + "Nguyễn " * (25 if n == 7 else 0), received_at=at(12, 8),
                due_at=at(15, 17), applicant_address="Thôn Khe Căng, " * (20 if n == 9 else 1))
        for n in range(1, 121)
    ])
    rows = register_rows(Dossier.objects.filter(procedure=procedure).order_by("code"), now=at(12, 9))
    data = pdf.render_register(rows, commune_name="Ủy ban nhân dân xã Tú Lệ")
    pages = int(subprocess.run(["pdfinfo", "-"], input=data, capture_output=True, check=True).stdout.decode()
                .split("Pages:")[1].split()[0])
    text = pdftotext(data)
    assert pages >= 5
    assert text.count("STT") == pages  # the heading row on every page
    assert "04630-260112-0120" in text and "Tổng số: 120 hồ sơ." in flat(text)
