"""Online enrolment's rules, pages and API: the catchment check (inside, outside, not found, the
citizen's own household), the age rules of grade 1 and grade 6, one application per child, school
and year, the papers' limits (type by content, size, count, kept across a refusal), a double
submission, the school's decisions with the parent told, the inbox lines, and the role matrix
(another school's principal, other officials, another citizen: nothing)."""
from __future__ import annotations

import datetime
import uuid

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.education.conftest import PARENT_PHONE

pytestmark = pytest.mark.django_db(transaction=False)

PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def pdf(name="giay-khai-sinh.pdf", data=PDF):
    return SimpleUploadedFile(name, data, content_type="application/pdf")


@pytest.fixture
def newcomer(tule, in_commune, schoolyard):
    """A child of the registry born in 2020 (grade 1 of 2026-2027), not a student, in the parent's
    household (a catchment village); and one born in 2015 in the far household."""
    from population import services
    from population.models import Resident

    with in_commune(tule):
        child = services.save_resident(Resident(household=schoolyard["household"], full_name="Lường Văn Mới",
                                                birth_date=datetime.date(2020, 5, 6), sex="male", relation="child",
                                                ethnicity="03"))
        far = services.save_resident(Resident(household=schoolyard["far_household"], full_name="Hà Thị Xa",
                                              birth_date=datetime.date(2015, 7, 8), sex="female", relation="child",
                                              ethnicity="03"))
    return {"child": child, "far": far}


def send(user, yard, **changes):
    from education import applications

    values = dict(school=yard["primary"], year=yard["year"], grade=1, child_name="Lường Văn Mới",
                  child_birth_date=datetime.date(2020, 5, 6), child_sex="male", previous_school="",
                  applicant_name="Lường Thị Mẹ", applicant_phone=PARENT_PHONE, applicant_email="me@example.vn",
                  papers=[("birth_certificate", pdf())], submission_key=uuid.uuid4().hex)
    values.update(changes)
    return applications.submit(user, **values)


def fields_of(error: ValidationError) -> dict:
    return error.message_dict if hasattr(error, "error_dict") else {"__all__": error.messages}


# --- catchment ----------------------------------------------------------------------------------

def test_a_child_of_the_registry_in_a_catchment_village_is_in_catchment(tule, in_commune, schoolyard, school_people,
                                                                         newcomer):
    with in_commune(tule):
        application, created = send(school_people["parent"], schoolyard, child_name="luong van moi")
        assert created and application.resident_id == newcomer["child"].pk
        assert application.in_catchment and application.village == schoolyard["village"]
        assert application.code.startswith("TS26-") and len(application.code) == 11
        assert application.documents.get().kind == "birth_certificate"
        assert application.documents.get().file.startswith("communes/")


def test_a_child_living_outside_the_catchment_is_taken_and_marked_to_check(tule, in_commune, schoolyard,
                                                                            school_people, newcomer):
    with in_commune(tule):
        application, _ = send(school_people["citizen"], schoolyard, school=schoolyard["thcs"], grade=6,
                              child_name="Hà Thị Xa", child_birth_date=datetime.date(2015, 7, 8), child_sex="female",
                              previous_school="Trường Tiểu học Tú Lệ", applicant_phone="0912000333",
                              papers=[("birth_certificate", pdf()), ("primary_completion", pdf("hoan-thanh.pdf"))])
        assert application.resident_id == newcomer["far"].pk
        assert application.village == schoolyard["far_village"] and not application.in_catchment


def test_a_child_not_in_the_registry_takes_the_citizen_s_own_household(tule, in_commune, schoolyard, school_people):
    with in_commune(tule):
        application, _ = send(school_people["parent"], schoolyard, child_name="Con Chưa Khai Báo")
        assert application.resident_id is None
        assert application.household == schoolyard["household"] and application.in_catchment
        stranger, _ = send(school_people["citizen"], schoolyard, child_name="Người Lạ Hoàn Toàn",
                           applicant_phone="0912000333")
        assert stranger.household_id is None and stranger.village_id is None and not stranger.in_catchment


