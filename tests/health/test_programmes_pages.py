"""The programmes' pages and API in Tú Lệ: what the nurse sees and types (in Vietnamese, errors
beside what was typed, nothing half-written), every read logged, the record page's section, the
inbox lines, a role matrix over every endpoint, and another commune seeing nothing."""
from __future__ import annotations

import datetime
import json
from decimal import Decimal

import pytest
from django.template import Context, Template
from django.test import RequestFactory

from communes.models import Role

pytestmark = pytest.mark.django_db

HOST = "tule.localhost"


def health_log(in_commune, tule, **filters):
    from population.models import AccessLog

    with in_commune(tule):
        return list(AccessLog.objects.filter(object_type="health_record", **filters).order_by("pk"))


@pytest.fixture
def programme_data(station, tule, in_commune):
    """The grandfather under hypertension follow-up (one reading 40 days ago: overdue), the mother
    with an ongoing pregnancy due in 20 days, the baby (a boy) measured underweight."""
    from health import growth, programmes
    from health.models import ChronicCondition, Reading

    today = programmes.today()
    with in_commune(tule):
        records = station["records"]
        ChronicCondition.objects.create(record=records["grandfather"], icd10="I10", programme="hypertension",
                                        diagnosed_on=datetime.date(2020, 1, 1))
        Reading.objects.create(record=records["grandfather"], taken_on=today - datetime.timedelta(days=40),
                               systolic=158, diastolic=96)
        pregnancy = programmes.register_pregnancy(
            records["mother"], registered_on=today - datetime.timedelta(days=200),
            last_period=today - datetime.timedelta(days=260))
        baby = station["baby"]
        on = today - datetime.timedelta(days=2)
        cut = growth.lms_at("wfa_boys", growth.age_in_months(baby.birth_date, on)).value_at(-2)
        measurement = programmes.record_growth(records["baby"], measured_on=on, weight_kg=round(cut - 0.2, 1))
    return {"pregnancy": pregnancy, "measurement": measurement, "today": today, **records}


def endpoints(data) -> list[tuple[str, str, str, dict]]:
    """(kind, method, url, data) of every endpoint of the programmes."""
    gf, mother, baby = data["grandfather"].pk, data["mother"].pk, data["baby"].pk
    preg = data["pregnancy"].pk
    today = data["today"]
    day = today.strftime("%d/%m/%Y")
    return [
        ("page", "get", "/health/chronic/", {}),
        ("page", "get", f"/health/records/{gf}/readings/", {}),
        ("page", "post", f"/health/records/{gf}/readings/", {"taken_on": day, "systolic": "138", "diastolic": "86"}),
        ("page", "get", "/health/pregnancies/", {}),
        ("page", "get", f"/health/records/{mother}/pregnancy/new/", {}),
        ("page", "get", f"/health/pregnancies/{preg}/", {}),
        ("page", "post", f"/health/pregnancies/{preg}/", {"visited_on": day, "weight_kg": "55"}),
        ("page", "get", f"/health/pregnancies/{preg}/end/", {}),
        ("page", "get", "/health/growth/", {}),
        ("page", "get", f"/health/records/{baby}/growth/", {}),
        ("page", "post", f"/health/records/{baby}/growth/", {"measured_on": day, "weight_kg": "7,2"}),
        ("api", "get", f"/api/v1/health/records/{gf}/readings/", {}),
        ("api", "post", f"/api/v1/health/records/{gf}/readings/", {"taken_on": today.isoformat(), "glucose_mmol": "6.8"}),
        ("api", "get", f"/api/v1/health/records/{mother}/pregnancies/", {}),
        ("api", "get", f"/api/v1/health/pregnancies/{preg}/antenatal-visits/", {}),
        ("api", "post", f"/api/v1/health/pregnancies/{preg}/antenatal-visits/", {"visited_on": today.isoformat()}),
        ("api", "get", f"/api/v1/health/records/{baby}/growth/", {}),
        # Writes that the nurse is refused for a reason of the data, not of the role, come last.
        ("page", "post", f"/health/records/{mother}/pregnancy/new/", {"registered_on": day, "last_period": day}),
        ("api", "post", f"/api/v1/health/records/{mother}/pregnancies/", {"registered_on": today.isoformat()}),
        ("api", "post", f"/api/v1/health/records/{baby}/growth/", {"measured_on": today.isoformat(), "weight_kg": "7.3"}),
        ("page", "post", f"/health/pregnancies/{preg}/end/", {"outcome": "live_birth", "ended_on": day, "children": "1"}),
    ]


