"""The procedure catalogue: ``onestop/data/procedures.yaml`` loaded into a commune's schema.

``load_catalogue`` takes the model classes as an argument (a dict, an apps registry or nothing
for the real models) so that the data migration ``0002_load_catalogue`` passes its historical
models and the ``load_procedures`` command the real ones (which also record history).

Versioning. Each entry of the file is compared with the current row of its code: its fields,
its required documents and its steps, in order. Equal: nothing is written. Different: the
current row stops being offered (``is_current=False``) and a new row is created with the next
``version``; dossiers keep pointing at the version they were received under, with its documents
and steps. ``valid_from`` of a new version is the entry's (or the file's) date, or today when
that date is not later than the replaced version's. A code missing from the file is left alone
(an administrator may have added it), unless ``retire_missing``. ``valid_from`` alone is not a
change.

The file is validated first (``validate``), as a whole: a typo in a key, a placeholder of the
result template that no field fills, steps longer than the procedure's time … raise
``CatalogueError`` listing every problem, and nothing is written.

Placeholders a result template may use: ``STANDARD_PLACEHOLDERS`` (taken from the dossier and
the commune) and the names of the procedure's ``form_fields``.
"""
from __future__ import annotations

import datetime
import re
import string
import unicodedata
from decimal import Decimal
from pathlib import Path

import yaml
from django.core.exceptions import FieldDoesNotExist
from django.db import transaction

from core.text import fold
from onestop import fees

DATA_FILE = Path(__file__).resolve().parent / "data" / "procedures.yaml"
MODEL_NAMES = ("Sector", "Procedure", "RequiredDocument", "ProcedureStep")

STANDARD_PLACEHOLDERS = frozenset({  # what onestop.pdf.result_fields fills from the dossier and the commune
    "applicant_name", "applicant_address", "applicant_id_number", "code", "procedure_name", "received_date",
    "due_date", "issued_date", "result_number", "commune_name", "place", "page_count", "copy_count",
})
PROCEDURE_FIELDS = (
    "national_code", "name", "agency", "legal_basis", "published_by", "verified", "verification_note",
    "time_amount", "time_unit", "cutoff", "time_note", "fee_rule", "fee_note", "exemptions", "result_type",
    "result_title", "result_template", "online_level", "handler", "external_url", "form_fields",
)
REQUIREMENT_FIELDS = ("name", "copy_kind", "count", "required", "condition")
STEP_FIELDS = ("kind", "name", "role", "duration_hours")

ENTRY_KEYS = {"code", "sector", "valid_from", "requirements", "steps", *PROCEDURE_FIELDS}
REQUIRED_ENTRY_KEYS = {"code", "name", "sector", "time_amount", "time_unit", "fee_rule", "published_by"}
TIME_UNITS = ("working_days", "working_hours")
ONLINE_LEVELS = ("full", "partial", "none")
HANDLERS = ("commune", "external")
COPY_KINDS = ("original", "copy", "certified_copy", "either", "form")
STEP_KINDS = ("receive", "process", "approve", "sign", "return")
STEP_ROLES = ("onestop_officer", "specialist", "leader", "clerk", "chairman", "vice_chairman")
FIELD_TYPES = ("text", "textarea", "date", "number", "select")
FIELD_NAME_RE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
CODE_RE = re.compile(r"^[A-Z0-9][A-Z0-9.\-]{0,39}$")

DEFAULTS = {
    "national_code": "", "agency": "", "legal_basis": [], "verified": False, "verification_note": "",
    "cutoff": None, "time_note": "", "exemptions": [], "result_type": "", "result_title": "",
    "result_template": "", "online_level": "partial", "handler": "commune", "external_url": "", "form_fields": [],
}
MAX_LENGTHS = {  # of onestop.models; checked again against the models given to load_catalogue
    "code": 40, "national_code": 60, "name": 300, "agency": 300, "published_by": 300, "result_type": 300,
    "result_title": 200, "external_url": 200,
}


class CatalogueError(ValueError):
    """The catalogue file is not valid; ``problems`` lists every problem found."""

    def __init__(self, problems: list[str]):
        self.problems = list(problems)
        super().__init__("The procedure catalogue is not valid:\n- " + "\n- ".join(self.problems))


