"""Export to .xlsx and import from .xlsx/.csv: round trip, all-or-nothing, file checks."""
import datetime
import io

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from communes.models import Role
from population.models import AccessLog, Household, Resident, Village
from population.spreadsheet import COLUMNS
from tests.population.conftest import AN_ID
from tests.population.conftest import vi

HEADER = ",".join(h for _k, h in COLUMNS)


def snapshot():
    return sorted(
        (r.household.code, r.household.village.name, r.household.address, r.household.phone,
         r.household.head_id == r.pk, r.full_name, r.birth_date, r.sex, r.ethnicity, r.personal_id, r.relation, r.phone)
        for r in Resident.objects.select_related("household", "household__village")
    )


def csv_file(*lines, name="nhan-khau.csv", header=HEADER):
    return SimpleUploadedFile(name, ("\n".join([header, *lines]) + "\n").encode("utf-8"), content_type="text/csv")


@pytest.fixture
def ngaan_specialist(make_user, ngaan, client_for, in_commune):
    with in_commune(ngaan):
        Village.objects.create(name="Bản Lướt", kind="ban")
        Village.objects.create(name="Bản Pá", kind="ban")
        Village.objects.create(name="Thôn 1", kind="thon")
    return client_for("ngaan.localhost", make_user("ngaan_specialist", roles={ngaan: [Role.SPECIALIST]}))


def test_export_import_round_trip(registry, official, client_for, ngaan_specialist, in_commune, tule, ngaan):
    exporter = client_for("tule.localhost", official(Role.SPECIALIST))
    response = exporter.get("/population/residents/export.xlsx")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = openpyxl.load_workbook(io.BytesIO(response.content), read_only=True).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    assert list(rows[0]) == [h for _k, h in COLUMNS]
    assert rows[1][0] == "TL-001" and rows[1][9] == "Chủ hộ" and rows[1][8] == AN_ID  # head first, full ID
    assert isinstance(rows[1][5], datetime.datetime)  # a real date cell
    with in_commune(tule):
        source = snapshot()
        log = AccessLog.objects.get(action="export")
        assert log.channel == "page" and "4" in log.description

    upload = SimpleUploadedFile("export.xlsx", response.content)
    imported = ngaan_specialist.post("/population/residents/import/", {"file": upload})
    assert imported.status_code == 302, imported.content.decode()[-3000:]
    with in_commune(ngaan):
        assert snapshot() == source
        assert Resident.objects.get(personal_id=AN_ID).search_name == "nguyen van an"
        assert Household.objects.get(code="TL-001").history.count() == 2  # created, then head set
        assert Resident.objects.get(personal_id=AN_ID).history.count() == 1

    again = ngaan_specialist.post("/population/residents/import/", {"file": SimpleUploadedFile("export.xlsx", response.content)})
    assert again.status_code == 400
    assert vi("A resident of the commune already has this ID number.") in again.content.decode()
    with in_commune(ngaan):
        assert Resident.objects.count() == 4


def test_api_export_is_logged_and_read_only_roles_get_masked_ids(registry, official, client_for, in_commune, tule):
    writer = client_for("tule.localhost", official(Role.ONESTOP_OFFICER))
    full = writer.get("/api/v1/residents/export/", {"village": registry["villages"][0].pk})
    assert full.status_code == 200 and full["Content-Type"].startswith("application/vnd.openxmlformats")
    rows = list(openpyxl.load_workbook(io.BytesIO(full.content), read_only=True).worksheets[0].iter_rows(values_only=True))
    assert len(rows) == 4 and rows[1][8] == AN_ID
    reader = client_for("tule.localhost", official(Role.HEALTH_STAFF))
    masked = reader.get("/population/residents/export.xlsx")
    rows = list(openpyxl.load_workbook(io.BytesIO(masked.content), read_only=True).worksheets[0].iter_rows(values_only=True))
    assert rows[1][8] == "015******456"
    with in_commune(tule):
        logs = list(AccessLog.objects.filter(action="export").order_by("pk"))
        assert [(l.channel, l.username.split("_", 1)[1]) for l in logs] == [("api", "onestop_officer"), ("page", "health_staff")]
        assert logs[0].description.startswith("3 ") and "village=" in logs[0].description
        assert logs[1].description.startswith("4 ")


