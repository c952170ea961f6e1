"""The visits' reference data and demo: the ICD-10 chapters, blocks and common codes load and hold
together (every common code matches the ICD-10 pattern and lies in a block of its chapter), the
drug list loads, the vital signs' ranges refuse what lies outside them, and a demo year of visits
is plausible."""
from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone


def test_the_chapters_and_blocks_cover_the_classification_in_order():
    from health import icd10

    chapters = icd10.chapters()
    assert [c.key for c in chapters][:3] == ["I", "II", "III"] and len(chapters) == 22
    assert [(c.first, c.last) for c in chapters if c.key in ("IX", "X", "XXI")] == [("I00", "I99"), ("J00", "J99"),
                                                                                   ("Z00", "Z99")]
    blocks = icd10.blocks()
    assert len(blocks) >= 200
    for block in blocks:
        chapter = next(c for c in chapters if c.key == block.chapter)
        assert chapter.first <= block.first <= block.last <= chapter.last, block
        assert block.title_vi and block.title_en
    ordered = sorted(blocks, key=lambda b: b.first)
    for before, after in zip(ordered, ordered[1:]):
        assert before.last < after.first, (before.key, after.key)  # no block overlaps another
    assert icd10.block_of("J06.9").key == "J00-J06" and icd10.chapter_of("J06.9").key == "X"
    assert icd10.block_of("W54").chapter == "XX" and icd10.chapter_of("U07.1").key == "XXII"


def test_every_common_code_is_well_formed_and_lies_in_a_block_of_its_chapter():
    from health import icd10

    common = [c for c in icd10.codes().values() if c.common]
    assert 150 <= len(common) <= 260
    for code in common:
        assert icd10.CODE_RE.match(code.code), code
        block, chapter = icd10.block_of(code.code), icd10.chapter_of(code.code)
        assert block is not None and chapter is not None and block.chapter == chapter.key, code.code
        assert code.title_vi and code.title_en and code.title_vi != code.title_en
    wanted = {"J06.9", "J00", "A09", "I10", "E11.9", "Z34.9", "Z23.2", "Z27.1", "S61.9", "L30.9", "J18.9"}
    assert wanted <= {c.code for c in common}
    assert icd10.lookup("i10").title_vi == "Tăng huyết áp vô căn (nguyên phát)"  # the records part's row kept
    assert [c.code for c in icd10.search("Z34")][:3] == ["Z34.0", "Z34.8", "Z34.9"]


def test_the_drug_list_loads():
    from health import drugs

    listed = drugs.drugs()
    assert len(listed) >= 40
    assert all(d.code == d.code.upper() and d.name and d.strength and d.form and d.unit for d in listed.values())
    assert drugs.lookup("amox500").label == "Amoxicilin 500 mg (viên nang)"
    assert drugs.lookup("NOTADRUG") is None
    assert [d.code for d in drugs.search("oresol")] == ["ORS"]


@pytest.mark.parametrize("field, inside, outside", [
    ("temperature_c", ("34", "43"), ("33.9", "43.1")), ("pulse", (30, 220), (29, 221)),
    ("systolic", (60, 260), (59, 261)), ("diastolic", (30, 59), (29, 161)), ("respiratory_rate", (8, 80), (7, 81)),
    ("spo2", (50, 100), (49, 101)), ("weight_kg", ("0.5", "300"), ("0.49", "300.01")),
    ("height_cm", ("30", "250"), ("29.9", "250.1")),
])
def test_the_vital_signs_ranges_hold_their_bounds(field, inside, outside):
    from health import vitals

    other = {"systolic": {"diastolic": 50}, "diastolic": {"systolic": 200}}.get(field, {})
    for value in inside:
        assert vitals.check({field: Decimal(str(value)), **other}) == {}, (field, value)
    for value in outside:
        errors = vitals.check({field: Decimal(str(value)), **other})
        assert field in errors and vitals.RANGES[field].text() in errors[field], (field, value)
    assert vitals.RANGES["temperature_c"].text() == "34–43 °C"
    assert vitals.RANGES["weight_kg"].text() == "0,5–300 kg"


def test_ages_are_told_in_years_months_or_days():
    from django.utils import translation

    from health.visits import age_text

    with translation.override("vi"):
        assert age_text(datetime.date(1958, 3, 2), datetime.date(2026, 3, 1)) == "67 tuổi"
        assert age_text(datetime.date(1958, 3, 2), datetime.date(2026, 3, 2)) == "68 tuổi"
        assert age_text(datetime.date(2026, 5, 4), datetime.date(2026, 12, 3)) == "6 tháng tuổi"
        assert age_text(datetime.date(2026, 12, 1), datetime.date(2026, 12, 7)) == "6 ngày tuổi"


@pytest.mark.django_db
def test_a_demo_year_of_visits_is_plausible(station, tule, in_commune):
    from types import SimpleNamespace

    from health import icd10, vitals
    from health.models import HealthRecord, Visit, VisitDiagnosis
    from health.visit_demo import TULE_PER_MONTH, seed_visits
    from health.visits import insurance_valid, local_date

    today = timezone.localdate()
    said = []
    context = SimpleNamespace(communes=[(SimpleNamespace(slug="tule", name="Tú Lệ"), tule)],
                              officials=lambda commune: {}, out=said.append)
    with in_commune(tule):
        HealthRecord.objects.filter(pk=station["records"]["grandfather"].pk).update(
            insurance_number="HT2010123456789", insurance_valid_from=today - datetime.timedelta(days=200),
            insurance_valid_until=today + datetime.timedelta(days=100))
    seed_visits(context)
    seed_visits(context)  # idempotent: a commune with visits is left as it is
    assert said == [f"  Tú Lệ: {TULE_PER_MONTH * 12} visits over a year"]
    with in_commune(tule):
        visits = list(Visit.objects.select_related("record__resident").prefetch_related("diagnoses", "prescriptions"))
        assert len(visits) == TULE_PER_MONTH * 12
        assert VisitDiagnosis.objects.filter(primary=True).count() == len(visits)
        payments = {v.payment for v in visits}
    assert payments == {"insurance", "paid", "free"}
    now = timezone.now()
    months = {local_date(v.visited_at).strftime("%Y-%m") for v in visits}
    assert len(months) >= 12
    for visit in visits:
        resident = visit.record.resident
        assert visit.visited_at <= now and local_date(visit.visited_at) >= resident.birth_date
        assert vitals.check({name: getattr(visit, name) for name in vitals.FIELDS}) == {}
        assert all(icd10.is_known(d.icd10) for d in visit.diagnoses.all())
        if visit.payment == "insurance":
            assert insurance_valid(visit.record, local_date(visit.visited_at))
        if visit.referred:
            assert visit.referred_to and visit.referral_reason
        if any(d.icd10.startswith("Z34") for d in visit.diagnoses.all()):
            assert resident.sex == "female"