def read_file(path: Path | str | None = None) -> dict:
    with open(path or DATA_FILE, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def search_text_for(name: str, code: str, sector_name: str = "", national_code: str = "") -> str:
    """What the public search compares: name, code and sector without accents, lower case."""
    return fold(" ".join(part for part in (name, code, national_code, sector_name) if part))


# --- Validation and normalisation ---------------------------------------------------------

def _text(value) -> str:
    if value is None:
        return ""
    return unicodedata.normalize("NFC", str(value)).strip()


def _one_line(value) -> str:
    return " ".join(_text(value).split())


def _decimal(value) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"))


def _time(value) -> datetime.time | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime.time):
        return value
    return datetime.time.fromisoformat(str(value))


def _date(value) -> datetime.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime.date):
        return value
    return datetime.date.fromisoformat(str(value))


def _work_periods() -> list[tuple[datetime.time, datetime.time]]:
    from workcalendar.services import work_periods

    return work_periods()


def _hours(a: datetime.time, b: datetime.time) -> Decimal:
    seconds = (datetime.datetime.combine(datetime.date.min, b) - datetime.datetime.combine(datetime.date.min, a)).seconds
    return Decimal(seconds) / Decimal(3600)


def time_budget_hours(time_amount, time_unit: str, cutoff: datetime.time | None) -> Decimal:
    """The working hours a procedure surely has, whatever the hour of receipt: what its steps'
    durations may add up to. A same-day procedure has the time from its cut-off to closing."""
    periods = _work_periods()
    day = sum((_hours(s, e) for s, e in periods), Decimal(0))
    amount = _decimal(time_amount)
    if time_unit == "working_hours":
        return amount
    if amount > 0:
        return amount * day
    if cutoff is None:
        return Decimal(0)
    return sum((_hours(max(s, cutoff), e) for s, e in periods if e > cutoff), Decimal(0))


def _placeholders(template: str) -> set[str]:
    names = set()
    for _literal, field, _spec, _conversion in string.Formatter().parse(template):
        if field is not None:
            names.add(field)
    return names


def _normalize_form_fields(code, raw, problems) -> list[dict]:
    fields, seen = [], set()
    if not isinstance(raw, list):
        problems.append(f"{code}: form_fields must be a list")
        return fields
    for index, item in enumerate(raw, 1):
        where = f"{code}: form field {index}"
        if not isinstance(item, dict):
            problems.append(f"{where} must be a mapping")
            continue
        unknown = set(item) - {"name", "label", "type", "required", "choices"}
        if unknown:
            problems.append(f"{where}: unknown keys {', '.join(sorted(map(str, unknown)))}")
        name = _text(item.get("name"))
        if not FIELD_NAME_RE.match(name):
            problems.append(f"{where}: name {name!r} must be lower-case letters, digits and _")
        elif name in seen:
            problems.append(f"{where}: name {name!r} is used twice")
        elif name in STANDARD_PLACEHOLDERS:
            problems.append(f"{where}: name {name!r} is reserved for the dossier's own data")
        seen.add(name)
        kind = item.get("type", "text")
        if kind not in FIELD_TYPES:
            problems.append(f"{where}: type {kind!r} is not one of {', '.join(FIELD_TYPES)}")
        field = {"name": name, "label": _one_line(item.get("label")), "type": kind, "required": bool(item.get("required", False))}
        if not field["label"]:
            problems.append(f"{where}: a label is required")
        if kind == "select":
            choices = item.get("choices")
            if not isinstance(choices, list) or not choices or not all(
                isinstance(c, list) and len(c) == 2 and all(isinstance(x, str) and x.strip() for x in c) for c in choices
            ):
                problems.append(f"{where}: a select needs choices as a list of [value, label] pairs")
            else:
                field["choices"] = [[_one_line(v), _one_line(label)] for v, label in choices]
        elif "choices" in item:
            problems.append(f"{where}: only a select has choices")
        fields.append(field)
    return fields


