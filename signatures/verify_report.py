"""What a public signature check tells a person: verdicts and plain-language explanations of the
engine's report (``signatures.pdf.verify``), for the page and the API alike.

The engine speaks in codes; this module turns them into verdict codes and translated sentences
that a commune clerk understands, with times in Vietnam's time zone (dd/mm/yyyy HH:MM).
"""
from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")

# Verdicts, from the best to the worst.
VALID = "valid"
UNTRUSTED = "untrusted"
CERTIFICATE_NOT_VALID = "certificate_not_valid"
MODIFIED = "modified"
INVALID = "invalid"
NO_SIGNATURES = "no_signatures"
SEVERITY = {VALID: 0, UNTRUSTED: 1, CERTIFICATE_NOT_VALID: 2, MODIFIED: 3, INVALID: 4}

# Why a PDF was not checked (signatures.pdf.errors.REJECTION_CODES) and the HTTP status of each.
REJECTION_MESSAGES = {
    "not_pdf": gettext_lazy("The file is not a PDF document. Choose the signed PDF file (it starts with %PDF-)."),
    "encrypted": gettext_lazy("The PDF is protected by a password or encrypted, so its signatures cannot be checked. "
                              "Ask the sender for a copy without a password."),
    "too_large": gettext_lazy("The file is larger than the limit of %(max)s."),
    "malformed": gettext_lazy("The PDF is damaged or its structure cannot be read."),
    "too_complex": gettext_lazy("The PDF is too complex to check (too many objects or compressed data that expands too much)."),
    "timeout": gettext_lazy("Checking this PDF took too long and was stopped. Try again later, or ask the sender for a simpler copy."),
    "memory": gettext_lazy("Checking this PDF needed too much memory and was stopped."),
    "bad_byte_range": gettext_lazy("A signature in this PDF does not cover the file in a sound way (its byte range is wrong): "
                                   "it cannot be trusted."),
    "unsupported": gettext_lazy("This PDF uses a feature that the checker does not support."),
}
REJECTION_STATUS = {"not_pdf": 400, "too_large": 413}  # every other code: 422

VERDICT_TITLES = {
    VALID: gettext_lazy("Valid signature"),
    UNTRUSTED: gettext_lazy("Signer not confirmed"),
    CERTIFICATE_NOT_VALID: gettext_lazy("Certificate not valid when signing"),
    MODIFIED: gettext_lazy("Changed after signing"),
    INVALID: gettext_lazy("Invalid signature"),
    NO_SIGNATURES: gettext_lazy("No digital signature"),
}

OVERALL_TITLES = {
    **VERDICT_TITLES,
    VALID: gettext_lazy("Validly signed document"),
}

SIGNATURE_VERDICT_MESSAGES = {
    VALID: gettext_lazy("The signature is valid: the signed content has not been changed and the signer's "
                        "certificate was issued by an authority this portal trusts."),
    UNTRUSTED: gettext_lazy("The signed content has not been changed, but the signer's certificate was not issued by an "
                            "authority this portal trusts: who signed cannot be confirmed."),
    CERTIFICATE_NOT_VALID: gettext_lazy("The signer's certificate was not valid at the time of signing "
                                        "(expired or not yet valid)."),
    MODIFIED: gettext_lazy("The document was changed after this signature in a way the signature does not allow: "
                           "what you see may not be what was signed."),
    INVALID: gettext_lazy("The signature is broken: the signed content was altered or the signature is damaged. "
                          "Do not rely on it."),
}

MODIFICATION_MESSAGES = {
    "none": gettext_lazy("No change after this signature."),
    "lta_updates": gettext_lazy("Only validation data for long-term archiving was added after this signature."),
    "form_filling": gettext_lazy("After this signature, form fields were filled in or further signatures were added."),
    "annotations": gettext_lazy("After this signature, comments or annotations were added."),
    "other": gettext_lazy("After this signature, the content of the document was changed."),
    "unknown": gettext_lazy("What changed after this signature could not be determined."),
}

COVERAGE_MESSAGES = {
    "entire_file": gettext_lazy("The signature covers the whole file."),
    "entire_revision": gettext_lazy("The signature covers the document as it was when signed; later additions are listed below."),
    "contiguous_block_from_start": gettext_lazy("The signature covers only part of the file."),
    "unclear": gettext_lazy("What the signature covers cannot be determined."),
}

