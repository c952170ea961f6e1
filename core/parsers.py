"""JSON from the outside, read within limits: a body size and a nesting depth.

Python's ``json`` module descends one level of the interpreter's stack per nested array or
object, so ``[[[[…]]]]`` a thousand levels deep raises ``RecursionError`` (not ``ValueError``)
and takes the request down with a 500; and whatever reads the data afterwards (validation,
error bodies, the database's JSON encoding) recurses as well. ``loads`` measures the depth first,
in one pass over the text without recursion, and refuses what is too deep or too large with
``JSONLimitError`` (a ``ValueError``, so callers that already refuse bad JSON refuse it too).

Every JSON body read by the portal goes through ``loads``: DRF's parser (the API's
``DEFAULT_PARSER_CLASSES`` and the views that name their parsers), the bank's notification, and
JSON carried in form fields.
"""
from __future__ import annotations

import json
import re
from itertools import accumulate

from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from rest_framework import parsers
from rest_framework.exceptions import ParseError

# A JSON string (with its escapes), or a bracket outside strings.
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")


class JSONLimitError(ValueError):
    """The JSON text is larger or deeper than the portal reads."""

    def __init__(self, message: str, code: str):
        super().__init__(message)
        self.message, self.code = message, code


def max_bytes() -> int:
    return settings.XASO_JSON_MAX_BYTES


def max_depth() -> int:
    return settings.XASO_JSON_MAX_DEPTH


def depth(text: str) -> int:
    """How deeply arrays and objects nest in ``text`` (0 for a scalar), without recursion."""
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", text))
    return max(accumulate(1 if c in "[{" else -1 for c in brackets), default=0)


def check(text: str | bytes) -> None:
    """Raise ``JSONLimitError`` when ``text`` is over the size or depth limit."""
    size = len(text.encode("utf-8") if isinstance(text, str) else text)
    if size > max_bytes():
        raise JSONLimitError(
            _("The JSON data are larger than the limit of %(max)s.") % {"max": filesizeformat(max_bytes())},
            "too_large",
        )
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    if depth(text) > max_depth():
        raise JSONLimitError(
            _("The JSON data are nested more than %(max)s levels deep.") % {"max": max_depth()}, "too_deep",
        )


def _refuse_constant(name):
    raise ValueError(f"{name} is not a JSON number")


def loads(text: str | bytes):
    """``json.loads`` within the size and depth limits (``JSONLimitError`` beyond them); NaN and
    Infinity, which JSON does not have, are refused (``ValueError``) as DRF refuses them."""
    check(text)
    try:
        return json.loads(text, parse_constant=_refuse_constant)
    except RecursionError:  # a limit set above what the interpreter's stack allows
        raise JSONLimitError(
            _("The JSON data are nested more than %(max)s levels deep.") % {"max": max_depth()}, "too_deep",
        ) from None


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser within the portal's limits: a body over them is a 400 with the API's
    error body (``too_large`` / ``too_deep``), read no further than one byte past the limit."""

    def parse(self, stream, media_type=None, parser_context=None):
        parser_context = parser_context or {}
        encoding = parser_context.get("encoding", settings.DEFAULT_CHARSET)
        raw = stream.read(max_bytes() + 1) if stream is not None else b""
        try:
            return loads(raw.decode(encoding))
        except JSONLimitError as exc:
            raise ParseError(exc.message, code=exc.code) from None
        except (ValueError, LookupError):  # UnicodeDecodeError is a ValueError
            raise ParseError(_("The data sent are not valid JSON.")) from None
