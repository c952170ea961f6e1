"""Vietnamese mobile numbers, as the registry stores them and the SMS gateway receives them."""
from __future__ import annotations

import re

_JUNK = re.compile(r"[\s.\-()]")
_MOBILE = re.compile(r"0[35789][0-9]{8}")


def normalize_mobile(value) -> str | None:
    """A Vietnamese mobile number as 0XXXXXXXXX (10 digits), or None when it is not one.

    Accepts spaces, dots, dashes and the +84 / 84 prefixes, and a number whose leading zero a
    spreadsheet dropped; an empty value gives ''.
    """
    text = _JUNK.sub("", str(value or "")).strip()
    if not text:
        return ""
    if text.startswith("+84"):
        text = "0" + text[3:]
    elif text.startswith("84") and len(text) == 11:
        text = "0" + text[2:]
    elif len(text) == 9 and text.isascii() and text.isdigit():
        text = "0" + text
    return text if _MOBILE.fullmatch(text) else None


def mask_phone(value) -> str:
    """'0912345678' → '091*******': the network prefix only.

    The last digits stay hidden as well: the last four digits of the applicant's phone are the
    secret of the public dossier status lookup. An empty value stays empty.
    """
    text = str(value or "")
    if not text:
        return ""
    return text[:3] + "*" * max(len(text) - 3, 0)
