"""The structure's pages and API by role: the school's principal, vice-principal and clerk manage
it; its teacher and accountant read it; the other school's principal, unplaced staff, the
chairman (aggregates only), other officials, parents, citizens and a Yên Hòa official read
nothing; anonymous visitors are sent to the login page (API: 401). Class and student reads are
logged; guardian phones are masked for the accountant; the forms keep what was typed and answer
bad input with a message, never a 500."""
from __future__ import annotations

import datetime

import pytest
from django.utils.translation import gettext

from communes.models import Role
from education.models import Enrolment, Guardian, SchoolClass, StaffMember, TeachingAssignment
from population.models import AccessLog

pytestmark = pytest.mark.django_db(transaction=False)

HOST = "tule.localhost"
READERS = {"principal", "vice", "clerk", "math", "accountant"}
MANAGERS = {"principal", "vice", "clerk"}
OUTSIDERS = ["primary_principal", "unplaced", "chairman", "radio", "parent", "citizen", "yenhoa"]


@pytest.fixture
def people(school_people, yenhoa, make_user):
    return {**school_people, "yenhoa": make_user("edu_yenhoa", roles={yenhoa: [Role.SCHOOL_STAFF, Role.CHAIRMAN]},
                                                 full_name="Người Yên Hòa")}


def _urls(y):
    thcs, c6a = y["thcs"], y["class6a"]
    an = y["students6"][0]
    enrolment = Enrolment.objects.get(student=an, status="active")
    guardian = Guardian.objects.filter(student=an).first()
    staff = y["staff"]["math"]
    read = [f"/schools/{thcs.pk}/", f"/schools/classes/{c6a.pk}/", f"/schools/students/{an.pk}/"]
    manage = [f"/schools/{thcs.pk}/classes/new/", f"/schools/classes/{c6a.pk}/edit/",
              f"/schools/classes/{c6a.pk}/assignments/", f"/schools/{thcs.pk}/staff/new/",
              f"/schools/staff/{staff.pk}/", f"/schools/classes/{c6a.pk}/add/?q=lo",
              f"/schools/classes/{c6a.pk}/import/", f"/schools/enrolments/{enrolment.pk}/transfer-out/",
              f"/schools/enrolments/{enrolment.pk}/move/", f"/schools/enrolments/{enrolment.pk}/year-end/",
              f"/schools/students/{an.pk}/guardians/new/", f"/schools/guardians/{guardian.pk}/",
              f"/schools/{thcs.pk}/without-phone/"]
    return read, manage


def test_role_matrix_of_the_pages(tule, in_commune, schoolyard, people, client_for):
    with in_commune(tule):
        read, manage = _urls(schoolyard)
    names = [s.resident.full_name for s in schoolyard["students6"]]
    for who in sorted(READERS) + OUTSIDERS:
        client = client_for(HOST, people[who])
        for url in read + manage:
            expected = 200 if (who in MANAGERS or (who in READERS and url in read)) else 403
            response = client.get(url)
            assert response.status_code == expected, (who, url, response.status_code)
            if expected == 403:
                body = response.content.decode()
                assert not any(name in body for name in names), (who, url)
        year_page = client.get("/schools/year/")
        assert year_page.status_code == (200 if who in MANAGERS | {"primary_principal"} else 403), who
        template = client.get("/schools/imports/template.xlsx")
        assert template.status_code == (200 if who in MANAGERS | {"primary_principal"} else 403), who
    anonymous = client_for(HOST)
    for url in read + manage + ["/schools/year/"]:
        response = anonymous.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"], url


def test_the_primary_principal_manages_only_the_primary_school(tule, in_commune, schoolyard, people, client_for):
    client = client_for(HOST, people["primary_principal"])
    assert client.get(f"/schools/{schoolyard['primary'].pk}/").status_code == 200
    assert client.get(f"/schools/classes/{schoolyard['class1a'].pk}/").status_code == 200
    assert client.post(f"/schools/{schoolyard['thcs'].pk}/classes/new/", {"name": "9A", "grade": 9}).status_code == 403
    with in_commune(tule):
        assert not SchoolClass.objects.filter(name="9A").exists()