def _call(client, kind, method, url, data):
    if method == "get":
        return client.get(url)
    if kind == "page":
        return client.post(url, data)
    return client.post(url, json.dumps(data), content_type="application/json")


def _written(in_commune, tule):
    from health.models import AntenatalVisit, GrowthMeasurement, Pregnancy, Reading

    with in_commune(tule):
        return (Reading.objects.count(), AntenatalVisit.objects.count(), GrowthMeasurement.objects.count(),
                Pregnancy.objects.count(), Pregnancy.objects.filter(outcome="").count())


@pytest.mark.parametrize("who", ["nurse", "chairman", "radio", "onestop", "supervisor", "citizen", "anonymous"])
def test_role_matrix(programme_data, tule, in_commune, people, client_for, make_user, who):
    users = {**people, "supervisor": make_user("health_sup", units=[tule.supervising_unit]), "anonymous": None}
    client = client_for(HOST, users[who])
    before = _written(in_commune, tule)
    for kind, method, url, data in endpoints(programme_data):
        response = _call(client, kind, method, url, data)
        if who == "nurse":
            refused_for_data = method == "post" and ("pregnanc" in url or url.startswith("/api/") and "growth" in url)
            expected = (200, 201, 302, 400, 409) if refused_for_data else (200, 201, 302)
            assert response.status_code in expected, (who, method, url, response.status_code)
        elif who == "anonymous" and kind == "page":
            assert response.status_code == 302 and "/login/" in response["Location"], (url, response.status_code)
        else:
            assert response.status_code in (401, 403), (who, method, url, response.status_code)
    after = _written(in_commune, tule)
    if who == "nurse":
        # Two readings, two visits, one measurement (the API's second one of the day refused); the
        # second pregnancy refused; the first ended.
        assert after == (before[0] + 2, before[1] + 2, before[2] + 1, before[3], 0)
    else:
        assert after == before
        assert health_log(in_commune, tule) == [] or who == "nurse"


def test_the_supervising_unit_never_reaches_a_record_from_the_national_host(programme_data, tule, make_user,
                                                                              client_for):
    supervisor = make_user("health_sup_national", units=[tule.supervising_unit])
    national = client_for("localhost", supervisor)
    pk = programme_data["grandfather"].pk
    for url in (f"/api/v1/communes/{tule.code}/health/records/{pk}/readings/",
                f"/api/v1/communes/{tule.code}/health/records/{pk}/growth/",
                f"/api/v1/communes/{tule.code}/health/pregnancies/{programme_data['pregnancy'].pk}/antenatal-visits/"):
        assert national.get(url).status_code in (403, 404), url


def test_another_commune_sees_nothing(programme_data, tule, yenhoa, in_commune, make_user, client_for):
    nurse = make_user("yenhoa_programme_nurse", roles={yenhoa: [Role.HEALTH_STAFF]})
    own = client_for("yenhoa.localhost", nurse)
    gf, baby = programme_data["grandfather"].pk, programme_data["baby"].pk
    for url in ("/health/chronic/", "/health/pregnancies/", "/health/growth/"):
        page = own.get(url)
        assert page.status_code == 200
        text = page.content.decode()
        assert "Lò Văn Ông" not in text and "Lường Thị Mẹ" not in text and "Lò Văn Bé" not in text
    assert own.get(f"/health/records/{gf}/readings/").status_code == 404
    assert own.get(f"/health/pregnancies/{programme_data['pregnancy'].pk}/").status_code == 404
    assert own.get(f"/api/v1/health/records/{gf}/readings/").status_code == 404
    assert own.get(f"/api/v1/health/records/{baby}/growth/").status_code == 404
    other = client_for(HOST, nurse)
    assert other.get("/health/chronic/").status_code == 403
    assert other.get(f"/api/v1/health/records/{gf}/readings/").status_code == 403


