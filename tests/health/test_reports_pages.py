"""The monthly report's page, PDF and .xlsx (real files, their text read back), its API, and the
deaths register: who may open each (a role matrix over every endpoint), bad input, the reads
logged, and another commune's staff seeing none of Tú Lệ's rows."""
from __future__ import annotations

import datetime
import io
import subprocess

import pytest
from django.utils import timezone

from communes.models import Role

pytestmark = pytest.mark.django_db
HOST = "tule.localhost"


def pdftotext(data: bytes) -> str:
    return subprocess.run(["pdftotext", "-layout", "-enc", "UTF-8", "-", "-"], input=data, capture_output=True,
                          check=True).stdout.decode("utf-8")


def last_month() -> str:
    return f"{(timezone.localdate().replace(day=1) - datetime.timedelta(days=1)):%Y-%m}"


@pytest.fixture
def month_rows(station, tule, in_commune):
    """Last month: two visits of the grandfather (one referred), a death of the father."""
    from health.models import Death, Visit

    first = timezone.localdate().replace(day=1) - datetime.timedelta(days=1)
    first = first.replace(day=1)
    with in_commune(tule):
        record = station["records"]["grandfather"]
        for day, referred in ((first + datetime.timedelta(days=2), True), (first + datetime.timedelta(days=5), False)):
            Visit.objects.create(record=record, reason="Đau đầu", referred=referred,
                                 visited_at=timezone.make_aware(datetime.datetime.combine(day, datetime.time(9))))
        Death.objects.create(resident=station["father"], died_on=first + datetime.timedelta(days=3), cause_icd10="I21")
    return first


@pytest.fixture
def matrix_users(people, make_user, tule, yenhoa):
    from communes.models import SupervisingUnit

    return {**people,
            "vice": make_user("health_vice", roles={tule: [Role.VICE_CHAIRMAN]}),
            "supervisor": make_user("health_sup", units=[SupervisingUnit.objects.get(code="15")]),
            "yenhoa_nurse": make_user("health_yh_nurse", roles={yenhoa: [Role.HEALTH_STAFF]}),
            "anonymous": None}


REPORT_PAGES = ["/health/reports/", "/health/reports/pdf/", "/health/reports/xlsx/"]
STAFF_PAGES = ["/health/deaths/"]


@pytest.mark.parametrize("who, report, staff", [
    ("nurse", 200, 200), ("chairman", 200, 403), ("vice", 200, 403), ("radio", 403, 403), ("onestop", 403, 403),
    ("supervisor", 403, 403), ("citizen", 403, 403), ("yenhoa_nurse", 403, 403), ("anonymous", 302, 302),
])
def test_role_matrix_of_the_pages_and_the_api(matrix_users, month_rows, station, client_for, who, report, staff):
    client = client_for(HOST, matrix_users[who])
    for url in REPORT_PAGES:
        assert client.get(url, {"month": last_month()}).status_code == report, url
    death_form = f"/health/deaths/new/{station['grandfather'].pk}/"
    for url in STAFF_PAGES + [death_form]:
        assert client.get(url).status_code == staff, url
    response = client.post(death_form, {"died_on": "01/01/2026"})
    assert response.status_code in ({staff, 302} if staff == 200 else {staff}), response.status_code
    api = client.get("/api/v1/health/reports/monthly/", {"month": last_month()})
    expected = {200} if report == 200 else {401, 403} if who == "anonymous" else {403}
    assert api.status_code in expected
    if api.status_code != 200:
        assert set(api.json()) == {"code", "detail", "fields"}


def test_the_page_shows_the_figures_with_charts_in_vietnamese(month_rows, people, client_for):
    html = client_for(HOST, people["chairman"]).get("/health/reports/", {"month": last_month()}).content.decode()
    assert "Báo cáo tháng" in html and "<svg" in html and "Lượt khám" in html
    assert "Lò Văn" not in html and "015058001234" not in html  # aggregates only
    assert 'id="section-deaths"' in html


def test_pdf_and_xlsx_are_real_files_with_the_figures(month_rows, people, client_for):
    from openpyxl import load_workbook

    client = client_for(HOST, people["nurse"])
    response = client.get("/health/reports/pdf/", {"month": last_month()})
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    text = " ".join(pdftotext(response.content).split())
    month = f"{month_rows:%m/%Y}"
    assert f"BÁO CÁO THÁNG CỦA TRẠM Y TẾ, {month}" in text
    assert "Lượt khám trong tháng 2" in text and "Chuyển lên tuyến trên 1" in text
    assert "Số người tử vong trong tháng 1" in text and "Tuổi 15–59 1" in text
    assert "Lò Văn" not in text
    response = client.get("/health/reports/xlsx/", {"month": last_month()})
    assert response["Content-Disposition"].endswith('.xlsx"')
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = {row[0]: row[1] for row in sheet.iter_rows(values_only=True) if row and row[0]}
    values = list(rows.values())
    assert 2 in values and 1 in values
    labels = " ".join(str(key) for key in rows)
    assert "Lượt khám" in labels and "Lò Văn" not in labels