def test_the_sent_page_says_plainly_that_the_school_checks_an_application_outside(tule, in_commune, schoolyard,
                                                                                  school_people, client_for):
    with in_commune(tule):
        application, _ = send(school_people["citizen"], schoolyard, child_name="Người Lạ Hoàn Toàn",
                              applicant_phone="0912000333")
    page = client_for("tule.localhost", school_people["citizen"]).get(
        f"/school-enrolment/applications/{application.pk}/sent/").content.decode()
    assert application.code in page and 'id="catchment-out"' in page


# --- age --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("grade, born, accepted, note", [
    (1, datetime.date(2020, 1, 1), True, False),
    (1, datetime.date(2020, 12, 31), True, False),
    (1, datetime.date(2021, 1, 1), False, False),
    (1, datetime.date(2019, 6, 1), True, True),
    (6, datetime.date(2015, 12, 31), True, False),
    (6, datetime.date(2016, 1, 1), False, False),
    (6, datetime.date(2013, 2, 3), True, True),
])
def test_the_age_rules(tule, in_commune, schoolyard, school_people, grade, born, accepted, note):
    from education import applications

    school = schoolyard["primary"] if grade == 1 else schoolyard["thcs"]
    papers = [("birth_certificate", pdf())] + ([("primary_completion", pdf("ht.pdf"))] if grade == 6 else [])
    with in_commune(tule):
        if not accepted:
            with pytest.raises(ValidationError) as refused:
                send(school_people["citizen"], schoolyard, school=school, grade=grade, child_birth_date=born,
                     child_name="Trẻ Thử Tuổi", previous_school="TH Tú Lệ", papers=papers)
            assert refused.value.error_dict["child_birth_date"][0].code == "too_young"
            assert str(born.year - 1) in fields_of(refused.value)["child_birth_date"][0]
            return
        application, _ = send(school_people["citizen"], schoolyard, school=school, grade=grade,
                              child_birth_date=born, child_name="Trẻ Thử Tuổi", previous_school="TH Tú Lệ",
                              papers=papers)
        assert bool(applications.age_note(application)) is note


def test_grade_6_asks_for_the_primary_school_and_its_completion(tule, in_commune, schoolyard, school_people):
    with in_commune(tule):
        with pytest.raises(ValidationError) as refused:
            send(school_people["citizen"], schoolyard, school=schoolyard["thcs"], grade=6,
                 child_birth_date=datetime.date(2015, 3, 3))
        assert "previous_school" in refused.value.error_dict
        with pytest.raises(ValidationError) as refused:
            send(school_people["citizen"], schoolyard, school=schoolyard["thcs"], grade=6, previous_school="TH Tú Lệ",
                 child_birth_date=datetime.date(2015, 3, 3))
        assert "primary_completion" in refused.value.error_dict
        with pytest.raises(ValidationError) as refused:  # a primary school takes no grade 6
            send(school_people["citizen"], schoolyard, school=schoolyard["primary"], grade=6, previous_school="x",
                 child_birth_date=datetime.date(2015, 3, 3))
        assert "school" in refused.value.error_dict


# --- one application per child ----------------------------------------------------------------------

def test_a_second_application_for_the_same_child_school_and_year_is_refused(tule, in_commune, schoolyard,
                                                                            school_people, newcomer):
    from education import applications
    from education.models import Application

    with in_commune(tule):
        first, _ = send(school_people["parent"], schoolyard)
        with pytest.raises(ValidationError) as refused:  # same child typed without accents, by another account
            send(school_people["citizen"], schoolyard, child_name="LUONG VAN MOI", applicant_phone="0912000333")
        assert refused.value.error_dict["child_name"][0].code == "duplicate"
        assert Application.objects.count() == 1
        applications.withdraw(school_people["parent"], first)
        again, created = send(school_people["parent"], schoolyard)
        assert created and again.pk != first.pk


