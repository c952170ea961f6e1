"""``{{ amount|vnd }}`` (1.234.000 đ) and ``{{ stars|stars_marks }}`` (★★★) for the national
catalogue's pages (a shared app: it does not load the marketplace's own tags)."""
from django import template

register = template.Library()


@register.filter
def vnd(value) -> str:
    if value is None or value == "" or isinstance(value, bool):
        return ""
    try:
        amount = int(value)
    except (TypeError, ValueError):
        return ""
    return ("-" if amount < 0 else "") + f"{abs(amount):,}".replace(",", ".") + " đ"


@register.filter
def stars_marks(value) -> str:
    try:
        return "★" * max(0, min(5, int(value)))
    except (TypeError, ValueError):
        return ""
