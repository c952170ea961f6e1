"""PAdES signing: baseline attributes, B-B / B-T (local RFC 3161 server) / B-LT, the interrupted
prepare → sign → finish flow across processes, and the errors finish() reports."""
from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import os
import subprocess
import sys

import pytest

from signatures.pdf import pades
from signatures.pdf.appearance import VN_TZ
from signatures.pdf.errors import PdfRejected, SigningFailed
from signatures.pdf.verify import verify

from .samples import PERSONAL_BOX, DemoKey, demo_pki, personal_appearance, sample_pdf
from .tsa_server import TsaServer

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture(scope="module")
def tsa():
    with TsaServer(demo_pki().tsa) as server:
        yield server


def _embedded(pdf, index=-1):
    from pyhanko.pdf_utils.reader import PdfFileReader

    return PdfFileReader(io.BytesIO(pdf)).embedded_signatures[index]


def _attr_types(signer_info, which="signed_attrs"):
    attrs = signer_info[which]
    return [a["type"].native for a in attrs] if attrs.native else []


def _leader_prepared(pdf=None, **kw):
    pki = demo_pki()
    return pades.prepare(pdf or sample_pdf(2), field=pades.SignatureFieldSpec("leader", -1, PERSONAL_BOX),
                         appearance=personal_appearance(), signing_cert_der=pki.personal.cert_der,
                         chain_der=pki.personal.chain_der, reason="Ký ban hành", location="Tú Lệ", **kw)


def test_baseline_b_attributes():
    pki = demo_pki()
    moment = (dt.datetime.now(VN_TZ) - dt.timedelta(hours=1)).replace(microsecond=0)
    prepared = _leader_prepared(signing_time=moment)
    value = DemoKey(pki.personal).sign_digest(prepared.to_be_signed_digest)
    signed = pades.finish(prepared, value, signing_cert_der=pki.personal.cert_der, chain_der=pki.personal.chain_der)
    embedded = _embedded(signed)
    assert embedded.sig_object["/SubFilter"] == "/ETSI.CAdES.detached"
    assert embedded.sig_object["/Reason"] == "Ký ban hành" and embedded.sig_object["/Location"] == "Tú Lệ"
    types = _attr_types(embedded.signer_info)
    assert "signing_time" not in types                           # PAdES: the time is /M, not an attribute
    assert {"content_type", "message_digest", "signing_certificate_v2"} <= set(types)
    assert _attr_types(embedded.signer_info, "unsigned_attrs") == []   # B-B: no timestamp
    assert embedded.self_reported_timestamp == moment
    assert embedded.compute_digest() == prepared.document_digest
    assert prepared.to_be_signed == prepared.signed_attrs
    assert prepared.to_be_signed_digest == hashlib.sha256(prepared.signed_attrs).digest()
    assert prepared.signature_mechanism == "sha256_rsa" and prepared.digest_algorithm == "sha256"
    assert signed.startswith(sample_pdf(2))                      # incremental
    report = verify(signed, trust_roots_der=pki.roots_der)
    sig = report["signatures"][0]
    assert sig["intact"] and sig["valid"] and sig["trusted"] and report["problems"] == []
    assert sig["timestamp"] is None and sig["signing_time"] == moment.isoformat()
    assert b"/ESIC" in signed                                    # PAdES extension declared


def test_b_t_with_a_local_timestamp_server(tsa):
    pki = demo_pki()
    before = tsa.requests
    prepared = _leader_prepared()
    assert tsa.requests == before                                # prepare never calls the TSA
    value = DemoKey(pki.personal).sign_digest(prepared.to_be_signed_digest)
    signed = pades.finish(prepared, value, signing_cert_der=pki.personal.cert_der, chain_der=pki.personal.chain_der,
                          timestamp_url=tsa.url)
    assert tsa.requests == before + 1
    assert _attr_types(_embedded(signed).signer_info, "unsigned_attrs") == ["signature_time_stamp_token"]
    sig = verify(signed, trust_roots_der=pki.roots_der)["signatures"][0]
    assert sig["timestamp"]["valid"] and sig["timestamp"]["trusted"]
    assert sig["time_source"] == "timestamp" and sig["trusted"]