def test_csv_import_day_first_dates_and_heads(registry, official, client_for, in_commune, tule):
    specialist = client_for("tule.localhost", official(Role.SPECIALIST))
    upload = csv_file(
        "TL-050,ban luot,Bản Lướt,+84912000050,Lò Văn Nam,12/10/1985,Nam,Thái,015085000050,Chủ hộ,",
        "TL-050,Bản Lướt,,,Lò Thị Xuân,03/04/2026,nữ,thai,015326000051,Con,0987000051",
        "TL-002,Bản Pá,,,Hà Thị Nhỏ,2020-01-05,Nữ,Kinh,,Con,",
    )
    response = specialist.post("/population/residents/import/", {"file": upload})
    assert response.status_code == 302, response.content.decode()[-3000:]
    with in_commune(tule):
        xuan = Resident.objects.get(personal_id="015326000051")
        assert xuan.birth_date == datetime.date(2026, 4, 3) and xuan.sex == "female" and xuan.ethnicity == "03"
        household = Household.objects.get(code="TL-050")
        assert household.head.full_name == "Lò Văn Nam" and household.phone == "0912000050"
        assert household.village.name == "Bản Lướt" and household.address == "Bản Lướt"
        assert Resident.objects.get(full_name="Hà Thị Nhỏ").household_id == registry["households"][1].pk
        assert Resident.objects.count() == 7


def test_semicolon_csv_with_bom(registry, official, client_for, in_commune, tule):
    specialist = client_for("tule.localhost", official(Role.SPECIALIST))
    body = "\ufeff" + ";".join(h for _k, h in COLUMNS) + "\nTL-060;Bản Pá;;;Lường Thị Một;01/02/2003;Nữ;Thái;;Chủ hộ;\n"
    response = specialist.post("/population/residents/import/", {"file": SimpleUploadedFile("a.csv", body.encode())})
    assert response.status_code == 302
    with in_commune(tule):
        assert Resident.objects.get(full_name="Lường Thị Một").birth_date == datetime.date(2003, 2, 1)


def test_invalid_rows_are_reported_and_nothing_is_saved(registry, official, client_for, in_commune, tule):
    specialist = client_for("tule.localhost", official(Role.SPECIALIST))
    with in_commune(tule):
        before = (Resident.objects.count(), Household.objects.count())
    upload = csv_file(
        "TL-070,Bản Lướt,,,Người Tốt,01/01/1980,Nam,Kinh,001080000001,Chủ hộ,",  # row 2: valid
        "TL-070,Bản Mới,,,Người Sai Thôn,01/01/1981,Nam,Kinh,,Con,",  # row 3: unknown village
        "TL-071,Bản Pá,,,Người Sai Ngày,31/02/1990,Nam,Kinh,,Chủ hộ,",  # row 4: bad date
        "TL-072,Bản Pá,,,Người Sai Số,01/01/1990,Nữ,Kinh,001090000002,Chủ hộ,",  # row 5: ID says male
        f"TL-073,Bản Pá,,,Người Trùng,01/05/1990,Nam,Kinh,{AN_ID},Chủ hộ,",  # row 6: ID taken in the commune
        "TL-074,Bản Pá,,,Người Một,01/01/1980,Nam,Kinh,001080000001,Chủ hộ,",  # row 7: same ID as row 2
        "TL-075,Bản Pá,,,,01/01/1980,Nam,Sao Hỏa,,Bạn,0123",  # row 8: name, ethnicity, relation, phone
        "TL-070,Bản Lướt,,,Chủ Hộ Hai,01/01/1970,Nam,Kinh,,Chủ hộ,",  # row 9: a second head
    )
    response = specialist.post("/population/residents/import/", {"file": upload})
    assert response.status_code == 400
    report = {(e.row, e.column) for e in response.context["report"].errors}
    assert report == {
        (3, "Thôn/bản"), (4, "Ngày sinh"), (5, "Số định danh cá nhân"), (6, "Số định danh cá nhân"),
        (7, "Số định danh cá nhân"), (8, "Họ và tên"), (8, "Dân tộc"), (8, "Quan hệ với chủ hộ"), (8, "Điện thoại"),
        (9, "Quan hệ với chủ hộ"),
    }
    text = response.content.decode()
    assert "Bản Lướt, Bản Pá" in text  # the known villages are listed
    with in_commune(tule):
        assert (Resident.objects.count(), Household.objects.count()) == before
        assert not Household.objects.filter(code="TL-070").exists()


