"""The procedure catalogue: shipped as data, loaded into every commune's schema by the data
migration, validated, versioned (a dossier keeps the version it was received under)."""
from __future__ import annotations

import copy
import datetime
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection

from onestop import catalogue
from onestop.fees import compute_fee
from onestop.models import Dossier, Procedure, ProcedureStep, RequiredDocument, Sector

COMMUNE_CODES = {f"HT-{n:02d}" for n in range(1, 10)} | {"CT-01", "CT-02", "CT-03", "CT-04", "LT-01", "LT-02", "BTXH-01"}
SAME_DAY = {"CT-01", "CT-02", "CT-04", "HT-09"}


def _entry(data, code):
    return next(e for e in data["procedures"] if e["code"] == code)


def test_the_migration_loaded_the_catalogue_in_the_commune(procedures):
    assert connection.schema_name == "c_04630"
    commune_handled = {code for code, p in procedures.items() if p.handler == "commune"}
    assert len(commune_handled) >= 15
    assert COMMUNE_CODES <= commune_handled
    # Residence registration belongs to the commune police: listed with a link, not taken.
    for code in ("CTR-01", "CTR-02"):
        police = procedures[code]
        assert police.handler == "external" and not police.takes_dossiers
        assert police.external_url.startswith("https://dichvucong.bocongan.gov.vn")
        assert police.steps.count() == 0
    assert all(p.version == 1 and p.valid_from == datetime.date(2025, 7, 1) for p in procedures.values())
    assert set(Sector.objects.values_list("code", flat=True)) >= {"HT", "CT", "LT", "BTXH", "CTR"}


def test_each_procedure_cites_its_source_or_says_what_is_unconfirmed(procedures):
    for code, procedure in procedures.items():
        assert procedure.published_by, code
        assert procedure.legal_basis, code
        assert procedure.time_note and procedure.fee_note, code
        if procedure.verified:
            assert "gov.vn" in procedure.published_by, code  # read on a government portal
        else:
            assert procedure.verification_note, code
    verified = {code for code, p in procedures.items() if p.verified}
    # Only where both the time and the fee were confirmed.
    assert verified == {"CT-01", "CT-04", "CTR-01"}
    assert procedures["CT-01"].national_code == "2.000815.000.00.00.H38"
    assert "Thông tư 226/2016/TT-BTC" in procedures["CT-01"].published_by


def test_steps_are_ordered_and_fit_in_the_time(procedures):
    for code in COMMUNE_CODES:
        procedure = procedures[code]
        steps = list(procedure.steps.order_by("order"))
        assert [s.order for s in steps] == list(range(1, len(steps) + 1)), code
        kinds = [s.kind for s in steps]
        if code in SAME_DAY:
            assert kinds == ["receive", "process", "sign", "return"], code
            assert procedure.time_amount == 0 and procedure.cutoff == datetime.time(15, 0), code
        else:
            assert kinds == ["receive", "process", "approve", "sign", "return"], code
            assert procedure.time_amount >= 1 and procedure.cutoff is None, code
        assert [s.role for s in steps][:2] == ["onestop_officer", "specialist"], code
        assert steps[-1].role == "onestop_officer" and steps[-2].role == "leader", code
        total = sum((s.duration_hours for s in steps), Decimal(0))
        budget = catalogue.time_budget_hours(procedure.time_amount, procedure.time_unit, procedure.cutoff)
        assert 0 < total <= budget, code
    # A same-day procedure: 2 working hours from the 15:00 cut-off to 17:00.
    assert catalogue.time_budget_hours(0, "working_days", datetime.time(15, 0)) == 2
    assert catalogue.time_budget_hours(3, "working_days", None) == 24


