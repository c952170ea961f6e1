"""The national curriculum as data (``education/data/curriculum.yaml``) and the aspects assessed
besides subjects (``education/data/aspects.yaml``), read once per process; ``ensure_subjects``
makes the commune's ``Subject`` rows from them (idempotent: run when a school year is opened, by
the demo and by the tests)."""
from __future__ import annotations

import functools
from pathlib import Path

import yaml
from django.conf import settings

DATA = Path(__file__).resolve().parent / "data"
KINDS = {"primary", "scored", "comment"}


def _path(setting: str, default: str) -> Path:
    return Path(getattr(settings, setting, "") or DATA / default)


@functools.cache
def curriculum() -> dict[int, list[dict]]:
    """{grade: [{code, name, kind, periods, tested, confirmed, order}, …]} for grades 1–9."""
    raw = yaml.safe_load(_path("XASO_CURRICULUM_FILE", "curriculum.yaml").read_text(encoding="utf-8"))
    grades = {}
    for grade, subjects in raw["grades"].items():
        rows = []
        for order, subject in enumerate(subjects, start=1):
            if subject["kind"] not in KINDS:
                raise ValueError(f"grade {grade}, {subject['code']}: unknown kind {subject['kind']!r}")
            rows.append({"code": subject["code"], "name": subject["name"], "kind": subject["kind"],
                         "periods": int(subject.get("periods", 0)), "tested": bool(subject.get("tested", False)),
                         "confirmed": bool(subject.get("confirmed", True)), "order": order})
        grades[int(grade)] = rows
    return grades


@functools.cache
def aspects() -> dict:
    """``{"primary": [{code, name, group}], "lower_secondary": [{code, name, group}]}``; groups
    are ``qualities``, ``general_competencies``, ``specific_competencies`` and ``conduct``."""
    raw = yaml.safe_load(_path("XASO_EDUCATION_ASPECTS_FILE", "aspects.yaml").read_text(encoding="utf-8"))
    primary = [dict(item, group=group) for group, items in raw["primary"].items() for item in items]
    secondary = [dict(item, group="conduct") for item in raw["lower_secondary"]]
    return {"primary": primary, "lower_secondary": secondary}


def primary_aspect_codes() -> list[str]:
    return [item["code"] for item in aspects()["primary"]]


def ensure_subjects(grades=None) -> int:
    """Create or update the ``Subject`` rows of ``grades`` (default: 1–9) from the curriculum;
    returns how many rows were created. Subjects no longer in the data are left alone (marks
    may hold them)."""
    from education.models import Subject

    created = 0
    data = curriculum()
    for grade in (grades or sorted(data)):
        for row in data.get(int(grade), []):
            _obj, was_created = Subject.objects.update_or_create(
                grade=grade, code=row["code"],
                defaults={"name": row["name"], "kind": row["kind"], "periods_per_year": row["periods"],
                          "tested": row["tested"], "order": row["order"], "confirmed": row["confirmed"]})
            created += was_created
    return created