def test_chronic_list_in_vietnamese_with_the_overdue_and_the_read_logged(programme_data, tule, in_commune, people,
                                                                         client_for, station):
    nurse = client_for(HOST, people["nurse"])
    page = nurse.get("/health/chronic/")
    text = page.content.decode()
    assert page.status_code == 200
    assert "Quản lý tăng huyết áp và đái tháo đường" in text
    assert "Lò Văn Ông" in text and "158/96" in text and "Quá hạn (40 ngày)" in text
    assert "Lường Thị Mẹ" not in text  # not under follow-up
    from population import services
    from population.models import Village

    with in_commune(tule):
        elsewhere = services.save_village(Village(name="Bản Khác"))
    assert "Lò Văn Ông" not in nurse.get(f"/health/chronic/?village={elsewhere.pk}").content.decode()
    assert "Lò Văn Ông" in nurse.get(f"/health/chronic/?village={station['village'].pk}").content.decode()
    lines = health_log(in_commune, tule, user=people["nurse"])
    assert lines[0].action == "view" and lines[0].object_id == ""
    assert f"({programme_data['grandfather'].pk})" in lines[0].description
    assert "chronic follow-up list" in lines[0].description


def test_readings_page_chart_and_bad_input_keeps_what_was_typed(programme_data, tule, in_commune, people, client_for):
    from health.models import Reading

    gf = programme_data["grandfather"]
    nurse = client_for(HOST, people["nurse"])
    url = f"/health/records/{gf.pk}/readings/"
    page = nurse.get(url)
    text = page.content.decode()
    assert page.status_code == 200 and '<svg' in text and 'data-target="140"' in text and 'data-target="90"' in text
    assert "3192/QĐ-BYT" in text and "Huyết áp của Lò Văn Ông" in text
    assert "015058001234" not in text and gf.resident.masked_id in text
    line = health_log(in_commune, tule, object_id=str(gf.pk))[-1]
    assert (line.username, line.description, line.channel) == ("health_nurse", "programme readings", "page")
    bad = nurse.post(url, {"taken_on": programme_data["today"].strftime("%d/%m/%Y"), "systolic": "300",
                           "diastolic": "85"})
    text = bad.content.decode()
    assert bad.status_code == 400
    assert "Huyết áp tâm thu phải từ 60 đến 260 mmHg." in text and 'value="300"' in text
    future = nurse.post(url, {"taken_on": "01/01/2099", "glucose_mmol": "6,1"})
    assert "Ngày không được ở tương lai." in future.content.decode()
    wrong_date = nurse.post(url, {"taken_on": "31/02/2026", "glucose_mmol": "6,1"})
    assert "dd/mm/yyyy" in wrong_date.content.decode()
    with in_commune(tule):
        assert Reading.objects.filter(record=gf).count() == 1
    good = nurse.post(url, {"taken_on": programme_data["today"].strftime("%d/%m/%Y"), "glucose_mmol": "6,1",
                            "fasting": "1"})
    assert good.status_code == 302
    with in_commune(tule):
        assert Reading.objects.filter(record=gf, glucose_mmol=Decimal("6.1"), fasting=True).count() == 1