def test_the_same_submission_key_gives_one_application(tule, in_commune, schoolyard, school_people, client_for):
    from education.models import Application

    client = client_for("tule.localhost", school_people["parent"])
    key = uuid.uuid4().hex
    with in_commune(tule):
        year, school = schoolyard["year"].pk, schoolyard["primary"].pk
    data = {"submission_key": key, "grade": "1", "school": school, "year": year, "child_name": "Lò Văn Đôi",
            "child_birth_date": "03/04/2020", "child_sex": "male", "applicant_name": "Lường Thị Mẹ",
            "applicant_phone": PARENT_PHONE}
    first = client.post("/school-enrolment/apply/", {**data, "birth_certificate": pdf()})
    second = client.post("/school-enrolment/apply/", {**data, "birth_certificate": pdf()})
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"]
    with in_commune(tule):
        assert Application.objects.filter(child_name="Lò Văn Đôi").count() == 1
        assert Application.objects.get(child_name="Lò Văn Đôi").documents.count() == 1
    # The API with the same key: the first application back, 200 and not 201.
    api = client.post("/api/v1/education/applications/mine/", {**data, "child_birth_date": "2020-04-03"},
                      content_type="application/json")
    assert api.status_code == 200 and api.json()["code"].startswith("TS26-")


# --- papers -------------------------------------------------------------------------------------------

def test_papers_are_checked_by_content_size_and_count(tule, in_commune, schoolyard, school_people):
    from education import applications
    from education.models import Application

    with in_commune(tule):
        with pytest.raises(ValidationError) as refused:  # a text file named .pdf
            send(school_people["parent"], schoolyard, papers=[("birth_certificate", pdf("fake.pdf", b"hello world"))])
        assert "PDF, JPEG" in " ".join(fields_of(refused.value)["birth_certificate"])
        big = SimpleUploadedFile("big.pdf", b"%PDF-1.4\n" + b"0" * applications.MAX_BYTES, content_type="application/pdf")
        with pytest.raises(ValidationError) as refused:
            send(school_people["parent"], schoolyard, papers=[("birth_certificate", big)])
        assert "5" in " ".join(fields_of(refused.value)["birth_certificate"])
        six = [("birth_certificate", pdf())] + [("other", pdf(f"p{i}.pdf")) for i in range(5)]
        with pytest.raises(ValidationError) as refused:
            send(school_people["parent"], schoolyard, papers=six)
        assert "documents" in refused.value.error_dict
        with pytest.raises(ValidationError) as refused:
            send(school_people["parent"], schoolyard, papers=[])
        assert "birth_certificate" in refused.value.error_dict
        assert not Application.objects.exists()
        png = SimpleUploadedFile("anh.txt", PNG, content_type="text/plain")  # the name and type lie, the content is PNG
        application, _ = send(school_people["parent"], schoolyard, papers=[("birth_certificate", png)])
        assert application.documents.get().name == "anh.png"


def test_a_refused_form_keeps_what_was_typed_and_the_file(tule, in_commune, schoolyard, school_people, client_for):
    from education.models import Application

    client = client_for("tule.localhost", school_people["parent"])
    with in_commune(tule):
        year, school = schoolyard["year"].pk, schoolyard["primary"].pk
    data = {"submission_key": uuid.uuid4().hex, "grade": "1", "school": school, "year": year,
            "child_name": "Lò Văn Giữ", "child_birth_date": "03/04/2021", "child_sex": "male",
            "applicant_name": "Lường Thị Mẹ", "applicant_phone": PARENT_PHONE}
    page = client.post("/school-enrolment/apply/", {**data, "birth_certificate": pdf("khai-sinh.pdf")})
    body = page.content.decode()
    assert page.status_code == 200 and "error-summary" in body
    assert 'value="Lò Văn Giữ"' in body and "khai-sinh.pdf" in body and "birth_certificate__kept" in body
    token = body.split('name="birth_certificate__kept" value="')[1].split('"')[0]
    done = client.post("/school-enrolment/apply/", {**data, "child_birth_date": "03/04/2020",
                                                    "birth_certificate__kept": token})
    assert done.status_code == 302
    with in_commune(tule):
        assert Application.objects.get(child_name="Lò Văn Giữ").documents.get().name == "khai-sinh.pdf"


