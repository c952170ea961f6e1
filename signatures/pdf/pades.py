"""PAdES signing (ETSI.CAdES.detached): baseline B-B, B-T with an RFC 3161 timestamp, optionally
B-LT (validation material in the document security store).

Signing is split in two so the private-key operation can happen elsewhere (a PIN-protected key in
the request, a token, a remote signing service) and the rest in a background job:

1. :func:`prepare` adds the signature field, its appearance and a zero-filled placeholder for the
   CMS container in an incremental update, digests the byte range and computes the CMS signed
   attributes (content-type, message-digest, signing-certificate-v2; no signingTime, as PAdES
   requires). The key signs ``to_be_signed`` (``to_be_signed_digest`` for digest-signing keys).
2. :func:`finish` — in any process, from :meth:`Prepared.to_state` (JSON) plus the placeholder
   PDF bytes — builds the CMS around the signature value, adds the timestamp token (B-T) and
   writes it into the placeholder. The file is not parsed again unless validation material is
   embedded.
"""
from __future__ import annotations

import asyncio
import base64
import binascii
import datetime as dt
import functools
import hashlib
import io
from dataclasses import dataclass

from .appearance import VN_TZ, Appearance
from .errors import PdfRejected, SigningFailed
from .reading import open_reader

DIGEST_ALGORITHM = "sha256"
#: bytes kept free in the placeholder for a timestamp token (its certificates included)
TIMESTAMP_RESERVE = 12 * 1024
#: bytes for the CMS structure around certificates, signature and attributes
CMS_OVERHEAD = 4096
STATE_VERSION = 1


@dataclass
class SignatureFieldSpec:
    name: str
    page: int = 0             # 0-based; negative counts from the end (-1: last page)
    box: tuple | None = None  # (x1, y1, x2, y2) in points, origin bottom left; None = invisible

    def __post_init__(self):
        if not self.name or "." in self.name:
            raise ValueError("a field name must be non-empty and without dots")
        if self.box is not None:
            x1, y1, x2, y2 = (float(v) for v in self.box)
            if x2 <= x1 or y2 <= y1:
                raise ValueError("box must be (x1, y1, x2, y2) with x1 < x2 and y1 < y2")
            self.box = (x1, y1, x2, y2)


@dataclass
class Prepared:
    pdf: bytes
    reserved_start: int
    reserved_end: int
    document_digest: bytes
    signed_attrs: bytes
    digest_algorithm: str = DIGEST_ALGORITHM
    signature_mechanism: str = "sha256_rsa"
    field_name: str = ""
    signing_time: str = ""
    signer_cert_sha256: str = ""

    @property
    def to_be_signed(self) -> bytes:
        """What the key signs: the DER encoding of the signed attributes."""
        return self.signed_attrs

    @property
    def to_be_signed_digest(self) -> bytes:
        return hashlib.sha256(self.signed_attrs).digest()

    def to_state(self) -> dict:
        """Everything finish() needs except the PDF bytes, as JSON-compatible values."""
        return {
            "version": STATE_VERSION,
            "reserved_start": self.reserved_start,
            "reserved_end": self.reserved_end,
            "document_digest": self.document_digest.hex(),
            "signed_attrs": base64.b64encode(self.signed_attrs).decode("ascii"),
            "digest_algorithm": self.digest_algorithm,
            "signature_mechanism": self.signature_mechanism,
            "field_name": self.field_name,
            "signing_time": self.signing_time,
            "signer_cert_sha256": self.signer_cert_sha256,
        }

    @classmethod
    def from_state(cls, state: dict, pdf: bytes) -> "Prepared":
        if state.get("version") != STATE_VERSION:
            raise SigningFailed("state_mismatch", f"unknown state version {state.get('version')!r}")
        pdf = bytes(pdf)  # finish() checks it against the digest and the placeholder
        return cls(
            pdf=pdf,
            reserved_start=int(state["reserved_start"]),
            reserved_end=int(state["reserved_end"]),
            document_digest=bytes.fromhex(state["document_digest"]),
            signed_attrs=base64.b64decode(state["signed_attrs"]),
            digest_algorithm=state["digest_algorithm"],
            signature_mechanism=state["signature_mechanism"],
            field_name=state.get("field_name", ""),
            signing_time=state.get("signing_time", ""),
            signer_cert_sha256=state.get("signer_cert_sha256", ""),
        )


