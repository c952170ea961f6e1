"""The visits' pieces of templates: ``{% visits_for_record record %}``, the last visits of a record
(on the record's page and the visit form), and the filters that show a visit's figures.

The tag reads part of a record: it shows it only to whoever may read the record
(``health.permissions.may_read_record``) and writes the read to the access log."""
from __future__ import annotations

from decimal import Decimal

from django import template

register = template.Library()
LAST = 5


@register.inclusion_tag("health/visits/_record_visits.html", takes_context=True)
def visits_for_record(context, record, limit: int = LAST):
    from health import access, permissions, visits

    request = context.get("request")
    user = getattr(request, "user", None)
    allowed = user is not None and permissions.may_read_record(user, record)
    if not allowed:
        return {"allowed": False, "record": record}
    access.log_read(user, record, what="visits")
    return {"allowed": True, "record": record, "visits": list(visits.visits_of(record, limit)),
            "total": record.visits.count(), "staff": permissions.can(user, "record.read")}


@register.filter
def main_diagnosis(visit) -> str:
    from health.visits import main_code

    return main_code(visit)


@register.filter
def visit_number(value) -> str:
    """37.5 → '37,5'; 72 → '72'; 12.50 → '12,5' (the Vietnamese decimal comma, no trailing zeros)."""
    if value is None:
        return ""
    if isinstance(value, Decimal):
        value = value.normalize()
        text = f"{value:f}"
    else:
        text = str(value)
    return text.replace(".", ",")
