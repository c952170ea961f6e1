"""The health station's navigation shows each person the pages their role opens: the chairman
and vice-chairman the overview, the coverage and the monthly report; the health staff all."""
from django import template

from health import permissions

register = template.Library()


@register.simple_tag(takes_context=True)
def health_staff(context) -> bool:
    request = context.get("request")
    return bool(request is not None and permissions.can(request.user, "record.read"))