def _normalize_requirements(code, raw, problems) -> list[dict]:
    result = []
    if not isinstance(raw, list):
        problems.append(f"{code}: requirements must be a list")
        return result
    for index, item in enumerate(raw, 1):
        where = f"{code}: requirement {index}"
        if not isinstance(item, dict):
            problems.append(f"{where} must be a mapping")
            continue
        unknown = set(item) - set(REQUIREMENT_FIELDS)
        if unknown:
            problems.append(f"{where}: unknown keys {', '.join(sorted(map(str, unknown)))} (a comma in an unquoted value?)")
        line = {
            "name": _one_line(item.get("name")),
            "copy_kind": item.get("copy_kind", "original"),
            "count": item.get("count", 1),
            "required": item.get("required", True),
            "condition": _one_line(item.get("condition")),
        }
        if not line["name"]:
            problems.append(f"{where}: a name is required")
        if len(line["name"]) > 500 or len(line["condition"]) > 300:
            problems.append(f"{where}: the name (500) or the condition (300) is too long")
        if line["copy_kind"] not in COPY_KINDS:
            problems.append(f"{where}: copy_kind {line['copy_kind']!r} is not one of {', '.join(COPY_KINDS)}")
        if not isinstance(line["count"], int) or isinstance(line["count"], bool) or not 1 <= line["count"] <= 100:
            problems.append(f"{where}: count must be a whole number from 1 to 100")
        if not isinstance(line["required"], bool):
            problems.append(f"{where}: required must be true or false")
        result.append(line)
    return result


def _normalize_steps(code, raw, step_sets, problems) -> list[dict]:
    if isinstance(raw, str):
        if raw not in step_sets:
            problems.append(f"{code}: unknown step set {raw!r}")
            return []
        raw = step_sets[raw]
    if not isinstance(raw, list):
        problems.append(f"{code}: steps must be a list or the name of a step set")
        return []
    steps = []
    for index, item in enumerate(raw, 1):
        where = f"{code}: step {index}"
        if not isinstance(item, dict):
            problems.append(f"{where} must be a mapping")
            continue
        unknown = set(item) - {"kind", "name", "role", "hours"}
        if unknown:
            problems.append(f"{where}: unknown keys {', '.join(sorted(map(str, unknown)))}")
        step = {"kind": item.get("kind"), "name": _one_line(item.get("name")), "role": item.get("role")}
        if step["kind"] not in STEP_KINDS:
            problems.append(f"{where}: kind {step['kind']!r} is not one of {', '.join(STEP_KINDS)}")
        if step["role"] not in STEP_ROLES:
            problems.append(f"{where}: role {step['role']!r} is not one of {', '.join(STEP_ROLES)}")
        if not step["name"] or len(step["name"]) > 200:
            problems.append(f"{where}: a name of at most 200 characters is required")
        try:
            step["duration_hours"] = _decimal(item.get("hours", 0))
            if step["duration_hours"] < 0:
                raise ValueError
        except (ArithmeticError, ValueError):
            problems.append(f"{where}: hours must be a number of working hours")
            step["duration_hours"] = Decimal(0)
        steps.append(step)
    return steps