def test_requirements_form_fields_and_result_templates(procedures):
    birth = procedures["HT-01"]
    names = [r.name for r in birth.requirements.order_by("order")]
    assert names[0].startswith("Tờ khai đăng ký khai sinh") and any("Giấy chứng sinh" in n for n in names)
    surrogate = birth.requirements.get(condition__contains="mang thai hộ")
    assert surrogate.required is False
    assert birth.requirements.get(order=1).copy_kind == "form"
    field_names = {f["name"] for f in birth.form_fields}
    assert {"child_name", "child_birth_date", "child_sex"} <= field_names
    assert next(f for f in birth.form_fields if f["name"] == "child_sex")["choices"] == [["Nam", "Nam"], ["Nữ", "Nữ"]]
    # Only what the procedure needs: a certified copy asks for the document's name, nothing more.
    assert [f["name"] for f in procedures["CT-01"].form_fields] == ["document_name"]
    for code in COMMUNE_CODES:
        procedure = procedures[code]
        used = catalogue._placeholders(procedure.result_template)
        assert used <= catalogue.STANDARD_PLACEHOLDERS | {f["name"] for f in procedure.form_fields}, code
        assert "{code}" in procedure.result_template, code
        assert procedure.result_title, code
    assert procedures["CT-01"].fee_rule == {
        "kind": "per_page", "first_pages": 2, "first_page_amount": 2000, "next_page_amount": 1000, "cap": 200000,
    }
    assert procedures["HT-01"].fee_rule == {"kind": "free"}
    assert procedures["HT-01"].exemptions == ["Người thuộc gia đình có công với cách mạng", "Người thuộc hộ nghèo", "Người khuyết tật"]
    assert procedures["CTR-01"].fee_rule == {"kind": "fixed", "amount": 20000, "online_amount": 10000}


def test_search_text_is_folded_for_accent_insensitive_search(procedures):
    assert procedures["CT-01"].search_text == catalogue.search_text_for(
        procedures["CT-01"].name, "CT-01", "Chứng thực", "2.000815.000.00.00.H38")
    found = set(Procedure.objects.filter(is_current=True, search_text__contains="chung thuc ban sao").values_list("code", flat=True))
    assert found == {"CT-01"}
    found = set(Procedure.objects.filter(is_current=True, search_text__contains="khai sinh").values_list("code", flat=True))
    assert {"HT-01", "HT-07", "LT-01"} <= found
    assert Procedure.objects.filter(is_current=True, search_text__contains="ho tich").count() >= 10  # the sector's name


def test_loading_again_changes_nothing(in_tule):
    catalogue.load_catalogue()  # in step with the file even if the test database is older than it
    before = (Procedure.objects.count(), RequiredDocument.objects.count(), ProcedureStep.objects.count())
    counts = catalogue.load_catalogue()
    assert counts["unchanged"] == Procedure.objects.filter(is_current=True).count() >= 16
    assert counts["created"] == counts["new_versions"] == counts["reactivated"] == 0
    assert (Procedure.objects.count(), RequiredDocument.objects.count(), ProcedureStep.objects.count()) == before


def test_a_changed_entry_becomes_a_new_version_and_a_dossier_keeps_its_own(in_tule):
    data = catalogue.read_file()
    catalogue.load_catalogue(data)  # in step with the file even if the test database is older than it
    old = Procedure.objects.get(code="CT-01", is_current=True)
    ht10_version = Procedure.objects.get(code="HT-10", is_current=True).version
    old_requirements = list(old.requirements.values_list("name", flat=True))
    old_steps = list(old.steps.values_list("kind", flat=True))
    dossier = Dossier.objects.create(procedure=old, channel="counter", applicant_name="Lò Thị Xuân")

    changed = copy.deepcopy(data)
    entry = _entry(changed, "CT-01")
    entry["fee_rule"] = dict(entry["fee_rule"], cap=300000)
    entry["requirements"] = entry["requirements"][:1]
    counts = catalogue.load_catalogue(changed, today=datetime.date(2026, 3, 2))
    assert counts["new_versions"] == 1 and counts["created"] == 0
    assert counts["unchanged"] == len(data["procedures"]) - 1

    new = Procedure.objects.get(code="CT-01", is_current=True)
    assert new.pk != old.pk and new.version == old.version + 1
    assert new.valid_from == datetime.date(2026, 3, 2)  # the file's date is not later than v1's
    assert new.fee_rule["cap"] == 300000 and new.requirements.count() == 1
    assert list(new.steps.values_list("kind", flat=True)) == old_steps
    assert new.search_text == old.search_text

    old.refresh_from_db()
    dossier.refresh_from_db()
    assert old.is_current is False
    assert dossier.procedure_id == old.pk
    assert dossier.procedure.fee_rule["cap"] == 200000
    assert list(dossier.procedure.requirements.values_list("name", flat=True)) == old_requirements
    assert compute_fee(dossier.procedure, pages=250) == 200000
    assert compute_fee(new, pages=250) == 252000

    # Idempotent: the same file again writes nothing; the shipped one again is a third version.
    assert catalogue.load_catalogue(changed)["unchanged"] == len(data["procedures"])
    assert catalogue.load_catalogue(data, today=datetime.date(2026, 3, 3))["new_versions"] == 1
    v = old.version
    assert list(Procedure.objects.filter(code="CT-01", version__gte=v).order_by("version").values_list("version", "is_current")) == [
        (v, False), (v + 1, False), (v + 2, True),
    ]
    # A code left out of the file is only retired on request.
    partial = copy.deepcopy(data)
    partial["procedures"] = [e for e in partial["procedures"] if e["code"] != "HT-10"]
    assert catalogue.load_catalogue(partial)["retired"] == 0
    assert catalogue.load_catalogue(partial, retire_missing=True)["retired"] == 1
    assert not Procedure.objects.filter(code="HT-10", is_current=True).exists()
    assert catalogue.load_catalogue(data)["reactivated"] == 1
    assert Procedure.objects.get(code="HT-10", is_current=True).version == ht10_version


