"""The health station's .xlsx files write text that begins like a formula as text: a village and
children named so, an import's refused row quoting such a value. Each export URL of the station
is listed in ``tests/trust/test_xlsx_export.py`` (HEALTH_EXPORTS) and checked here."""
from __future__ import annotations

import datetime
import io

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from tests.trust.test_xlsx_export import HEALTH_EXPORTS, HOSTILE

pytestmark = pytest.mark.django_db


def cells(response) -> list:
    assert response.status_code == 200, response.content[:300]
    assert "spreadsheetml" in response["Content-Type"]
    workbook = load_workbook(io.BytesIO(response.content))
    return [cell for sheet in workbook.worksheets for row in sheet.iter_rows() for cell in row
            if cell.value is not None]


def test_every_health_export_writes_text_as_text(station, people, tule, in_commune, client_for):
    from health.models import HealthRecord, RecordImport
    from population import services
    from population.models import Household, Resident, Village

    today = timezone.localdate()
    with in_commune(tule):
        village = services.save_village(Village(name=HOSTILE[0]))
        household = services.save_household(Household(code="TY-XLSX", village=village, phone="0912000222",
                                                       address=HOSTILE[1]))
        for index, name in enumerate(HOSTILE):  # children of two months: their doses are due this month
            child = services.save_resident(Resident(
                household=household, full_name=name, birth_date=today - datetime.timedelta(days=62 + index),
                sex="male", relation="head" if index == 0 else "child", ethnicity="01"))
            HealthRecord.objects.create(resident=child, opened_on=today)
        refused = RecordImport.objects.create(file_name="ho-so.xlsx", rows=2, good_rows=1,
                                              errors=[{"row": 2, "field": HOSTILE[2], "message": HOSTILE[3]}])
    nurse = client_for("tule.localhost", people["nurse"])
    month = today.strftime("%Y-%m")
    urls = {
        "/health/records/import/1/errors.xlsx": f"/health/records/import/{refused.pk}/errors.xlsx",
        "/health/records/import/template.xlsx": "/health/records/import/template.xlsx",
        "/health/reports/xlsx/": f"/health/reports/xlsx/?month={month}",
        "/health/vaccinations/due/xlsx/": f"/health/vaccinations/due/xlsx/?month={month}",
        "/health/coverage/": "/health/coverage/?format=xlsx",
    }
    assert {path for _urlconf, path in HEALTH_EXPORTS} == set(urls)
    expected = {
        "/health/records/import/1/errors.xlsx": {HOSTILE[2], HOSTILE[3]},
        "/health/vaccinations/due/xlsx/": set(HOSTILE),  # the children, their village
        "/health/coverage/": {HOSTILE[0]},  # the village
    }
    for pattern, url in urls.items():
        found = cells(nurse.get(url))
        values = {cell.value for cell in found}
        assert expected.get(pattern, set()) <= values, (url, expected.get(pattern, set()) - values)
        for cell in found:
            if isinstance(cell.value, str) and cell.value[:1] in "=+-@":
                assert cell.data_type == "s" and cell.quotePrefix, (url, cell.coordinate, cell.value)