def _normalize_entry(raw: dict, *, sectors: dict, step_sets: dict, default_valid_from, problems: list) -> dict | None:
    if not isinstance(raw, dict):
        problems.append(f"an entry is not a mapping: {raw!r}")
        return None
    code = _one_line(raw.get("code"))
    where = code or repr(raw.get("name"))
    unknown = set(raw) - ENTRY_KEYS
    if unknown:
        problems.append(f"{where}: unknown keys {', '.join(sorted(map(str, unknown)))}")
    missing = REQUIRED_ENTRY_KEYS - set(raw)
    if missing:
        problems.append(f"{where}: missing {', '.join(sorted(missing))}")
    if not CODE_RE.match(code):
        problems.append(f"{where}: the code must be upper-case letters, digits, '.' and '-' (at most 40)")
    if raw.get("sector") not in sectors:
        problems.append(f"{where}: unknown sector {raw.get('sector')!r}")

    fields = {key: raw.get(key, DEFAULTS.get(key)) for key in PROCEDURE_FIELDS}
    for key in ("national_code", "name", "agency", "published_by", "result_type", "result_title", "external_url"):
        fields[key] = _one_line(fields[key])
    for key in ("verification_note", "time_note", "fee_note", "result_template"):
        fields[key] = _text(fields[key])
    for key in ("legal_basis", "exemptions"):
        value = fields[key] or []
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            problems.append(f"{where}: {key} must be a list of texts")
            value = []
        fields[key] = [_one_line(v) for v in value]
    if not isinstance(fields["verified"], bool):
        problems.append(f"{where}: verified must be true or false")
    if fields["verified"] and not fields["published_by"]:
        problems.append(f"{where}: a verified procedure must cite where it was published")
    if not fields["published_by"] and not fields["verification_note"]:
        problems.append(f"{where}: cite the source (published_by) or say what is not confirmed")
    for key, limit in MAX_LENGTHS.items():
        value = code if key == "code" else fields.get(key, "")
        if len(value or "") > limit:
            problems.append(f"{where}: {key} is longer than {limit} characters")
    if fields["time_unit"] not in TIME_UNITS:
        problems.append(f"{where}: time_unit must be one of {', '.join(TIME_UNITS)}")
    try:
        fields["time_amount"] = _decimal(fields["time_amount"] if fields["time_amount"] is not None else 0)
        if fields["time_amount"] < 0:
            raise ValueError
    except (ArithmeticError, ValueError):
        problems.append(f"{where}: time_amount must be a number of at least 0")
        fields["time_amount"] = Decimal(0)
    try:
        fields["cutoff"] = _time(fields["cutoff"])
    except (TypeError, ValueError):
        problems.append(f"{where}: cutoff must be an hour such as \"15:00\" (quoted)")
        fields["cutoff"] = None
    if fields["online_level"] not in ONLINE_LEVELS:
        problems.append(f"{where}: online_level must be one of {', '.join(ONLINE_LEVELS)}")
    if fields["handler"] not in HANDLERS:
        problems.append(f"{where}: handler must be one of {', '.join(HANDLERS)}")
    if fields["handler"] == "external" and not fields["external_url"].startswith(("https://", "http://")):
        problems.append(f"{where}: a procedure of another agency needs external_url")
    rule = fields["fee_rule"] if fields["fee_rule"] is not None else {}
    problems.extend(f"{where}: {p}" for p in fees.validate_rule(rule))
    fields["fee_rule"] = dict(rule) if isinstance(rule, dict) else {}

    fields["form_fields"] = _normalize_form_fields(where, fields["form_fields"] or [], problems)
    requirements = _normalize_requirements(where, raw.get("requirements") or [], problems)
    steps = _normalize_steps(where, raw.get("steps") or [], step_sets, problems)

    known = STANDARD_PLACEHOLDERS | {f["name"] for f in fields["form_fields"]}
    try:
        unknown_placeholders = _placeholders(fields["result_template"]) - known
    except ValueError as exc:
        problems.append(f"{where}: result_template is not a valid template ({exc})")
    else:
        if unknown_placeholders:
            problems.append(f"{where}: result_template uses {', '.join(sorted(unknown_placeholders))}, which no field fills")

    if fields["handler"] == "commune":
        if not steps:
            problems.append(f"{where}: a procedure the commune handles needs its steps")
        else:
            if steps[0]["kind"] != "receive" or steps[-1]["kind"] != "return":
                problems.append(f"{where}: the steps must start with receive and end with return")
            total = sum((s["duration_hours"] for s in steps), Decimal(0))
            budget = time_budget_hours(fields["time_amount"], fields["time_unit"], fields["cutoff"])
            if total > budget:
                problems.append(f"{where}: the steps take {total} working hours, more than the {budget} of the procedure")
        if not fields["result_template"] or not fields["result_title"]:
            problems.append(f"{where}: a procedure the commune handles needs result_title and result_template")

    try:
        valid_from = _date(raw.get("valid_from")) or default_valid_from
    except (TypeError, ValueError):
        problems.append(f"{where}: valid_from must be a date (YYYY-MM-DD)")
        valid_from = default_valid_from
    return {
        "code": code, "sector": raw.get("sector"), "valid_from": valid_from,
        "fields": fields, "requirements": requirements, "steps": steps,
    }


