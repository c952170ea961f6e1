"""The fees' link in the schools' navigation: only for those who keep or read a school's fees."""
from __future__ import annotations

from django import template
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _

from education import permissions
from education.fees import format_money

register = template.Library()


@register.simple_tag(takes_context=True)
def fee_nav_link(context):
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return ""
    if not any(permissions.can(user, "fees.read", s) for s in permissions.schools_for(user)):
        return ""
    return format_html('<a class="button secondary" href="{}">{}</a>', reverse("education:fee_home"), _("School fees"))


@register.filter
def dong(value) -> str:
    """1234000 → '1.234.000 đ'."""
    if value is None or value == "":
        return ""
    try:
        return format_money(int(value))
    except (TypeError, ValueError):
        return ""
