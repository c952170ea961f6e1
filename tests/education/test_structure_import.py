"""The import of a class list from .xlsx: each refused row says why (no match, several matches,
a bad date or phone, an empty name, a child twice in the file or already studying this year);
the file as a whole is refused when too long, too large or not a real workbook; confirming
writes exactly the good rows, or nothing when the staff member chose so; the refused rows come
back as .xlsx; only the school's managers import."""
from __future__ import annotations

import datetime
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils.translation import gettext
from openpyxl import Workbook, load_workbook

from education import structure_import
from education.models import Enrolment, Guardian, StudentImport

pytestmark = pytest.mark.django_db(transaction=False)
HOST = "tule.localhost"
HEAD = ["STT", "Họ và tên", "Ngày sinh", "Giới tính", "Số định danh cá nhân", "Họ tên cha/mẹ/người giám hộ",
        "Quan hệ", "Số điện thoại"]


def t(msgid: str, **params) -> str:
    return gettext(msgid) % params if params else gettext(msgid)


def workbook(rows) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append(HEAD)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def upload(data: bytes, name: str = "lop6b.xlsx") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


@pytest.fixture
def children(tule, in_commune, schoolyard):
    from population import services
    from population.models import Resident

    def child(name, born, sex="male", personal_id=None, home=None):
        return services.save_resident(Resident(household=home or schoolyard["household"], full_name=name,
                                               birth_date=born, sex=sex, relation="child", ethnicity="03",
                                               personal_id=personal_id))

    with in_commune(tule):
        return {
            "khanh": child("Lò Văn Khánh", datetime.date(2015, 3, 1)),
            "lan": child("Lường Thị Lan", datetime.date(2015, 4, 2), "female", "015315009876"),
            "twin1": child("Hà Văn Song", datetime.date(2015, 5, 5)),
            "twin2": child("Hà Văn Song", datetime.date(2015, 5, 5), home=schoolyard["far_household"]),
            "minh": child("Cầm Văn Minh", datetime.date(2015, 6, 6)),
        }


def rows_for_every_case():
    return [
        [1, "Lo Van Khanh", datetime.datetime(2015, 3, 1), "Nam", None, "Lường Thị Mẹ", "Mẹ", "0912 000 222"],  # good
        [2, "Lường Thị Lan", "02/04/2015", "Nữ", "015315009876", "Lường Văn Bố", "Cha", "+84987000111"],  # good, by ID
        [3, "Hà Văn Song", "05/05/2015", "Nam", None, "", "", ""],  # several residents
        [4, "Không Có Ai", "01/01/2015", "Nam", None, "", "", ""],  # nobody
        [5, "Cầm Văn Minh", "31/02/2015", "Nam", None, "", "", ""],  # bad date
        [6, "", "01/01/2015", "Nam", None, "", "", ""],  # empty name
        [7, "Cầm Văn Minh", "06/06/2015", "Nam", None, "Cầm Văn Bố", "Cha", "12345"],  # bad phone
        [8, "Lò Văn Khánh", "01/03/2015", "Nam", None, "", "", ""],  # twice in the file
        [9, "Lò Văn An", "10/01/2015", "Nam", None, "", "", ""],  # already studying in 6A
        [10, "Lường Thị Lan", "02/04/2015", "Nữ", "015315000000", "", "", ""],  # wrong ID
    ]


def test_each_refused_row_says_why(tule, in_commune, schoolyard, children, school_people):
    with in_commune(tule):
        checked = structure_import.check_file(schoolyard["class6b"], upload(workbook(rows_for_every_case())),
                                              school_people["clerk"])
        assert checked.state == "checked"
        assert [row["row"] for row in checked.rows] == [2, 3]
        assert checked.rows[0]["resident_id"] == children["khanh"].pk and checked.rows[0]["phone"] == "0912000222"
        assert checked.rows[1]["resident_id"] == children["lan"].pk and checked.rows[1]["relation"] == "father"
        reasons = {(e["row"], e["message"]) for e in checked.errors}
        assert (4, t("Several residents of the registry have this name and birth date: give the personal ID "
                     "number.")) in reasons
        assert (5, t("No resident of the registry has this name and birth date.")) in reasons
        assert (6, t("“%(value)s” is not a date dd/mm/yyyy.", value="31/02/2015")) in reasons
        assert (7, t("The full name is missing.")) in reasons
        assert (8, t("“%(value)s” is not a Vietnamese mobile number (10 digits).", value="12345")) in reasons
        assert (9, t("The same student is on row %(row)s.", row=2)) in reasons
        assert (10, t("This child is already studying this year in class %(class)s of %(school)s.",
                      **{"class": "6A", "school": "Trường THCS Tú Lệ"})) in reasons
        assert (11, t("No resident of the registry has this personal ID number with this name and birth "
                      "date.")) in reasons
        assert not Enrolment.objects.filter(school_class=schoolyard["class6b"]).exists()  # nothing written yet

        refused = structure_import.apply(checked, structure_import.ALL_OR_NOTHING)
        assert refused.state == "refused" and refused.created == 0
        assert not Enrolment.objects.filter(school_class=schoolyard["class6b"]).exists()
        with pytest.raises(Exception):
            structure_import.apply(refused, structure_import.GOOD_ROWS)

        again = structure_import.check_file(schoolyard["class6b"], upload(workbook(rows_for_every_case())),
                                            school_people["clerk"])
        done = structure_import.apply(again, structure_import.GOOD_ROWS)
        assert done.state == "applied" and done.created == 2
        enrolled = Enrolment.objects.filter(school_class=schoolyard["class6b"]).order_by("number")
        assert [(e.number, e.student.resident_id) for e in enrolled] == [
            (1, children["khanh"].pk), (2, children["lan"].pk)]
        lan_guardians = list(Guardian.objects.filter(student__resident=children["lan"]).values_list(
            "full_name", "relation", "phone"))
        assert lan_guardians == [("Lường Văn Bố", "father", "0987000111")]