def test_an_invalid_file_writes_nothing_and_names_every_problem(in_tule):
    before = Procedure.objects.count()
    data = copy.deepcopy(catalogue.read_file())
    ct01 = _entry(data, "CT-01")
    # What an unquoted comma in a YAML flow mapping produces: an extra key.
    ct01["requirements"][0] = {"name": "Dự thảo hợp đồng", "giao dịch": None, "copy_kind": "original"}
    ct01["result_template"] += "\n{unknown_field}"
    _entry(data, "HT-04")["steps"] = "days_9"
    _entry(data, "HT-08")["fee_rule"] = {"kind": "per_page", "first_page_amount": "2000"}
    _entry(data, "HT-01")["steps"] = "days_3"  # 24 hours of steps for a 1-day procedure
    _entry(data, "CT-02")["cutoff"] = 900  # 15:00 unquoted is read by YAML 1.1 as a number
    with pytest.raises(catalogue.CatalogueError) as excinfo:
        catalogue.load_catalogue(data, today=datetime.date(2026, 3, 2))
    text = str(excinfo.value)
    for expected in ("CT-01: requirement 1: unknown keys giao dịch", "unknown_field", "HT-04: unknown step set",
                     "HT-08: missing keys for a per_page fee rule", "HT-01: the steps take 24.00 working hours",
                     "CT-02: cutoff"):
        assert expected in text
    assert Procedure.objects.count() == before


def test_the_historical_models_of_the_migration_load_the_same_rows(in_tule):
    """What 0002_load_catalogue does in a new schema, with the models as of that migration."""
    from django.db.migrations.loader import MigrationLoader

    state = MigrationLoader(connection).project_state(("onestop", "0002_load_catalogue"))
    assert catalogue.load_catalogue(models=state.apps)["unchanged"] == Procedure.objects.filter(is_current=True).count()
    # From an empty catalogue (nothing references it in this transaction).
    ProcedureStep.objects.all().delete()
    RequiredDocument.objects.all().delete()
    Procedure.objects.all().delete()
    counts = catalogue.load_catalogue(models=state.apps)
    assert counts["created"] == len(catalogue.read_file()["procedures"])
    ct01 = Procedure.objects.get(code="CT-01", is_current=True)
    assert ct01.cutoff == datetime.time(15, 0) and ct01.steps.count() == 4 and ct01.search_text
    assert catalogue.load_catalogue()["unchanged"] == counts["created"]  # real models see the same rows


def test_the_load_procedures_command(tule, capsys):
    call_command("load_procedures", "--check")
    assert "The catalogue is valid" in capsys.readouterr().out
    call_command("load_procedures", "--commune", tule.code)
    out = capsys.readouterr().out
    assert f"{tule.code} {tule.name}: 0 new, 0 new versions" in out
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("load_procedures", "--commune", "99999")
