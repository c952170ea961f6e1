"""Visits at the desk: a visit written whole from the form, every bad input refused with a
Vietnamese message and nothing written, the day's and month's lists with their filters and counts,
corrections on the visit's own day only, the ICD-10 search, the inbox's referrals, the record's
last visits, every read logged, a role matrix over every page and another commune seeing nothing."""
from __future__ import annotations

import datetime
import re
from decimal import Decimal

import pytest
from django.utils import timezone

pytestmark = pytest.mark.django_db

HOST = "tule.localhost"


def health_log(in_commune, tule, **filters):
    from population.models import AccessLog

    with in_commune(tule):
        return list(AccessLog.objects.filter(object_type="health_record", **filters).order_by("pk"))


def now_minute():
    """Now, to the minute (what the form's hh:mm gives): never after the server's clock."""
    return timezone.localtime().replace(second=0, microsecond=0)


def form_data(record, **changes):
    moment = now_minute()
    data = {
        "record": record.pk, "visit_date": moment.strftime("%d/%m/%Y"), "visit_time": moment.strftime("%H:%M"),
        "reason": "Sốt, ho 2 ngày", "examination": "Họng đỏ", "temperature_c": "38,5", "pulse": "88",
        "systolic": "130", "diastolic": "80", "respiratory_rate": "18", "spo2": "98", "weight_kg": "55,5",
        "height_cm": "160", "dx_1": "j069", "dx_2": "R50.9", "dx_main": "1",
        "rx_drug_1": "PARA500", "rx_dose_1": "1 viên x 3 lần/ngày", "rx_days_1": "3", "rx_qty_1": "9",
        "rx_text_2": "Siro ho thảo dược", "rx_dose_2": "5 ml x 3 lần/ngày", "rx_days_2": "5",
        "treatment": "Hạ sốt, uống nhiều nước", "payment": "paid",
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def make_visit(record, user=None, **changes):
    from health import visits

    data = visits.VisitData(
        record=record, visited_at=changes.pop("visited_at", timezone.now() - datetime.timedelta(seconds=5)),
        reason=changes.pop("reason", "Khám"), diagnoses=changes.pop("diagnoses", [visits.DiagnosisLine("J06.9", True)]),
        payment=changes.pop("payment", "paid"), **changes)
    return visits.create_visit(user, data)


def test_a_visit_is_written_whole_from_the_desk_form(station, tule, in_commune, people, client_for):
    from health.models import Visit

    record = station["records"]["grandfather"]
    nurse = client_for(HOST, people["nurse"])
    page = nurse.get(f"/health/visits/new/?record={record.pk}")
    assert page.status_code == 200
    body = page.content.decode()
    today = timezone.localdate()
    age = today.year - 1958 - ((today.month, today.day) < (3, 2))
    assert "Lò Văn Ông" in body and f"{age} tuổi" in body and "015058001234" not in body
    assert "Hồ sơ chưa có thẻ bảo hiểm y tế" in body
    assert f'name="record" value="{record.pk}"' in body  # an id, never "1.091" as a number is shown

    response = nurse.post("/health/visits/new/", form_data(record))
    assert response.status_code == 302, response.content.decode()[:3000]
    with in_commune(tule):
        visit = Visit.objects.get()
        diagnoses = list(visit.diagnoses.values_list("icd10", "primary"))
        lines = list(visit.prescriptions.values_list("drug_code", "text", "dose", "days", "quantity"))
    assert response["Location"] == f"/health/visits/{visit.pk}/"
    assert (visit.temperature_c, visit.pulse, visit.weight_kg, visit.payment) == (Decimal("38.5"), 88,
                                                                                Decimal("55.50"), "paid")
    assert visit.staff_id == people["nurse"].pk and visit.staff_name == "Lò Thị Y"
    assert diagnoses == [("J06.9", True), ("R50.9", False)]
    assert lines == [("PARA500", "Paracetamol 500 mg (viên nén)", "1 viên x 3 lần/ngày", 3, 9),
                     ("", "Siro ho thảo dược", "5 ml x 3 lần/ngày", 5, None)]

    detail = nurse.get(f"/health/visits/{visit.pk}/")
    assert detail.status_code == 200
    text = detail.content.decode()
    assert "Nhiễm trùng đường hô hấp trên cấp, không đặc hiệu" in text and "38,5" in text
    assert "Sửa lượt khám" in text  # its own day: it may be corrected
    reads = [line.description for line in health_log(in_commune, tule, object_id=str(record.pk), action="view")]
    assert reads.count("visit") == 1 and "record (visit entry)" in reads and "visits" in reads


def test_the_record_is_found_by_name_without_accents(station, tule, in_commune, people, client_for):
    nurse = client_for(HOST, people["nurse"])
    body = nurse.get("/health/visits/new/?q=lo van").content.decode()
    assert "Lò Văn Ông" in body and "Lò Văn Bé" in body
    assert "Lò Văn Bố" not in body  # no record: not offered
    assert "Lường Thị Mẹ" not in body
    assert health_log(in_commune, tule, action="search", description="visit entry: lo van")
    assert "Không có hồ sơ sức khỏe nào" in nurse.get("/health/visits/new/?q=khong ai").content.decode()


BAD_INPUTS = [
    # (record, changes, field or None, words of the message)
    ("baby", {"visit_date": "01/05/2026", "visit_time": "09:00"}, "visit_date", "trước ngày sinh"),
    ("grandfather", {"visit_date": "FUTURE"}, "visit_date", "tương lai"),
    ("grandfather", {"temperature_c": "45"}, "temperature_c", "34–43 °C"),
    ("grandfather", {"pulse": "300"}, "pulse", "30–220"),
    ("grandfather", {"systolic": "80", "diastolic": "95"}, "systolic", "tâm thu"),
    ("grandfather", {"spo2": "30"}, "spo2", "50–100 %"),
    ("grandfather", {"weight_kg": "0,2"}, "weight_kg", "0,5–300 kg"),
    ("grandfather", {"height_cm": "300"}, "height_cm", "30–250 cm"),
    ("grandfather", {"respiratory_rate": "2"}, "respiratory_rate", "8–80"),
    ("grandfather", {"temperature_c": "ba bảy"}, "temperature_c", "số"),
    ("grandfather", {"dx_2": "X99.9"}, "dx_1", "X99.9"),
    ("grandfather", {"referred": "on", "referred_to": "", "referral_reason": "Viêm phổi nặng"}, "referred_to",
     "chuyển đến đâu"),
    ("grandfather", {"payment": "insurance"}, "payment", "bảo hiểm y tế"),
    ("grandfather", {"rx_days_1": "0"}, "rx_days_1", ""),
    ("grandfather", {"reason": ""}, "reason", "lý do"),
    ("grandfather", {"visit_date": "31/12/9999", "visit_time": "23:59"}, "visit_date", "ngày"),
]


@pytest.mark.parametrize("who, changes, field, words", BAD_INPUTS)
def test_bad_input_is_refused_in_vietnamese_and_nothing_is_written(station, tule, in_commune, people, client_for,
                                                                    who, changes, field, words):
    from health.models import Prescription, Visit, VisitDiagnosis

    record = station["records"][who]
    if changes.get("visit_date") == "FUTURE":
        changes = {**changes, "visit_date": (timezone.localdate() + datetime.timedelta(days=1)).strftime("%d/%m/%Y")}
    response = client_for(HOST, people["nurse"]).post("/health/visits/new/", form_data(record, **changes))
    assert response.status_code == 200
    form = response.context["form"]
    assert field in form.errors, form.errors
    message = " ".join(form.errors[field])
    assert words in message
    assert re.search(r"[ăâđêôơưạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ]", message.lower()), message
    body = response.content.decode()
    assert "Sốt, ho 2 ngày" in body or not form_data(record, **changes).get("reason")  # what was typed is kept
    assert "Siro ho thảo dược" in body
    with in_commune(tule):
        assert (Visit.objects.count(), VisitDiagnosis.objects.count(), Prescription.objects.count()) == (0, 0, 0)


def test_a_bad_line_leaves_no_visit_row(station, tule, in_commune):
    """The service checks everything before writing: a drug code out of the list, two main diagnoses."""
    from django.core.exceptions import ValidationError

    from health import visits
    from health.models import Visit

    with in_commune(tule):
        record = station["records"]["grandfather"]
        with pytest.raises(ValidationError) as bad_drug:
            make_visit(record, prescriptions=[visits.PrescriptionLine("PARA500", dose="1 viên"),
                                              visits.PrescriptionLine("NOTADRUG", dose="1 viên")])
        assert "Dòng thuốc 2" in bad_drug.value.message_dict["prescriptions"][0]
        with pytest.raises(ValidationError) as two_mains:
            make_visit(record, diagnoses=[visits.DiagnosisLine("J06.9", True), visits.DiagnosisLine("R50.9", True)])
        assert two_mains.value.error_dict["diagnoses"][0].code == "several_main_diagnoses"
        with pytest.raises(ValidationError) as none_main:
            make_visit(record, diagnoses=[visits.DiagnosisLine("J06.9"), visits.DiagnosisLine("R50.9")])
        assert none_main.value.error_dict["diagnoses"][0].code == "main_diagnosis_required"
        assert Visit.objects.count() == 0


def test_insurance_needs_a_card_valid_on_the_day(station, tule, in_commune):
    from django.core.exceptions import ValidationError

    from health.models import HealthRecord

    today = timezone.localdate()
    with in_commune(tule):
        record = station["records"]["mother"]
        HealthRecord.objects.filter(pk=record.pk).update(
            insurance_number="DN4010123456789", insurance_valid_from=today - datetime.timedelta(days=300),
            insurance_valid_until=today - datetime.timedelta(days=10))
        record.refresh_from_db()
        with pytest.raises(ValidationError) as expired:
            make_visit(record, payment="insurance")
        assert "không còn giá trị" in expired.value.message_dict["payment"][0]
        assert (today - datetime.timedelta(days=10)).strftime("%d/%m/%Y") in expired.value.message_dict["payment"][0]
        # A visit of a day when the card was valid is accepted.
        old = timezone.now() - datetime.timedelta(days=20)
        assert make_visit(record, payment="insurance", visited_at=old).payment == "insurance"


def test_the_list_of_a_day_and_a_month_with_filters_and_counts(station, tule, in_commune, people, client_for):
    from health import visits

    with in_commune(tule):
        records = station["records"]
        make_visit(records["grandfather"], payment="paid", diagnoses=[visits.DiagnosisLine("I10", True)])
        make_visit(records["mother"], payment="free", diagnoses=[visits.DiagnosisLine("Z34.9", True)])
        make_visit(records["baby"], payment="free", referred=True, referred_to="Trung tâm Y tế khu vực",
                   referral_reason="Viêm phổi", diagnoses=[visits.DiagnosisLine("J18.9", True)])
        lastmonth = timezone.now() - datetime.timedelta(days=40)
        make_visit(records["grandfather"], visited_at=lastmonth, diagnoses=[visits.DiagnosisLine("I10", True)])
    nurse = client_for(HOST, people["nurse"])

    def counts(query=""):
        page = nurse.get(f"/health/visits/{query}")
        assert page.status_code == 200
        return [int(n) for n in re.findall(r"<li><strong>(\d+)</strong>", page.content.decode())], page

    assert counts()[0] == [3, 0, 1, 2, 1]  # total, insurance, paid, free, referred
    assert counts("?payment=free")[0] == [2, 0, 0, 2, 1]
    figures, page = counts("?code=I10")
    assert figures[0] == 1 and "Lò Văn Ông" in page.content.decode() and "Lường Thị Mẹ" not in page.content.decode()
    assert counts("?referred=on")[0][0] == 1
    month = timezone.localtime(lastmonth)
    assert counts(f"?month={month:%Y-%m}")[0][0] >= 1
    assert counts(f"?day={month:%d/%m/%Y}")[0][0] == 1
    assert health_log(in_commune, tule, action="search", description__startswith="visits ")
    assert counts("?day=31/12/9999")[0][0] == 0 and counts("?date_from=01/01/0001&date_to=31/12/9999")[0][0] == 0


def test_a_visit_is_corrected_on_its_own_day_only(station, tule, in_commune, people, client_for):
    from health.models import Visit

    with in_commune(tule):
        record = station["records"]["grandfather"]
        today_visit = make_visit(record)
        old_visit = make_visit(record, visited_at=timezone.now() - datetime.timedelta(days=2))
    nurse = client_for(HOST, people["nurse"])
    assert nurse.get(f"/health/visits/{today_visit.pk}/edit/").status_code == 200
    changed = form_data(record, reason="Sốt cao, ho nhiều", dx_1="J20.9", dx_2="", rx_drug_1="", rx_dose_1="",
                        rx_days_1="", rx_qty_1="",
                        visit_date=timezone.localtime(today_visit.visited_at).strftime("%d/%m/%Y"),
                        visit_time=timezone.localtime(today_visit.visited_at).strftime("%H:%M"))
    response = nurse.post(f"/health/visits/{today_visit.pk}/edit/", changed)
    assert response.status_code == 302, response.context["form"].errors if response.context else ""
    with in_commune(tule):
        visit = Visit.objects.get(pk=today_visit.pk)
        assert visit.reason == "Sốt cao, ho nhiều"
        assert list(visit.diagnoses.values_list("icd10", flat=True)) == ["J20.9"]
        assert list(visit.prescriptions.values_list("text", flat=True)) == ["Siro ho thảo dược"]

    refused = nurse.get(f"/health/visits/{old_visit.pk}/edit/")
    assert refused.status_code == 409
    assert "chỉ được sửa trong ngày khám" in refused.content.decode()
    assert nurse.post(f"/health/visits/{old_visit.pk}/edit/", changed).status_code == 409
    with in_commune(tule):
        assert Visit.objects.get(pk=old_visit.pk).reason == "Khám"


def test_the_icd10_search_offers_matching_codes(station, people, client_for):
    nurse = client_for(HOST, people["nurse"])
    body = nurse.get("/health/visits/icd10/?q=tang huyet ap").content.decode()
    assert "<code>I10</code>" in body and "Tăng huyết áp vô căn" in body
    assert "<code>J06.9</code>" in nurse.get("/health/visits/icd10/?q=J06").content.decode()
    assert "Không có mã ICD-10 nào" in nurse.get("/health/visits/icd10/?q=zzzz").content.decode()


def test_the_inbox_shows_the_referrals_to_follow_up(station, tule, in_commune, people, client_for):
    with in_commune(tule):
        make_visit(station["records"]["baby"], referred=True, referred_to="Trung tâm Y tế khu vực",
                   referral_reason="Viêm phổi", payment="free")
        make_visit(station["records"]["baby"], referred=True, referred_to="Bệnh viện tỉnh",
                   referral_reason="Sốt cao co giật", payment="free",
                   visited_at=timezone.now() - datetime.timedelta(days=9))
    home = client_for(HOST, people["nurse"]).get("/health/").content.decode()
    match = re.search(r'href="(/health/visits/\?[^"]*referred=on[^"]*)"', home)
    assert match and "Chuyển tuyến trong 7 ngày qua cần theo dõi" in home
    listing = client_for(HOST, people["nurse"]).get(match.group(1).replace("&amp;", "&"))
    assert re.findall(r"<li><strong>(\d+)</strong>", listing.content.decode())[0] == "1"
    chairman_home = client_for(HOST, people["chairman"]).get("/health/").content.decode()
    assert "Chuyển tuyến trong 7 ngày" not in chairman_home


def test_the_record_tag_shows_the_last_visits_to_readers_only(station, tule, in_commune, people, client_for):
    from django.template import Context, Template
    from django.test import RequestFactory

    from health.models import CitizenLink

    with in_commune(tule):
        record = station["records"]["grandfather"]
        make_visit(record, reason="Khám huyết áp")
        template = Template("{% load health_visits %}{% visits_for_record record %}")
        request = RequestFactory().get("/")
        request.user = people["radio"]
        assert "Khám huyết áp" not in template.render(Context({"record": record, "request": request}))
        CitizenLink.objects.create(user=people["citizen"], resident=record.resident, method="station")
        request.user = people["citizen"]
        own = template.render(Context({"record": record, "request": request}))
        assert "Khám huyết áp" in own and "/health/visits/" not in own  # the person reads, without staff links
    page = client_for(HOST, people["nurse"]).get(f"/health/visits/new/?record={record.pk}").content.decode()
    assert "Khám huyết áp" in page and 'id="record-visits"' in page


PAGES = ["/health/visits/", "/health/visits/new/", "/health/visits/new/?record={record}", "/health/visits/{visit}/",
         "/health/visits/{visit}/edit/", "/health/visits/icd10/?q=I10"]


@pytest.mark.parametrize("path", PAGES)
@pytest.mark.parametrize("who, expected", [("nurse", 200), ("chairman", 403), ("radio", 403), ("onestop", 403),
                                           ("supervisor", 403), ("citizen", 403), ("linked", 403),
                                           ("anonymous", 302)])
def test_role_matrix_over_every_page(station, tule, in_commune, people, client_for, make_user, path, who, expected):
    from health.models import CitizenLink

    with in_commune(tule):
        record = station["records"]["grandfather"]
        visit = make_visit(record)
        if who == "linked":
            CitizenLink.objects.create(user=people["citizen"], resident=record.resident, method="station")
    users = {**people, "supervisor": make_user("health_sup_v", units=[tule.supervising_unit]),
             "linked": people["citizen"], "anonymous": None}
    url = path.format(record=record.pk, visit=visit.pk)
    response = client_for(HOST, users[who]).get(url)
    assert response.status_code == expected
    if expected == 302:
        assert "/accounts/login/" in response["Location"]
    if expected != 200:
        assert "Lò Văn Ông" not in response.content.decode()
        post = client_for(HOST, users[who]).post(url.split("?")[0], form_data(record))
        assert post.status_code in (302, 403, 405) and (post.status_code != 302 or "/accounts/login/" in post["Location"])
        with in_commune(tule):
            from health.models import Visit

            assert Visit.objects.count() == 1


def test_another_commune_sees_nothing(station, tule, yenhoa, in_commune, make_user, client_for):
    with in_commune(tule):
        visit = make_visit(station["records"]["grandfather"])
    other = make_user("yenhoa_nurse_v", roles={yenhoa: ["health_staff"]})
    # On Tú Lệ's host, Yên Hòa's staff hold no role.
    assert client_for(HOST, other).get(f"/health/visits/{visit.pk}/").status_code == 403
    assert client_for(HOST, other).get("/health/visits/").status_code == 403
    # On their own host, Tú Lệ's rows are not there.
    own = client_for("yenhoa.localhost", other)
    assert own.get(f"/health/visits/{visit.pk}/").status_code == 404
    listing = own.get("/health/visits/").content.decode()
    assert "Lò Văn Ông" not in listing
    assert own.get(f"/health/visits/new/?record={station['records']['grandfather'].pk}").status_code in (200, 404)
    assert "Lò Văn Ông" not in own.get(f"/health/visits/new/?record={station['records']['grandfather'].pk}").content.decode()
    assert own.get("/api/v1/health/visits/?month=" + timezone.localdate().strftime("%Y-%m")).json()["count"] == 0


def test_the_record_page_lists_the_last_visits(station, tule, in_commune, people, client_for):
    with in_commune(tule):
        record = station["records"]["grandfather"]
        visit = make_visit(record, reason="Khám huyết áp định kỳ")
    page = client_for(HOST, people["nurse"]).get(f"/health/records/{record.pk}/")
    assert page.status_code == 200
    body = page.content.decode()
    assert 'id="record-visits"' in body and "Khám huyết áp định kỳ" in body and f"/health/visits/{visit.pk}/" in body
    assert f"/health/visits/new/?record={record.pk}\"" in body
    reads = [line.description for line in health_log(in_commune, tule, object_id=str(record.pk), action="view")]
    assert "visits" in reads