def test_class_list_logs_the_read_and_masks_phones_for_the_accountant(tule, in_commune, schoolyard, people, client_for):
    c6a = schoolyard["class6a"]
    page = client_for(HOST, people["principal"]).get(f"/schools/classes/{c6a.pk}/").content.decode()
    assert "Lò Văn An" in page and "0912000222" in page and "10/01/2015" in page
    accountant = client_for(HOST, people["accountant"]).get(f"/schools/classes/{c6a.pk}/").content.decode()
    assert "Lò Văn An" in accountant and "0912000222" not in accountant and "091*******" in accountant
    an = schoolyard["students6"][0]
    student_page = client_for(HOST, people["math"]).get(f"/schools/students/{an.pk}/").content.decode()
    assert "Lường Thị Mẹ" in student_page and "0912000222" in student_page
    with in_commune(tule):
        assert AccessLog.objects.filter(object_type="school_class", object_id=c6a.pk).count() == 2
        assert AccessLog.objects.filter(object_type="student", object_id=an.pk, user_id=people["math"].pk).exists()


def test_the_school_page_lists_classes_with_counts_and_staff(tule, schoolyard, people, client_for):
    page = client_for(HOST, people["vice"]).get(f"/schools/{schoolyard['thcs'].pk}/").content.decode()
    assert "6A" in page and "6B" in page and "Lường Văn Toán" in page and "Đinh Thị Văn" in page
    assert f'/schools/classes/{schoolyard["class6a"].pk}/edit/' in page
    without = client_for(HOST, people["vice"]).get(f"/schools/{schoolyard['thcs'].pk}/?without_homeroom=1").content
    assert b">6B<" in without and b">6A<" not in without
    teacher = client_for(HOST, people["math"]).get(f"/schools/{schoolyard['thcs'].pk}/").content.decode()
    assert "6A" in teacher and "/edit/" not in teacher
    home = client_for(HOST, people["principal"]).get("/schools/").content.decode()
    assert f'/schools/{schoolyard["thcs"].pk}/' in home and "/schools/year/" in home
    assert "/schools/year/" not in client_for(HOST, people["math"]).get("/schools/").content.decode()


def test_forms_add_a_class_assign_teachers_add_staff_and_keep_bad_input(tule, in_commune, schoolyard, people,
                                                                        client_for):
    thcs = schoolyard["thcs"]
    client = client_for(HOST, people["clerk"])
    bad = client.post(f"/schools/{thcs.pk}/classes/new/", {"name": "6A", "grade": 6, "room": "P9"})
    assert bad.status_code == 400
    body = bad.content.decode()
    assert (gettext("The school already has a class %(name)s in %(year)s.") % {"name": "6A", "year": "2026-2027"}) \
        in body.replace("&#x27;", "'") and 'value="P9"' in body
    ok = client.post(f"/schools/{thcs.pk}/classes/new/", {"name": "7A", "grade": 7,
                                                          "homeroom_teacher": schoolyard["staff"]["math"].pk})
    assert ok.status_code == 302
    with in_commune(tule):
        class7 = SchoolClass.objects.get(school=thcs, name="7A")
        from education.models import Subject

        math7 = Subject.objects.get(grade=7, code="toan")
    grid = client.get(f"/schools/classes/{class7.pk}/assignments/").content.decode()
    assert f'name="subject-{math7.pk}"' in grid and f'value="{schoolyard["staff"]["math"].pk}"' in grid
    saved = client.post(f"/schools/classes/{class7.pk}/assignments/", {f"subject-{math7.pk}": schoolyard["staff"]["math"].pk})
    assert saved.status_code == 302
    with in_commune(tule):
        assert TeachingAssignment.objects.get(school_class=class7, subject=math7).teacher == schoolyard["staff"]["math"]
    added = client.post(f"/schools/{thcs.pk}/staff/new/", {"user": people["unplaced"].pk, "position": "teacher"})
    assert added.status_code == 302
    raised = client.post(f"/schools/{thcs.pk}/staff/new/", {"full_name": "Hiệu Phó Mới", "position": "vice_principal"})
    assert raised.status_code == 400
    with in_commune(tule):
        assert StaffMember.objects.filter(school=thcs, user=people["unplaced"]).exists()
        assert not StaffMember.objects.filter(full_name="Hiệu Phó Mới").exists()
        own = StaffMember.objects.get(school=thcs, user=people["clerk"])
    assert client.post(f"/schools/staff/{own.pk}/", {"position": "principal", "active": "on"}).status_code == 400
    with in_commune(tule):
        own.refresh_from_db()
        assert own.position == "clerk"


