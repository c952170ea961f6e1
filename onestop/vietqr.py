"""VietQR for the one-stop desk's fees: the payload code is shared (``core.vietqr``, re-exported
here for the desk's modules); the desk words its own transfer purpose, 'Phi HS <dossier code>'.
"""
from __future__ import annotations

from core.vietqr import (  # noqa: F401  (the desk's modules and tests read them here)
    COUNTRY, CURRENCY_VND, NAPAS_GUID, PURPOSE_MAX, SERVICE_ACCOUNT, SERVICE_CARD, SERVICES, build_payload,
    crc16_ccitt_false, parse_payload, purpose_with_code, qr_png, qr_svg, to_ascii,
)

PURPOSE_PREFIX = "Phi HS "  # "phí hồ sơ"


def purpose_for(dossier_code: str) -> str:
    """The transfer purpose for a dossier's fee: 'Phi HS <code>' (ASCII, at most 25 characters;
    the prefix is dropped when the code is long). Banks bring it back in their notification."""
    return purpose_with_code(dossier_code, (PURPOSE_PREFIX, "HS "), what="dossier code")
