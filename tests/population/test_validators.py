"""The personal ID number check (pure function), phone normalisation, masking, folding."""
import datetime

import pytest

from population.ethnicities import ETHNICITIES, code_for_name
from core.text import fold
from population.validators import check_personal_id, mask_id, normalize_phone, province_codes
from tests.population.conftest import vi

D1990 = datetime.date(1990, 5, 1)
D2005 = datetime.date(2005, 1, 1)


@pytest.mark.parametrize("id_number, birth, sex", [
    ("001090123456", D1990, "male"),
    ("001190123456", D1990, "female"),
    ("096205000001", D2005, "male"),
    ("015305999999", D2005, "female"),
    ("079899000001", datetime.date(1899, 12, 31), "male"),
    ("079401000001", datetime.date(2101, 1, 1), "male"),
    ("", D1990, "male"),
    (None, D1990, "male"),
])
def test_good_ids(id_number, birth, sex):
    assert check_personal_id(id_number, birth, sex) == []


@pytest.mark.parametrize("id_number, birth, sex, message", [
    ("001190123456", D1990, "male", "The ID number does not match the sex."),
    ("001090123456", D1990, "female", "The ID number does not match the sex."),
    ("001091123456", D1990, "male", "The ID number does not match the birth year."),
    ("001290123456", D1990, "male", "The ID number does not match the century of the birth year."),
    ("003090123456", D1990, "male", "The first three digits of the ID number are not a province code."),
    ("097090123456", D1990, "male", "The first three digits of the ID number are not a province code."),
    ("000090123456", D1990, "male", "The first three digits of the ID number are not a province code."),
    ("00109012345", D1990, "male", "The ID number has exactly 12 digits."),
    ("0010901234567", D1990, "male", "The ID number has exactly 12 digits."),
    ("00109012345a", D1990, "male", "The ID number has exactly 12 digits."),
    ("001 90123456", D1990, "male", "The ID number has exactly 12 digits."),
    ("００１０９０１２３４５６", D1990, "male", "The ID number has exactly 12 digits."),
])
def test_bad_ids(id_number, birth, sex, message):
    errors = check_personal_id(id_number, birth, sex)
    assert ("personal_id", vi(message)) in errors


def test_province_codes_are_the_63_old_provinces():
    codes = province_codes()
    assert len(codes) == 63
    assert {"001", "015", "079", "096"} <= codes
    assert not {"000", "003", "005", "097"} & codes


@pytest.mark.parametrize("raw, expected", [
    ("0912345678", "0912345678"), ("+84 912 345 678", "0912345678"), ("84912345678", "0912345678"),
    ("091.234.5678", "0912345678"), ("912345678", "0912345678"), ("", ""), (None, ""),
    ("0212345678", None), ("091234567", None), ("abc", None), ("09123456789", None),
])
def test_phone_normalisation(raw, expected):
    assert normalize_phone(raw) == expected


def test_mask():
    assert mask_id("001090123789") == "001******789"
    assert mask_id(None) == "" and mask_id("") == ""


def test_fold_and_ethnicities():
    assert fold("  Nguyễn   Văn Đức ") == "nguyen van duc"
    assert fold("Nguye\u0302\u0303n") == "nguyen"  # decomposed input
    assert len(ETHNICITIES) == 54 and ETHNICITIES[0] == ("01", "Kinh")
    assert len({code for code, _ in ETHNICITIES}) == 54
    assert code_for_name("Thái") == "03" and code_for_name("thai") == "03"
    assert code_for_name("Khơ-me") == code_for_name("Khmer") == "05"
    assert code_for_name("H'Mông") == "08"
    assert code_for_name("Klingon") is None
