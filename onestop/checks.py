"""System checks of the one-stop settings."""
from __future__ import annotations

import string

from django.conf import settings
from django.core.checks import Error, register


@register()
def dossier_code_format(app_configs=None, **kwargs):
    """Dossier codes are unique in the installation only if each carries its commune's agency
    identifier (unique, ``communes.Commune.agency_code``) and the day's sequence number."""
    fmt = getattr(settings, "XASO_DOSSIER_CODE_FORMAT", "")
    try:
        names = {field.split(".")[0].split("[")[0] for _text, field, _spec, _conv in string.Formatter().parse(fmt)
                 if field is not None}
    except ValueError as exc:
        return [Error(f"XASO_DOSSIER_CODE_FORMAT {fmt!r} is not a format string: {exc}", id="onestop.E001")]
    missing = [name for name in ("agency", "seq") if name not in names]
    if missing:
        return [Error(
            f"XASO_DOSSIER_CODE_FORMAT {fmt!r} lacks {', '.join('{' + m + '}' for m in missing)}: dossier codes "
            "would not be unique in the installation (they are the lookup key, the bank transfer's purpose "
            "and the exchange's reference).",
            hint="Keep {agency} (the commune's agency identifier) and {seq}, e.g. '{agency}-{date:%y%m%d}-{seq:04d}'.",
            id="onestop.E001",
        )]
    unknown = names - {"agency", "date", "seq"}
    if unknown:
        return [Error(f"XASO_DOSSIER_CODE_FORMAT {fmt!r} uses unknown fields: {', '.join(sorted(unknown))}",
                      hint="The fields are {agency}, {date} and {seq}.", id="onestop.E001")]
    return []
