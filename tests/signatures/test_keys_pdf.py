"""Real PDFs signed with a PKCS#11 token key and with a remote (CSC) key, validated with pyHanko."""
from __future__ import annotations

import io
import json

import pytest

from signatures import keys, pki
from signatures.csc import CscClient
from tests.signatures.csc_server import CscTestServer
from tests.signatures.softhsm import softhsm_token  # noqa: F401

try:
    from signatures.pdf import pades
except ImportError:  # the engine is built separately; only its end-to-end tests wait for it
    pades = None

needs_pades = pytest.mark.skipif(pades is None, reason="signatures.pdf.pades is not available yet")


def make_pdf(text: str = "UỶ BAN NHÂN DÂN XÃ TÚ LỆ — Quyết định số 05/QĐ-UBND") -> bytes:
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    out = io.BytesIO()
    page = canvas.Canvas(out, pagesize=A4)
    page.setFont("Helvetica", 12)
    page.drawString(72, 760, text.encode("ascii", "replace").decode())
    page.showPage()
    page.save()
    return out.getvalue()


def validate(pdf: bytes, ca_cert_der: bytes, signer_cert_der: bytes):
    from asn1crypto import x509 as asn1_x509
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    reader = PdfFileReader(io.BytesIO(pdf))
    assert len(reader.embedded_signatures) == 1
    embedded = reader.embedded_signatures[0]
    context = ValidationContext(trust_roots=[asn1_x509.Certificate.load(ca_cert_der)], allow_fetching=False)
    status = validate_pdf_signature(embedded, context)
    assert status.intact and status.valid and status.trusted, status.pretty_print_details()
    assert status.bottom_line
    assert embedded.signer_cert.dump() == signer_cert_der
    return status


@needs_pades
@pytest.mark.parametrize("visible", [False, True])
def test_pdf_signed_with_a_token_key_validates(softhsm_token, visible):
    t = softhsm_token
    key = keys.Pkcs11Key(t.module_path, t.token_label, t.pin, key_label="signer")
    if visible:
        from signatures.pdf.appearance import Appearance

        field = pades.SignatureFieldSpec("Signature1", page=0, box=(320, 120, 540, 260))
        appearance = Appearance("attachment", ["Ký bởi: Nguyễn Văn Token", "UBND xã Tú Lệ"])
    else:
        field, appearance = pades.SignatureFieldSpec("Signature1"), None
    signed = pades.sign(make_pdf(), key=key, field=field, appearance=appearance)
    validate(signed, t.ca.cert_der, t.identity.cert_der)
    assert pades.signature_fields(signed) == {"Signature1": True}


@needs_pades
def test_pdf_signed_remotely_in_two_steps_validates():
    ca = pki.make_demo_ca("Xã Số Remote PDF CA")
    official = pki.issue_personal(ca, "Vũ Thị Từ Xa", "Chủ tịch", "UBND xã Nga An")
    with CscTestServer() as server:
        server.add_credential(official, "cred-1")
        key = keys.CscKey(CscClient(server.url, server.token, timeout=5), "cred-1")

        # step 1 (the request): prepare the PDF, ask the service; the job stores the state and waits
        prepared = pades.prepare(make_pdf(), field=pades.SignatureFieldSpec("Signature1"), appearance=None,
                                 signing_cert_der=key.cert_der, chain_der=key.chain_der)
        request_id = key.request(prepared.to_be_signed_digest, "signing-job-1", prepared.digest_algorithm)
        state, stored_pdf = json.dumps(prepared.to_state()), prepared.pdf
        with pytest.raises(keys.AuthorizationPending):
            key.collect(request_id, prepared.to_be_signed_digest, prepared.digest_algorithm)

        # the official confirms on the phone
        server.release(request_id)

        # step 2 (the resumed job): collect and finish
        resumed = pades.Prepared.from_state(json.loads(state), stored_pdf)
        signature = key.collect(request_id, resumed.to_be_signed_digest, resumed.digest_algorithm)
        signed = pades.finish(resumed, signature, signing_cert_der=key.cert_der, chain_der=key.chain_der)
        assert server.effects == {"signing-job-1": 1}
    validate(signed, ca.cert_der, official.cert_der)


# --- the backends inside pyHanko's own CMS signer (independent of the engine) ----------------------

def pyhanko_sign(pdf: bytes, key) -> bytes:
    import asyncio
    import hashlib

    from asn1crypto import x509 as asn1_x509
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import signers
    from pyhanko_certvalidator.registry import SimpleCertificateStore

    class BackendSigner(signers.Signer):
        async def async_sign_raw(self, data, digest_algorithm, dry_run=False):
            if dry_run:
                return bytes(512)
            digest = hashlib.new(digest_algorithm, data).digest()
            return await asyncio.to_thread(key.sign_digest, digest, digest_algorithm)

    signer = BackendSigner(
        signing_cert=asn1_x509.Certificate.load(key.cert_der),
        cert_registry=SimpleCertificateStore.from_certs([asn1_x509.Certificate.load(c) for c in key.chain_der]),
    )
    out = signers.sign_pdf(IncrementalPdfFileWriter(io.BytesIO(pdf)),
                           signers.PdfSignatureMetadata(field_name="Signature1", md_algorithm="sha256"),
                           signer=signer)
    return out.getvalue()


def test_token_key_in_a_pyhanko_cms_signature(softhsm_token):
    t = softhsm_token
    key = keys.Pkcs11Key(t.module_path, t.token_label, t.pin, key_label="signer")
    validate(pyhanko_sign(make_pdf(), key), t.ca.cert_der, t.identity.cert_der)


@pytest.mark.parametrize("key_kind", ["rsa", "ec"])
def test_remote_key_in_a_pyhanko_cms_signature(key_kind):
    ca = pki.make_demo_ca("Xã Số Remote CMS CA")
    official = pki.issue_personal(ca, "Vũ Văn Cms", "Chủ tịch", "UBND xã Nga An", key_kind=key_kind)
    with CscTestServer(auto_release=True) as server:
        server.add_credential(official, "cred-1")
        key = keys.CscKey(CscClient(server.url, server.token, timeout=5), "cred-1", sync_wait=2)
        signed = pyhanko_sign(make_pdf(), key)
    validate(signed, ca.cert_der, official.cert_der)


def test_software_ec_key_in_a_pyhanko_cms_signature():
    ca = pki.make_demo_ca("Xã Số Software CMS CA")
    official = pki.issue_personal(ca, "Vũ Thị Mềm", key_kind="ec")
    key = keys.SoftwareKey(official.key, official.cert_der, official.chain_der)
    validate(pyhanko_sign(make_pdf(), key), ca.cert_der, official.cert_der)
