"""The structure's links in the schools' navigation: each school the person works in, and the
school years' page for those who manage a school."""
from __future__ import annotations

from django import template

from education import permissions

register = template.Library()


@register.inclusion_tag("education/structure/_nav_links.html", takes_context=True)
def structure_nav(context):
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"schools": [], "manage": False}
    schools = list(permissions.schools_for(user).order_by("name"))
    return {"schools": schools, "manage": any(permissions.can(user, "school.manage", s) for s in schools)}
