"""The import of health records from .xlsx: a generated file of 6,000 rows with some bad rows is
checked in a few seconds, the report gives each refused row's number and reason in Vietnamese,
"nothing while a row is refused" writes nothing, "the good rows" writes exactly those; the
upload's limits; the template's download is logged."""
from __future__ import annotations

import datetime
import io
import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.health.test_records import HOST, health_log

pytestmark = pytest.mark.django_db

ROWS = 6000


@pytest.fixture
def registry(station, tule, in_commune):
    """3,000 more households of two residents each (bulk-created), beside the station's village."""
    from core.text import fold
    from population.models import Household, Resident

    with in_commune(tule):
        village = station["village"]
        households = Household.objects.bulk_create(
            [Household(code=f"IM-{n:05d}", village=village) for n in range(ROWS // 2)])
        residents = []
        for n in range(ROWS):
            name = f"Lò Văn Nhập {n}"
            residents.append(Resident(
                household=households[n // 2], full_name=name, search_name=fold(name),
                birth_date=datetime.date(1960 + n % 40, 1 + n % 12, 1 + n % 28), sex="male", relation="head",
                personal_id=f"0151{n:08d}"))
        Resident.objects.bulk_create(residents, batch_size=2000)
    return residents


def workbook(residents, station) -> tuple[bytes, dict[int, str]]:
    """6,000 rows (one per generated resident, by ID number or by household code), with the bad
    rows listed by their row number and the word their reason must hold."""
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["ID", "Household", "Name", "Born", "Opened", "Blood", "Rh", "Insurance"])
    bad: dict[int, str] = {}
    for n, resident in enumerate(residents):
        row = [resident.personal_id if n % 2 else "", "" if n % 2 else resident.household.code, resident.full_name,
               resident.birth_date.strftime("%d/%m/%Y"), datetime.date(2026, 1, 5), "O", "+", "GD4151234567890"]
        number = n + 2
        if n == 10:
            row[0], row[1] = "015199999999", ""
            bad[number] = "Không có nhân khẩu nào trong sổ có số định danh này"
        elif n == 21:
            row[3] = "02/02/1901"
            bad[number] = "Không có nhân khẩu nào trong sổ có số định danh này"
        elif n == 30:
            row[5] = "X"
            bad[number] = "Nhóm máu là A, B, AB hoặc O."
        elif n == 41:
            row[4] = datetime.date(2099, 1, 1)
            bad[number] = "trong tương lai"
        elif n == 52:
            row[7] = "123"
            bad[number] = "Mã thẻ BHYT không hợp lệ"
        elif n == 63:
            row[4] = "31/02/2026"
            bad[number] = "không phải là ngày"
        sheet.append(row)
    # The same resident again, and a resident who already has a record (by household code).
    sheet.append([residents[1].personal_id, "", residents[1].full_name, residents[1].birth_date.strftime("%d/%m/%Y")])
    bad[ROWS + 2] = "Nhân khẩu này đã có ở dòng 3"
    sheet.append(["", "TY-001", "Lò Văn Bé", "04/05/2026"])
    bad[ROWS + 3] = "đã có hồ sơ sức khỏe"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue(), bad


def upload(client, content: bytes, name: str = "ho-so.xlsx"):
    return client.post("/health/records/import/", {"file": SimpleUploadedFile(name, content)})


def test_6000_rows_checked_quickly_then_nothing_or_the_good_rows(registry, station, people, client_for, tule,
                                                                in_commune):
    from health.models import HealthRecord, RecordImport

    content, bad = workbook(registry, station)
    client = client_for(HOST, people["nurse"])
    started = time.monotonic()
    response = upload(client, content)
    elapsed = time.monotonic() - started
    assert response.status_code == 302, response.content.decode()[-2000:]
    # Reading and checking take about a second each on a loaded two-core machine; the bound
    # leaves room for a busy test run.
    print(f"6,000 rows checked in {elapsed:.1f} s")
    assert elapsed < 15, elapsed
    with in_commune(tule):
        checked = RecordImport.objects.get()
        assert (checked.state, checked.rows, checked.good_rows) == ("checked", ROWS + 2, ROWS - 6)
        assert sorted({e["row"] for e in checked.errors}) == sorted(bad)
        assert HealthRecord.objects.count() == 3  # nothing written yet

    report = client.get(response["Location"]).content.decode()
    for number, reason in bad.items():
        assert f'data-row="{number}"' in report
        assert reason in report, (number, reason)

    refused = client.get(response["Location"] + "errors.xlsx")
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(refused.content)).active
    assert sorted({row[0] for row in sheet.iter_rows(min_row=2, values_only=True)}) == sorted(bad)
    assert health_log(in_commune, tule, action="export")[-1].username == "health_nurse"

    # "Write nothing while a row is refused": nothing is written.
    nothing = client.post(response["Location"], {"mode": "all"})
    assert nothing.status_code == 302
    with in_commune(tule):
        assert HealthRecord.objects.count() == 3
        assert RecordImport.objects.get().state == "cancelled"

    # The same file again, and this time the good rows.
    again = upload(client, content)
    good = client.post(again["Location"], {"mode": "good_rows"})
    assert good.status_code == 302
    with in_commune(tule):
        done = RecordImport.objects.get(pk=int(again["Location"].rstrip("/").split("/")[-1]))
        assert (done.state, done.written, done.payload) == ("written", ROWS - 6, [])
        assert HealthRecord.objects.count() == 3 + ROWS - 6
        sample = HealthRecord.objects.get(resident__personal_id=registry[1].personal_id)
        assert (sample.blood_group, sample.insurance_number, sample.opened_on) == (
            "O", "GD4151234567890", datetime.date(2026, 1, 5))
        assert not HealthRecord.objects.filter(resident__personal_id=registry[30].personal_id).exists()
    # A finished import is not written twice.
    twice = client.post(again["Location"], {"mode": "good_rows"})
    assert twice.status_code == 200 and "Lần nhập này đã kết thúc." in twice.content.decode()


@pytest.mark.parametrize("content, name, reason", [
    (b"name;birth\nA;B\n", "ho-so.xlsx", "không phải là bảng tính Excel"),
    (b"PK\x03\x04 not really a zip", "ho-so.xlsx", "không phải là bảng tính Excel"),
    (b"x" * 10, "ho-so.csv", "Hãy chọn một tệp Excel"),
    (b"x" * (5 * 1024 * 1024 + 1), "ho-so.xlsx", "lớn hơn 5 MB"),
])
def test_the_upload_s_limits(content, name, reason, station, people, client_for, tule, in_commune):
    from health.models import RecordImport

    response = upload(client_for(HOST, people["nurse"]), content, name)
    assert response.status_code == 400
    assert reason in response.content.decode()
    with in_commune(tule):
        assert not RecordImport.objects.exists()


def test_the_template_downloads_and_is_logged(station, people, client_for, tule, in_commune):
    from openpyxl import load_workbook

    response = client_for(HOST, people["nurse"]).get("/health/records/import/template.xlsx")
    assert response.status_code == 200
    headings = [c.value for c in next(load_workbook(io.BytesIO(response.content)).active.iter_rows(max_row=1))]
    assert headings[:4] == ["Số định danh cá nhân", "Mã hộ", "Họ và tên", "Ngày sinh (dd/mm/yyyy)"]
    exports = health_log(in_commune, tule, action="export")
    assert [line.username for line in exports] == ["health_nurse"]
