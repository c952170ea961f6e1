"""The schools' demo data: each part seeds its own rows, in this order (structure first: the
other parts need the schools, classes and students). A part is a callable
``(DemoContext) -> None`` and must be idempotent (``seed_demo`` runs again on every ``bin/demo``)."""
from __future__ import annotations

from django.utils.module_loading import import_string

PARTS: list[str] = [
    # structure:
    "education.structure_demo.seed",
    # assessment:
    "education.assessment_demo.seed",
    # attendance and timetable:
    "education.attendance_demo.seed",
    # past year:
    "education.pastyear_demo.seed",
    # contact book:
    "education.contact_demo.seed",
    # applications:
    "education.application_demo.seed",
    # fees:
    "education.fee_demo.seed",
    # report cards:
    "education.report_demo.seed",
]


def seed_demo(context) -> None:
    for path in PARTS:
        import_string(path)(context)