@pytest.mark.parametrize("name, content, message", [
    ("danh-sach.txt", b"abc", "Upload an Excel (.xlsx) or CSV (.csv) file."),
    ("danh-sach.xlsx", b"this is not a zip", "The file is not a valid Excel (.xlsx) file."),
    ("danh-sach.xlsx", b"PK\x03\x04broken zip", "The file is not a valid Excel (.xlsx) file."),
    ("danh-sach.csv", "Mã hộ,Họ và tên\n".encode("utf-16"), "The CSV file is not UTF-8 text."),
    ("danh-sach.csv", b"\xff\xfe\xfa bad", "The CSV file is not UTF-8 text."),
    ("danh-sach.csv", b"", "The file is empty."),
    ("danh-sach.csv", HEADER.encode() + b"\n", "The file has no resident rows."),
])
def test_wrong_files_are_refused(registry, official, client_for, name, content, message):
    specialist = client_for("tule.localhost", official(Role.SPECIALIST))
    response = specialist.post("/population/residents/import/", {"file": SimpleUploadedFile(name, content)})
    assert response.status_code == 400
    assert [e.message for e in response.context["report"].errors] == [vi(message)]


def test_zip_that_is_not_a_workbook(registry, official, client_for):
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("hello.txt", "hi")
    specialist = client_for("tule.localhost", official(Role.SPECIALIST))
    response = specialist.post("/population/residents/import/", {"file": SimpleUploadedFile("x.xlsx", buffer.getvalue())})
    assert [e.message for e in response.context["report"].errors] == [vi("The file is not a valid Excel (.xlsx) file.")]


def test_too_large_and_too_many_rows(registry, official, client_for, settings, in_commune, tule):
    specialist = client_for("tule.localhost", official(Role.SPECIALIST))
    line = "TL-080,Bản Pá,,,Người {i},01/01/1980,Nam,Kinh,,Con,"
    settings.XASO_IMPORT_MAX_ROWS = 2
    response = specialist.post("/population/residents/import/", {"file": csv_file(*(line.format(i=i) for i in range(3)))})
    assert [e.message for e in response.context["report"].errors] == [vi("The file has more than %(max)d rows.") % {"max": 2}]
    settings.XASO_IMPORT_MAX_BYTES = 200
    response = specialist.post("/population/residents/import/", {"file": csv_file(*(line.format(i=i) for i in range(2)))})
    assert response.context["report"].errors[0].message == vi("The file is larger than the limit of %(max)s.") % {"max": "200\xa0byte"}
    with in_commune(tule):
        assert not Household.objects.filter(code="TL-080").exists()


def test_wrong_columns(registry, official, client_for):
    specialist = client_for("tule.localhost", official(Role.SPECIALIST))
    header = HEADER.replace(",Dân tộc", ",Tôn giáo")
    response = specialist.post("/population/residents/import/", {"file": csv_file(
        "TL-090,Bản Pá,,,Người,01/01/1980,Nam,Kinh,,Chủ hộ,", header=header)})
    assert response.status_code == 400
    errors = {(e.row, e.column, e.message.split(".")[0]) for e in response.context["report"].errors}
    assert errors == {(1, "Tôn giáo", vi("Unknown column. The columns are: %(columns)s.").split(".")[0]), (1, "Dân tộc", vi("This column is missing.").split(".")[0])}


def test_xlsx_text_dates_are_day_first_and_numeric_ids_keep_zeros(registry, official, client_for, in_commune, tule):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append([h for _k, h in COLUMNS])
    sheet.append(["TL-095", "Bản Pá", "", 912000095, "Hà Văn Số", "03/04/2026", "Nam", "Kinh", 1326000095, "Chủ hộ", None])
    buffer = io.BytesIO()
    workbook.save(buffer)
    specialist = client_for("tule.localhost", official(Role.SPECIALIST))
    response = specialist.post("/population/residents/import/", {"file": SimpleUploadedFile("a.xlsx", buffer.getvalue())})
    assert response.status_code == 400  # 001326… is a female number, the row says Nam
    assert [(e.row, e.message) for e in response.context["report"].errors] == [(2, vi("The ID number does not match the sex."))]
    sheet["G2"] = "Nữ"
    buffer = io.BytesIO()
    workbook.save(buffer)
    response = specialist.post("/population/residents/import/", {"file": SimpleUploadedFile("a.xlsx", buffer.getvalue())})
    assert response.status_code == 302
    with in_commune(tule):
        resident = Resident.objects.get(full_name="Hà Văn Số")
        assert resident.birth_date == datetime.date(2026, 4, 3) and resident.personal_id == "001326000095"
        assert resident.household.phone == "0912000095"