# --- decisions ------------------------------------------------------------------------------------------

def test_the_school_checks_asks_for_papers_and_admits_into_a_class(tule, in_commune, schoolyard, school_people,
                                                                   newcomer):
    from education import applications
    from education.models import Application, Enrolment, Guardian
    from notifications.models import Notification

    p = school_people
    with in_commune(tule):
        application, _ = send(p["parent"], schoolyard)
        assert Notification.objects.filter(recipients=[PARENT_PHONE]).count() == 1  # received
        applications.start_checking(p["primary_principal"], application)
        with pytest.raises(ValidationError):
            applications.ask_papers(p["primary_principal"], application, "  ")
        applications.ask_papers(p["primary_principal"], application, "Giấy xác nhận cư trú")
        sms = Notification.objects.filter(recipients=[PARENT_PHONE]).order_by("-pk").first()
        assert "Giấy xác nhận cư trú" in sms.message and f"/school-enrolment/applications/{application.pk}/" in sms.message
        assert sms.message.startswith("TH Tú Lệ")
        assert applications.papers_received(schoolyard["primary"]).count() == 0
        applications.send_papers(p["parent"], Application.objects.get(pk=application.pk),
                                 [("other", pdf("cu-tru.pdf"))])
        assert applications.papers_received(schoolyard["primary"]).count() == 1
        with pytest.raises(ValidationError):  # a class of another school
            applications.admit(p["primary_principal"], application, school_class=schoolyard["class6a"])
        application = applications.admit(p["primary_principal"], application, school_class=schoolyard["class1a"])
        assert application.state == "accepted"
        enrolment = Enrolment.objects.get(pk=application.enrolment_id)
        assert enrolment.student.resident_id == newcomer["child"].pk and enrolment.school_class == schoolyard["class1a"]
        assert enrolment.number == 4
        assert Guardian.objects.filter(student=enrolment.student, phone=PARENT_PHONE).count() == 1
        # e-mails: sent, being checked, papers asked for, admitted
        assert Notification.objects.filter(recipients=["me@example.vn"]).count() == 4
        with pytest.raises(ValidationError):  # decided already
            applications.refuse(p["primary_principal"], application, "Muộn")
        states = list(application.history.order_by("history_date").values_list("state", flat=True))
        assert states[0] == "submitted" and states[-1] == "accepted" and "needs_papers" in states
        from education.application_views import history

        events = history(Application.objects.get(pk=application.pk))
        assert [e["code"] for e in events] == ["submitted", "checking", "needs_papers", "paper", "accepted"]
        assert events[2]["note"] == "Giấy xác nhận cư trú"


def test_admitting_a_child_not_in_the_registry_into_a_class_is_refused_plainly(tule, in_commune, schoolyard,
                                                                               school_people):
    from education import applications

    with in_commune(tule):
        application, _ = send(school_people["parent"], schoolyard, child_name="Con Chưa Khai Báo")
        with pytest.raises(ValidationError) as refused:
            applications.admit(school_people["primary_principal"], application, school_class=schoolyard["class1a"])
        assert "school_class" in refused.value.error_dict
        assert applications.admit(school_people["primary_principal"], application).state == "accepted"


def test_refusal_and_withdrawal(tule, in_commune, schoolyard, school_people):
    from education import applications

    with in_commune(tule):
        application, _ = send(school_people["parent"], schoolyard)
        with pytest.raises(PermissionDenied):
            applications.withdraw(school_people["citizen"], application)
        with pytest.raises(PermissionDenied):  # the principal of another school
            applications.refuse(school_people["principal"], application, "Không")
        refused = applications.refuse(school_people["primary_principal"], application, "Đã đủ chỉ tiêu")
        assert refused.state == "refused" and refused.decision_note == "Đã đủ chỉ tiêu"
        with pytest.raises(ValidationError):
            applications.withdraw(school_people["parent"], refused)


