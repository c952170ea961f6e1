"""Personal health records: the staff's pages, coverage on a hand-computed fixture, duplicates,
chronic conditions, deletion under the retention rule, every read logged, the PDF, and another
commune seeing nothing."""
from __future__ import annotations

import datetime
import subprocess
import tempfile

import pytest
from django.utils import timezone

pytestmark = pytest.mark.django_db

HOST = "tule.localhost"


def health_log(in_commune, tule, **filters):
    from population.models import AccessLog

    with in_commune(tule):
        return list(AccessLog.objects.filter(object_type="health_record", **filters).order_by("pk"))


def pdf_text(content: bytes) -> str:
    with tempfile.NamedTemporaryFile(suffix=".pdf") as handle:
        handle.write(content)
        handle.flush()
        return subprocess.run(["pdftotext", "-enc", "UTF-8", handle.name, "-"], capture_output=True, check=True,
                              text=True).stdout


def test_coverage_matches_the_hand_computed_fixture(station, tule, in_commune, people, client_for):
    """Bản Thử Y: 5 residents, records for 3 of them: 3 / 5 = 60,00 %; the commune the same."""
    from health import records

    with in_commune(tule):
        lines, total = records.coverage()
    village = [line for line in lines if line.name == "Bản Thử Y"][0]
    assert (village.residents, village.with_record, str(village.percent)) == (5, 3, "60.00")
    assert (total.residents, total.with_record, str(total.percent)) == (5, 3, "60.00")
    assert str(records.percent(29, 35)) == "82.86"  # the pilots' figure: 29 of 35 residents

    page = client_for(HOST, people["chairman"]).get("/health/coverage/")
    assert page.status_code == 200
    body = page.content.decode()
    assert "60,00 %" in body and "Lò Văn" not in body  # aggregate figures only
    home = client_for(HOST, people["nurse"]).get("/health/").content.decode()
    assert "60,00 %" in home

    export = client_for(HOST, people["nurse"]).get("/health/coverage/?format=xlsx")
    assert export.status_code == 200
    import io

    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(export.content)).active
    rows = [row for row in sheet.iter_rows(values_only=True) if row and row[0] == "Bản Thử Y"]
    assert rows == [("Bản Thử Y", 5, 3, 60.0)]


def test_the_list_searches_accent_free_masks_ids_and_logs_the_search(station, tule, in_commune, people, client_for):
    client = client_for(HOST, people["nurse"])
    body = client.get("/health/records/", {"q": "lo van"}).content.decode()
    assert "Lò Văn Ông" in body and "Lò Văn Bé" in body and "Lường Thị Mẹ" not in body
    assert "015***001234"[:3] in body and "015058001234" not in body and "015******234" in body
    by_household = client.get("/health/records/", {"q": "ty-001"}).content.decode()
    assert "Lường Thị Mẹ" in by_household
    village = station["village"].pk
    without = client.get("/health/records/", {"without_record": "1", "village": village}).content.decode()
    assert "Lò Văn Bố" in without and "Lò Thị Nhỏ" in without and "Lò Văn Ông" not in without
    searches = health_log(in_commune, tule, action="search")
    assert [line.description.split(" page=")[0] for line in searches][:2] == ["q=lo van", "q=ty-001"]
    assert all(line.username == "health_nurse" for line in searches)


def test_a_new_record_and_a_duplicate_refused(station, tule, in_commune, people, client_for):
    from health.models import HealthRecord

    client = client_for(HOST, people["nurse"])
    father = station["father"]
    form = client.get("/health/records/new/", {"resident": father.pk})
    assert form.status_code == 200 and "Tình trạng lúc sinh" in form.content.decode()
    created = client.post("/health/records/new/", {
        "resident": father.pk, "opened_on": "01/06/2026", "blood_group": "O", "rh": "+",
        "insurance_number": "GD4151234567890", "drug_use": "unknown", "allergy_drugs": "Penicillin"})
    assert created.status_code == 302, created.content.decode()[-3000:]
    with in_commune(tule):
        record = HealthRecord.objects.get(resident=father)
        assert (record.blood_group, record.insurance_number, record.opened_on) == (
            "O", "GD4151234567890", datetime.date(2026, 6, 1))
    # The baby has a record already: a second one is refused with the Vietnamese message.
    again = client.post("/health/records/new/", {"resident": station["baby"].pk, "opened_on": "01/06/2026",
                                                 "drug_use": "unknown"})
    assert again.status_code == 200
    assert "Người dân này đã có hồ sơ sức khỏe." in again.content.decode()
    # A bad insurance number and an opening before birth keep what was typed.
    bad = client.post("/health/records/new/", {"resident": station["toddler"].pk, "opened_on": "01/01/2020",
                                               "insurance_number": "XYZ", "occupation": "Trẻ em", "drug_use": "unknown"})
    body = bad.content.decode()
    assert bad.status_code == 200 and "Trẻ em" in body
    assert "trước ngày sinh" in body and "15 ký tự" in body
    with in_commune(tule):
        assert HealthRecord.objects.count() == 4