# Why a signer is not trusted: the engine's per-signature problem codes first, then pyHanko's
# sub-indication (signatures.pdf.verify reports it as ``trust_problem``).
TRUST_REASONS_BY_PROBLEM = {
    "revoked": gettext_lazy("the certificate has been revoked by the authority that issued it."),
    "expired_at_signing": gettext_lazy("the certificate had already expired at the time of signing."),
    "not_yet_valid_at_signing": gettext_lazy("the certificate was not yet valid at the time of signing."),
    "untrusted": gettext_lazy("the certificate was not issued by an authority this portal trusts."),
}
TRUST_PROBLEM_MESSAGES = {
    "no_certificate_chain_found": TRUST_REASONS_BY_PROBLEM["untrusted"],
    "certificate_chain_general_failure": gettext_lazy("the certificate chain is not valid."),
    "chain_constraints_failure": gettext_lazy("the certificate chain does not meet the rules of its authorities."),
    "out_of_bounds_no_poe": gettext_lazy("the certificate was not valid at the time of signing."),
    "expired": gettext_lazy("the certificate has expired."),
    "not_yet_valid": gettext_lazy("the certificate is not yet valid."),
    "revoked": TRUST_REASONS_BY_PROBLEM["revoked"],
    "revoked_no_poe": TRUST_REASONS_BY_PROBLEM["revoked"],
    "revoked_ca_no_poe": gettext_lazy("the certificate of the issuing authority has been revoked."),
    "try_later": gettext_lazy("whether the certificate has been revoked could not be checked."),
    "crypto_constraints_failure": gettext_lazy("the signature uses an algorithm or key that is too weak."),
    "crypto_constraints_failure_no_poe": gettext_lazy("the signature uses an algorithm or key that is too weak."),
}
NO_ANCHORS_REASON = gettext_lazy("this portal has no trusted certificate authority configured yet.")

# Problem codes of the report (document and signatures), for API clients and the page's notes.
PROBLEM_MESSAGES = {
    "no_signatures": gettext_lazy("The PDF has no digital signature."),
    "tampered": gettext_lazy("Signed content was changed after signing."),
    "bad_signature": gettext_lazy("A signature value does not match its certificate."),
    "bad_byte_range": gettext_lazy("A signature does not cover the file in a sound way."),
    "untrusted": gettext_lazy("A signer's certificate was not issued by an authority this portal trusts."),
    "revoked": gettext_lazy("A signer's certificate has been revoked."),
    "expired_at_signing": gettext_lazy("A signer's certificate had expired at the time of signing."),
    "not_yet_valid_at_signing": gettext_lazy("A signer's certificate was not yet valid at the time of signing."),
    "timestamp_invalid": gettext_lazy("A signature's timestamp is not valid."),
    "timestamp_untrusted": gettext_lazy("A signature's timestamp comes from an authority this portal does not trust."),
    "changes_not_permitted": gettext_lazy("The document was changed after a signature in a way that signature does not allow."),
    "unsigned_changes": gettext_lazy("The file has changes made after the last signature that no signature covers "
                                     "(for example a field filled in afterwards)."),
    "malformed_signature": gettext_lazy("A signature cannot be read."),
    "nonstandard_structure": gettext_lazy("The file's structure is not standard; it could only be read after repair."),
}
# Notes about the whole document shown above the signatures (the rest is said per signature).
DOCUMENT_NOTES = ("unsigned_changes", "nonstandard_structure")


def rejection_message(code: str, *, max_bytes: int | None = None) -> str:
    from django.template.defaultfilters import filesizeformat

    message = REJECTION_MESSAGES.get(code) or REJECTION_MESSAGES["malformed"]
    text = str(message)
    if "%(max)s" in text:
        text = text % {"max": filesizeformat(max_bytes or 0)}
    return text


def rejection_status(code: str) -> int:
    return REJECTION_STATUS.get(code, 422)


# --- values -------------------------------------------------------------------------------------------

