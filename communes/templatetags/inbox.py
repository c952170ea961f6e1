"""``{% inbox %}``: what waits for the current official (``communes.modules.inbox_for``), at the
top of their home page; ``{% inbox "documents" %}`` keeps one app's lines (its overview page)."""
from django import template

from communes.modules import inbox_for

register = template.Library()


@register.inclusion_tag("communes/_inbox.html", takes_context=True)
def inbox(context, module: str | None = None):
    request = context.get("request")
    user = getattr(request, "user", None)
    if request is None or user is None or not user.is_authenticated or getattr(request, "commune", None) is None:
        return {"lines": [], "shown": False}
    return {"lines": inbox_for(request, module=module), "shown": True, "module": module}
