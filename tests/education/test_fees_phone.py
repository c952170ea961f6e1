"""The parent's fee pages fit a 360 px phone: the list of invoices, an invoice with its VietQR
code, and an invoice of a school without an account, each drawn by headless Chromium in a 360 px
frame (the way the health station's own pages are checked), nothing wider than the screen."""
from __future__ import annotations

import pytest

from tests.browser import require_chromium
from tests.education.test_fees_pages import billed
from tests.health.test_records_phone import drawn_width

pytestmark = pytest.mark.django_db(transaction=False)
__all__ = ["billed"]  # the fixture of the fee pages' tests, used here by name


def test_the_parents_fee_pages_fit_a_phone(request, client_for, school_people):
    require_chromium()
    billed = request.getfixturevalue("billed")
    client = client_for("tule.localhost", school_people["parent"])
    pages = {
        "list": client.get("/my-children/invoices/").content.decode(),
        "invoice": client.get(f"/my-children/invoices/{billed['mine'].code}/").content.decode(),
        "no account": client.get(f"/my-children/invoices/{billed['primary_invoice'].code}/").content.decode(),
    }
    assert billed["mine"].code in pages["invoice"] and "vietqr.png" in pages["invoice"]
    for name, html in pages.items():
        width = drawn_width(html)
        assert width <= 360, f"{name} is {width} px wide"