def test_the_service_refuses_a_duplicate_with_its_code(station, tule, in_commune):
    from django.core.exceptions import ValidationError

    from health import records
    from health.models import HealthRecord

    with in_commune(tule):
        with pytest.raises(ValidationError) as refused:
            records.save_record(HealthRecord(resident=station["mother"], opened_on=datetime.date(2026, 6, 1)))
        assert refused.value.error_dict["resident"][0].code == "duplicate"


def test_the_record_page_shows_conditions_and_is_logged(station, tule, in_commune, people, client_for):
    from health import records

    record = station["records"]["grandfather"]
    with in_commune(tule):
        records.add_condition(record, icd10_code="i10", diagnosed_on=datetime.date(2015, 4, 1),
                              programme="hypertension")
    page = client_for(HOST, people["nurse"]).get(f"/health/records/{record.pk}/")
    body = page.content.decode()
    assert page.status_code == 200 and "Lò Văn Ông" in body and 'data-icd10="I10"' in body
    assert "015******234" in body and "015058001234" not in body
    assert "Tăng huyết áp" in body
    reads = health_log(in_commune, tule, action="view", object_id=str(record.pk))
    assert ("health_nurse", "page", "record") in [(line.username, line.channel, line.description) for line in reads]


@pytest.mark.parametrize("data, field, message", [
    ({"icd10": "Q99.9", "diagnosed_on": "01/01/2020"}, "icd10", "không có trong danh mục"),
    ({"icd10": "E11.9", "diagnosed_on": "01/01/1950"}, "diagnosed_on", "trước ngày sinh"),
    ({"icd10": "E11.9", "diagnosed_on": "01/01/2099"}, "diagnosed_on", "trong tương lai"),
])
def test_a_condition_with_bad_input_is_refused(station, tule, in_commune, people, client_for, data, field, message):
    from health.models import ChronicCondition

    record = station["records"]["grandfather"]
    response = client_for(HOST, people["nurse"]).post(f"/health/records/{record.pk}/conditions/",
                                                      {"action": "add", "programme": "", **data})
    assert response.status_code == 200
    assert message in response.content.decode()
    with in_commune(tule):
        assert not ChronicCondition.objects.exists()


def test_a_condition_added_then_closed(station, tule, in_commune, people, client_for):
    from health.models import ChronicCondition

    record = station["records"]["grandfather"]
    client = client_for(HOST, people["nurse"])
    added = client.post(f"/health/records/{record.pk}/conditions/", {
        "action": "add", "icd10": "e119", "diagnosed_on": "15/03/2020", "programme": "diabetes"})
    assert added.status_code == 302
    with in_commune(tule):
        condition = ChronicCondition.objects.get()
        assert (condition.icd10, condition.programme, condition.active) == ("E11.9", "diabetes", True)
    client.post(f"/health/records/{record.pk}/conditions/", {"action": "close", "condition": condition.pk})
    with in_commune(tule):
        assert ChronicCondition.objects.get().active is False


def test_the_pdf_is_a_real_pdf_with_the_name_and_is_logged(station, tule, in_commune, people, client_for):
    record = station["records"]["mother"]
    response = client_for(HOST, people["nurse"]).get(f"/health/records/{record.pk}/pdf/")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    text = pdf_text(response.content)
    assert "Lường Thị Mẹ" in text and "HỒ SƠ QUẢN LÝ SỨC KHỎE CÁ NHÂN" in text
    assert "015195004321" not in text
    reads = health_log(in_commune, tule, action="view", object_id=str(record.pk))
    assert [line.description for line in reads] == ["record PDF"]


def test_deletion_keeps_a_record_with_a_recent_visit_and_deletes_an_old_one(station, tule, in_commune, people,
                                                                             client_for):
    from health.models import ChronicCondition, HealthRecord, Visit

    grandfather, mother = station["records"]["grandfather"], station["records"]["mother"]
    with in_commune(tule):
        Visit.objects.create(record=grandfather, visited_at=timezone.now() - datetime.timedelta(days=400),
                             reason="Đau đầu")
        Visit.objects.create(record=mother, visited_at=timezone.now() - datetime.timedelta(days=365 * 11),
                             reason="Sốt")
        ChronicCondition.objects.create(record=mother, icd10="E11", diagnosed_on=datetime.date(2014, 1, 1))
    client = client_for(HOST, people["nurse"])
    kept = client.post(f"/health/records/{grandfather.pk}/delete/", {"confirm": "yes"})
    assert kept.status_code == 409
    assert "ít nhất 10 năm" in kept.content.decode() and "15/2023/QH15" in kept.content.decode()
    deleted = client.post(f"/health/records/{mother.pk}/delete/", {"confirm": "yes"})
    assert deleted.status_code == 302
    with in_commune(tule):
        assert HealthRecord.objects.filter(pk=grandfather.pk).exists()
        assert not HealthRecord.objects.filter(pk=mother.pk).exists()
        assert not Visit.objects.filter(reason="Sốt").exists() and not ChronicCondition.objects.exists()


