"""The health station's demo data: each part seeds its own rows, in this order (records first:
the other parts need them). A part is a callable ``(DemoContext) -> None``."""
from __future__ import annotations

from django.utils.module_loading import import_string

PARTS: list[str] = [
    # records:
    "health.record_demo.seed_demo",
    # visits:
    "health.visit_demo.seed_visits",
    # programmes:
    "health.programme_demo.seed",
    # vaccination:
    "health.vaccination_demo.seed",
    # questions:
    "health.question_demo.seed",
]


def seed_demo(context) -> None:
    for path in PARTS:
        import_string(path)(context)