# --- internals --------------------------------------------------------------------------------------

@functools.lru_cache(maxsize=64)
def _asn1_cert_cached(der: bytes):
    from asn1crypto import x509

    cert = x509.Certificate.load(der)
    cert.dump()  # parse and keep the encoding once: the same officials sign again and again
    cert.native  # noqa: B018
    return cert


def _asn1_cert(der: bytes):
    return _asn1_cert_cached(bytes(der))


def _mechanism(cert) -> str:
    algo = cert.public_key.algorithm
    if algo == "rsa":
        return "sha256_rsa"
    if algo == "ec":
        return "sha256_ecdsa"
    raise PdfRejected("unsupported", f"{algo} keys are not supported")


def _signature_size(cert) -> int:
    if cert.public_key.algorithm == "rsa":
        return (cert.public_key.bit_size + 7) // 8
    return 2 * ((cert.public_key.bit_size + 7) // 8) + 16  # ECDSA DER


def _external_signer(cert, chain, signature_value):
    from pyhanko.sign.signers.pdf_cms import ExternalSigner
    from pyhanko_certvalidator.registry import SimpleCertificateStore

    return ExternalSigner(
        signing_cert=cert,
        cert_registry=SimpleCertificateStore.from_certs([cert, *chain]),
        signature_value=signature_value,
    )


def _run(coro):
    """Run a pyHanko coroutine on a private event loop (asyncio.run would also swap the SIGINT
    handler, and formatting the previous one costs milliseconds per call)."""
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(coro)
    finally:
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()


def signature_fields(pdf: bytes) -> dict[str, bool]:
    """Signature fields of the document and whether each is signed."""
    return signatures_of(open_reader(pdf))


def signatures_of(reader) -> dict[str, bool]:
    from pyhanko.sign.fields import enumerate_sig_fields

    try:
        return {name: value is not None for name, value, _ref in enumerate_sig_fields(reader)}
    except PdfRejected:
        raise
    except Exception as exc:  # noqa: BLE001
        from .reading import map_error

        raise map_error(exc) from None


# --- prepare ----------------------------------------------------------------------------------------

def prepare(pdf: bytes, *, field: SignatureFieldSpec, appearance: Appearance | None, signing_cert_der: bytes,
            chain_der: list[bytes], reason: str = "", location: str = "", signing_time: dt.datetime | None = None,
            timestamp_reserve: int = TIMESTAMP_RESERVE) -> Prepared:
    """Add the signature field (or use the existing empty one), its appearance and the CMS
    placeholder in an incremental update; digest the byte range; compute the signed attributes."""
    from pyhanko.sign.fields import MDPPerm, SigFieldSpec, SigSeedSubFilter, enumerate_sig_fields
    from pyhanko.sign.general import SigningError
    from pyhanko.sign.signers.pdf_cms import PdfCMSSignedAttributes
    from pyhanko.sign.signers.pdf_signer import PdfSignatureMetadata, PdfSigner
    from pyhanko.sign.validation import read_certification_data
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    from . import appearance as appearance_mod
    from .reading import map_error

    signing_time = (signing_time or dt.datetime.now(VN_TZ))
    if signing_time.tzinfo is None:
        raise ValueError("signing_time must be timezone-aware")
    signing_time = signing_time.astimezone(VN_TZ).replace(microsecond=0)
    cert = _asn1_cert(signing_cert_der)
    chain = [_asn1_cert(c) for c in chain_der]
    mechanism = _mechanism(cert)

    reader = open_reader(pdf)
    try:
        existing = {name: value is not None for name, value, _ref in enumerate_sig_fields(reader)}
        certification = read_certification_data(reader)
    except PdfRejected:
        raise
    except Exception as exc:  # noqa: BLE001
        raise map_error(exc) from None
    if existing.get(field.name):
        raise PdfRejected("unsupported", f"signature field {field.name!r} is already signed")
    if certification is not None and certification.permission == MDPPerm.NO_CHANGES:
        raise PdfRejected("unsupported", "a certification signature forbids any change")
    visible = field.box is not None or field.name in existing
    if field.box is not None and appearance is None:
        raise ValueError("a visible signature needs an appearance")

    reserve = 2 * (CMS_OVERHEAD + len(signing_cert_der) + sum(len(c) for c in chain_der)
                   + _signature_size(cert) + timestamp_reserve)
    signer = _external_signer(cert, chain, bytes(_signature_size(cert)))
    meta = PdfSignatureMetadata(
        field_name=field.name, md_algorithm=DIGEST_ALGORITHM, subfilter=SigSeedSubFilter.PADES,
        reason=reason or None, location=location or None,
    )
    style = appearance_mod.stamp_style(appearance, signing_time) if (appearance and visible) else None
    new_field = SigFieldSpec(sig_field_name=field.name, on_page=field.page, box=field.box)
    try:
        writer = IncrementalPdfFileWriter.from_reader(reader)
        pdf_signer = PdfSigner(meta, signer, stamp_style=style, new_field_spec=new_field)
        signing = pdf_signer.init_signing_session(writer)
        signing.system_time = signing_time
        tbs = signing.prepare_tbs_document(validation_info=None, bytes_reserved=reserve)
        prepared_digest, output = tbs.digest_tbs_document()
    except (PdfRejected, ValueError):
        raise
    except SigningError as exc:
        raise PdfRejected("unsupported", str(exc)[:300]) from None
    except Exception as exc:  # noqa: BLE001
        raise map_error(exc) from None
    signed_attrs = _run(signer.signed_attrs(
        prepared_digest.document_digest, DIGEST_ALGORITHM,
        attr_settings=PdfCMSSignedAttributes(), use_pades=True,
    ))
    return Prepared(
        pdf=output.getvalue(),
        reserved_start=prepared_digest.reserved_region_start,
        reserved_end=prepared_digest.reserved_region_end,
        document_digest=prepared_digest.document_digest,
        signed_attrs=signed_attrs.dump(),
        signature_mechanism=mechanism,
        field_name=field.name,
        signing_time=signing_time.isoformat(),
        signer_cert_sha256=hashlib.sha256(bytes(signing_cert_der)).hexdigest(),
    )


# --- finish -----------------------------------------------------------------------------------------

def _check_signature_value(cert_der: bytes, mechanism: str, to_be_signed: bytes, value: bytes) -> None:
    from cryptography import x509
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

    public_key = x509.load_der_x509_certificate(bytes(cert_der)).public_key()
    try:
        if isinstance(public_key, rsa.RSAPublicKey):
            public_key.verify(value, to_be_signed, padding.PKCS1v15(), hashes.SHA256())
        elif isinstance(public_key, ec.EllipticCurvePublicKey):
            public_key.verify(value, to_be_signed, ec.ECDSA(hashes.SHA256()))
        else:
            raise SigningFailed("bad_signature_value", "unsupported key type")
    except InvalidSignature:
        raise SigningFailed("bad_signature_value", "the value does not verify with the certificate") from None


def _check_placeholder(prepared: Prepared) -> None:
    pdf, start, end = prepared.pdf, prepared.reserved_start, prepared.reserved_end
    if not (0 < start < end <= len(pdf)) or pdf[start:start + 1] != b"<" or pdf[end - 1:end] != b">":
        raise SigningFailed("state_mismatch", "the placeholder is not where the state says")
    if pdf[start + 1:end - 1].strip(b"0"):
        raise SigningFailed("state_mismatch", "the placeholder is already filled")
    digest = hashlib.sha256()
    digest.update(memoryview(pdf)[:start])
    digest.update(memoryview(pdf)[end:])
    if digest.digest() != prepared.document_digest:
        raise SigningFailed("state_mismatch", "the byte range digest differs from the prepared one")


def finish(prepared: Prepared, signature_value: bytes, *, signing_cert_der: bytes, chain_der: list[bytes],
           timestamp_url: str | None = None, embed_validation_info: bool = False,
           trust_roots_der: list[bytes] | None = None, timestamp_timeout: float = 10.0) -> bytes:
    """Complete the signature: CMS with the signature value, a timestamp token when timestamp_url
    is given (B-T, else B-B), written into the placeholder; with embed_validation_info a document
    security store with the certificates (and any revocation data found) follows (B-LT)."""
    from asn1crypto import cms
    from pyhanko.sign.timestamps import HTTPTimeStamper

    signature_value = bytes(signature_value)
    if hashlib.sha256(bytes(signing_cert_der)).hexdigest() != prepared.signer_cert_sha256:
        raise SigningFailed("certificate_mismatch", "finish() got another signing certificate than prepare()")
    _check_signature_value(signing_cert_der, prepared.signature_mechanism, prepared.to_be_signed, signature_value)
    _check_placeholder(prepared)
    cert = _asn1_cert(signing_cert_der)
    chain = [_asn1_cert(c) for c in chain_der]
    signer = _external_signer(cert, chain, signature_value)
    signed_attrs = cms.CMSAttributes.load(prepared.signed_attrs)
    timestamper = HTTPTimeStamper(timestamp_url, timeout=timestamp_timeout) if timestamp_url else None
    try:
        container = _run(signer.async_sign_prescribed_attributes(
            prepared.digest_algorithm, signed_attrs, timestamper=timestamper))
    except Exception as exc:  # noqa: BLE001 - only the timestamp request can fail here
        if timestamper is None:
            raise
        raise SigningFailed("timestamp_unavailable", f"{type(exc).__name__}: {exc}"[:300], retryable=True) from None
    der = container.dump()
    hex_value = binascii.hexlify(der).upper()
    room = prepared.reserved_end - prepared.reserved_start - 2
    if len(hex_value) > room:
        raise SigningFailed("placeholder_too_small", f"{len(hex_value)} hex digits for {room} reserved")
    signed = bytearray(prepared.pdf)
    signed[prepared.reserved_start + 1:prepared.reserved_start + 1 + len(hex_value)] = hex_value
    if embed_validation_info:
        return _add_validation_info(bytes(signed), container, cert, chain, trust_roots_der)
    return bytes(signed)


def _tsa_certs(container):
    from asn1crypto import cms

    certs = []
    signer_info = container["content"]["signer_infos"][0]
    for attr in signer_info["unsigned_attrs"] if signer_info["unsigned_attrs"].native else ():
        if attr["type"].native == "signature_time_stamp_token":
            for token in attr["values"]:
                token = token if isinstance(token, cms.ContentInfo) else cms.ContentInfo.load(token.dump())
                for choice in token["content"]["certificates"] or ():
                    if choice.name == "certificate":
                        certs.append(choice.chosen)
    return certs


def _add_validation_info(signed: bytes, container, cert, chain, trust_roots_der) -> bytes:
    """B-LT: a DSS revision with the certificates of the signer and of the TSA, and the revocation
    information a validation of both gathers (soft-fail: none for CAs that publish none)."""
    from pyhanko.sign.validation import DocumentSecurityStore
    from pyhanko_certvalidator import CertificateValidator, ValidationContext

    tsa_certs = _tsa_certs(container)
    roots = [_asn1_cert(r) for r in (trust_roots_der or [])] or [c for c in chain if c.self_signed != "no"]
    others = [*chain, *tsa_certs]
    certs, ocsps, crls = [cert, *others], [], []
    if roots:
        context = ValidationContext(trust_roots=roots, other_certs=others, allow_fetching=True,
                                    revocation_mode="soft-fail")

        async def collect():
            paths = []
            for end_entity in [cert, *[c for c in tsa_certs if c.self_signed == "no" and not c.ca]][:3]:
                try:
                    paths.append(await CertificateValidator(
                        end_entity, intermediate_certs=others, validation_context=context).async_validate_path())
                except Exception:  # noqa: BLE001 - untrusted or unreachable: embed what we have
                    pass
            return paths

        for path in _run(collect()):
            certs.extend(path)
        ocsps, crls = list(context.ocsps), list(context.crls)
    unique = list({c.sha256: c for c in certs}.values())
    output = io.BytesIO(signed)
    DocumentSecurityStore.add_dss(output, sig_contents=None, certs=unique, ocsps=ocsps, crls=crls, force_write=True)
    return output.getvalue()


# --- in one go --------------------------------------------------------------------------------------

def sign(pdf: bytes, *, key, field: SignatureFieldSpec, appearance: Appearance | None, timestamp_url: str | None = None,
         embed_validation_info: bool = False, trust_roots_der: list[bytes] | None = None, **kw) -> bytes:
    """prepare + key.sign_digest + finish in one process (tests, benchmark, batch signing)."""
    prepared = prepare(pdf, field=field, appearance=appearance, signing_cert_der=key.cert_der,
                       chain_der=list(key.chain_der), **kw)
    value = key.sign_digest(prepared.to_be_signed_digest, prepared.digest_algorithm)
    return finish(prepared, value, signing_cert_der=key.cert_der, chain_der=list(key.chain_der),
                  timestamp_url=timestamp_url, embed_validation_info=embed_validation_info,
                  trust_roots_der=trust_roots_der)