def test_another_commune_sees_nothing(station, yenhoa, make_user, client_for):
    from communes.models import Role

    nurse = make_user("yenhoa_nurse", roles={yenhoa: [Role.HEALTH_STAFF]})
    own = client_for("yenhoa.localhost", nurse)
    body = own.get("/health/records/").content.decode()
    assert "Lò Văn" not in body
    assert own.get(f"/health/records/{station['records']['mother'].pk}/").status_code == 404
    api = own.get("/api/v1/health/records/").json()
    assert api["count"] == 0
    # On Tú Lệ's host the Yên Hòa nurse has no role.
    assert client_for(HOST, nurse).get("/health/records/").status_code == 403
    assert client_for(HOST, nurse).get("/api/v1/health/records/").status_code == 403


def test_the_demo_opens_records_for_the_pilots_share(ngaan, in_commune):
    """35 residents at the pilots' share: 29 records, 82,86 %; run twice, nothing more."""
    from core.text import fold
    from health import record_demo, records
    from health.models import HealthRecord
    from population.models import Household, Resident, Village

    with in_commune(ngaan):
        village = Village.objects.create(name="Thôn Thử Demo")
        household = Household.objects.create(code="DM-001", village=village)
        Resident.objects.bulk_create([Resident(
            household=household, full_name=f"Người Thử {n}", search_name=fold(f"Người Thử {n}"),
            birth_date=datetime.date(1940 + n, 5, 1), sex="female", relation="other") for n in range(35)])
    made = record_demo.populate(ngaan, share=0.8286, province="38", seed=1)
    assert made["records"] == 29 and made["residents"] == 35
    assert record_demo.populate(ngaan, share=0.8286, province="38", seed=1) is None
    with in_commune(ngaan):
        _lines, total = records.coverage()
        assert str(total.percent) == "82.86"
        numbers = [n for n in HealthRecord.objects.values_list("insurance_number", flat=True) if n]
        assert numbers and all(records.INSURANCE_RE.match(n) for n in numbers)
        assert set(HealthRecord.objects.values_list("blood_group", flat=True)) <= {"A", "B", "AB", "O", ""}


def test_the_officer_finds_a_resident_without_a_record_then_edits_a_record(station, tule, in_commune, people,
                                                                           client_for):
    from health.models import HealthRecord

    client = client_for(HOST, people["nurse"])
    found = client.get("/health/records/new/", {"q": "lo"}).content.decode()
    assert "Lò Văn Bố" in found and "Lò Thị Nhỏ" in found and "Lò Văn Ông" not in found  # he has a record
    record = station["records"]["grandfather"]
    edit = client.get(f"/health/records/{record.pk}/edit/")
    assert edit.status_code == 200 and "Yếu tố nguy cơ" in edit.content.decode()
    saved = client.post(f"/health/records/{record.pk}/edit/", {
        "opened_on": "10/05/2026", "blood_group": "A", "rh": "-", "smoking": "former", "drug_use": "false",
        "family_history": "Bố bị tăng huyết áp", "insurance_number": "HT3151234567890",
        "insurance_valid_from": "01/01/2026", "insurance_valid_until": "31/12/2025"})
    assert saved.status_code == 200 and "trước ngày bắt đầu" in saved.content.decode()
    saved = client.post(f"/health/records/{record.pk}/edit/", {
        "opened_on": "10/05/2026", "blood_group": "A", "rh": "-", "smoking": "former", "drug_use": "false",
        "family_history": "Bố bị tăng huyết áp", "insurance_number": "HT3151234567890",
        "insurance_valid_from": "01/01/2026", "insurance_valid_until": "31/12/2026"})
    assert saved.status_code == 302
    with in_commune(tule):
        record.refresh_from_db()
        assert (record.blood_group, record.rh, record.smoking, record.drug_use, record.family_history) == (
            "A", "-", "former", False, "Bố bị tăng huyết áp")
    page = client.get(f"/health/records/{record.pk}/").content.decode()
    assert "Bố bị tăng huyết áp" in page and "31/12/2026" in page
