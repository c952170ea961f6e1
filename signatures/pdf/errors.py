"""Errors of the PDF engine. Messages are codes; the application translates them."""
from __future__ import annotations

REJECTION_CODES = frozenset({
    "not_pdf",        # does not start with %PDF- in its first 1024 bytes
    "encrypted",      # password-protected or otherwise encrypted
    "too_large",      # over the size limit (checked before any parsing)
    "malformed",      # unreadable structure (cross-reference table, objects, cycles)
    "too_complex",    # a stream inflates beyond the decoding limits, or too many objects/pages
    "timeout",        # parsing or verification did not finish in time
    "memory",         # parsing or verification needed more memory than allowed
    "bad_byte_range", # a signature's /ByteRange is not a sound one
    "unsupported",    # a feature the engine refuses (e.g. adding fields to a signed file)
})


class PdfRejected(Exception):
    """The PDF cannot be processed. ``code`` is one of REJECTION_CODES, ``detail`` is English for logs."""

    def __init__(self, code: str, detail: str = ""):
        if code not in REJECTION_CODES:
            raise ValueError(f"unknown rejection code {code!r}")
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code
        self.detail = detail

    def __reduce__(self):
        return (PdfRejected, (self.code, self.detail))


SIGNING_FAILURE_CODES = frozenset({
    "bad_signature_value",   # the value does not verify with the signer's certificate over to_be_signed
    "certificate_mismatch",  # finish() got another certificate than prepare() committed to
    "state_mismatch",        # the PDF bytes do not match the prepared state
    "timestamp_unavailable", # the timestamp authority could not be reached or refused (retryable)
    "placeholder_too_small", # the signature container does not fit the reserved space
})


class SigningFailed(Exception):
    """finish() could not complete the signature. ``retryable`` is True when trying again later may work."""

    def __init__(self, code: str, detail: str = "", *, retryable: bool = False):
        if code not in SIGNING_FAILURE_CODES:
            raise ValueError(f"unknown signing failure code {code!r}")
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code
        self.detail = detail
        self.retryable = retryable

    def __reduce__(self):
        return (_signing_failed, (self.code, self.detail, self.retryable))


def _signing_failed(code, detail, retryable):
    return SigningFailed(code, detail, retryable=retryable)