def test_the_inbox_lines_count_unchecked_and_overdue_and_papers_received(tule, in_commune, schoolyard,
                                                                         school_people, rf):
    from django.utils import timezone

    from communes.modules import Severity
    from education import applications
    from education.models import Application

    with in_commune(tule):
        application, _ = send(school_people["parent"], schoolyard)
        roles = {"school_staff"}
        lines = applications.inbox_lines(rf.get("/"), school_people["primary_principal"], roles)
        assert [(line.count, line.severity) for line in lines] == [(1, Severity.DUE_SOON)]
        assert applications.overdue(schoolyard["primary"]).count() == 0
        Application.objects.filter(pk=application.pk).update(submitted_at=timezone.now() - datetime.timedelta(days=10))
        lines = applications.inbox_lines(rf.get("/"), school_people["primary_principal"], roles)
        assert [(line.count, line.severity) for line in lines] == [(1, Severity.OVERDUE)]
        assert applications.overdue(schoolyard["primary"]).count() == 1
        assert lines[0].url.endswith("?state=submitted")
        assert applications.inbox_lines(rf.get("/"), school_people["principal"], roles) == []
        assert applications.inbox_lines(rf.get("/"), school_people["primary_teacher"], roles) == []


# --- pages and the role matrix --------------------------------------------------------------------------

def test_the_staff_pages_list_filter_and_show_with_papers_logged(tule, in_commune, schoolyard, school_people,
                                                                client_for, newcomer):
    from education import applications
    from population.models import AccessLog

    with in_commune(tule):
        inside, _ = send(school_people["parent"], schoolyard)
        outside, _ = send(school_people["citizen"], schoolyard, child_name="Người Lạ Hoàn Toàn",
                          applicant_phone="0912000333")
        document = inside.documents.get()
    client = client_for("tule.localhost", school_people["primary_principal"])
    listing = client.get(f"/schools/applications/school/{schoolyard['primary'].pk}/").content.decode()
    assert inside.code in listing and outside.code in listing
    assert f'{applications.state_label("submitted")}: 2 · {applications.state_label("checking")}: 0' in listing
    only_in = client.get(f"/schools/applications/school/{schoolyard['primary'].pk}/?catchment=in").content.decode()
    assert inside.code in only_in and outside.code not in only_in
    found = client.get(f"/schools/applications/school/{schoolyard['primary'].pk}/?q=nguoi+la").content.decode()
    assert outside.code in found and inside.code not in found
    assert client.get("/schools/applications/").status_code == 302
    detail = client.get(f"/schools/applications/{inside.pk}/")
    assert detail.status_code == 200 and "Lường Văn Mới" in detail.content.decode()
    download = client.get(f"/schools/applications/{inside.pk}/papers/{document.pk}/")
    assert download.status_code == 200 and b"".join(download.streaming_content).startswith(b"%PDF")
    with in_commune(tule):
        logged = AccessLog.objects.filter(object_type="enrolment_application", object_id=str(inside.pk))
        assert logged.count() == 2 and logged.filter(description__contains="paper").exists()
    # the decisions through the page
    assert client.post(f"/schools/applications/{inside.pk}/check/").status_code == 302
    again = client.post(f"/schools/applications/{inside.pk}/refuse/", {"refuse-note": ""})
    assert again.status_code == 200 and "error-summary" in again.content.decode()
    admitted = client.post(f"/schools/applications/{inside.pk}/admit/",
                           {"admit-school_class": schoolyard["class1a"].pk, "admit-note": ""})
    assert admitted.status_code == 302
    with in_commune(tule):
        inside.refresh_from_db()
        assert inside.state == "accepted" and inside.enrolment_id


