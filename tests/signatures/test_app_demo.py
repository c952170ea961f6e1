"""python manage.py init_demo_pki: the demo CA, certificates, grants and images; idempotent."""
from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from communes.models import Role
from signatures import pki
from signatures.models import ImageKind, KeyGrant, SignatureImage, SigningCertificate


@pytest.fixture
def officials(make_user, tule):
    return {
        "chairman": make_user("tule.chairman", roles={tule: [Role.CHAIRMAN]}, full_name="Lò Văn Thành"),
        "vice": make_user("tule.vice_chairman", roles={tule: [Role.VICE_CHAIRMAN]}, full_name="Nguyễn Thị Hoa"),
        "clerk": make_user("tule.clerk", roles={tule: [Role.CLERK]}, full_name="Hà Văn Dũng"),
        "specialist": make_user("tule.specialist", roles={tule: [Role.SPECIALIST]}),
    }


def run(*args) -> str:
    out = io.StringIO()
    call_command("init_demo_pki", "--commune", "04630", *args, stdout=out)
    return out.getvalue()


def test_init_demo_pki(tule, in_commune, officials, tmp_path, stored_pdf, sign_request, run_job):
    ca_path = tmp_path / "ca" / "demo-ca.pem"
    output = run("--ca-out", str(ca_path), "--pin", "24682468")
    assert "DEMO - NOT FOR REAL USE" in output and "24682468" in output
    ca = pki.load_certificate(ca_path.read_bytes())
    assert "DEMO - NOT FOR REAL USE" in ca.subject.rfc4514_string()
    from truststore.services import trust_roots_der

    assert ca_path.read_bytes() and any(pki.load_certificate(r) == ca for r in trust_roots_der())
    with in_commune(tule):
        personal = SigningCertificate.objects.filter(kind="personal")
        assert sorted(personal.values_list("owner_user_id", flat=True)) == sorted(
            [officials["chairman"].pk, officials["vice"].pk])
        chairman_cert = personal.get(owner_user_id=officials["chairman"].pk)
        assert chairman_cert.organisation == "UBND xã Tú Lệ" and chairman_cert.subject == "Lò Văn Thành"
        agency = SigningCertificate.objects.get(kind="agency")
        assert list(agency.grants.values_list("user_id", flat=True)) == [officials["clerk"].pk]
        assert SignatureImage.objects.filter(kind=ImageKind.SIGNATURE, active=True).count() == 2
        assert SignatureImage.objects.filter(kind=ImageKind.SEAL, active=True).count() == 1
        counts = (SigningCertificate.objects.count(), KeyGrant.objects.count(), SignatureImage.objects.count())

    # again: nothing new, same CA
    run("--pin", "24682468")
    with in_commune(tule):
        assert (SigningCertificate.objects.count(), KeyGrant.objects.count(), SignatureImage.objects.count()) == counts

    # the demo keys sign with the demo PIN
    from tests.signatures.conftest import Holder

    with in_commune(tule):
        agency = SigningCertificate.objects.get(kind="agency", active=True)
    job = sign_request(Holder(officials["clerk"], agency, "24682468"), stored_pdf, purpose="agency")
    assert run_job(job) == "succeeded"

    # --force: new certificates, the old ones deactivated
    run("--force", "--pin", "24682468")
    with in_commune(tule):
        assert SigningCertificate.objects.filter(active=True).count() == 3
        assert SigningCertificate.objects.filter(active=False).count() == 3


def test_bad_pin_is_a_command_error(tule, officials):
    with pytest.raises(CommandError, match="6 to 12 digits"):
        run("--pin", "12")