def validate(data: dict) -> dict:
    """The file's content checked and normalised: ``{"sectors": [...], "procedures": [...]}``.

    Raises ``CatalogueError`` with every problem found."""
    problems: list[str] = []
    if not isinstance(data, dict):
        raise CatalogueError(["the catalogue must be a mapping with sectors and procedures"])
    sectors = []
    for item in data.get("sectors") or []:
        if not isinstance(item, dict) or not item.get("code") or not item.get("name"):
            problems.append(f"a sector needs a code and a name: {item!r}")
            continue
        sectors.append({"code": _one_line(item["code"]), "name": _one_line(item["name"]), "order": int(item.get("order") or 0)})
    sector_codes = {s["code"]: s for s in sectors}
    if len(sector_codes) != len(sectors):
        problems.append("a sector code is used twice")
    try:
        default_valid_from = _date(data.get("valid_from"))
    except (TypeError, ValueError):
        problems.append("valid_from must be a date (YYYY-MM-DD)")
        default_valid_from = None
    step_sets = data.get("step_sets") or {}
    procedures, seen = [], set()
    for raw in data.get("procedures") or []:
        entry = _normalize_entry(raw, sectors=sector_codes, step_sets=step_sets,
                                 default_valid_from=default_valid_from, problems=problems)
        if entry is None:
            continue
        if entry["code"] in seen:
            problems.append(f"{entry['code']}: the code is used twice")
        seen.add(entry["code"])
        procedures.append(entry)
    if not procedures:
        problems.append("the catalogue lists no procedure")
    if problems:
        raise CatalogueError(problems)
    return {"sectors": sectors, "procedures": procedures}


# --- Loading ------------------------------------------------------------------------------

def _resolve_models(models) -> dict:
    if models is None:
        from django.apps import apps as registry

        return {name: registry.get_model("onestop", name) for name in MODEL_NAMES}
    if hasattr(models, "get_model"):
        return {name: models.get_model("onestop", name) for name in MODEL_NAMES}
    if isinstance(models, dict):
        return models
    return {name: getattr(models, name) for name in MODEL_NAMES}


def _concrete_fields(model) -> set[str]:
    return {f.name for f in model._meta.concrete_fields}


def _check_lengths(entries: list[dict], Procedure) -> None:
    problems = []
    for entry in entries:
        for key, value in [("code", entry["code"]), *entry["fields"].items()]:
            try:
                field = Procedure._meta.get_field(key)
            except FieldDoesNotExist:  # a field this (historical) model does not have
                continue
            limit = getattr(field, "max_length", None)
            if limit and isinstance(value, str) and len(value) > limit:
                problems.append(f"{entry['code']}: {key} is longer than {limit} characters")
    if problems:
        raise CatalogueError(problems)


def _entry_snapshot(entry: dict, sector_id: int, field_names: set[str]) -> tuple:
    fields = {k: v for k, v in entry["fields"].items() if k in field_names}
    requirements = [tuple(r[k] for k in REQUIREMENT_FIELDS) for r in entry["requirements"]]
    steps = [tuple(s[k] for k in STEP_FIELDS) for s in entry["steps"]]
    return sector_id, fields, requirements, steps


def _row_snapshot(row, RequiredDocument, ProcedureStep, field_names: set[str]) -> tuple:
    fields = {}
    for key in PROCEDURE_FIELDS:
        if key not in field_names:
            continue
        value = getattr(row, key)
        if key == "time_amount":
            value = _decimal(value)
        fields[key] = value
    requirements = [
        tuple(values) for values in RequiredDocument.objects.filter(procedure=row).order_by("order", "pk").values_list(*REQUIREMENT_FIELDS)
    ]
    steps = [
        (kind, name, role, _decimal(hours))
        for kind, name, role, hours in ProcedureStep.objects.filter(procedure=row).order_by("order").values_list(*STEP_FIELDS)
    ]
    return row.sector_id, fields, requirements, steps


