"""The stamp sheet: an A4 PDF of QR stamps whose every code, read back with zbar (not the library
that drew it) from the page rasterised by poppler, is the absolute trace address of its code on
the commune's configured address; the short code and the product's name (Vietnamese letters)
under each; margins an office printer keeps; a long series made by a durable job, by the worker
or by the code the worker runs."""
from __future__ import annotations

import datetime
import shutil
import subprocess
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from ecommerce import services, stamps, trace
from ecommerce.models import Lot, StampSheetJob, TraceCode
from jobs.models import JobState
from jobs.services import execute

HOST = "tule.localhost"
A4_POINTS = (595.28, 841.89)


def tools():
    for tool in ("pdftoppm", "zbarimg", "pdftotext", "pdfinfo"):
        assert shutil.which(tool), f"{tool} is missing: bin/test installs poppler-utils and zbar-tools"


def rasterise(data: bytes, folder: Path, dpi: int = 200) -> list[Path]:
    pdf = folder / "sheet.pdf"
    pdf.write_bytes(data)
    subprocess.run(["pdftoppm", "-r", str(dpi), "-png", str(pdf), str(folder / "page")], check=True)
    return sorted(folder.glob("page-*.png"))


def decode(page: Path, dpi: int = 200) -> list[str]:
    """The QR code of every stamp of the page, in the order of the grid (row by row), each cell
    read alone as a phone reads one stamp; empty cells are left out, unreadable ones are ''."""
    from PIL import Image

    image = Image.open(page)
    scale = dpi / 72
    cell_w = (A4_POINTS[0] - 2 * stamps.MARGIN) / stamps.COLUMNS
    cell_h = (A4_POINTS[1] - 2 * stamps.MARGIN - stamps.HEADER) / stamps.ROWS
    found = []
    for index in range(stamps.PER_PAGE):
        row, column = divmod(index, stamps.COLUMNS)
        left, top = stamps.MARGIN + column * cell_w, stamps.MARGIN + stamps.HEADER + row * cell_h
        cell = image.crop(tuple(round(v * scale) for v in (left, top, left + cell_w, top + cell_h)))
        if cell.convert("L").getextrema()[0] > 128:
            continue  # a blank cell after the last stamp
        path = page.with_name(f"{page.stem}-cell{index}.png")
        cell.save(path)
        out = subprocess.run(["zbarimg", "--raw", "-q", str(path)], capture_output=True, text=True)
        found.append(out.stdout.strip())
    return found


def pdf_text(data: bytes, folder: Path) -> str:
    pdf = folder / "text.pdf"
    pdf.write_bytes(data)
    return subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout


def pdf_info(data: bytes, folder: Path) -> dict:
    pdf = folder / "info.pdf"
    pdf.write_bytes(data)
    out = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    return dict(line.split(":", 1) for line in out.splitlines() if ":" in line)


@pytest.fixture
def series(market, in_commune, tule):
    """A lot of Tú Lệ's rice with 45 item codes (two pages of stamps)."""
    with in_commune(tule):
        lot = services.create_lot(market["seller"], market["rice"], number="NEP-2025-10",
                                  produced_on=timezone.localdate() - datetime.timedelta(days=5), quantity=450,
                                  unit="kg", item_codes=45)
        yield {**market, "lot": lot}


def test_every_stamp_decodes_to_the_trace_address_of_its_code(series, in_commune, tule, tmp_path):
    tools()
    with in_commune(tule):
        lot = series["lot"]
        chosen = stamps.selection(lot, serial_from=1, serial_to=45)
        data = stamps.render_lot(lot, chosen, commune=tule)
        codes = list(TraceCode.objects.filter(lot=lot, serial__isnull=False).select_related("lot__product")
                     .order_by("serial"))
        expected = sorted(f"http://tule.localhost/t/{code.code}/" for code in codes)
        assert expected == sorted(trace.trace_url(code) for code in codes)
    info = pdf_info(data, tmp_path)
    assert info["Pages"].strip() == "2"
    width, height = (float(v) for v in info["Page size"].split("pts")[0].split(" x "))
    assert (round(width, 2), round(height, 2)) == A4_POINTS
    pages = rasterise(data, tmp_path)
    decoded = [decode(page) for page in pages]
    assert [len(found) for found in decoded] == [40, 5]
    assert [url for found in decoded for url in found] == [f"http://tule.localhost/t/{code.code}/" for code in codes]
    assert sorted(url for found in decoded for url in found) == expected
    text = pdf_text(data, tmp_path)
    for code in codes:
        assert code.code in text
    assert "Gạo nếp Thử" in text and "Lô NEP-2025-10 · số 45" in text
    assert "Tem truy xuất nguồn gốc · Gạo nếp Thử · lô NEP-2025-10" in text and "trang 2/2" in text


