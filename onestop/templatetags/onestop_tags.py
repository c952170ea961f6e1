"""Template filters of the one-stop desk: ``{{ amount|money }}`` and ``{{ id_number|masked_id }}``."""
from django import template

from onestop.fees import format_money

register = template.Library()


@register.filter
def money(value) -> str:
    """1234000 → '1.234.000 đ'; empty for no value or a value that is not a number."""
    if value is None or value == "":
        return ""
    try:
        return format_money(value)
    except (TypeError, ValueError):
        return ""


@register.filter
def masked_id(value, visible=4) -> str:
    """A personal ID number with only its last ``visible`` digits shown: '********9012'."""
    text = "" if value is None else str(value).strip()
    try:
        visible = max(0, int(visible))
    except (TypeError, ValueError):
        visible = 4
    if len(text) <= visible:
        return text
    return "*" * (len(text) - visible) + text[len(text) - visible:]
