"""Benchmark: signatures per second through the whole job path against bare pyHanko, on one core.

    DJANGO_SETTINGS_MODULE=config.settings DATABASE_URL=postgres://postgres@127.0.0.1:5432/xaso \\
        python bench/signing.py --repeat 20

In a scratch database (``xaso_bench_signing``) with one commune, for a 1-page and a 20-page
document, the process pinned to one CPU:

- **job path, personal**: ``signatures.services.request_signature`` (the official's PIN opens the
  stored key, the engine prepares the PDF and the key signs the digest, the job row is written)
  then ``jobs.services.execute`` (claim, lease, CMS into the placeholder, ``save_final`` of a new
  file, the completion callback), with the Decree 30 appearance: blue signature image, title and
  name drawn in Liberation Serif;
- **job path, agency**: the same with the commune's key (a clerk's grant) and the red seal,
  on the file the personal signature produced;
- **bare pyHanko**: ``PdfSigner.sign_pdf`` with a ``SimpleSigner`` holding the same key in
  memory, on the same file, with a visible field of the same size and pyHanko's own text stamp
  (no database, no PIN, no file storage) — the floor the job path is compared with;
- **verifications per second**: ``signatures.pdf.verify.verify`` in this process, and
  ``verify_limited`` (a fresh child process with memory and time limits, as the public page and
  the API run it), on the document with both signatures.

The ratio is job-path throughput divided by bare throughput (goal: 0.7 or better). The PIN
opening (PBKDF2 in the encrypted PKCS#8) is part of the job path on purpose: it is what a real
signature costs.
"""
from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import time

from _scratch import scratch_database

SCRATCH = "xaso_bench_signing"
PIN = "246810"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--pages", type=int, nargs="*", default=[1, 20])
    options = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    with scratch_database(SCRATCH):
        run(options)


def per_second(times: list[float]) -> float:
    return 1.0 / statistics.median(times)


