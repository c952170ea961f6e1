"""The records' part of the station's home: the commune's coverage of personal health records (an
aggregate figure, for the staff and the leaders)."""
from django import template

register = template.Library()


@register.inclusion_tag("health/records/_coverage_figure.html")
def records_coverage():
    from health.records import coverage

    _lines, total = coverage()
    return {"total": total}