def test_pregnancy_pages_and_the_one_ongoing_rule(programme_data, tule, in_commune, people, client_for):
    from health.models import Pregnancy

    mother = programme_data["mother"]
    pregnancy = programme_data["pregnancy"]
    nurse = client_for(HOST, people["nurse"])
    listing = nurse.get("/health/pregnancies/").content.decode()
    assert "Lường Thị Mẹ" in listing and "37 tuần 1 ngày" in listing  # 260 days
    assert pregnancy.expected_delivery.strftime("%d/%m/%Y") in listing
    second = nurse.post(f"/health/records/{mother.pk}/pregnancy/new/",
                        {"registered_on": programme_data["today"].strftime("%d/%m/%Y"),
                         "expected_delivery": (programme_data["today"] + datetime.timedelta(days=200)).strftime("%d/%m/%Y"),
                         "gravida": "2", "para": "1"})
    assert second.status_code == 400 and "đang mang thai" in second.content.decode()
    detail = nurse.get(f"/health/pregnancies/{pregnancy.pk}/").content.decode()
    assert "Thêm lần khám thai" in detail and "37 tuần 1 ngày" in detail
    too_early = nurse.post(f"/health/pregnancies/{pregnancy.pk}/",
                           {"visited_on": (pregnancy.registered_on - datetime.timedelta(days=1)).strftime("%d/%m/%Y")})
    assert too_early.status_code == 400 and "trước ngày đăng ký quản lý thai" in too_early.content.decode()
    ended = nurse.post(f"/health/pregnancies/{pregnancy.pk}/end/",
                       {"outcome": "live_birth", "ended_on": programme_data["today"].strftime("%d/%m/%Y"), "children": "1"})
    assert ended.status_code == 302
    with in_commune(tule):
        assert Pregnancy.objects.get(pk=pregnancy.pk).outcome == "live_birth"
    new = nurse.post(f"/health/records/{mother.pk}/pregnancy/new/",
                     {"registered_on": programme_data["today"].strftime("%d/%m/%Y"),
                      "last_period": (programme_data["today"] - datetime.timedelta(days=70)).strftime("%d/%m/%Y"),
                      "gravida": "2", "para": "1"})
    assert new.status_code == 302
    with in_commune(tule):
        latest = Pregnancy.objects.filter(record=mother, outcome="").get()
        assert latest.expected_delivery == programme_data["today"] + datetime.timedelta(days=210)
    men = nurse.post(f"/health/records/{programme_data['grandfather'].pk}/pregnancy/new/",
                     {"registered_on": programme_data["today"].strftime("%d/%m/%Y"),
                      "last_period": programme_data["today"].strftime("%d/%m/%Y"), "gravida": "1", "para": "0"})
    assert men.status_code == 400 and "Chỉ đăng ký quản lý thai cho phụ nữ." in men.content.decode()
    logged = {line.description for line in health_log(in_commune, tule, object_id=str(mother.pk))}
    assert f"pregnancy {pregnancy.pk} and antenatal visits" in logged and "pregnancy registration" in logged


def test_growth_pages_flags_and_logs(programme_data, tule, in_commune, people, client_for):
    from health.models import GrowthMeasurement

    baby = programme_data["baby"]
    nurse = client_for(HOST, people["nurse"])
    overview = nurse.get("/health/growth/").content.decode()
    assert "Suy dinh dưỡng ở lần đo gần nhất" in overview and "Lò Văn Bé" in overview and "nhẹ cân" in overview
    page = nurse.get(f"/health/records/{baby.pk}/growth/")
    assert page.status_code == 200 and "Cân nặng theo tuổi" in page.content.decode()
    good = nurse.post(f"/health/records/{baby.pk}/growth/", {
        "measured_on": programme_data["today"].strftime("%d/%m/%Y"), "weight_kg": "7,9", "height_cm": "67",
        "position": "standing"})
    assert good.status_code == 302
    with in_commune(tule):
        stored = GrowthMeasurement.objects.get(record=baby, measured_on=programme_data["today"])
        assert stored.height_cm == Decimal("67.7") and stored.weight_for_age_z is not None
    old = nurse.post(f"/health/records/{programme_data['grandfather'].pk}/growth/", {
        "measured_on": programme_data["today"].strftime("%d/%m/%Y"), "weight_kg": "30"})
    assert old.status_code == 400 and "dưới 5 tuổi" in old.content.decode()
    described = [line.description for line in health_log(in_commune, tule)]
    assert "growth measurements" in described
    assert any(d.startswith("growth of children under 5: 1 records") for d in described)