def test_nothing_is_printed_in_the_margins_a_printer_cannot_reach(series, in_commune, tule, tmp_path):
    from PIL import Image

    tools()
    with in_commune(tule):
        data = stamps.render_lot(series["lot"], stamps.selection(series["lot"], copies=40), commune=tule)
    [page] = rasterise(data, tmp_path, dpi=100)
    image = Image.open(page).convert("L")
    edge = round(8 / 25.4 * 100)  # 8 mm at 100 dpi: the margins are 10 mm
    w, h = image.size
    for box in ((0, 0, w, edge), (0, h - edge, w, h), (0, 0, edge, h), (w - edge, 0, w, h)):
        assert image.crop(box).getextrema()[0] >= 250, box  # white
    assert image.getextrema()[0] < 50  # and the stamps are there


def test_copies_of_a_lot_with_a_gtin_carry_its_gs1_digital_link(series, in_commune, tule, tmp_path, settings):
    tools()
    settings.XASO_PUBLIC_SCHEME = "https"  # the configured address, whatever the request's
    with in_commune(tule):
        rice = series["rice"]
        rice.gtin = "08936012345674"
        rice.save(update_fields=["gtin"])
        lot = series["lot"]
        lot.refresh_from_db()
        data = stamps.render_lot(lot, stamps.selection(lot, copies=7), commune=tule)
        code = lot.codes.get(serial__isnull=True).code
    [page] = rasterise(data, tmp_path)
    assert decode(page) == ["https://tule.localhost/01/08936012345674/10/NEP-2025-10"] * 7
    assert pdf_text(data, tmp_path).count(code) == 7


def test_bad_selections_are_refused_with_a_reason(series, in_commune, tule):
    with in_commune(tule):
        lot = series["lot"]
        for kwargs, code in (({"copies": 0}, "out_of_range"), ({"copies": "x"}, "invalid_number"),
                             ({"copies": 5001}, "out_of_range"), ({"serial_from": 3, "serial_to": 2}, "invalid_range"),
                             ({"serial_from": 1, "serial_to": 46}, "out_of_range"),
                             ({"serial_from": -1, "serial_to": 2}, "invalid_number")):
            with pytest.raises(ValidationError) as refused:
                stamps.selection(lot, **kwargs)
            assert services.error_code(refused.value) == code, kwargs
        bare = services.create_lot(series["seller"], series["rice"], number="NEP-2", produced_on=timezone.localdate(),
                                   quantity=1, unit="kg")
        with pytest.raises(ValidationError) as none:
            stamps.selection(bare, serial_from=1)
        assert "chưa có mã sản phẩm" in str(none.value)
        services.suspend_producer(series["officer"], series["ours"], "Kiểm tra")
        lot.refresh_from_db()
        lot.product.producer.refresh_from_db()
        with pytest.raises(ValidationError) as suspended:
            stamps.selection(lot, copies=1)
        assert services.error_code(suspended.value) == "producer_suspended"


def test_a_commune_without_an_address_cannot_print(series, in_commune, tule):
    from communes.models import Domain

    Domain.objects.filter(tenant=tule).delete()
    tule.refresh_from_db()
    with in_commune(tule):
        with pytest.raises(ValidationError) as refused:
            stamps.render_lot(series["lot"], stamps.selection(series["lot"], copies=1), commune=tule)
    assert services.error_code(refused.value) == "no_address"


def test_the_lot_page_gives_a_short_sheet_at_once(series, client_for, tmp_path):
    tools()
    client = client_for(HOST, series["seller"])
    response = client.post(f"/ocop/lots/{series['lot'].pk}/stamps/", {"what": "items", "serial_from": "1",
                                                                        "serial_to": "12"})
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="tem-nep-2025-10-1-12.pdf"'
    [page] = rasterise(response.content, tmp_path)
    assert len(decode(page)) == 12
    refused = client.post(f"/ocop/lots/{series['lot'].pk}/stamps/", {"what": "items", "serial_from": "40",
                                                                       "serial_to": "60"})
    assert refused.status_code == 400 and "từ 1 đến 45" in refused.content.decode()
    rival = client_for(HOST, series["rival"]).post(f"/ocop/lots/{series['lot'].pk}/stamps/", {"what": "lot"})
    assert rival.status_code == 404


