"""Tags of the pages' layout: the current page in a menu."""
import re

from django import template
from django.utils.safestring import mark_safe

register = template.Library()

_LINK = re.compile(r'<a\b([^>]*?)\bhref="([^"]+)"([^>]*)>')


@register.tag
def menu(parser, token):
    """``{% menu %}<a href="…">…</a> …{% endmenu %}``: the link of the page shown gets
    ``aria-current="page"``. That is the link whose address is the longest start of the page's
    path: a document's page marks its list, the list marks itself, an overview only itself
    when nothing longer fits."""
    nodelist = parser.parse(("endmenu",))
    parser.delete_first_token()
    return MenuNode(nodelist)


def mark_current(html: str, path: str) -> str:
    best = None
    for match in _LINK.finditer(html):
        href = match.group(2)
        if "aria-current" in match.group(0) or not href.startswith("/"):
            continue
        if path == href or (href.endswith("/") and path.startswith(href)):
            if best is None or len(href) > len(best.group(2)):
                best = match
    if best is None:
        return html
    return html[:best.start()] + best.group(0)[:-1] + ' aria-current="page">' + html[best.end():]


class MenuNode(template.Node):
    def __init__(self, nodelist):
        self.nodelist = nodelist

    def render(self, context):
        html = self.nodelist.render(context)
        request = context.get("request")
        if request is None:
            return html
        return mark_safe(mark_current(html, request.path))
