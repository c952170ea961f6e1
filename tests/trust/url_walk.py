"""Every URL pattern of a URLconf as a concrete path: the walks of the personal-data tests are
built from the resolver, so a new endpoint is covered without editing a list."""
from __future__ import annotations

import io
import re
from dataclasses import dataclass, field

from django.urls import URLPattern, URLResolver, get_resolver

_ROUTE_PARAM = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<name>[^>]+)>")


@dataclass
class Route:
    pattern: str  # the concatenated pattern text, for messages
    callback: object
    params: list[str] = field(default_factory=list)

    @property
    def view_class(self):
        return getattr(self.callback, "cls", None) or getattr(self.callback, "view_class", None)

    @property
    def actions(self) -> dict:
        return getattr(self.callback, "actions", None) or {}

    @property
    def answers_get(self) -> bool:
        if self.actions:
            return "get" in self.actions
        cls = self.view_class
        return cls is None or hasattr(cls, "get")

    @property
    def action(self) -> str:
        return self.actions.get("get", "get")

    @property
    def positional(self) -> int:
        """How many unnamed groups the pattern has (``^([^/]+)/history/([^/]+)/$``)."""
        return len(re.findall(r"(?<!\\)\((?!\?)", self.pattern))

    def path(self, *args, **values) -> str:
        """The pattern with its parameters replaced by ``values`` and its unnamed groups by
        ``args`` (missing ones by "1")."""
        text = self.pattern
        out, i = [], 0
        positional = list(args)
        while i < len(text):
            if text.startswith("(?P<", i) or (text[i] == "(" and not text.startswith("(?", i)):
                named = text.startswith("(?P<", i)
                end_name = text.index(">", i) if named else i
                name = text[i + 4:end_name] if named else None
                depth, j = 1, end_name + 1
                while depth:
                    if text[j] == "\\":
                        j += 2
                        continue
                    depth += {"(": 1, ")": -1}.get(text[j], 0)
                    j += 1
                out.append(str(values.get(name, "1") if named else (positional.pop(0) if positional else "1")))
                i = j
            elif text[i] == "<":
                match = _ROUTE_PARAM.match(text, i)
                out.append(str(values.get(match["name"], "1")))
                i = match.end()
            elif text[i] == "\\":
                out.append(text[i + 1])
                i += 2
            elif text[i] in "^$":
                i += 1
            else:
                out.append(text[i])
                i += 1
        return "/" + "".join(out)


def routes(urlconf: str, prefix: str = "") -> list[Route]:
    """The URL patterns of ``urlconf`` whose path starts with ``prefix``."""
    found: list[Route] = []

    def walk(patterns, text):
        for entry in patterns:
            part = str(entry.pattern)
            if isinstance(entry, URLResolver):
                walk(entry.url_patterns, text + part)
            elif isinstance(entry, URLPattern):
                full = text + part
                route = Route(full, entry.callback, _param_names(full))
                if route.path().startswith("/" + prefix):
                    found.append(route)

    walk(get_resolver(urlconf).url_patterns, "")
    return found


def _param_names(text: str) -> list[str]:
    return re.findall(r"\(\?P<([^>]+)>", text) + [m["name"] for m in _ROUTE_PARAM.finditer(text)
                                                 if not text[max(m.start() - 3, 0):m.start()].endswith("(?P")]


def body_text(response) -> str:
    """What a response carries, as text: JSON and pages as they are, an .xlsx file's cells, a
    PDF's text."""
    content = b"".join(response.streaming_content) if getattr(response, "streaming", False) else response.content
    content_type = response.get("Content-Type", "")
    if "spreadsheetml" in content_type:
        import openpyxl

        workbook = openpyxl.load_workbook(io.BytesIO(content), read_only=True)
        return "\n".join(str(value) for sheet in workbook.worksheets for row in sheet.iter_rows(values_only=True)
                         for value in row if value is not None)
    if "application/pdf" in content_type:
        import subprocess

        result = subprocess.run(["pdftotext", "-layout", "-enc", "UTF-8", "-", "-"], input=content,
                                capture_output=True, check=True)
        return result.stdout.decode("utf-8")
    return content.decode("utf-8", "replace")