def parse_time(value) -> dt.datetime | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.datetime):
        moment = value
    else:
        try:
            moment = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.timezone.utc)
    return moment.astimezone(VIETNAM)


def show_time(moment: dt.datetime | None) -> str:
    return moment.strftime("%d/%m/%Y %H:%M") if moment else ""


def iso_time(moment: dt.datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _yes(value) -> bool | None:
    return None if value is None else bool(value)


# --- verdicts --------------------------------------------------------------------------------------------

def signature_verdict(sig: dict) -> str:
    if not sig.get("intact") or not sig.get("valid"):
        return INVALID
    level = sig.get("modification_level") or "unknown"
    if level in ("other", "unknown") or sig.get("changes_permitted") is False or sig.get("docmdp_ok") is False:
        return MODIFIED
    if sig.get("cert_valid_at_signing") is False:
        return CERTIFICATE_NOT_VALID
    if not sig.get("trusted"):
        return UNTRUSTED
    return VALID


def overall_verdict(verdicts: list[str]) -> str:
    if not verdicts:
        return NO_SIGNATURES
    return max(verdicts, key=lambda v: SEVERITY.get(v, SEVERITY[INVALID]))


def overall_message(verdict: str, count: int) -> str:
    if verdict == NO_SIGNATURES:
        return _("This PDF has no digital signature: nothing proves who issued it.")
    if verdict == VALID and count == 1:
        return _("The signature is valid: the document has not been changed since it was signed, and the signer was "
                 "confirmed by a trusted authority.")
    if verdict == VALID:
        return _("All %(count)d signatures are valid: the document has not been changed since it was signed, and "
                 "every signer was confirmed by a trusted authority.") % {"count": count}
    if verdict == UNTRUSTED:
        return _("The document has not been changed since it was signed, but at least one signer could not be confirmed: "
                 "their certificate was not issued by an authority this portal trusts. Check with the issuing office.")
    if verdict == CERTIFICATE_NOT_VALID:
        return _("At least one signer's certificate was not valid when the document was signed. Check with the issuing office.")
    if verdict == MODIFIED:
        return _("The document was changed after it was signed, in a way the signature does not allow. "
                 "Do not rely on this copy; ask the issuing office for the original.")
    return _("At least one signature is not valid: the document was altered after signing or a signature is damaged. "
             "Do not rely on this copy.")


def _trust_text(sig: dict, trust_configured: bool = True) -> str:
    if sig.get("trusted"):
        return _("Trusted: the certificate was issued by an authority this portal trusts.")
    problems = sig.get("problems") or []
    reason = next((TRUST_REASONS_BY_PROBLEM[code] for code in TRUST_REASONS_BY_PROBLEM if code in problems), None)
    if reason is None or (not trust_configured and reason is TRUST_REASONS_BY_PROBLEM["untrusted"]):
        problem = str(sig.get("trust_problem") or "")
        if not trust_configured and problem in ("", "no_certificate_chain_found"):
            reason = NO_ANCHORS_REASON
        else:
            reason = TRUST_PROBLEM_MESSAGES.get(problem)
    if reason is None:
        if not (sig.get("intact") and sig.get("valid")):
            reason = gettext_lazy("a broken signature cannot be traced to an authority.")
        else:
            reason = gettext_lazy("the certificate could not be traced to an authority this portal trusts.")
    return _("Not trusted: %(reason)s") % {"reason": reason}


def _timestamp(sig: dict) -> dict | None:
    stamp = sig.get("timestamp")
    if not stamp:
        return None
    moment = parse_time(stamp.get("time"))
    valid, trusted = _yes(stamp.get("valid")), _yes(stamp.get("trusted"))
    if valid and trusted:
        text = _("Timestamp of %(time)s from a trusted timestamp authority: the signature existed at that time.")
    elif valid:
        text = _("Timestamp of %(time)s, but the timestamp authority is not one this portal trusts.")
    else:
        text = _("The timestamp of %(time)s is not valid.")
    return {"time": iso_time(moment), "time_display": show_time(moment), "valid": valid, "trusted": trusted,
            "message": text % {"time": show_time(moment) or "?"}}


def _validity_text(sig: dict, not_before, not_after) -> str:
    period = _("valid from %(start)s to %(end)s") % {"start": show_time(not_before), "end": show_time(not_after)}
    at_signing = sig.get("cert_valid_at_signing")
    if at_signing is True:
        return _("The certificate was valid at the time of signing (%(period)s).") % {"period": period}
    if at_signing is False:
        return _("The certificate was NOT valid at the time of signing (%(period)s).") % {"period": period}
    return _("The certificate is %(period)s; the time of signing is not known.") % {"period": period}


def _changes_text(sig: dict) -> str:
    level = sig.get("modification_level") or "unknown"
    base = str(MODIFICATION_MESSAGES.get(level, MODIFICATION_MESSAGES["other"]))
    if level in ("none", "unknown"):
        return base
    if sig.get("changes_permitted") is False or level == "other":
        verdict = _("These changes are not permitted by the signature.")
    else:
        verdict = _("These changes are permitted by the signature.")
    return f"{base} {verdict}"


def present_signature(sig: dict, trust_configured: bool = True) -> dict:
    verdict = signature_verdict(sig)
    signing_time = parse_time(sig.get("signing_time"))
    not_before, not_after = parse_time(sig.get("cert_not_before")), parse_time(sig.get("cert_not_after"))
    coverage = str(sig.get("coverage") or "unclear").lower()
    level = sig.get("modification_level") or "unknown"
    intact = bool(sig.get("intact")) and bool(sig.get("valid"))
    return {
        "field": sig.get("field") or "",
        "verdict": verdict,
        "verdict_title": str(VERDICT_TITLES[verdict]),
        "verdict_message": str(SIGNATURE_VERDICT_MESSAGES[verdict]),
        "signer": sig.get("signer") or "",
        "organisation": sig.get("organisation") or "",
        "signing_time": iso_time(signing_time),
        "signing_time_display": show_time(signing_time),
        "timestamp": _timestamp(sig),
        "intact": bool(sig.get("intact")),
        "valid": bool(sig.get("valid")),
        "integrity_message": (_("Intact: the signed content has not been changed since signing.") if intact
                              else _("Broken: the signed content was changed after signing or the signature is damaged.")),
        "trusted": bool(sig.get("trusted")),
        "trust_problem": sig.get("trust_problem") or None,
        "trust_message": _trust_text(sig, trust_configured),
        "cert_not_before": iso_time(not_before),
        "cert_not_after": iso_time(not_after),
        "cert_valid_at_signing": _yes(sig.get("cert_valid_at_signing")),
        "validity_message": _validity_text(sig, not_before, not_after),
        "coverage": coverage,
        "coverage_message": str(COVERAGE_MESSAGES.get(coverage, COVERAGE_MESSAGES["unclear"])),
        "modification_level": level,
        "changes_permitted": _yes(sig.get("changes_permitted")),
        "changes_message": _changes_text(sig),
        "problems": [str(code) for code in sig.get("problems") or []],
    }


def present(report: dict, *, trust_configured: bool = True) -> dict:
    """The engine's report → what the page shows and the API returns."""
    signatures = [present_signature(sig, trust_configured) for sig in report.get("signatures") or []]
    verdict = overall_verdict([s["verdict"] for s in signatures])
    problems = [str(code) for code in report.get("problems") or []]
    return {
        "verdict": verdict,
        "verdict_title": str(OVERALL_TITLES[verdict]),
        "verdict_message": overall_message(verdict, len(signatures)),
        "signatures": signatures,
        "revisions": report.get("revisions"),
        "problems": problems,
        "problem_messages": [str(PROBLEM_MESSAGES.get(code, code)) for code in problems],
        "notes": [str(PROBLEM_MESSAGES[code]) for code in problems if code in DOCUMENT_NOTES],
    }


def log_summary(presented: dict) -> dict:
    return {
        "verdict": presented["verdict"],
        "count": len(presented["signatures"]),
        "verdicts": [s["verdict"] for s in presented["signatures"]],
        "trust_problems": [s["trust_problem"] for s in presented["signatures"] if s["trust_problem"]],
        "modifications": [s["modification_level"] for s in presented["signatures"]],
        "problems": presented["problems"],
        "revisions": presented["revisions"],
    }