@pytest.mark.parametrize("who", ["principal", "math", "chairman", "radio", "nurse", "parent", "citizen", "unplaced"])
def test_nobody_else_reads_or_decides_an_application(tule, in_commune, schoolyard, school_people, client_for, who):
    from education.models import Application

    with in_commune(tule):
        application, _ = send(school_people["primary_teacher"], schoolyard, applicant_phone="0912000999",
                              child_name="Con Của Cô Giáo")
        document = application.documents.get()
    client = client_for("tule.localhost", school_people[who])
    for url in (f"/schools/applications/{application.pk}/", f"/schools/applications/{application.pk}/papers/{document.pk}/",
                f"/schools/applications/school/{schoolyard['primary'].pk}/",
                f"/school-enrolment/applications/{application.pk}/",
                f"/school-enrolment/applications/{application.pk}/papers/{document.pk}/",
                f"/api/v1/education/applications/{application.pk}/",
                f"/api/v1/education/applications/schools/{schoolyard['primary'].pk}/"):
        response = client.get(url)
        assert response.status_code in (403, 404), (url, response.status_code)
        assert "Con Của Cô Giáo" not in response.content.decode()
    for url, data in ((f"/schools/applications/{application.pk}/refuse/", {"refuse-note": "x"}),
                      (f"/school-enrolment/applications/{application.pk}/withdraw/", {"confirm": "yes"})):
        assert client.post(url, data).status_code in (403, 404)
    response = client.post(f"/api/v1/education/applications/{application.pk}/decide/",
                           {"action": "refuse", "note": "x"}, content_type="application/json")
    assert response.status_code in (403, 404) and set(response.json()) == {"code", "detail", "fields"}
    with in_commune(tule):
        assert Application.objects.get(pk=application.pk).state == "submitted"


def test_another_commune_sees_nothing(tule, in_commune, schoolyard, school_people, client_for, communes):
    with in_commune(tule):
        application, _ = send(school_people["parent"], schoolyard)
    other = [c for key, c in communes.items() if key != "tule"][0]
    host = other.domains.first().domain
    for user in (school_people["parent"], school_people["primary_principal"]):
        client = client_for(host, user)
        assert client.get(f"/school-enrolment/applications/{application.pk}/").status_code in (403, 404)
        assert client.get(f"/schools/applications/{application.pk}/").status_code in (403, 404)


# --- the citizen's pages and API ---------------------------------------------------------------------------

def test_the_citizen_pages_explain_list_and_withdraw_with_a_confirmation(tule, in_commune, schoolyard, school_people,
                                                                         client_for):
    from education.models import Application

    anonymous = client_for("tule.localhost")
    home = anonymous.get("/school-enrolment/").content.decode()
    assert "Trường Tiểu học Tú Lệ" in home and "Bản Thử Trường" in home and "2026-2027" in home
    assert anonymous.get("/school-enrolment/apply/").status_code == 302
    link = f"/school-enrolment/apply/?school={schoolyard['primary'].pk}&amp;grade=1"
    assert link in home
    client = client_for("tule.localhost", school_people["parent"])
    form = client.get("/school-enrolment/apply/").content.decode()
    assert PARENT_PHONE in form and "submission_key" in form
    chosen = client.get(link.replace("&amp;", "&")).content.decode()
    assert f'<option value="{schoolyard["primary"].pk}" selected>' in chosen
    with in_commune(tule):
        application, _ = send(school_people["parent"], schoolyard)
    assert application.code in client.get("/school-enrolment/applications/").content.decode()
    detail = client.get(f"/school-enrolment/applications/{application.pk}/").content.decode()
    assert "withdraw-section" in detail and application.code in detail
    ask = client.get(f"/school-enrolment/applications/{application.pk}/withdraw/")
    assert ask.status_code == 200 and 'name="confirm"' in ask.content.decode()
    client.post(f"/school-enrolment/applications/{application.pk}/withdraw/", {})  # no confirmation: nothing
    with in_commune(tule):
        assert Application.objects.get(pk=application.pk).state == "submitted"
    client.post(f"/school-enrolment/applications/{application.pk}/withdraw/", {"confirm": "yes"})
    with in_commune(tule):
        assert Application.objects.get(pk=application.pk).state == "withdrawn"