@pytest.mark.parametrize("month", ["2026-13", "13/2026", "abc", "1999-01", "2026-1x", "9999-01"])
def test_a_bad_month_is_refused_in_vietnamese(people, client_for, month):
    client = client_for(HOST, people["nurse"])
    response = client.get("/health/reports/", {"month": month})
    assert response.status_code == 400
    assert "Nhập tháng" in response.content.decode()
    api = client.get("/api/v1/health/reports/monthly/", {"month": month})
    assert api.status_code == 400 and api.json()["code"] == "invalid" and "month" in api.json()["fields"]


def test_a_month_not_begun_is_refused(people, client_for):
    following = (timezone.localdate().replace(day=28) + datetime.timedelta(days=5)).strftime("%Y-%m")
    client = client_for(HOST, people["nurse"])
    assert client.get("/health/reports/", {"month": following}).status_code == 400
    assert client.get("/api/v1/health/reports/monthly/", {"month": following}).status_code == 400


def test_the_api_gives_the_figures_as_numbers(month_rows, people, client_for):
    body = client_for(HOST, people["chairman"]).get("/api/v1/health/reports/monthly/",
                                                    {"month": last_month()}).json()
    assert body["month"] == last_month()
    assert body["figures"]["visits"] == 2 and body["figures"]["visits_referred"] == 1
    assert body["figures"]["deaths"] == 1 and body["figures"]["deaths_age_15_59"] == 1


def test_another_commune_sees_none_of_tu_le_s_rows(month_rows, matrix_users, make_user, yenhoa, client_for):
    client = client_for("yenhoa.localhost", matrix_users["yenhoa_nurse"])
    body = client.get("/api/v1/health/reports/monthly/", {"month": last_month()}).json()
    assert body["figures"]["visits"] == 0 and body["figures"]["deaths"] == 0
    html = client.get("/health/deaths/", {"month": last_month()}).content.decode()
    assert "Lò Văn Bố" not in html


def test_recording_a_death_checks_the_date_the_code_and_the_resident(station, people, client_for, tule, in_commune):
    from health.models import Death
    from population.models import AccessLog

    client = client_for(HOST, people["nurse"])
    url = f"/health/deaths/new/{station['grandfather'].pk}/"
    tomorrow = (timezone.localdate() + datetime.timedelta(days=1)).strftime("%d/%m/%Y")
    cases = [
        ({"died_on": tomorrow}, "tương lai"),
        ({"died_on": "01/01/1950"}, "trước ngày sinh"),
        ({"died_on": "31/02/2026"}, "dd/mm/yyyy"),
        ({"died_on": ""}, "dd/mm/yyyy"),
        ({"died_on": "01/12/2026", "cause_icd10": "Q99.99"}, "Q99.99"),
        ({"died_on": "01/12/2026", "place": "x" * 201}, "201"),
    ]
    for data, message in cases:
        response = client.post(url, data)
        assert response.status_code == 400, data
        html = response.content.decode()
        assert message in html, (data, html[html.find("error-summary"):][:600])
        assert 'value="' + data["died_on"] + '"' in html or not data["died_on"]  # what was typed is kept
    with in_commune(tule):
        assert not Death.objects.exists()
    day = (timezone.localdate() - datetime.timedelta(days=3)).strftime("%d/%m/%Y")
    response = client.post(url, {"died_on": day, "cause_icd10": "i10", "place": "Tại nhà"})
    assert response.status_code == 302
    with in_commune(tule):
        death = Death.objects.get()
        assert (death.cause_icd10, death.place, death.staff_id) == ("I10", "Tại nhà", people["nurse"].pk)
    again = client.post(url, {"died_on": day})
    assert "đã được ghi" in again.content.decode() or again.status_code == 200
    listed = client.get("/health/deaths/", {"month": f"{timezone.localdate() - datetime.timedelta(days=3):%Y-%m}"})
    assert "Lò Văn Ông" in listed.content.decode()
    found = client.get("/health/deaths/", {"q": "lo van ong"}).content.decode()
    assert f"/health/deaths/new/{station['grandfather'].pk}/" in found
    with in_commune(tule):
        assert Death.objects.count() == 1
        assert AccessLog.objects.filter(object_type="health_record", user=people["nurse"],
                                        description__startswith="deaths of").exists()
        assert AccessLog.objects.filter(action="search", description="deaths: lo van ong").exists()


def test_an_unknown_resident_is_404(people, client_for, station):
    client = client_for(HOST, people["nurse"])
    assert client.get("/health/deaths/new/999999999/").status_code == 404
    assert client.get(f"/health/deaths/new/{2**63}/").status_code == 404