def test_add_a_student_from_the_registry_and_transfer_out_on_the_pages(tule, in_commune, schoolyard, people,
                                                                       client_for):
    from population import services
    from population.models import Resident

    with in_commune(tule):
        child = services.save_resident(Resident(household=schoolyard["household"], full_name="Lò Thị Nhỏ",
                                                birth_date=datetime.date(2015, 7, 7), sex="female", relation="child",
                                                ethnicity="03"))
    client = client_for(HOST, people["principal"])
    c6b = schoolyard["class6b"]
    found = client.get(f"/schools/classes/{c6b.pk}/add/?q=lo thi nho").content.decode()
    assert "Lò Thị Nhỏ" in found and f"?resident={child.pk}" in found
    already = client.get(f"/schools/classes/{c6b.pk}/add/?q=lo van an").content.decode()
    assert "Lò Văn An" in already and "6A" in already
    chosen = client.get(f"/schools/classes/{c6b.pk}/add/?resident={child.pk}").content.decode()
    assert "Lường Thị Mẹ" in chosen  # the household's guardian proposed
    response = client.post(f"/schools/classes/{c6b.pk}/add/", {"resident": child.pk, "entry": "new"})
    assert response.status_code == 302
    again = client.post(f"/schools/classes/{schoolyard['class6a'].pk}/add/", {"resident": child.pk, "entry": "new"})
    assert again.status_code == 400
    with in_commune(tule):
        enrolment = Enrolment.objects.get(student__resident=child, status="active")
        assert enrolment.school_class == c6b
    out = client.post(f"/schools/enrolments/{enrolment.pk}/transfer-out/", {
        "status": "transferred_out", "on": datetime.date.today().strftime("%d/%m/%Y"), "went_to": "THCS Nghĩa Lộ",
        "reason": "Chuyển nhà"})
    assert out.status_code == 302
    bad = client.post(f"/schools/enrolments/{enrolment.pk}/transfer-out/", {
        "status": "transferred_out", "on": "31/02/2026", "went_to": "THCS Nghĩa Lộ", "reason": "Chuyển nhà"})
    assert bad.status_code == 400 and "THCS Nghĩa Lộ" in bad.content.decode()
    with in_commune(tule):
        enrolment.refresh_from_db()
        assert (enrolment.status, enrolment.went_to) == ("transferred_out", "THCS Nghĩa Lộ")


def test_open_the_next_year_on_the_page_when_none_is_current(tule, in_commune, schoolyard, people, client_for):
    from education.models import SchoolYear

    client = client_for(HOST, people["clerk"])
    assert b'name="open"' not in client.get("/schools/year/").content
    with in_commune(tule):
        SchoolYear.objects.update(current=False)
    assert b'name="open"' in client.get("/schools/year/").content
    bad = client.post("/schools/year/", {"open": "1", "name": "2027-2029", "starts_on": "06/09/2027"})
    assert bad.status_code == 400
    ok = client.post("/schools/year/", {"open": "1", "name": "2027-2028", "starts_on": "06/09/2027"})
    assert ok.status_code == 302
    with in_commune(tule):
        year = SchoolYear.objects.get(current=True)
        assert year.name == "2027-2028" and year.semesters.count() == 2


# --- API ---------------------------------------------------------------------------------------------

