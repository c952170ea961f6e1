"""The structure's .xlsx files (an import's refused rows, the class list's template) write text
that begins like a formula as text. The lead lists these two URLs in tests/trust/test_xlsx_export.py
(``/schools/imports/1/refused.xlsx`` and ``/schools/imports/template.xlsx``); this test checks them."""
from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook

from education.models import StudentImport
from tests.trust.test_xlsx_export import HOSTILE

pytestmark = pytest.mark.django_db(transaction=False)
URLS = {"/schools/imports/1/refused.xlsx", "/schools/imports/template.xlsx"}


def cells(response) -> list:
    assert response.status_code == 200, response.content[:300]
    assert "spreadsheetml" in response["Content-Type"]
    workbook = load_workbook(io.BytesIO(response.content))
    return [cell for sheet in workbook.worksheets for row in sheet.iter_rows() for cell in row
            if cell.value is not None]


def test_the_structure_exports_write_text_as_text(tule, in_commune, schoolyard, school_people, client_for):
    from tests.trust.url_walk import routes

    exported = {route.path() for route in routes("config.urls_tenant")
                if route.path().startswith("/schools/") and "xlsx" in route.path()
                and route.callback.__module__ == "education.structure_views"}
    assert exported == URLS
    with in_commune(tule):
        refused = StudentImport.objects.create(
            school_class=schoolyard["class6b"], file_name="lop.xlsx",
            errors=[{"row": 2, "field": HOSTILE[0], "message": HOSTILE[1]},
                    {"row": 3, "field": HOSTILE[2], "message": HOSTILE[3]}])
    clerk = client_for("tule.localhost", school_people["clerk"])
    found = cells(clerk.get(f"/schools/imports/{refused.pk}/refused.xlsx"))
    assert set(HOSTILE) <= {cell.value for cell in found}
    found += cells(clerk.get("/schools/imports/template.xlsx"))
    for cell in found:
        if isinstance(cell.value, str) and cell.value[:1] in "=+-@":
            assert cell.data_type == "s" and cell.quotePrefix, (cell.coordinate, cell.value)
    with in_commune(tule):
        from population.models import AccessLog

        assert AccessLog.objects.filter(action="export", user_id=school_people["clerk"].pk).exists()
