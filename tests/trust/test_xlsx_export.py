"""Every .xlsx the portal writes stores text as text: a name, a subject or a note that begins
with ``=``, ``+``, ``-`` or ``@`` is a string cell, never a live formula.

The list of exports is checked against the URL resolvers of both hosts: a new export URL
(``…xlsx…`` or ``…export…``) that this test does not download fails it.
"""
from __future__ import annotations

import datetime
import io

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from communes.models import Role, SupervisingUnit
from tests.trust.url_walk import routes

HOSTILE = ["=HYPERLINK(\"http://evil.example/\";\"Bấm\")", "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(1+1)"]

# Every export URL of both hosts, as the resolver names them, and the URL this test downloads.
EXPORTS = {
    ("config.urls_tenant", "/population/residents/export.xlsx"): "/population/residents/export.xlsx",
    ("config.urls_tenant", "/api/v1/residents/export/"): "/api/v1/residents/export/",
    ("config.urls_tenant", "/documents/registers/outgoing.xlsx"): "/documents/registers/outgoing.xlsx",
    ("config.urls_tenant", "/documents/registers/incoming.xlsx"): "/documents/registers/incoming.xlsx",
    ("config.urls_tenant", "/api/v1/documents/registers/outgoing/xlsx/"): "/api/v1/documents/registers/outgoing/xlsx/",
    ("config.urls_tenant", "/api/v1/documents/registers/incoming/xlsx/"): "/api/v1/documents/registers/incoming/xlsx/",
    ("config.urls_tenant", "/onestop/register.xlsx"): "/onestop/register.xlsx",
    ("config.urls_public", "/api/v1/communes/1/residents/export/"): "/api/v1/communes/04630/residents/export/",
    ("config.urls_public", "/api/v1/communes/1/documents/registers/outgoing/xlsx/"):
        "/api/v1/communes/04630/documents/registers/outgoing/xlsx/",
    ("config.urls_public", "/api/v1/communes/1/documents/registers/incoming/xlsx/"):
        "/api/v1/communes/04630/documents/registers/incoming/xlsx/",
}

# Exports of figures: the text in them is names (an official, a cluster, a typed document type),
# each checked by ``test_figure_exports_write_names_as_text``.
FIGURE_EXPORTS = {
    ("config.urls_tenant", "/onestop/statistics.xlsx"): "/onestop/statistics.xlsx",
    ("config.urls_tenant", "/documents/statistics.xlsx"): "/documents/statistics.xlsx",
    ("config.urls_tenant", "/radio/reports.xlsx"): "/radio/reports.xlsx",
}

# The health station's exports, checked with a village and children named like formulas by
# ``tests/health/test_exports_text.py`` (the coverage's .xlsx is the coverage page with
# ``?format=xlsx``).
HEALTH_EXPORTS = {
    ("config.urls_tenant", "/health/records/import/1/errors.xlsx"),
    ("config.urls_tenant", "/health/records/import/template.xlsx"),
    ("config.urls_tenant", "/health/reports/xlsx/"),
    ("config.urls_tenant", "/health/vaccinations/due/xlsx/"),
    ("config.urls_tenant", "/health/coverage/"),
}

# The schools' exports, each checked with names that begin like formulas by the part's own test
# (tests/education/test_structure_exports.py, test_attendance_exports_text.py, test_fees_pages.py).
EDUCATION_EXPORTS = {
    ("config.urls_tenant", "/schools/imports/1/refused.xlsx"),
    ("config.urls_tenant", "/schools/imports/template.xlsx"),
    ("config.urls_tenant", "/schools/classes/1/attendance/month/xlsx/"),
    ("config.urls_tenant", "/schools/attendance/school/1/xlsx/"),
    ("config.urls_tenant", "/schools/fees/1/arrears.xlsx"),
}


def _export_paths(urlconf: str) -> set[str]:
    found = set()
    for route in routes(urlconf):
        path = route.path()
        if ("xlsx" in path or "export" in path) and "schema" not in path:
            found.add(path)
    return found


def test_the_list_of_exports_is_every_export_of_both_hosts():
    listed = ({(urlconf, path) for urlconf, path in EXPORTS} | set(FIGURE_EXPORTS) | HEALTH_EXPORTS
              | EDUCATION_EXPORTS)
    for urlconf in ("config.urls_tenant", "config.urls_public"):
        for path in _export_paths(urlconf):
            assert (urlconf, path) in listed, f"{path} ({urlconf}) writes a file this test does not check"