def test_a_long_series_is_a_job_whose_progress_the_page_shows(series, client_for, in_commune, tule, tmp_path,
                                                              django_capture_on_commit_callbacks):
    tools()
    lot = series["lot"]
    with in_commune(tule):
        services.issue_item_codes(series["seller"], lot, 155)  # 200 items
    client = client_for(HOST, series["seller"])
    with django_capture_on_commit_callbacks(execute=False) as sent:
        queued = client.post(f"/ocop/lots/{lot.pk}/stamps/", {"what": "items", "serial_from": "1", "serial_to": "200"})
    assert queued.status_code == 302 and len(sent) == 1  # the worker's message, after the commit
    page = client.get(f"/ocop/lots/{lot.pk}/")
    text = page.content.decode()
    assert 'id="job-progress"' in text and "Đang chuẩn bị tờ tem" in text
    assert f"/ocop/lots/{lot.pk}/stamps/progress/" in text
    with in_commune(tule):
        job = StampSheetJob.objects.get(lot=lot)
        assert (job.serial_from, job.serial_to, job.copies, job.requested_by_id) == (1, 200, 0, series["seller"].pk)
        assert execute(StampSheetJob, job.pk, tule.schema_name) == "succeeded"
        job.refresh_from_db()
        assert (job.state, job.stamps, job.pages, job.progress_percent) == (JobState.SUCCEEDED, 200, 5, 100)
        # Run again (a worker that died after writing the file): the same file, not another one.
        StampSheetJob.objects.filter(pk=job.pk).update(state=JobState.QUEUED)
        file_before = job.file
        assert execute(StampSheetJob, job.pk, tule.schema_name) == "succeeded"
        assert StampSheetJob.objects.get(pk=job.pk).file == file_before
    poll = client.get(f"/ocop/lots/{lot.pk}/stamps/progress/")
    assert poll.status_code == 302  # finished: back to the lot's page
    page = client.get(f"/ocop/lots/{lot.pk}/").content.decode()
    assert "200 tem, 5 trang" in page
    download = client.get(f"/ocop/lots/{lot.pk}/stamps/{job.pk}.pdf")
    assert download.status_code == 200
    data = b"".join(download.streaming_content)
    pages = rasterise(data, tmp_path)
    assert len(pages) == 5 and len(decode(pages[0])) == 40
    assert client_for(HOST, series["rival"]).get(f"/ocop/lots/{lot.pk}/stamps/{job.pk}.pdf").status_code == 404


@pytest.mark.celery
def test_the_worker_makes_a_long_sheet(worker, tule_live, tmp_path):
    """Committed rows and a real Celery worker: the job queued by the API is made by the worker."""
    from django_tenants.utils import tenant_context

    from tests.ecommerce.orders_live import committed_shop
    from tests.jobs.helpers import wait_for

    tools()
    with committed_shop(tag="stamps") as shop:
        with tenant_context(shop["commune"]):
            lot = services.create_lot(shop["seller"], shop["product"], number="LIVE-1", produced_on=timezone.localdate(),
                                      quantity=10, unit="kg", item_codes=130)
        try:
            from tests.conftest import host_client

            client = host_client(HOST, shop["seller"])
            queued = client.post(f"/api/v1/ocop/lots/{lot.pk}/stamp-sheets/", {"serial_from": 1, "serial_to": 130},
                                 content_type="application/json")
            assert queued.status_code == 202, queued.content
            job_id = queued.json()["id"]
            assert queued["Location"] == f"/api/v1/ocop/stamp-sheets/{job_id}/"

            def done():
                state = client.get(f"/api/v1/ocop/stamp-sheets/{job_id}/").json()
                return state if state["state"] in ("succeeded", "failed") else None

            state = wait_for(done, timeout=120, message="the stamp sheet made by the worker")
            assert state["state"] == "succeeded" and (state["stamps"], state["pages"]) == (130, 4), state["error"]
            pdf = client.get(state["pdf"])
            data = b"".join(pdf.streaming_content)
            pages = rasterise(data, tmp_path)
            assert [len(decode(page)) for page in pages] == [40, 40, 40, 10]
        finally:
            with tenant_context(shop["commune"]):
                StampSheetJob.objects.filter(lot_id=lot.pk).delete()
                TraceCode.objects.filter(lot_id=lot.pk).delete()
                lot.delete()
                Lot.history.model.objects.filter(id=lot.pk).delete()