def test_b_lt_embeds_validation_material_in_a_dss(tsa):
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import DocumentSecurityStore

    pki = demo_pki()
    signed = pades.sign(sample_pdf(1), key=DemoKey(pki.agency), field=pades.SignatureFieldSpec("agency"),
                        appearance=None, timestamp_url=tsa.url, embed_validation_info=True,
                        trust_roots_der=pki.roots_der)
    dss = DocumentSecurityStore.read_dss(PdfFileReader(io.BytesIO(signed)))
    subjects = {c.subject.native["common_name"] for c in dss.load_certs()}
    assert {"UBND xã Tú Lệ", "Xã Số Demo TSA (DEMO - NOT FOR REAL USE)"} <= subjects
    report = verify(signed, trust_roots_der=pki.roots_der)
    sig = report["signatures"][0]
    assert sig["modification_level"] == "lta_updates" and sig["changes_permitted"] and sig["trusted"]
    assert report["problems"] == []


FINISH_SCRIPT = r"""
import json, sys
from signatures.pdf import pades
state = json.load(open(sys.argv[1]))
pdf = open(sys.argv[2], "rb").read()
prepared = pades.Prepared.from_state(state["prepared"], pdf)
signed = pades.finish(prepared, bytes.fromhex(state["signature"]), signing_cert_der=bytes.fromhex(state["cert"]),
                      chain_der=[bytes.fromhex(c) for c in state["chain"]], timestamp_url=state["tsa"])
open(sys.argv[3], "wb").write(signed)
"""


def test_prepare_and_finish_in_different_processes(tmp_path, tsa):
    pki = demo_pki()
    prepared = _leader_prepared()
    state = prepared.to_state()
    text = json.dumps(state)                                     # JSON as is, and without the PDF
    assert len(text) < 4000
    value = DemoKey(pki.personal).sign_digest(prepared.to_be_signed_digest)
    (tmp_path / "state.json").write_text(json.dumps({
        "prepared": json.loads(text), "signature": value.hex(), "cert": pki.personal.cert_der.hex(),
        "chain": [c.hex() for c in pki.personal.chain_der], "tsa": tsa.url}))
    (tmp_path / "placeholder.pdf").write_bytes(prepared.pdf)
    subprocess.run([sys.executable, "-c", FINISH_SCRIPT, str(tmp_path / "state.json"),
                    str(tmp_path / "placeholder.pdf"), str(tmp_path / "signed.pdf")],
                   cwd=ROOT, check=True, capture_output=True, timeout=120)
    signed = (tmp_path / "signed.pdf").read_bytes()
    report = verify(signed, trust_roots_der=pki.roots_der)
    assert report["problems"] == []
    sig = report["signatures"][0]
    assert sig["trusted"] and sig["timestamp"]["trusted"] and sig["field"] == "leader"
    assert len(signed) == len(prepared.pdf)                      # filled in place, nothing appended


def test_ecdsa_identity_signs_too():
    from signatures import pki as demo

    pki = demo_pki()
    ec = demo.issue_personal(pki.ca, "Lò Thị Hoa", "Phó Chủ tịch", "UBND xã Tú Lệ", key_kind="ec")
    prepared = pades.prepare(sample_pdf(1), field=pades.SignatureFieldSpec("vice"), appearance=None,
                             signing_cert_der=ec.cert_der, chain_der=ec.chain_der)
    assert prepared.signature_mechanism == "sha256_ecdsa"
    signed = pades.finish(prepared, DemoKey(ec).sign_digest(prepared.to_be_signed_digest),
                          signing_cert_der=ec.cert_der, chain_der=ec.chain_der)
    sig = verify(signed, trust_roots_der=pki.roots_der)["signatures"][0]
    assert sig["valid"] and sig["trusted"] and sig["signer"] == "Lò Thị Hoa"


def test_finish_rejects_a_wrong_value_another_certificate_or_another_file():
    pki = demo_pki()
    prepared = _leader_prepared()
    good = DemoKey(pki.personal).sign_digest(prepared.to_be_signed_digest)
    kw = {"signing_cert_der": pki.personal.cert_der, "chain_der": pki.personal.chain_der}
    with pytest.raises(SigningFailed) as exc:
        pades.finish(prepared, DemoKey(pki.agency).sign_digest(prepared.to_be_signed_digest), **kw)
    assert exc.value.code == "bad_signature_value" and not exc.value.retryable
    with pytest.raises(SigningFailed) as exc:
        pades.finish(prepared, good, signing_cert_der=pki.agency.cert_der, chain_der=pki.agency.chain_der)
    assert exc.value.code == "certificate_mismatch"
    other = bytearray(prepared.pdf)
    other[100] ^= 1
    with pytest.raises(SigningFailed) as exc:
        pades.finish(pades.Prepared.from_state(prepared.to_state(), bytes(other)), good, **kw)
    assert exc.value.code == "state_mismatch"
    signed = pades.finish(prepared, good, **kw)
    with pytest.raises(SigningFailed) as exc:                    # the placeholder is already filled
        pades.finish(pades.Prepared.from_state(prepared.to_state(), signed), good, **kw)
    assert exc.value.code == "state_mismatch"


