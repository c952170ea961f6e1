"""The marks' link in the schools' navigation: only for those who read a school's marks."""
from __future__ import annotations

from django import template
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _

from education import permissions

register = template.Library()


@register.simple_tag(takes_context=True)
def assessment_nav_links(context):
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return ""
    if not any(permissions.can(user, "marks.read", s) for s in permissions.schools_for(user)):
        return ""
    return format_html('<a class="button secondary" href="{}">{}</a>', reverse("education:marks_index"), _("Marks"))