def test_api_role_matrix(tule, in_commune, schoolyard, people, client_for):
    thcs, c6a = schoolyard["thcs"], schoolyard["class6a"]
    an = schoolyard["students6"][0]
    urls = ["/api/v1/education/schools/", f"/api/v1/education/schools/{thcs.pk}/classes/",
            f"/api/v1/education/classes/{c6a.pk}/students/", f"/api/v1/education/students/{an.pk}/"]
    for who in sorted(READERS) + OUTSIDERS:
        client = client_for(HOST, people[who])
        for url in urls:
            response = client.get(url)
            if who in READERS:
                assert response.status_code == 200, (who, url)
            elif who == "primary_principal" and url == urls[0]:
                assert response.status_code == 200
                assert [s["name"] for s in response.json()["results"]] == ["Trường Tiểu học Tú Lệ"]
            else:
                assert response.status_code == 403, (who, url, response.status_code)
                assert set(response.json()) == {"code", "detail", "fields"}
                assert "Lò Văn An" not in response.content.decode()
    for url in urls:
        assert client_for(HOST).get(url).status_code == 401


def test_api_lists_masked_ids_adds_and_transfers(tule, in_commune, schoolyard, people, client_for):
    from population import services
    from population.models import Resident

    c6a = schoolyard["class6a"]
    with in_commune(tule):
        child = services.save_resident(Resident(household=schoolyard["household"], full_name="Lò Văn Định",
                                                birth_date=datetime.date(2015, 8, 8), sex="male", relation="child",
                                                ethnicity="03", personal_id="015215001234"))
    principal = client_for(HOST, people["principal"])
    listing = principal.get(f"/api/v1/education/classes/{c6a.pk}/students/").json()
    assert listing["count"] == 5 and listing["results"][0]["full_name"] == "Lò Văn An"
    assert listing["results"][0]["guardian_phone"] == "0912000222"
    accountant = client_for(HOST, people["accountant"]).get(f"/api/v1/education/classes/{c6a.pk}/students/").json()
    assert accountant["results"][0]["guardian_phone"] == "091*******"
    created = principal.post(f"/api/v1/education/classes/{c6a.pk}/students/", {"resident_id": child.pk},
                             content_type="application/json")
    assert created.status_code == 201, created.content
    assert created.json()["number"] == 6 and "015215001234" not in created.content.decode()
    assert created.json()["masked_id"] and created.json()["masked_id"] != "015215001234"
    twice = principal.post(f"/api/v1/education/classes/{schoolyard['class6b'].pk}/students/",
                           {"resident_id": child.pk}, content_type="application/json")
    assert twice.status_code == 409 and twice.json()["code"] == "duplicate"
    missing = principal.post(f"/api/v1/education/classes/{c6a.pk}/students/", {"resident_id": 10**12},
                             content_type="application/json")
    assert missing.status_code == 400 and set(missing.json()) == {"code", "detail", "fields"}
    teacher = client_for(HOST, people["math"]).post(f"/api/v1/education/classes/{c6a.pk}/students/",
                                                    {"resident_id": child.pk}, content_type="application/json")
    assert teacher.status_code == 403
    enrolment_id = created.json()["id"]
    student = principal.get(f"/api/v1/education/students/{created.json()['student_id']}/").json()
    assert student["guardians"][0]["phone"] == "0912000222" and student["enrolments"][0]["school_class"] == "6A"
    bad = principal.post(f"/api/v1/education/enrolments/{enrolment_id}/transfer-out/", {"on": "2026-13-01"},
                         content_type="application/json")
    assert bad.status_code == 400 and "on" in bad.json()["fields"]
    other = client_for(HOST, people["primary_principal"]).post(
        f"/api/v1/education/enrolments/{enrolment_id}/transfer-out/",
        {"on": datetime.date.today().isoformat(), "went_to": "X", "reason": "Y"}, content_type="application/json")
    assert other.status_code == 403
    done = principal.post(f"/api/v1/education/enrolments/{enrolment_id}/transfer-out/",
                          {"on": datetime.date.today().isoformat(), "went_to": "THCS Nghĩa Lộ", "reason": "Chuyển nhà"},
                          content_type="application/json")
    assert done.status_code == 200 and done.json()["status"] == "transferred_out"
    again = principal.post(f"/api/v1/education/enrolments/{enrolment_id}/transfer-out/",
                           {"on": datetime.date.today().isoformat(), "went_to": "X", "reason": "Y"},
                           content_type="application/json")
    assert again.status_code == 409
    with in_commune(tule):
        assert AccessLog.objects.filter(object_type="school_class", object_id=c6a.pk, channel="api").exists()


