"""The contact book's template filter: ``{{ text|sms_segments }}``, the SMS segments a text takes."""
from django import template

from education.contact import sms_segments as count_segments

register = template.Library()


@register.filter
def sms_segments(text) -> int:
    return count_segments(str(text or ""))
