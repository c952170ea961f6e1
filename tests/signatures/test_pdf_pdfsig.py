"""Interoperability with poppler's pdfsig (NSS): the leader's signature, the filled number and
date, the agency's signature — both valid and trusted for pdfsig and for pyHanko; a tampered copy
is broken for both."""
from __future__ import annotations

import io

import pytest

from signatures.pdf.verify import verify

from . import hostile
from .nss import NssDb
from .samples import demo_pki, outgoing_flow
from .tsa_server import TsaServer


@pytest.fixture(scope="module")
def nss():
    with NssDb(demo_pki().roots_der) as db:
        yield db


def test_pdfsig_trusts_both_signatures_of_the_outgoing_flow(nss):
    final = outgoing_flow().final
    leader, agency = nss.pdfsig(final)
    assert (leader["field"], agency["field"]) == ("leader", "agency")
    for sig in (leader, agency):
        assert sig["signature"] == "Signature is Valid."
        assert sig["certificate"] == "Certificate is Trusted."
        assert sig["type"] == "ETSI.CAdES.detached"
    assert leader["common_name"] == "Nguyễn Văn Thắng" and agency["common_name"] == "UBND xã Tú Lệ"
    assert leader["total"] is False and agency["total"] is True     # the leader's covers its revision


def test_pyhanko_agrees_and_calls_the_change_after_the_leader_form_filling():
    from asn1crypto import x509
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.diff_analysis import ModificationLevel
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    final = outgoing_flow().final
    roots = [x509.Certificate.load(demo_pki().ca.cert_der)]
    leader, agency = PdfFileReader(io.BytesIO(final)).embedded_signatures
    statuses = [validate_pdf_signature(sig, ValidationContext(trust_roots=roots, allow_fetching=False))
                for sig in (leader, agency)]
    assert all(s.intact and s.valid and s.trusted and s.bottom_line for s in statuses)
    assert statuses[0].modification_level == ModificationLevel.FORM_FILLING
    assert statuses[1].modification_level == ModificationLevel.NONE


def test_an_untrusting_nss_database_says_so(nss):
    with NssDb([demo_pki().other_ca.cert_der]) as other:
        for sig in other.pdfsig(outgoing_flow().final):
            assert sig["signature"] == "Signature is Valid."
            assert sig["certificate"] != "Certificate is Trusted."


def test_a_tampered_copy_is_broken_for_pdfsig_and_pyhanko(nss):
    tampered = hostile.tampered(outgoing_flow().final)
    for sig in nss.pdfsig(tampered):
        assert sig["signature"] != "Signature is Valid."
        assert "invalid" in sig["signature"].lower() or "mismatch" in sig["signature"].lower()
    report = verify(tampered, trust_roots_der=demo_pki().roots_der)
    assert all(not s["intact"] for s in report["signatures"]) and "tampered" in report["problems"]


def test_pdfsig_accepts_a_timestamped_signature(nss):
    with TsaServer(demo_pki().tsa) as tsa:
        flow = outgoing_flow(timestamp_url=tsa.url)
    for sig in nss.pdfsig(flow.final):
        assert sig["signature"] == "Signature is Valid." and sig["certificate"] == "Certificate is Trusted."
    report = verify(flow.final, trust_roots_der=demo_pki().roots_der)
    assert report["problems"] == [] and all(s["timestamp"]["trusted"] for s in report["signatures"])
