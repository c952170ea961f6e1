"""Visits in the REST API: a visit written whole, each bad input a 400 with a machine-readable code
and nothing written, every read of a visit logged, the ICD-10 search and the drug list, a role
matrix over every endpoint, and another commune (or a supervising unit) reading nothing."""
from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

pytestmark = pytest.mark.django_db

HOST = "tule.localhost"


def body(record_row, **changes):
    data = {
        "record": record_row.pk, "visited_at": (timezone.now() - datetime.timedelta(minutes=10)).isoformat(),
        "reason": "Đau lưng", "temperature_c": "36.8", "pulse": 76, "systolic": 150, "diastolic": 95,
        "diagnoses": [{"code": "M54.5", "primary": True}, {"code": "i10"}],
        "prescriptions": [{"drug_code": "PARA500", "dose": "1 viên x 3 lần/ngày", "days": 5, "quantity": 15},
                          {"text": "Cao dán giảm đau", "dose": "Dán ngày 1 lần"}],
        "payment": "paid",
    }
    data.update(changes)
    return data


def counts(in_commune, tule):
    from health.models import Prescription, Visit, VisitDiagnosis

    with in_commune(tule):
        return Visit.objects.count(), VisitDiagnosis.objects.count(), Prescription.objects.count()


def logs(in_commune, tule, **filters):
    from population.models import AccessLog

    with in_commune(tule):
        return list(AccessLog.objects.filter(object_type="health_record", channel="api", **filters))


def test_a_visit_is_written_and_read_through_the_api(station, tule, in_commune, people, client_for):
    record = station["records"]["grandfather"]
    api = client_for(HOST, people["nurse"])
    created = api.post("/api/v1/health/visits/", body(record), content_type="application/json")
    assert created.status_code == 201, created.content
    data = created.json()
    assert [(d["icd10"], d["primary"]) for d in data["diagnoses"]] == [("M54.5", True), ("I10", False)]
    assert data["diagnoses"][1]["title"] == "Tăng huyết áp vô căn (nguyên phát)"
    assert [p["text"] for p in data["prescriptions"]] == ["Paracetamol 500 mg (viên nén)", "Cao dán giảm đau"]
    assert data["temperature_c"] == "36.8" and data["staff_name"] == "Lò Thị Y"
    assert counts(in_commune, tule) == (1, 2, 2)

    detail = api.get(f"/api/v1/health/visits/{data['id']}/")
    assert detail.status_code == 200 and detail.json()["reason"] == "Đau lưng"
    listing = api.get(f"/api/v1/health/visits/?record={record.pk}")
    assert listing.json()["count"] == 1 and listing.json()["results"][0]["main_diagnosis"] == "M54.5"
    assert api.get("/api/v1/health/visits/?code=I10").json()["count"] == 1
    assert api.get("/api/v1/health/visits/?code=J06").json()["count"] == 0
    assert api.get("/api/v1/health/visits/?payment=insurance").json()["count"] == 0
    assert api.get(f"/api/v1/health/visits/?month={timezone.localdate():%Y-%m}").json()["count"] == 1
    reads = [line.description for line in logs(in_commune, tule, object_id=str(record.pk), action="view")]
    assert reads.count("visit") == 2 and reads.count("visits (list)") == 3  # create, detail; the lists that found it


BAD = [
    ("baby", {"visited_at": "2026-05-01T09:00:00+07:00"}, "visit_before_birth", "visited_at"),
    ("grandfather", {"visited_at": "FUTURE"}, "visit_in_future", "visited_at"),
    ("grandfather", {"temperature_c": "44.0"}, "vital_out_of_range", "temperature_c"),
    ("grandfather", {"systolic": 90, "diastolic": 100}, "vital_out_of_range", "systolic"),
    ("grandfather", {"systolic": 150, "diastolic": None}, "vital_out_of_range", "diastolic"),
    ("grandfather", {"diagnoses": [{"code": "Q99.9X", "primary": True}]}, "unknown_icd10", "diagnoses"),
    ("grandfather", {"diagnoses": [{"code": "XYZ", "primary": True}]}, "unknown_icd10", "diagnoses"),
    ("grandfather", {"diagnoses": [{"code": "I10", "primary": True}, {"code": "M54.5", "primary": True}]},
     "several_main_diagnoses", "diagnoses"),
    ("grandfather", {"diagnoses": [{"code": "I10"}, {"code": "I10", "primary": True}]}, "duplicate_icd10", "diagnoses"),
    ("grandfather", {"referred": True, "referral_reason": "Tăng huyết áp không kiểm soát"}, "referral_place_required",
     "referred_to"),
    ("grandfather", {"referred": True, "referred_to": "Bệnh viện tỉnh"}, "referral_reason_required",
     "referral_reason"),
    ("grandfather", {"payment": "insurance"}, "insurance_not_valid", "payment"),
    ("grandfather", {"prescriptions": [{"drug_code": "PARA500"}, {"drug_code": "KHONGCO"}]}, "prescription_invalid",
     "prescriptions"),
    ("grandfather", {"prescriptions": [{"dose": "1 viên"}]}, "prescription_invalid", "prescriptions"),
    ("grandfather", {"pulse": "nhanh"}, "invalid", "pulse"),
    ("grandfather", {"record": 999999}, "invalid", "record"),
    ("grandfather", {"reason": ""}, "invalid", "reason"),
    ("grandfather", {"visited_at": "07/12/2026 25:00"}, "invalid", "visited_at"),
    ("grandfather", {"payment": "cash"}, "invalid", "payment"),
    ("grandfather", {"visited_at": "9999-12-31T23:59:00Z"}, "invalid", "visited_at"),
    ("grandfather", {"visited_at": "1800-01-01T08:00:00+07:00"}, "date_invalid", "visited_at"),
]


