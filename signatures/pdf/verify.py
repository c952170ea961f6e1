"""Verification of the signatures in a PDF: integrity, the signer's certificate against explicit
trust roots (never the system store, no network unless asked), the certificate's validity at the
signing time (the timestamp's time when there is one, else the claimed time), and what changed in
the document after each signature (pyHanko's difference analysis).

The report is plain data (strings, numbers, booleans) so it crosses process boundaries and goes
straight into an API response; problems are codes the application translates:

- ``no_signatures``: the document carries no signature;
- ``tampered``: the signed bytes changed (the digest does not match);
- ``bad_signature``: the bytes match but the signature value does not verify;
- ``bad_byte_range``: the /ByteRange is not a sound one (does not start at 0, overlaps, leaves
  bytes other than the signature container out, or points outside the file);
- ``untrusted``: no path from the signer's certificate to a configured trust root;
- ``revoked``: the certificate was revoked;
- ``expired_at_signing`` / ``not_yet_valid_at_signing``: the certificate was not valid at the
  signing time;
- ``timestamp_invalid`` / ``timestamp_untrusted``: the signature's timestamp token is broken or
  from an untrusted authority;
- ``changes_not_permitted``: after the signature the document was changed beyond form filling,
  further signatures and validation data (e.g. page content replaced or stamped over);
- ``unsigned_changes``: content changed after the last signature (e.g. a field refilled after the
  agency signed);
- ``malformed_signature``: a signature dictionary or CMS container that cannot be read;
- ``nonstandard_structure``: the file could only be read by a lenient, repairing parser.
"""
from __future__ import annotations

import datetime as dt
import re

from .appearance import VN_TZ
from .errors import PdfRejected
from .reading import open_reader

_HEX = re.compile(rb"^<[0-9A-Fa-f\s]*>$")
PERMITTED_LEVELS = ("none", "lta_updates", "form_filling")


def _iso(moment: dt.datetime | None) -> str | None:
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.timezone.utc)
    return moment.astimezone(VN_TZ).isoformat()


def _name_attr(cert, key: str) -> str:
    try:
        value = cert.subject.native.get(key)
    except Exception:  # noqa: BLE001
        return ""
    if isinstance(value, list):
        value = value[-1] if value else ""
    return str(value or "")


def _load_roots(trust_roots_der):
    from asn1crypto import x509

    roots = []
    for der in trust_roots_der or ():
        try:
            roots.append(x509.Certificate.load(bytes(der)))
            roots[-1].native  # noqa: B018 - force parsing now
        except Exception:  # noqa: BLE001 - a broken anchor is skipped, not fatal
            roots.pop() if roots else None
    return roots


def _timestamp_time(signer_info) -> dt.datetime | None:
    """genTime of the signature timestamp token, read without validating it."""
    try:
        attrs = signer_info["unsigned_attrs"]
        if not attrs.native:
            return None
        for attr in attrs:
            if attr["type"].native == "signature_time_stamp_token":
                token = attr["values"][0]
                tst_info = token["content"]["encap_content_info"]["content"].parsed
                return tst_info["gen_time"].native
    except Exception:  # noqa: BLE001 - unreadable token: validation reports it
        return None
    return None


def check_byte_range(pdf: bytes, byte_range) -> str | None:
    """None when /ByteRange is [0 a b c] with the gap exactly one hex string inside the file; else why not."""
    try:
        values = [int(v) for v in byte_range]
    except (TypeError, ValueError):
        return "not a list of integers"
    if len(values) != 4:
        return f"{len(values)} numbers instead of 4"
    start1, len1, start2, len2 = values
    if start1 != 0:
        return "does not start at the beginning of the file"
    if min(values) < 0:
        return "negative offsets"
    if start2 < len1 + 2:
        return "the two ranges overlap or leave no room for the signature"
    if start2 + len2 > len(pdf):
        return "points beyond the end of the file"
    if not _HEX.match(bytes(pdf[len1:start2])):
        return "the excluded bytes are not just the signature container"
    return None


