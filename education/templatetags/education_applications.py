"""``{% decides_applications as flag %}``: does the person decide enrolment applications in one of
their schools (the navigation shows the link only then)?"""
from django import template

from education import permissions

register = template.Library()


@register.simple_tag(takes_context=True)
def decides_applications(context) -> bool:
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return False
    return any(permissions.can(user, "applications.decide", school) for school in permissions.schools_for(user))