def test_the_api_creates_with_files_lists_withdraws_and_decides(tule, in_commune, schoolyard, school_people,
                                                                client_for, newcomer):
    citizen = client_for("tule.localhost", school_people["parent"])
    base = {"school": schoolyard["primary"].pk, "grade": 1, "child_name": "Lường Văn Mới",
            "child_birth_date": "2020-05-06", "child_sex": "male", "applicant_name": "Lường Thị Mẹ",
            "applicant_phone": PARENT_PHONE}
    only_others = citizen.post("/api/v1/education/applications/mine/", {**base, "submission_key": "k1",
                                                                        "others": [pdf("a.pdf")]})
    assert only_others.status_code == 400 and "birth_certificate" in only_others.json()["fields"]
    young = citizen.post("/api/v1/education/applications/mine/",
                         {**base, "child_birth_date": "2021-02-02", "submission_key": "k2",
                          "birth_certificate": pdf()})
    assert young.status_code == 400 and young.json()["code"] == "too_young"
    made = citizen.post("/api/v1/education/applications/mine/", {**base, "submission_key": "k3",
                                                                 "birth_certificate": pdf(), "others": [pdf("a.pdf")]})
    assert made.status_code == 201, made.content
    body = made.json()
    assert body["in_catchment"] and len(body["documents"]) == 2 and body["code"].startswith("TS26-")
    duplicate = citizen.post("/api/v1/education/applications/mine/", {**base, "submission_key": "k4",
                                                                      "birth_certificate": pdf()})
    assert duplicate.status_code == 409 and duplicate.json()["code"] == "duplicate"
    assert [a["id"] for a in citizen.get("/api/v1/education/applications/mine/").json()] == [body["id"]]
    staff = client_for("tule.localhost", school_people["primary_principal"])
    listed = staff.get(f"/api/v1/education/applications/schools/{schoolyard['primary'].pk}/?catchment=in").json()
    assert [a["id"] for a in listed["results"]] == [body["id"]]
    assert staff.get(f"/api/v1/education/applications/{body['id']}/").status_code == 200
    checked = staff.post(f"/api/v1/education/applications/{body['id']}/decide/", {"action": "check"},
                         content_type="application/json")
    assert checked.json()["state"] == "checking"
    no_reason = staff.post(f"/api/v1/education/applications/{body['id']}/decide/", {"action": "refuse"},
                           content_type="application/json")
    assert no_reason.status_code == 400 and set(no_reason.json()) == {"code", "detail", "fields"}
    withdrawn = citizen.post(f"/api/v1/education/applications/mine/{body['id']}/withdraw/")
    assert withdrawn.status_code == 200 and withdrawn.json()["state"] == "withdrawn"
    late = staff.post(f"/api/v1/education/applications/{body['id']}/decide/", {"action": "check"},
                      content_type="application/json")
    assert late.status_code == 409 and late.json()["code"] == "state"


def test_the_nav_and_public_home_link(tule, schoolyard, school_people, client_for):
    page = client_for("tule.localhost", school_people["clerk"]).get("/schools/").content.decode()
    assert "/schools/applications/" in page
    page = client_for("tule.localhost", school_people["math"]).get("/schools/").content.decode()
    assert "/schools/applications/" not in page
    home = client_for("tule.localhost").get("/").content.decode()
    assert "/school-enrolment/" in home