def _create_version(entry, *, version, valid_from, sector, m, field_names) -> object:
    Procedure, RequiredDocument, ProcedureStep = m["Procedure"], m["RequiredDocument"], m["ProcedureStep"]
    values = {k: v for k, v in entry["fields"].items() if k in field_names}
    if "search_text" in field_names:
        values["search_text"] = search_text_for(values.get("name", ""), entry["code"], sector.name, values.get("national_code", ""))
    row = Procedure.objects.create(
        code=entry["code"], version=version, valid_from=valid_from, is_current=True, sector=sector, **values,
    )
    RequiredDocument.objects.bulk_create([
        RequiredDocument(procedure=row, order=index, **line) for index, line in enumerate(entry["requirements"], 1)
    ])
    ProcedureStep.objects.bulk_create([
        ProcedureStep(procedure=row, order=index, **step) for index, step in enumerate(entry["steps"], 1)
    ])
    return row


def load_catalogue(data: dict | None = None, *, models=None, today: datetime.date | None = None,
                   retire_missing: bool = False) -> dict:
    """Load the catalogue (the shipped file when ``data`` is None) into the current schema.

    Idempotent; returns counts: sectors, created (new codes), new_versions, unchanged,
    reactivated (a retired code back as it was) and retired (with ``retire_missing``)."""
    from django.utils import timezone

    checked = validate(read_file() if data is None else data)
    m = _resolve_models(models)
    Sector, Procedure = m["Sector"], m["Procedure"]
    _check_lengths(checked["procedures"], Procedure)
    field_names = _concrete_fields(Procedure)
    today = today or timezone.localdate()
    counts = {"sectors": 0, "created": 0, "new_versions": 0, "unchanged": 0, "reactivated": 0, "retired": 0}

    with transaction.atomic():
        sectors = {}
        for item in checked["sectors"]:
            sector, created = Sector.objects.get_or_create(code=item["code"], defaults={"name": item["name"], "order": item["order"]})
            if not created and (sector.name, sector.order) != (item["name"], item["order"]):
                sector.name, sector.order = item["name"], item["order"]
                sector.save(update_fields=["name", "order"])
            sectors[item["code"]] = sector
            counts["sectors"] += 1

        for entry in checked["procedures"]:
            sector = sectors[entry["sector"]]
            wanted = _entry_snapshot(entry, sector.pk, field_names)
            versions = list(Procedure.objects.select_for_update().filter(code=entry["code"]).order_by("-version"))
            current = next((row for row in versions if row.is_current), None)
            latest = versions[0] if versions else None
            if current is not None and _row_snapshot(current, m["RequiredDocument"], m["ProcedureStep"], field_names) == wanted:
                counts["unchanged"] += 1
                _refresh_search_text(current, sector, field_names)
                continue
            if current is None and latest is not None and _row_snapshot(
                latest, m["RequiredDocument"], m["ProcedureStep"], field_names,
            ) == wanted:
                latest.is_current = True
                latest.save(update_fields=["is_current"])
                _refresh_search_text(latest, sector, field_names)
                counts["reactivated"] += 1
                continue
            valid_from = entry["valid_from"] or today
            if latest is not None and valid_from <= latest.valid_from:
                valid_from = max(today, latest.valid_from)
            if current is not None:
                current.is_current = False
                current.save(update_fields=["is_current"])
            _create_version(entry, version=(latest.version + 1) if latest else 1, valid_from=valid_from,
                            sector=sector, m=m, field_names=field_names)
            counts["new_versions" if latest is not None else "created"] += 1

        if retire_missing:
            listed = [entry["code"] for entry in checked["procedures"]]
            for row in Procedure.objects.filter(is_current=True).exclude(code__in=listed):
                row.is_current = False
                row.save(update_fields=["is_current"])
                counts["retired"] += 1
    return counts


def _refresh_search_text(row, sector, field_names) -> None:
    if "search_text" not in field_names:
        return
    text = search_text_for(row.name, row.code, sector.name, getattr(row, "national_code", ""))
    if row.search_text != text:
        row.search_text = text
        row.save(update_fields=["search_text"])