def _dss_material(reader):
    """(certificates, crls, ocsps) from the document security store, if any."""
    from asn1crypto import crl as asn1_crl
    from asn1crypto import ocsp as asn1_ocsp
    from pyhanko.pdf_utils.decode_limits import DecodePurpose
    from pyhanko.sign.validation import DocumentSecurityStore

    try:
        dss = DocumentSecurityStore.read_dss(reader)
    except Exception:  # noqa: BLE001 - no DSS, or an unreadable one
        return [], [], []
    certs, crls, ocsps = [], [], []
    try:
        certs = list(dss.load_certs())
        for ref in dss.crls:
            crls.append(asn1_crl.CertificateList.load(ref.get_object().read_data(DecodePurpose.CRL)))
        for ref in dss.ocsps:
            ocsps.append(asn1_ocsp.OCSPResponse.load(ref.get_object().read_data(DecodePurpose.OCSP_RESPONSE)))
    except Exception:  # noqa: BLE001 - unusable validation data: validate without it
        pass
    return certs, crls, ocsps


def verify(pdf: bytes, *, trust_roots_der: list[bytes], allow_fetching: bool = False) -> dict:
    """The verification report of every signature in the PDF (see the module docstring)."""
    problems: list[str] = []
    try:
        reader = open_reader(pdf)
    except PdfRejected as exc:
        if exc.code != "malformed":
            raise
        reader = open_reader(pdf, strict=False)  # still PdfRejected when even that fails
        problems.append("nonstandard_structure")
    from pyhanko.sign.fields import enumerate_sig_fields

    roots = _load_roots(trust_roots_der)
    dss_certs, dss_crls, dss_ocsps = _dss_material(reader)
    reports = []
    document_timestamps = 0
    try:
        found = list(enumerate_sig_fields(reader, filled_status=True))
        revisions = reader.xrefs.total_revisions
    except Exception as exc:  # noqa: BLE001
        from .reading import map_error

        raise map_error(exc) from None
    for name, sig_obj_ref, field_ref in found:
        try:
            sig_type = sig_obj_ref.get_object().get("/Type", "/Sig")
        except Exception:  # noqa: BLE001
            sig_type = "/Sig"
        if sig_type == "/DocTimeStamp":
            document_timestamps += 1
            continue
        reports.append(_verify_one(pdf, reader, name, field_ref, roots, dss_certs, dss_crls, dss_ocsps,
                                   allow_fetching))
    reports.sort(key=lambda r: (r["revision"] if r["revision"] is not None else 1 << 30))
    if not reports:
        problems.append("no_signatures")
    elif reports[-1]["coverage"] != "entire_file" and reports[-1]["modification_level"] not in ("none", "lta_updates"):
        problems.append("unsigned_changes")
    for report in reports:
        for code in report["problems"]:
            if code not in problems:
                problems.append(code)
    return {
        "signatures": reports,
        "revisions": revisions,
        "document_timestamps": document_timestamps,
        "problems": problems,
    }


def _empty_report(name: str) -> dict:
    return {
        "field": name, "signer": "", "organisation": "", "signing_time": None, "timestamp": None,
        "intact": False, "valid": False, "trusted": False, "trust_problem": None,
        "cert_not_before": None, "cert_not_after": None, "cert_valid_at_signing": None,
        "coverage": None, "modification_level": None, "changes_permitted": False, "docmdp_ok": None,
        "revision": None, "time_source": None, "problems": [],
    }