# --- inbox and admin ------------------------------------------------------------------------------------

def test_inbox_lines_for_the_managers(tule, in_commune, schoolyard, people, client_for):
    from django.test import RequestFactory

    from education.structure import inbox_lines

    with in_commune(tule):
        lines = {line.key.rsplit(".", 1)[0]: line for line in inbox_lines(
            RequestFactory().get("/"), people["principal"], {Role.SCHOOL_STAFF})}
        assert lines["education.no_homeroom"].count == 1  # 6B
        assert lines["education.no_phone"].count == 0
        Guardian.objects.filter(student=schoolyard["students6"][1]).delete()
        lines = {line.key.rsplit(".", 1)[0]: line for line in inbox_lines(
            RequestFactory().get("/"), people["principal"], {Role.SCHOOL_STAFF})}
        assert lines["education.no_phone"].count == 1
        assert inbox_lines(RequestFactory().get("/"), people["math"], {Role.SCHOOL_STAFF}) == []
    page = client_for(HOST, people["principal"]).get(lines["education.no_phone"].url).content.decode()
    assert "Lường Thị Bình" in page


def test_commune_admin_registers_a_school_with_a_checked_bank_and_school_staff_principal(
        tule, in_commune, schoolyard, people, make_user, client_for):
    from education.models import School

    admin_user = make_user("edu_admin", roles={tule: [Role.COMMUNE_ADMIN]}, full_name="Quản Trị")
    client = client_for(HOST, admin_user)
    assert client.get("/admin/education/school/").status_code == 200
    form = {"name": "Trường Mầm non Tú Lệ", "level": "preschool", "absence_threshold": 3, "active": "on",
            "bank_bin": "123456", "bank_account": "12 34", "bank_account_name": "MN TU LE",
            "staff-TOTAL_FORMS": 1, "staff-INITIAL_FORMS": 0, "staff-MIN_NUM_FORMS": 0, "staff-MAX_NUM_FORMS": 1000,
            "staff-0-user": people["radio"].pk, "staff-0-full_name": "Vì Văn Loa", "staff-0-position": "principal",
            "staff-0-active": "on"}
    bad = client.post("/admin/education/school/add/", form)
    assert bad.status_code == 200
    with in_commune(tule):
        assert not School.objects.filter(name="Trường Mầm non Tú Lệ").exists()
    form.update({"bank_bin": "970405", "bank_account": "0000000004630", "staff-0-user": people["unplaced"].pk,
                 "staff-0-full_name": "Chưa Có Trường"})
    ok = client.post("/admin/education/school/add/", form)
    assert ok.status_code == 302, ok.content.decode()[:3000]
    with in_commune(tule):
        school = School.objects.get(name="Trường Mầm non Tú Lệ")
        assert school.staff.get().user_id == people["unplaced"].pk
    assert client_for(HOST, people["principal"]).get("/admin/education/school/").status_code in (302, 403)


def test_api_classes_of_a_year_and_odd_input(tule, in_commune, schoolyard, people, client_for):
    principal = client_for(HOST, people["principal"])
    thcs = schoolyard["thcs"]
    classes = principal.get(f"/api/v1/education/schools/{thcs.pk}/classes/").json()
    assert [(c["name"], c["students"]) for c in classes["results"]] == [("6A", 5), ("6B", 0)]
    assert classes["results"][0]["homeroom_teacher"] == "Đinh Thị Văn" and not classes["results"][1]["homeroom_teacher"]
    assert principal.get(f"/api/v1/education/schools/{thcs.pk}/classes/?year=2030-2031").json()["count"] == 0
    assert principal.get(f"/api/v1/education/schools/{thcs.pk}/classes/?year=%00x").status_code < 500
    assert principal.get("/api/v1/education/schools/999999/classes/").status_code == 404
    assert principal.get("/api/v1/education/classes/999999/students/").status_code == 404
    odd = principal.post(f"/api/v1/education/classes/{schoolyard['class6b'].pk}/students/",
                         {"resident_id": schoolyard["mother"].pk, "entry": "promoted", "starts_on": "2031-01-01"},
                         content_type="application/json")
    assert odd.status_code == 400 and set(odd.json()) == {"code", "detail", "fields"}