def test_finish_reports_an_unreachable_timestamp_authority_as_retryable(tsa):
    pki = demo_pki()
    prepared = _leader_prepared()
    value = DemoKey(pki.personal).sign_digest(prepared.to_be_signed_digest)
    kw = {"signing_cert_der": pki.personal.cert_der, "chain_der": pki.personal.chain_der}
    tsa.fail = True
    try:
        with pytest.raises(SigningFailed) as exc:
            pades.finish(prepared, value, timestamp_url=tsa.url, **kw)
    finally:
        tsa.fail = False
    assert exc.value.code == "timestamp_unavailable" and exc.value.retryable
    with pytest.raises(SigningFailed) as exc:
        pades.finish(prepared, value, timestamp_url="http://127.0.0.1:9/tsa", timestamp_timeout=2, **kw)
    assert exc.value.code == "timestamp_unavailable"
    # the same prepared state still finishes once the authority is back
    assert verify(pades.finish(prepared, value, timestamp_url=tsa.url, **kw),
                  trust_roots_der=pki.roots_der)["problems"] == []


def test_placeholder_too_small_is_reported(tsa):
    pki = demo_pki()
    prepared = _leader_prepared(timestamp_reserve=0)
    value = DemoKey(pki.personal).sign_digest(prepared.to_be_signed_digest)
    kw = {"signing_cert_der": pki.personal.cert_der, "chain_der": pki.personal.chain_der}
    with pytest.raises(SigningFailed) as exc:
        pades.finish(prepared, value, timestamp_url=tsa.url, **kw)
    assert exc.value.code == "placeholder_too_small"
    assert verify(pades.finish(prepared, value, **kw), trust_roots_der=pki.roots_der)["problems"] == []


def test_existing_empty_field_is_used_and_a_signed_field_is_never_signed_twice():
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign.fields import SigFieldSpec, append_signature_field

    pki = demo_pki()
    writer = IncrementalPdfFileWriter(io.BytesIO(sample_pdf(1)))
    append_signature_field(writer, SigFieldSpec("agency", on_page=0, box=(330, 90, 530, 210)))
    out = io.BytesIO()
    writer.write(out)
    template = out.getvalue()
    assert pades.signature_fields(template) == {"agency": False}
    signed = pades.sign(template, key=DemoKey(pki.agency), field=pades.SignatureFieldSpec("agency"),
                        appearance=personal_appearance(["VĂN THƯ", "UBND xã Tú Lệ"]))
    assert pades.signature_fields(signed) == {"agency": True}
    rect = [float(v) for v in _embedded(signed).sig_field["/Rect"]]
    assert rect == [330, 90, 530, 210]
    with pytest.raises(PdfRejected) as exc:
        pades.sign(signed, key=DemoKey(pki.agency), field=pades.SignatureFieldSpec("agency"), appearance=None)
    assert exc.value.code == "unsupported"


def test_signing_refuses_bad_input():
    pki = demo_pki()
    kw = {"field": pades.SignatureFieldSpec("s"), "appearance": None, "signing_cert_der": pki.agency.cert_der,
          "chain_der": pki.agency.chain_der}
    with pytest.raises(PdfRejected) as exc:
        pades.prepare(b"hello", **kw)
    assert exc.value.code == "not_pdf"
    with pytest.raises(ValueError):
        pades.prepare(sample_pdf(1), signing_time=dt.datetime(2026, 1, 1), **kw)
    with pytest.raises(PdfRejected) as exc:
        pades.prepare(sample_pdf(1), **{**kw, "field": pades.SignatureFieldSpec("s", 7, (10, 10, 50, 50)),
                                        "appearance": personal_appearance()})
    assert exc.value.code in ("unsupported", "malformed")
    with pytest.raises(ValueError):
        pades.SignatureFieldSpec("a.b")