def test_the_parent_sends_the_papers_asked_for_from_the_application_s_page(tule, in_commune, schoolyard,
                                                                           school_people, client_for):
    from education import applications

    with in_commune(tule):
        application, _ = send(school_people["parent"], schoolyard)
        applications.ask_papers(school_people["primary_principal"], application, "Giấy xác nhận cư trú")
    client = client_for("tule.localhost", school_people["parent"])
    page = client.get(f"/school-enrolment/applications/{application.pk}/").content.decode()
    assert "Giấy xác nhận cư trú" in page and 'id="papers-form"' in page
    assert applications.state_label("needs_papers") in page  # the state in the words of enrolment
    refused = client.post(f"/school-enrolment/applications/{application.pk}/",
                          {"files": SimpleUploadedFile("cu-tru.pdf", b"not a pdf")})
    assert refused.status_code == 200 and "error-summary" in refused.content.decode()
    sent = client.post(f"/school-enrolment/applications/{application.pk}/", {"files": pdf("cu-tru.pdf")})
    assert sent.status_code == 302
    with in_commune(tule):
        assert application.documents.count() == 2
        assert applications.papers_received(schoolyard["primary"]).get() == application
    staff = client_for("tule.localhost", school_people["primary_principal"])
    waiting = staff.get(f"/schools/applications/school/{schoolyard['primary'].pk}/?state=needs_papers&papers=1")
    assert application.code in waiting.content.decode()


def test_an_application_sent_as_json_without_papers_gets_them_from_its_page(tule, in_commune, schoolyard,
                                                                            school_people, client_for):
    from education import applications

    citizen = client_for("tule.localhost", school_people["citizen"])
    made = citizen.post("/api/v1/education/applications/mine/", {
        "school": schoolyard["thcs"].pk, "grade": 6, "child_name": "Lò Văn Gửi Sau", "child_birth_date": "2015-05-05",
        "child_sex": "male", "previous_school": "Trường Tiểu học Tú Lệ", "applicant_name": "Lò Văn Dân",
        "applicant_phone": "0912000333", "submission_key": uuid.uuid4().hex}, content_type="application/json")
    assert made.status_code == 201, made.content
    body = made.json()
    assert body["documents"] == [] and body["missing_papers"] == ["birth_certificate", "primary_completion"]
    page = citizen.get(f"/school-enrolment/applications/{body['id']}/").content.decode()
    assert 'id="missing-papers"' in page and 'id="papers-form"' in page
    sent = citizen.post(f"/school-enrolment/applications/{body['id']}/",
                        {"kind": "birth_certificate", "files": pdf("ks.pdf")})
    assert sent.status_code == 302
    with in_commune(tule):
        from education.models import Application

        application = Application.objects.get(pk=body["id"])
        assert applications.missing_papers(application) == ["primary_completion"]
        applications.refuse(school_people["principal"], application, "Đã đủ chỉ tiêu")
    late = citizen.post(f"/school-enrolment/applications/{body['id']}/",
                        {"kind": "primary_completion", "files": pdf("ht.pdf")}, follow=True)
    assert 'id="papers-form"' not in late.content.decode()
    assert "papers can no longer be sent" in late.content.decode() or "không thể gửi" in late.content.decode()
    with in_commune(tule):
        assert applications.missing_papers(application) == ["primary_completion"]


def test_the_school_s_list_reads_in_the_same_number_of_queries_for_5_or_40_applications(
        tule, in_commune, schoolyard, school_people, client_for):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from education.models import Application

    client = client_for("tule.localhost", school_people["primary_principal"])
    url = f"/schools/applications/school/{schoolyard['primary'].pk}/?state=open"

    def fill(n):
        with in_commune(tule):
            start = Application.objects.count()
            for i in range(start, n):
                send(school_people["citizen"], schoolyard, child_name=f"Trẻ Số {i}", applicant_phone="0912000333",
                     child_birth_date=datetime.date(2020, 1 + i % 12, 1 + i % 28))

    def queries():
        with CaptureQueriesContext(connection) as captured:
            response = client.get(url)
        assert response.status_code == 200
        return len(captured), response.content.decode().count("/schools/applications/")

    fill(5)
    few, rows_few = queries()
    fill(40)
    many, rows_many = queries()
    assert rows_many - rows_few == 35
    print(f"list page: {few} queries with 5 applications, {many} with 40")
    assert many == few, (few, many)
