"""``{% vaccination_for_record record %}``: the vaccination card in short on a record's page (the
doses given out of the schedule's, those overdue, the next dose due) with a link to the card.
The read is logged like the card's, as the section shows part of the record."""
from __future__ import annotations

from django import template

from health import access, permissions, vaccination
from health.vaccination import Status

register = template.Library()


@register.inclusion_tag("health/vaccination/_for_record.html", takes_context=True)
def vaccination_for_record(context, record):
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not permissions.may_read_record(user, record):
        return {"record": record, "lines": [], "hidden": True}
    lines = vaccination.record_card(record)
    access.log_read(user, record, what="vaccinations")
    return {
        "record": record, "lines": lines, "next": vaccination.next_due(lines),
        "given": sum(1 for line in lines if line.given_on), "total": len(lines),
        "overdue": sum(1 for line in lines if line.status == Status.OVERDUE),
    }