@pytest.fixture
def hostile_data(tule, make_user, in_commune, settings, tmp_path):
    """Residents, households, documents and dossiers whose text begins like a formula."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    from documents import services as document_services
    from documents.models import DocumentType, IncomingDocument, OutgoingDocument
    from onestop.models import Procedure
    from population import services
    from population.models import Household, Resident, Village
    from tests.onestop.helpers import applicant, received_dossier

    officer = make_user("xlsx_officer", roles={tule: [Role.ONESTOP_OFFICER]})
    clerk = make_user("xlsx_clerk", roles={tule: [Role.CLERK]})
    with in_commune(tule):
        village = services.save_village(Village(name="Bản Lướt", kind=Village.Kind.BAN))
        household = services.save_household(Household(code="TL-001", village=village, address=HOSTILE[1]))
        for index, name in enumerate(HOSTILE):
            services.save_resident(Resident(
                household=household, full_name=name, birth_date=datetime.date(1990 + index, 1, 2), sex="male",
                ethnicity="01", relation="head" if index == 0 else "child",
            ))
        congvan = DocumentType.objects.get(code="cong-van")
        arrived = timezone.localtime() - datetime.timedelta(minutes=1)  # a moment ago, whatever the hour
        today = arrived.date()
        for index, text in enumerate(HOSTILE, start=1):
            OutgoingDocument.objects.create(
                doc_type=congvan, subject=text, signer_name=text, number=index, number_year=today.year,
                sequence_key="x", number_symbol=f"{index:02d}/UBND-VP", issued_on=today, note=text,
            )
            document_services.register_incoming(IncomingDocument(
                arrived_at=arrived, sender_org=text,
                original_number_symbol=f"{index}/UBND", document_date=today, doc_type=congvan, subject=text,
            ), user=clerk)
        procedure = Procedure.objects.get(code="HT-02", is_current=True)
        for index, text in enumerate(HOSTILE):
            received_dossier(procedure, officer, applicant=applicant(name=text, address=text,
                                                                      id_number=f"01509000{index:04d}"))
    return {"officer": officer, "clerk": clerk}


def _text_cells(response) -> list:
    assert response.status_code == 200, response.content[:300]
    assert "spreadsheetml" in response["Content-Type"]
    workbook = load_workbook(io.BytesIO(response.content))
    return [cell for sheet in workbook.worksheets for row in sheet.iter_rows() for cell in row if cell.value is not None]


def test_every_export_writes_text_as_text(hostile_data, make_user, tule, client_for):
    specialist = make_user("xlsx_specialist", roles={tule: [Role.SPECIALIST, Role.CLERK, Role.ONESTOP_OFFICER,
                                                            Role.CHAIRMAN]})
    staff = make_user("xlsx_staff", units=[SupervisingUnit.objects.get(code="15")])
    clients = {"config.urls_tenant": client_for("tule.localhost", specialist, second_factor=True),
               "config.urls_public": client_for("localhost", staff)}
    for (urlconf, _pattern), url in EXPORTS.items():
        cells = _text_cells(clients[urlconf].get(url))
        found = {cell.value for cell in cells} & set(HOSTILE)
        assert found == set(HOSTILE), f"{url}: {found}"
        for cell in cells:
            if isinstance(cell.value, str) and cell.value[:1] in "=+-@":
                assert cell.data_type == "s", (url, cell.coordinate, cell.value)
                assert cell.value in HOSTILE or not cell.value.startswith("="), (url, cell.value)


def test_the_helper_keeps_values_exactly_and_dates_as_dates():
    from core import xlsx

    workbook = xlsx.new_workbook(write_only=True)
    sheet = workbook.create_sheet("x")
    values = [*HOSTILE, "\tTab", "\rCR", "ok", 7, datetime.date(2026, 4, 3), None]
    xlsx.append(sheet, values)
    [row] = load_workbook(io.BytesIO(xlsx.save(workbook))).active.iter_rows()
    assert [c.value for c in row[:4]] == HOSTILE and all(c.data_type == "s" for c in row[:7])
    assert row[4].value == "\tTab" and row[5].value == "CR"  # a carriage return is dropped
    assert all(c.quotePrefix for c in row[:5]) and not row[6].quotePrefix
    assert row[7].value == 7 and row[7].data_type == "n"
    assert row[8].value.date() == datetime.date(2026, 4, 3) and row[8].number_format == "DD/MM/YYYY"


def test_figure_exports_write_names_as_text(make_user, tule, in_commune, client_for, settings, tmp_path):
    """An official whose name begins like a formula received a dossier and handles an incoming
    document whose typed type does too; a cluster is named so: the figures' workbooks keep
    each as a string cell."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    from broadcasting.models import Cluster
    from documents import services as document_services
    from documents.models import IncomingDocument
    from onestop.models import Procedure
    from population.models import Village
    from tests.onestop.helpers import received_dossier

    officer = make_user("xlsx_fig_officer", roles={tule: [Role.ONESTOP_OFFICER]}, full_name=HOSTILE[0])
    clerk = make_user("xlsx_fig_clerk", roles={tule: [Role.CLERK]}, full_name=HOSTILE[2])
    everyone = make_user("xlsx_fig_reader", roles={tule: [Role.CHAIRMAN]})
    arrived = timezone.localtime() - datetime.timedelta(minutes=1)  # a moment ago, whatever the hour
    with in_commune(tule):
        received_dossier(Procedure.objects.get(code="HT-02", is_current=True), officer)
        incoming = document_services.register_incoming(IncomingDocument(
            arrived_at=arrived, sender_org="UBND tỉnh",
            document_date=arrived.date(), type_name=HOSTILE[1], subject="Về việc thử",
        ), user=clerk)
        IncomingDocument.objects.filter(pk=incoming.pk).update(
            state="assigned", lead_handler=clerk, deadline=timezone.now() + datetime.timedelta(days=3))
        Cluster.objects.create(name=HOSTILE[3], village=Village.objects.create(name="Bản Phạ"))
    client = client_for("tule.localhost", everyone, second_factor=True)
    expected = {"/onestop/statistics.xlsx": HOSTILE[0], "/documents/statistics.xlsx": HOSTILE[1],
                "/radio/reports.xlsx": HOSTILE[3]}
    for (_urlconf, _pattern), url in FIGURE_EXPORTS.items():
        cells = _text_cells(client.get(url))
        assert expected[url] in {cell.value for cell in cells}, url
        for cell in cells:
            if isinstance(cell.value, str) and cell.value[:1] in "=+-@":
                assert cell.data_type == "s", (url, cell.coordinate, cell.value)
                assert cell.value in HOSTILE, (url, cell.value)
    handlers = _text_cells(client.get("/documents/statistics.xlsx"))
    assert HOSTILE[2] in {cell.value for cell in handlers}  # the lead handler's name, on the handlers' sheet