@pytest.mark.parametrize("who, changes, code, field", BAD)
def test_bad_input_is_a_400_with_its_code_and_nothing_is_written(station, tule, in_commune, people, client_for,
                                                                 who, changes, code, field):
    if changes.get("visited_at") == "FUTURE":
        changes = {**changes, "visited_at": (timezone.now() + datetime.timedelta(hours=2)).isoformat()}
    response = client_for(HOST, people["nurse"]).post(
        "/api/v1/health/visits/", body(station["records"][who], **changes), content_type="application/json")
    assert response.status_code == 400, response.content
    error = response.json()
    assert error["code"] == code and field in error["fields"], error
    assert error["detail"] and any(ch in error["detail"] for ch in "ăâđêôơưáàảãạéèẻẽẹíìóòỏõọúùủũụýỳ"), error
    assert counts(in_commune, tule) == (0, 0, 0)


def test_bad_query_parameters_are_400s(station, people, client_for):
    api = client_for(HOST, people["nurse"])
    assert api.get("/api/v1/health/visits/?day=31/12/9999").json()["count"] == 0
    assert api.get("/api/v1/health/visits/?day=01/01/0001&code=I10;--").json()["count"] == 0
    for query in ("month=2026-13", "day=31/02/2026", "record=abc", "payment=cash", "month=x"):
        response = api.get(f"/api/v1/health/visits/?{query}")
        assert response.status_code == 400 and response.json()["code"] == "invalid", query
    assert api.get("/api/v1/health/visits/99999999999999999999/").status_code == 404


def test_the_icd10_search_and_the_drug_list(station, people, client_for):
    api = client_for(HOST, people["nurse"])
    found = api.get("/api/v1/health/icd10/?q=tieu chay").json()
    assert {"code": "A09", "chapter": "I", "block": "A00-A09"}.items() <= next(c for c in found if c["code"] == "A09").items()
    assert [c["code"] for c in api.get("/api/v1/health/icd10/?q=Z34").json()] == ["Z34.0", "Z34.8", "Z34.9"]
    assert len(api.get("/api/v1/health/icd10/").json()) >= 150
    drugs = api.get("/api/v1/health/drugs/").json()
    assert {"code": "ORS", "name": "Oresol (muối bù nước uống)"}.items() <= next(d for d in drugs if d["code"] == "ORS").items()
    assert [d["code"] for d in api.get("/api/v1/health/drugs/?q=amlodipin").json()] == ["AMLO5"]


ENDPOINTS = [("get", "/api/v1/health/visits/"), ("get", "/api/v1/health/visits/{visit}/"),
             ("post", "/api/v1/health/visits/"), ("get", "/api/v1/health/icd10/?q=I10"),
             ("get", "/api/v1/health/drugs/")]


@pytest.mark.parametrize("method, path", ENDPOINTS)
@pytest.mark.parametrize("who, expected", [("nurse", None), ("chairman", 403), ("radio", 403), ("onestop", 403),
                                           ("supervisor", 403), ("citizen", 403), ("linked", 403),
                                           ("anonymous", (401, 403))])
def test_role_matrix_over_every_endpoint(station, tule, in_commune, people, client_for, make_user, method, path,
                                         who, expected):
    from health.models import CitizenLink, Visit
    from health.visits import DiagnosisLine, VisitData, create_visit

    record = station["records"]["grandfather"]
    with in_commune(tule):
        visit = create_visit(None, VisitData(record=record, visited_at=timezone.now(), reason="Khám",
                                             diagnoses=[DiagnosisLine("I10", True)], payment="paid"))
        if who == "linked":
            CitizenLink.objects.create(user=people["citizen"], resident=record.resident, method="station")
    users = {**people, "supervisor": make_user("health_sup_va", units=[tule.supervising_unit]),
             "linked": people["citizen"], "anonymous": None}
    client = client_for(HOST, users[who])
    url = path.format(visit=visit.pk)
    response = client.post(url, body(record), content_type="application/json") if method == "post" else client.get(url)
    if expected is None:
        assert response.status_code == (201 if method == "post" else 200)
        return
    assert response.status_code in (expected if isinstance(expected, tuple) else (expected,))
    assert set(response.json()) == {"code", "detail", "fields"}
    assert "Lò Văn Ông" not in response.content.decode()
    with in_commune(tule):
        assert Visit.objects.count() == 1


def test_no_visit_reaches_the_national_host_or_another_commune(station, tule, yenhoa, in_commune, make_user,
                                                               client_for):
    from health.visits import DiagnosisLine, VisitData, create_visit

    with in_commune(tule):
        visit = create_visit(None, VisitData(record=station["records"]["grandfather"], visited_at=timezone.now(),
                                             reason="Khám", diagnoses=[DiagnosisLine("I10", True)], payment="paid"))
    supervisor = make_user("health_sup_vn", units=[tule.supervising_unit])
    national = client_for("localhost", supervisor)
    for url in (f"/api/v1/communes/{tule.code}/health/visits/", f"/api/v1/communes/{tule.code}/health/visits/{visit.pk}/",
                f"/api/v1/communes/{tule.code}/health/icd10/?q=I10"):
        response = national.get(url)
        assert response.status_code in (403, 404) and "Lò Văn Ông" not in response.content.decode()
    other = make_user("yenhoa_nurse_va", roles={yenhoa: ["health_staff"]})
    assert client_for(HOST, other).get("/api/v1/health/visits/").status_code == 403
    own = client_for("yenhoa.localhost", other)
    assert own.get(f"/api/v1/health/visits/{visit.pk}/").status_code == 404
    assert own.get(f"/api/v1/health/visits/?month={timezone.localdate():%Y-%m}").json()["count"] == 0