def test_files_refused_as_a_whole(tule, in_commune, schoolyard, children, school_people):
    clerk = school_people["clerk"]
    with in_commune(tule):
        def refusal(data, name="lop.xlsx"):
            with pytest.raises(structure_import.FileRefused) as info:
                structure_import.check_file(schoolyard["class6b"], upload(data, name), clerk)
            return info.value.message

        assert refusal(b"STT;Ho va ten\n1;An", "lop.csv") == t("Choose an Excel file (.xlsx).")
        assert refusal(b"PK\x03\x04 not really a zip") == t("The file is not an Excel workbook (.xlsx).")
        assert refusal(b"%PDF-1.4 pretending") == t("The file is not an Excel workbook (.xlsx).")
        assert refusal(b"0" * (2 * 1024 * 1024 + 1)) == t("The file is larger than 2 MB.")
        long = [[n, f"Học Sinh {n}", "01/01/2015", "Nam", None, "", "", ""] for n in range(1, 202)]
        assert refusal(workbook(long)) == t("The file has more than %(max)s rows: a class list has fewer.", max=200)
        assert refusal(workbook([])) == t("The file has no student under the headings.")
        assert not StudentImport.objects.exists()
        exactly = [[n, f"Học Sinh {n}", "01/01/2015", "Nam", None, "", "", ""] for n in range(1, 201)]
        checked = structure_import.check_file(schoolyard["class6b"], upload(workbook(exactly)), clerk)
        assert len(checked.errors) == 200 and not checked.rows


def test_the_import_pages_template_errors_and_roles(tule, in_commune, schoolyard, children, school_people, client_for):
    c6b = schoolyard["class6b"]
    clerk = client_for(HOST, school_people["clerk"])
    template = clerk.get("/schools/imports/template.xlsx")
    assert template.status_code == 200
    sheet = load_workbook(io.BytesIO(template.content)).worksheets[0]
    assert [c.value for c in sheet[1]] == structure_import.headings()
    assert clerk.post(f"/schools/classes/{c6b.pk}/import/", {"file": upload(b"plain text", "lop.xlsx")}).status_code == 400
    response = clerk.post(f"/schools/classes/{c6b.pk}/import/", {"file": upload(workbook(rows_for_every_case()))})
    assert response.status_code == 302
    with in_commune(tule):
        checked = StudentImport.objects.get()
    page = clerk.get(f"/schools/imports/{checked.pk}/").content.decode()
    assert 'data-row="11"' in page and 'data-state="checked"' in page
    errors = clerk.get(f"/schools/imports/{checked.pk}/refused.xlsx")
    rows = list(load_workbook(io.BytesIO(errors.content)).worksheets[0].iter_rows(values_only=True))
    assert len(rows) == 1 + len(checked.errors) and rows[1][0] == 4
    for who in ("math", "accountant", "primary_principal", "unplaced", "chairman"):
        other = client_for(HOST, school_people[who])
        assert other.get(f"/schools/imports/{checked.pk}/").status_code == 403, who
        assert other.post(f"/schools/imports/{checked.pk}/", {"mode": "good_rows"}).status_code == 403, who
        assert other.get(f"/schools/imports/{checked.pk}/refused.xlsx").status_code == 403, who
        assert other.post(f"/schools/classes/{c6b.pk}/import/",
                          {"file": upload(workbook(rows_for_every_case()))}).status_code == 403, who
    home = client_for(HOST, school_people["principal"]).get("/schools/").content.decode()
    assert f"/schools/{schoolyard['thcs'].pk}/#imports" in home
    done = clerk.post(f"/schools/imports/{checked.pk}/", {"mode": "good_rows", "write": "1"})
    assert done.status_code == 302
    with in_commune(tule):
        checked.refresh_from_db()
        assert checked.state == "applied" and checked.created == 2
        assert Enrolment.objects.filter(school_class=c6b, status="active").count() == 2
    assert clerk.post(f"/schools/imports/{checked.pk}/", {"mode": "good_rows", "write": "1"}).status_code == 400
    with in_commune(tule):
        assert Enrolment.objects.filter(school_class=c6b).count() == 2