def run(options) -> None:
    from django.conf import settings
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage
    from django_tenants.utils import tenant_context

    from communes.models import Membership, Role, User
    from communes.services import create_commune, load_administrative_units
    from jobs.services import execute
    from signatures import pki, services
    from signatures.models import CertificateKind, SigningJob
    from signatures.pdf import pades, sandbox, verify
    from signatures.pdf.appearance import Appearance, agency_box_over
    from signatures.pdf.images import demo_seal_png, demo_signature_png
    from truststore.services import add_anchor

    sys.path.insert(0, str(settings.BASE_DIR))
    from tests.signatures.samples import sample_pdf

    settings.XASO_TSA_URL = ""
    load_administrative_units(with_legacy=False)
    commune, _seconds = create_commune(code="04630", name="Tú Lệ", domain="tule.bench.test", province_code="15")
    leader = User.objects.create_user("bench.chairman", password="x", full_name="Lò Văn Thành")
    clerk = User.objects.create_user("bench.clerk", password="x", full_name="Vũ Thị Mai")
    Membership.objects.create(user=leader, commune=commune, role=Role.CHAIRMAN, job_title="Chủ tịch UBND xã")
    Membership.objects.create(user=clerk, commune=commune, role=Role.CLERK, job_title="Văn thư")
    ca = pki.make_demo_ca()
    add_anchor(ca.cert_pem(), label="bench CA", source="bench")
    person = pki.issue_personal(ca, "Lò Văn Thành", "Chủ tịch", "UBND xã Tú Lệ")
    agency = pki.issue_agency(ca, "Ủy ban nhân dân xã Tú Lệ", locality="Tú Lệ")
    signature_png, seal_png = demo_signature_png("Lò Văn Thành"), demo_seal_png("UBND XÃ TÚ LỆ")
    personal_box = (330.0, 150.0, 530.0, 250.0)
    agency_box = agency_box_over(personal_box)
    personal_look = Appearance("personal", ["CHỦ TỊCH"] + ["Lò Văn Thành"], signature_png)
    agency_look = Appearance("agency", [], seal_png)

    print(f"{'pages':>5}  {'path':<34} {'median ms':>9} {'per s':>7}")
    with tenant_context(commune):
        personal = services.import_pkcs12(
            file_bytes=person.to_pkcs12("p"), passphrase="p", kind=CertificateKind.PERSONAL,
            owner_user_id=leader.pk, grants={leader.pk: PIN}, actor=leader,
        )
        commune_cert = services.import_pkcs12(
            file_bytes=agency.to_pkcs12("p"), passphrase="p", kind=CertificateKind.AGENCY,
            grants={clerk.pk: PIN}, actor=clerk,
        )
        results = {}
        for pages in options.pages:
            pdf = sample_pdf(pages)
            source = default_storage.save(f"bench/source-{pages}.pdf", ContentFile(pdf))
            field = pades.SignatureFieldSpec("leader", page=-1, box=personal_box)
            seal_field = pades.SignatureFieldSpec("agency", page=-1, box=agency_box)

            def job_path(user, certificate, source_name, spec, look):
                started = time.perf_counter()
                job = services.request_signature(
                    user=user, certificate=certificate, pin=PIN, source_name=source_name, field=spec,
                    appearance=look, purpose="other", subject="bench", on_done="",
                )
                outcome = execute(SigningJob, job.pk, commune.schema_name)
                elapsed = time.perf_counter() - started
                job.refresh_from_db()
                assert outcome == "succeeded" and job.output_name, (outcome, job.error)
                return elapsed, job.output_name

            personal_times, agency_times, signed_name = [], [], None
            for i in range(options.repeat):
                name = default_storage.save(f"bench/copy-{pages}-{i}.pdf", ContentFile(pdf))
                elapsed, signed_name = job_path(leader, personal, name, field, personal_look)
                personal_times.append(elapsed)
            with default_storage.open(signed_name) as fh:
                leader_signed = fh.read()
            for i in range(options.repeat):
                name = default_storage.save(f"bench/signed-{pages}-{i}.pdf", ContentFile(leader_signed))
                elapsed, both_name = job_path(clerk, commune_cert, name, seal_field, agency_look)
                agency_times.append(elapsed)
            with default_storage.open(both_name) as fh:
                both = fh.read()

            bare_personal = bare_times(pdf, person, "leader", personal_box, options.repeat)
            bare_agency = bare_times(leader_signed, agency, "agency", agency_box, options.repeat)
            roots = [ca.cert_der]
            verify_times, limited_times = [], []
            for _ in range(options.repeat):
                started = time.perf_counter()
                report = verify.verify(both, trust_roots_der=roots)
                verify_times.append(time.perf_counter() - started)
                started = time.perf_counter()
                sandbox.verify_limited(both, roots)
                limited_times.append(time.perf_counter() - started)
            assert all(s["valid"] and s["trusted"] for s in report["signatures"]), report
            rows = [
                ("job path, personal (PIN + image)", personal_times),
                ("job path, agency (PIN + seal)", agency_times),
                ("bare pyHanko, personal key", bare_personal),
                ("bare pyHanko, agency key", bare_agency),
                ("verify (in process)", verify_times),
                ("verify (limited child process)", limited_times),
            ]
            for label, times in rows:
                print(f"{pages:>5}  {label:<34} {statistics.median(times) * 1000:>9.1f} {per_second(times):>7.1f}")
            results[pages] = {label: per_second(times) for label, times in rows}
            for kind, job_label, bare_label in (
                ("personal", rows[0][0], rows[2][0]), ("agency", rows[1][0], rows[3][0]),
            ):
                ratio = results[pages][job_label] / results[pages][bare_label]
                print(f"{pages:>5}  ratio job/bare ({kind}): {ratio:.2f}x")


def bare_times(pdf: bytes, identity, field_name: str, box, repeat: int) -> list[float]:
    """pyHanko alone: the same key in memory, a visible field of the same size, its own stamp."""
    from asn1crypto import keys as asn1_keys, x509 as asn1_x509
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers
    from pyhanko_certvalidator.registry import SimpleCertificateStore

    key = asn1_keys.PrivateKeyInfo.load(_der_key(identity))
    cert = asn1_x509.Certificate.load(identity.cert_der)
    chain = [asn1_x509.Certificate.load(der) for der in identity.chain_der]
    signer = signers.SimpleSigner(signing_cert=cert, signing_key=key,
                                  cert_registry=SimpleCertificateStore.from_certs(chain))
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
        meta = signers.PdfSignatureMetadata(field_name=field_name, subfilter=fields.SigSeedSubFilter.PADES)
        spec = fields.SigFieldSpec(field_name, on_page=-1, box=tuple(int(v) for v in box))
        out = signers.PdfSigner(meta, signer=signer, new_field_spec=spec).sign_pdf(writer)
        out.getvalue()
        times.append(time.perf_counter() - started)
    return times


def _der_key(identity) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return identity.key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


if __name__ == "__main__":
    main()
