"""Fees from the catalogue's rules: the certified copy of Circular 226/2016/TT-BTC (2.000 đ a page
for pages 1–2, 1.000 đ a page after, at most 200.000 đ a copy), free, fixed, per copy, the
provincial council's fee, exemptions; money written 1.234.000 đ."""
from __future__ import annotations

import pytest
from django.template import Context, Template
from django.utils import translation

from onestop.fees import compute_fee, describe, format_money, needs_copies, needs_pages, validate_rule


@pytest.mark.parametrize(
    ("pages", "copies", "fee"),
    [
        (1, 1, 2000),
        (2, 1, 4000),
        (3, 1, 5000),
        (10, 1, 12000),
        (198, 1, 200000),  # 4.000 + 196.000: exactly the cap
        (199, 1, 200000),  # 201.000 capped
        (250, 1, 200000),
        (1, 2, 4000),
        (3, 3, 15000),
        (250, 3, 600000),  # the cap is per copy
        (0, 1, 0),
    ],
)
def test_certified_copy(procedures, pages, copies, fee):
    assert compute_fee(procedures["CT-01"], pages=pages, copies=copies) == fee


def test_exempt_and_bad_counts(procedures):
    copy = procedures["CT-01"]
    assert compute_fee(copy, pages=3, copies=2, exempt=True) == 0
    with pytest.raises(ValueError):
        compute_fee(copy, pages=-1)
    with pytest.raises(ValueError):
        compute_fee(copy, pages=1, copies=-2)
    assert needs_pages(copy) and needs_copies(copy)
    assert not needs_pages(procedures["HT-09"]) and needs_copies(procedures["HT-09"])
    assert not needs_copies(procedures["HT-01"])


def test_free_fixed_per_copy_and_local(procedures):
    assert compute_fee(procedures["HT-01"]) == 0  # birth registered on time
    assert compute_fee(procedures["CT-04"], copies=3) == 0
    assert compute_fee(procedures["CT-03"]) == 50000  # a contract: fixed, copies do not matter
    assert compute_fee(procedures["CT-03"], copies=4) == 50000
    assert compute_fee(procedures["CTR-01"]) == 20000
    assert compute_fee(procedures["CTR-01"], online=True) == 10000
    assert compute_fee(procedures["CT-03"], online=True) == 50000  # no online amount: the same
    assert compute_fee(procedures["HT-09"], copies=3) == 24000  # 8.000 đ a copy of the extract
    assert compute_fee(procedures["CT-02"], copies=2) == 20000
    # The provincial council's fee: nothing until the commune enters the province's figure.
    assert compute_fee(procedures["HT-08"]) == 0
    assert compute_fee({"kind": "local", "amount": 8000}) == 8000
    assert compute_fee({"kind": "local", "amount": 8000}, exempt=True) == 0
    assert compute_fee({}) == 0
    with pytest.raises(ValueError):
        compute_fee({"kind": "per_page", "first_pages": 2})


def test_validate_rule():
    assert validate_rule({"kind": "free"}) == []
    assert validate_rule({"kind": "fixed", "amount": 10000, "online_amount": 5000}) == []
    assert validate_rule({"kind": "gift"})
    assert validate_rule({"kind": "fixed"})  # no amount
    assert validate_rule({"kind": "fixed", "amount": -5})
    assert validate_rule({"kind": "fixed", "amount": "10000"})
    assert validate_rule({"kind": "per_page", "first_pages": 0, "first_page_amount": 1, "next_page_amount": 1})
    assert validate_rule({"kind": "free", "amount": 1})
    assert validate_rule(["free"])


def test_format_money():
    assert format_money(1234000) == "1.234.000 đ"
    assert format_money(0) == "0 đ"
    assert format_money(999) == "999 đ"
    assert format_money(1000) == "1.000 đ"
    assert format_money(200000) == "200.000 đ"
    assert format_money(-5000) == "-5.000 đ"
    assert format_money(None) == ""


def test_describe(procedures):
    with translation.override("en"):
        text = describe(procedures["CT-01"])
        assert text == "2.000 đ a page for pages 1–2, 1.000 đ a page from page 3, at most 200.000 đ a copy"
        assert describe(procedures["HT-01"]) == "Free of charge"
        assert describe(procedures["CT-03"]) == "50.000 đ per dossier"
        assert describe(procedures["CTR-01"]) == "20.000 đ per dossier (10.000 đ when submitted online)"
        assert describe(procedures["HT-09"]) == "8.000 đ per bản sao"
        assert "provincial People's Council" in describe(procedures["HT-08"])
    with translation.override("vi"):  # the amounts are written the Vietnamese way in every language
        text = describe(procedures["CT-01"])
        assert "2.000 đ" in text and "1.000 đ" in text and "200.000 đ" in text


def test_template_filters():
    template = Template("{% load onestop_tags %}[{{ fee|money }}] [{{ id|masked_id }}] [{{ none|money }}] [{{ id|masked_id:0 }}]")
    text = template.render(Context({"fee": 1234000, "id": "001204009012", "none": None}))
    assert text == "[1.234.000 đ] [********9012] [] [************]"
    assert Template("{% load onestop_tags %}{{ v|money }}").render(Context({"v": "abc"})) == ""
