"""Template filters of the OCOP marketplace: ``{{ amount|dong }}`` (1.234.000 đ) and
``{{ stars|star_marks }}`` (★★★)."""
from django import template

register = template.Library()


def format_dong(amount) -> str:
    """1234000 → '1.234.000 đ' (dots between thousands, a space before đ)."""
    value = int(amount)
    sign = "-" if value < 0 else ""
    return f"{sign}{abs(value):,}".replace(",", ".") + " đ"


@register.filter
def dong(value) -> str:
    if value is None or value == "" or isinstance(value, bool):
        return ""
    try:
        return format_dong(value)
    except (TypeError, ValueError):
        return ""


@register.filter
def star_marks(value) -> str:
    try:
        count = max(0, min(5, int(value)))
    except (TypeError, ValueError):
        return ""
    return "★" * count
