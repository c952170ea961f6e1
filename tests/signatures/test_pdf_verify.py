"""Verification reports: trust only from explicit roots, certificate validity at the signing time
(timestamp first, claimed time otherwise), what changed after each signature."""
from __future__ import annotations

import datetime as dt

import pytest

from signatures import pki as demo
from signatures.pdf import fields, pades
from signatures.pdf.appearance import VN_TZ
from signatures.pdf.errors import PdfRejected
from signatures.pdf.verify import verify

from .samples import DemoKey, demo_pki, outgoing_flow, sample_pdf
from .tsa_server import TsaServer

UTC = dt.timezone.utc
REPORT_KEYS = {"field", "signer", "organisation", "signing_time", "timestamp", "intact", "valid", "trusted",
               "trust_problem", "cert_not_before", "cert_not_after", "cert_valid_at_signing", "coverage",
               "modification_level", "changes_permitted", "docmdp_ok"}


@pytest.fixture(scope="module")
def old_ca():
    """A CA that has existed for a year, so certificates can have expired under it."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Old Demo CA (DEMO - NOT FOR REAL USE)")])
    now = dt.datetime.now(UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=365)).not_valid_after(now + dt.timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                         crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
            .sign(key, hashes.SHA256()))
    return demo.Identity(key=key, cert=cert, chain=[])


def _sign(identity, *, signing_time=None, timestamp_url=None, pdf=None):
    return pades.sign(pdf or sample_pdf(1), key=DemoKey(identity), field=pades.SignatureFieldSpec("s"),
                      appearance=None, signing_time=signing_time, timestamp_url=timestamp_url)


def test_outgoing_flow_report():
    pki = demo_pki()
    report = verify(outgoing_flow().final, trust_roots_der=pki.roots_der)
    assert report["problems"] == []
    assert report["revisions"] == 5          # draft, fields, leader, number+date, agency
    leader, agency = report["signatures"]
    assert REPORT_KEYS <= set(leader)
    assert (leader["field"], leader["signer"], leader["organisation"]) == ("leader", "Nguyễn Văn Thắng", "UBND xã Tú Lệ")
    assert (agency["field"], agency["signer"]) == ("agency", "UBND xã Tú Lệ")
    for sig in (leader, agency):
        assert sig["intact"] and sig["valid"] and sig["trusted"] and sig["cert_valid_at_signing"]
        assert sig["changes_permitted"] and sig["docmdp_ok"] and sig["trust_problem"] is None
        assert sig["signing_time"].endswith("+07:00") and sig["cert_not_after"] > sig["signing_time"]
    assert leader["modification_level"] == "form_filling" and leader["coverage"] == "entire_revision"
    assert agency["modification_level"] == "none" and agency["coverage"] == "entire_file"


def test_trust_comes_only_from_the_given_roots():
    pki = demo_pki()
    signed = outgoing_flow().final
    for roots in ([pki.other_ca.cert_der], []):
        report = verify(signed, trust_roots_der=roots)
        for sig in report["signatures"]:
            assert sig["intact"] and sig["valid"] and not sig["trusted"]
            assert "untrusted" in sig["problems"]
        assert "untrusted" in report["problems"]


def test_no_signatures():
    report = verify(sample_pdf(1), trust_roots_der=demo_pki().roots_der)
    assert report["signatures"] == [] and report["problems"] == ["no_signatures"]


def test_changes_after_the_last_signature_are_named():
    pki = demo_pki()
    changed = fields.fill_text_fields(outgoing_flow().final, {fields.NUMBER_FIELD: "99/QĐ-UBND"})
    report = verify(changed, trust_roots_der=pki.roots_der)
    agency = report["signatures"][-1]
    assert agency["intact"] and agency["modification_level"] == "form_filling"
    assert "unsigned_changes" in report["problems"]


def test_expired_certificate_at_the_claimed_signing_time(old_ca):
    now = dt.datetime.now(VN_TZ)
    expired = demo.issue_personal(old_ca, "Hết Hạn", "Chủ tịch", "UBND xã Tú Lệ",
                                  not_before=now - dt.timedelta(days=30), not_after=now - dt.timedelta(days=2))
    sig = verify(_sign(expired), trust_roots_der=[old_ca.cert_der])["signatures"][0]
    assert sig["intact"] and sig["valid"] and not sig["trusted"]
    assert sig["cert_valid_at_signing"] is False and sig["time_source"] == "claimed"
    assert "expired_at_signing" in sig["problems"] and "untrusted" not in sig["problems"]
    # signed (by its claim) while the certificate was valid: trusted at that time
    earlier = _sign(expired, signing_time=now - dt.timedelta(days=10))
    sig = verify(earlier, trust_roots_der=[old_ca.cert_der])["signatures"][0]
    assert sig["trusted"] and sig["cert_valid_at_signing"] and sig["problems"] == []


def test_a_timestamp_overrides_the_claimed_time(old_ca):
    now = dt.datetime.now(VN_TZ)
    expired = demo.issue_personal(old_ca, "Hết Hạn", "Chủ tịch", "UBND xã Tú Lệ",
                                  not_before=now - dt.timedelta(days=30), not_after=now - dt.timedelta(days=2))
    tsa_identity = demo.issue_tsa(old_ca)
    with TsaServer(tsa_identity) as tsa:
        signed = _sign(expired, signing_time=now - dt.timedelta(days=10), timestamp_url=tsa.url)
    sig = verify(signed, trust_roots_der=[old_ca.cert_der])["signatures"][0]
    assert sig["time_source"] == "timestamp" and sig["timestamp"]["trusted"]
    assert sig["cert_valid_at_signing"] is False and "expired_at_signing" in sig["problems"]


def test_not_yet_valid_certificate(old_ca):
    now = dt.datetime.now(VN_TZ)
    future = demo.issue_personal(old_ca, "Chưa Hiệu Lực", "Chủ tịch", "UBND xã Tú Lệ",
                                 not_before=now + dt.timedelta(days=1), not_after=now + dt.timedelta(days=400))
    sig = verify(_sign(future), trust_roots_der=[old_ca.cert_der])["signatures"][0]
    assert "not_yet_valid_at_signing" in sig["problems"] and sig["cert_valid_at_signing"] is False


def test_untrusted_timestamp_authority_is_named(old_ca):
    pki = demo_pki()
    with TsaServer(demo.issue_tsa(old_ca)) as tsa:   # the TSA chains to a root we do not trust
        signed = _sign(pki.agency, timestamp_url=tsa.url)
    report = verify(signed, trust_roots_der=pki.roots_der)
    sig = report["signatures"][0]
    assert sig["trusted"] and sig["timestamp"]["valid"] and not sig["timestamp"]["trusted"]
    assert "timestamp_untrusted" in report["problems"]


def test_bad_input_is_rejected():
    with pytest.raises(PdfRejected) as exc:
        verify(b"GIF89a", trust_roots_der=[])
    assert exc.value.code == "not_pdf"
