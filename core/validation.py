"""Refusals raised by the apps' services: a ``ValidationError`` with a code (and a field), and
the code read back for the API's error body. Shared by documents, the one-stop desk and the radio."""
from __future__ import annotations

from django.core.exceptions import ValidationError


def refuse(message, code: str = "invalid", field: str | None = None) -> ValidationError:
    """A ValidationError with ``code``, attached to ``field`` when one is named."""
    if field:
        return ValidationError({field: [ValidationError(message, code=code)]})
    return ValidationError(message, code=code)


def error_code(exc: ValidationError) -> str:
    """The first code of a ValidationError (for the API's error body)."""
    errors = exc.error_list if not hasattr(exc, "error_dict") else [e for errs in exc.error_dict.values() for e in errs]
    for error in errors:
        if error.code:
            return error.code
    return "invalid"