def _verify_one(pdf, reader, name, field_ref, roots, dss_certs, dss_crls, dss_ocsps, allow_fetching) -> dict:
    from pyhanko.sign.validation import EmbeddedPdfSignature, async_validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    from .pades import _run

    report = _empty_report(name)
    problems = report["problems"]
    try:
        embedded = EmbeddedPdfSignature(reader, field_ref, name)
        signer_cert = embedded.signer_cert
    except Exception:  # noqa: BLE001 - unreadable signature dictionary or container
        problems.append("malformed_signature")
        return report
    report["revision"] = embedded.signed_revision
    report["signer"] = _name_attr(signer_cert, "common_name")
    report["organisation"] = _name_attr(signer_cert, "organization_name")
    not_before, not_after = signer_cert.not_valid_before, signer_cert.not_valid_after
    report["cert_not_before"], report["cert_not_after"] = _iso(not_before), _iso(not_after)
    claimed = None
    try:
        claimed = embedded.self_reported_timestamp
    except Exception:  # noqa: BLE001
        pass
    report["signing_time"] = _iso(claimed)

    range_problem = check_byte_range(pdf, embedded.byte_range)
    if range_problem:
        problems.extend(["bad_byte_range", "tampered"])
        report["coverage"] = "unclear"
        report["modification_level"] = "other"
        report["byte_range_problem"] = range_problem
        return report

    ts_time = _timestamp_time(embedded.signer_info)
    reference = ts_time or claimed or dt.datetime.now(dt.timezone.utc)
    report["time_source"] = "timestamp" if ts_time else ("claimed" if claimed else "now")
    if reference.tzinfo is None:
        reference = reference.replace(tzinfo=dt.timezone.utc)

    def context(moment):
        kwargs = {"moment": moment} if not allow_fetching else {}
        return ValidationContext(trust_roots=list(roots), other_certs=dss_certs, crls=dss_crls, ocsps=dss_ocsps,
                                 allow_fetching=allow_fetching, revocation_mode="soft-fail", **kwargs)

    try:
        status = _run(async_validate_pdf_signature(embedded, signer_validation_context=context(reference),
                                                   ts_validation_context=context(ts_time or reference)))
    except Exception:  # noqa: BLE001 - pyHanko refuses the container or its attributes
        problems.append("malformed_signature")
        return report

    report["intact"] = bool(status.intact)
    report["valid"] = bool(status.valid and status.intact)
    report["trusted"] = bool(status.trusted)
    indic = status.trust_problem_indic
    report["trust_problem"] = indic.name.lower() if indic is not None else None
    report["coverage"] = status.coverage.name.lower() if status.coverage is not None else None
    level = status.modification_level
    report["modification_level"] = level.name.lower() if level is not None else None
    report["docmdp_ok"] = status.docmdp_ok
    report["changes_permitted"] = bool(report["modification_level"] in PERMITTED_LEVELS and status.docmdp_ok is not False)
    valid_at = not_before <= reference <= not_after
    report["cert_valid_at_signing"] = valid_at

    tsv = status.timestamp_validity
    if tsv is not None:
        report["timestamp"] = {"time": _iso(tsv.timestamp), "valid": bool(tsv.valid and tsv.intact),
                               "trusted": bool(tsv.trusted)}
        if not report["timestamp"]["valid"]:
            problems.append("timestamp_invalid")
        elif not report["timestamp"]["trusted"]:
            problems.append("timestamp_untrusted")
    elif ts_time is not None:
        report["timestamp"] = {"time": _iso(ts_time), "valid": False, "trusted": False}
        problems.append("timestamp_invalid")

    if not status.intact:
        problems.append("tampered")
    elif not status.valid:
        problems.append("bad_signature")
    if not report["trusted"] and status.intact and status.valid:
        if reference < not_before:
            problems.append("not_yet_valid_at_signing")
        elif reference > not_after:
            problems.append("expired_at_signing")
        elif status.revoked:
            problems.append("revoked")
        else:
            problems.append("untrusted")
    if report["coverage"] in ("unclear", "contiguous_block_from_start"):
        problems.append("bad_byte_range")
    if not report["changes_permitted"]:
        problems.append("changes_not_permitted")
    return report
