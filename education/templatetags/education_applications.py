"""``{% decides_applications as flag %}``: does the person decide enrolment applications in one of
their schools (the navigation shows the link only then)? ``{{ application|application_state }}``:
the state in the words of enrolment."""
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


@register.filter
def application_state(application) -> str:
    from education.applications import state_label

    return state_label(getattr(application, "state", application))