def test_the_api_lists_logs_creates_and_refuses_with_error_bodies(programme_data, tule, in_commune, people,
                                                                   client_for):
    gf, mother, baby = programme_data["grandfather"], programme_data["mother"], programme_data["baby"]
    nurse = client_for(HOST, people["nurse"])
    listing = nurse.get(f"/api/v1/health/records/{gf.pk}/readings/")
    assert listing.status_code == 200 and listing.json()["results"][0]["systolic"] == 158
    line = health_log(in_commune, tule, object_id=str(gf.pk))[-1]
    assert (line.channel, line.description) == ("api", "programme readings")
    pregnancies = nurse.get(f"/api/v1/health/records/{mother.pk}/pregnancies/").json()["results"]
    assert pregnancies[0]["expected_delivery"] == programme_data["pregnancy"].expected_delivery.isoformat()
    assert pregnancies[0]["weeks_today"] == 37
    growth = nurse.get(f"/api/v1/health/records/{baby.pk}/growth/").json()["results"]
    assert growth[0]["underweight"] is True

    def post(url, body):
        return nurse.post(url, json.dumps(body), content_type="application/json")

    made = post(f"/api/v1/health/records/{gf.pk}/readings/",
                {"taken_on": programme_data["today"].isoformat(), "systolic": 135, "diastolic": 85})
    assert made.status_code == 201 and made.json()["systolic"] == 135
    bad = post(f"/api/v1/health/records/{gf.pk}/readings/",
               {"taken_on": programme_data["today"].isoformat(), "systolic": 80, "diastolic": 85})
    assert bad.status_code == 400
    assert bad.json()["code"] == "out_of_range" and "thấp hơn" in bad.json()["fields"]["diastolic"][0]
    garbage = post(f"/api/v1/health/records/{gf.pk}/readings/", {"taken_on": "hôm qua", "systolic": "x"})
    assert garbage.status_code == 400 and set(garbage.json()["fields"]) >= {"taken_on", "systolic"}
    twice = post(f"/api/v1/health/records/{mother.pk}/pregnancies/",
                 {"registered_on": programme_data["today"].isoformat(),
                  "last_period": (programme_data["today"] - datetime.timedelta(days=30)).isoformat()})
    assert twice.status_code == 409 and "đang mang thai" in twice.json()["detail"]
    grown = post(f"/api/v1/health/records/{baby.pk}/growth/",
                 {"measured_on": programme_data["today"].isoformat(), "weight_kg": "8.2", "height_cm": "68.5",
                  "weight_for_age_z": "3"})
    assert grown.status_code == 201 and grown.json()["weight_for_age_z"] != "3.00"
    assert nurse.get("/api/v1/health/records/99999999/readings/").status_code == 404
    assert nurse.get(f"/api/v1/health/records/{2**64}/growth/").status_code == 404
    assert nurse.get(f"/health/records/{2**64}/readings/").status_code == 404


def test_the_record_section_and_the_inbox_lines(programme_data, tule, in_commune, people, client_for):
    from health import programme_inbox
    from health.models import HealthRecord

    factory = RequestFactory()
    request = factory.get("/")
    template = Template("{% load health_programmes %}{% programmes_for_record record %}")
    with in_commune(tule):
        mother = HealthRecord.objects.select_related("resident").get(pk=programme_data["mother"].pk)
        baby = HealthRecord.objects.select_related("resident").get(pk=programme_data["baby"].pk)
        request.user = people["nurse"]
        shown = template.render(Context({"request": request, "record": mother}))
        assert "Đang mang thai: 37 tuần" in shown
        baby_section = template.render(Context({"request": request, "record": baby}))
        assert "nhẹ cân" in baby_section and "Lần đo gần nhất" in baby_section
        request.user = people["radio"]
        assert "Chương trình" not in template.render(Context({"request": request, "record": mother}))
        # The person, linked to her record, reads the section without the staff's links.
        from health.models import CitizenLink

        CitizenLink.objects.create(user=people["citizen"], resident=mother.resident, method="station")
        request.user = people["citizen"]
        own = template.render(Context({"request": request, "record": mother}))
        assert "Đang mang thai: 37 tuần" in own and "/health/" not in own
        lines = {line.key: line for line in programme_inbox.lines(None, people["nurse"], {Role.HEALTH_STAFF.value})}
        assert programme_inbox.lines(None, people["chairman"], {Role.CHAIRMAN.value}) == []
    assert lines["health.chronic_overdue"].count == 1 and lines["health.chronic_overdue"].url.endswith("?overdue=1")
    assert lines["health.deliveries_soon"].count == 1
    assert lines["health.children_malnourished"].count == 1
    home = client_for(HOST, people["nurse"]).get("/health/").content.decode()
    assert "Người tăng huyết áp, đái tháo đường chưa được kiểm tra trong 30 ngày" in home
    record_page = client_for(HOST, people["nurse"]).get(f"/health/records/{programme_data['mother'].pk}/")
    if record_page.status_code == 200:  # the records' page carries the section at its marker
        assert "Đang mang thai: 37 tuần" in record_page.content.decode()
