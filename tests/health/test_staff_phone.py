"""Every page of the health station's staff fits a 360 px phone: a nurse on a home visit opens the
record, the due list or the report on her phone. Each page (with rows in every list) is drawn by
headless Chromium in a 360 px frame with the portal's style sheets; a table may scroll inside its
own frame, the page itself never wider than the screen. All pages are drawn in one Chromium run."""
from __future__ import annotations

import datetime
import json
import re
import subprocess
import tempfile
from html import escape

import pytest
from django.utils import timezone

from tests.browser import ARGS, CHROMIUM, require_chromium
from tests.health.test_records_phone import inline_styles

pytestmark = pytest.mark.django_db

HOST = "tule.localhost"


def drawn_widths(pages: dict[str, str]) -> dict[str, int]:
    """{name: the document width of the page drawn in a 360 px frame}."""
    frames = "".join(
        f"<iframe data-name='{escape(name, quote=True)}' style='width:360px;height:740px;border:0' "
        f"srcdoc='{escape(inline_styles(html), quote=True)}'></iframe>"
        for name, html in pages.items())
    outer = ("<!doctype html><html><head><title>-</title></head><body style='margin:0'>" + frames +
             "<script>window.addEventListener('load', () => { const widths = {};"
             "document.querySelectorAll('iframe').forEach((frame) => {"
             "widths[frame.dataset.name] = frame.contentDocument.documentElement.scrollWidth; });"
             "document.title = 'w=' + JSON.stringify(widths); });</script></body></html>")
    with tempfile.NamedTemporaryFile("w", suffix=".html", encoding="utf-8") as handle:
        handle.write(outer)
        handle.flush()
        dom = subprocess.run([CHROMIUM, "--headless", *ARGS, "--window-size=800,900", "--hide-scrollbars",
                              "--virtual-time-budget=10000", "--dump-dom", f"file://{handle.name}"],
                             capture_output=True, text=True, timeout=120, check=True).stdout
    found = re.search(r"<title>w=(.*?)</title>", dom)
    assert found, f"Chromium did not draw every page: {re.search(r'<title>.*?</title>', dom)}"
    return json.loads(found.group(1).replace("&quot;", '"'))


@pytest.fixture
def busy_station(station, people, tule, in_commune):
    """The station's rows in every list: a visit with a diagnosis, a hypertension reading, a
    pregnancy, a weighing, a dose, a question and a death."""
    from health.models import (
        ChronicCondition, Death, GrowthMeasurement, Pregnancy, Question, Reading, Vaccination, Visit, VisitDiagnosis,
    )

    records = station["records"]
    now = timezone.now()
    today = timezone.localdate()
    with in_commune(tule):
        visit = Visit.objects.create(record=records["grandfather"], visited_at=now - datetime.timedelta(hours=2),
                                     reason="Đau đầu, chóng mặt kéo dài", systolic=165, diastolic=95,
                                     referred=True, referred_to="Trung tâm Y tế huyện Văn Chấn",
                                     referral_reason="Huyết áp cao không kiểm soát", staff_name="Lò Thị Y")
        VisitDiagnosis.objects.create(visit=visit, icd10="I10", primary=True)
        ChronicCondition.objects.create(record=records["grandfather"], icd10="I10", programme="hypertension",
                                        diagnosed_on=datetime.date(2020, 1, 6))
        Reading.objects.create(record=records["grandfather"], taken_on=today - datetime.timedelta(days=40),
                               systolic=150, diastolic=92)
        pregnancy = Pregnancy.objects.create(record=records["mother"], expected_delivery=today + datetime.timedelta(
            days=20), registered_on=today - datetime.timedelta(days=200), last_period=today - datetime.timedelta(
            days=260))
        GrowthMeasurement.objects.create(record=records["baby"], measured_on=today, weight_kg="6.10", height_cm="62.0",
                                         underweight=True)
        Vaccination.objects.create(record=records["baby"], vaccine="BCG", dose=1, given_on=datetime.date(2026, 5, 5))
        question = Question.objects.create(asker=people["citizen"], title="Tiêm phòng cho trẻ bị sốt nhẹ",
                                           body="Con tôi sốt nhẹ, có tiêm được không?")
        Death.objects.create(resident=station["father"], died_on=today - datetime.timedelta(days=3))
    return {**station, "visit": visit, "pregnancy": pregnancy, "question": question}


def test_every_staff_page_fits_a_phone(busy_station, people, client_for):
    require_chromium()
    client = client_for(HOST, people["nurse"])
    record = busy_station["records"]["grandfather"].pk
    baby = busy_station["records"]["baby"].pk
    mother = busy_station["records"]["mother"].pk
    month = timezone.localdate().strftime("%Y-%m")
    urls = {
        "home": "/health/", "records": "/health/records/", "record_new": "/health/records/new/",
        "import": "/health/records/import/", "record": f"/health/records/{record}/",
        "record_edit": f"/health/records/{record}/edit/", "conditions": f"/health/records/{record}/conditions/",
        "record_link": f"/health/records/{record}/link/", "coverage": "/health/coverage/",
        "visits": "/health/visits/", "visit_new": f"/health/visits/new/?record={record}",
        "visit": f"/health/visits/{busy_station['visit'].pk}/", "chronic": "/health/chronic/",
        "readings": f"/health/records/{record}/readings/", "pregnancies": "/health/pregnancies/",
        "pregnancy": f"/health/pregnancies/{busy_station['pregnancy'].pk}/",
        "pregnancy_new": f"/health/records/{mother}/pregnancy/new/", "growth": "/health/growth/",
        "growth_new": f"/health/records/{baby}/growth/", "vaccinations": f"/health/records/{baby}/vaccinations/",
        "due": f"/health/vaccinations/due/?month={month}", "report": f"/health/reports/?month={month}",
        "deaths": "/health/deaths/", "questions": "/health/questions/",
        "question": f"/health/questions/{busy_station['question'].pk}/",
    }
    pages = {}
    for name, url in urls.items():
        response = client.get(url)
        assert response.status_code == 200, (name, url, response.status_code)
        assert response["Content-Type"].startswith("text/html"), name
        pages[name] = response.content.decode()
    widths = drawn_widths(pages)
    assert set(widths) == set(pages)
    wide = {name: width for name, width in widths.items() if width > 360}
    assert not wide, f"pages wider than a 360 px phone: {wide}"
