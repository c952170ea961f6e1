"""The programmes' template tags: ``{% programmes_for_record record %}``, the record page's section
(conditions under follow-up and the last reading, the ongoing pregnancy, the last growth
measurement with its flags), and the small filters of the programmes' pages.

The section is drawn inside the record's page, which logs the read of the record; it shows
nothing to anyone who may not read the record."""
from __future__ import annotations

from django import template
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _

from core import charts
from health import growth as standards
from health import permissions, programmes

register = template.Library()


@register.filter
def vn_number(value):
    """A number the Vietnamese way (7,5; 1.234); empty for None."""
    if value is None or value == "":
        return ""
    return charts.number(value)


@register.simple_tag
def record_url(record_id) -> str:
    from health.programme_views import record_url as url

    return url(record_id)


@register.simple_tag
def growth_flags(measurement) -> str:
    flags = [label for flag, label in ((measurement.underweight, _("Underweight")),
                                       (measurement.stunted, _("Stunted")),
                                       (measurement.wasted, _("Wasted"))) if flag]
    if not flags:
        return format_html("{}", _("Within the standards"))
    return format_html_join(" ", '<strong class="flag">{}</strong>', ((flag,) for flag in flags))


@register.inclusion_tag("health/programmes/_for_record.html", takes_context=True)
def programmes_for_record(context, record):
    request = context.get("request")
    user = getattr(request, "user", None)
    if record is None or not permissions.may_read_record(user, record):
        return {"record": None, "hidden": True}
    conditions = list(record.conditions.filter(active=True, programme__in=programmes.PROGRAMMES))
    pregnancy = programmes.ongoing(record)
    last_growth = record.growth.order_by("-measured_on", "-pk").first()
    resident = record.resident
    today = programmes.today()
    return {
        "record": record,
        "conditions": conditions,
        "last_reading": record.readings.order_by("-taken_on", "-pk").first(),
        "pregnancy": pregnancy,
        "weeks": programmes.weeks_of_pregnancy(pregnancy, today) if pregnancy else None,
        "growth": last_growth,
        "child": standards.is_under_five(resident.birth_date, today),
        "staff": permissions.can(user, "record.read"),  # the person reads the section without the staff's links
    }
