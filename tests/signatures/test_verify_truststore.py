"""The trust store: only CA certificates become anchors, idempotently; the command and the
national administration add them; the engine receives the active ones."""
from __future__ import annotations

import io

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.utils.translation import gettext, override

from signatures import pki
from truststore import services
from truststore.models import TrustAnchor


def vi(message: str) -> str:
    with override("vi"):
        return gettext(message)


@pytest.fixture(scope="module")
def ca():
    return pki.make_demo_ca("Xã Số Trust Test CA")


@pytest.fixture(autouse=True)
def _fresh_cache():
    services.clear_cache()
    yield
    services.clear_cache()


def test_add_pem_and_der_is_idempotent(db, ca):
    anchor = services.add_anchor(ca.cert_pem(), label="Demo CA", source="test")
    assert anchor.active and "Xã Số Trust Test CA" in anchor.subject and anchor.source == "test"
    assert anchor.fingerprint == pki.cert_summary(ca.cert)["fingerprint"]
    assert bytes(anchor.cert_der) == ca.cert_der
    assert anchor.not_before == ca.cert.not_valid_before_utc and anchor.not_after == ca.cert.not_valid_after_utc
    again = services.add_anchor(ca.cert_der, label="Another label", source="test")
    assert again.pk == anchor.pk and again.label == "Demo CA"
    assert TrustAnchor.objects.count() == 1
    assert services.trust_roots_der() == [ca.cert_der]


def test_adding_a_deactivated_anchor_again_reactivates_it(db, ca):
    anchor = services.add_anchor(ca.cert_der, label="Demo CA")
    services.set_active(anchor, False)
    assert services.trust_roots_der() == []
    services.add_anchor(ca.cert_pem(), label="Demo CA")
    assert services.trust_roots_der() == [ca.cert_der]
    assert anchor.history.count() >= 3  # added, deactivated, re-activated


def test_only_certificate_authorities(db, ca):
    official = pki.issue_personal(ca, "Lò Văn Chủ", "Chủ tịch", "UBND xã Tú Lệ")
    with pytest.raises(ValidationError) as error:
        services.add_anchor(official.cert_pem(), label="not a CA")
    assert error.value.code == "not_ca"
    with override("vi"):
        assert str(error.value.messages[0]) == vi(
            "This certificate is not a certificate authority (its basic constraints do not say CA), "
            "so it cannot be trusted as a root. Import the certificate of the authority that issued it.")
    assert not TrustAnchor.objects.exists()


@pytest.mark.parametrize("data", [b"", b"   ", b"hello", b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
                                  b"\x30\x03\x02\x01\x01", b"\x00" * (300 * 1024)])
def test_garbage_is_refused_clearly(db, data):
    with pytest.raises(ValidationError) as error:
        services.add_anchor(data, label="x")
    assert error.value.code == "not_certificate"


def test_bundle_is_refused_by_the_service(db, ca):
    other = pki.make_demo_ca("Other CA")
    with pytest.raises(ValidationError) as error:
        services.add_anchor(ca.cert_pem() + other.cert_pem(), label="two")
    assert error.value.code == "several_certificates"


def test_cache_sees_changes_in_this_process(db, ca, settings, monkeypatch, django_assert_num_queries):
    settings.XASO_TRUSTSTORE_CACHE_SECONDS = 3600
    monkeypatch.setattr(services, "_in_transaction", lambda: False)  # as in a request (autocommit)
    assert services.trust_roots_der() == []
    anchor = services.add_anchor(ca.cert_der, label="Demo CA")
    assert services.trust_roots_der() == [ca.cert_der]
    with django_assert_num_queries(0):
        assert services.trust_roots_der() == [ca.cert_der]
    anchor.delete()
    assert services.trust_roots_der() == []
    services.add_anchor(ca.cert_der, label="Demo CA")
    assert services.trust_roots_der() == [ca.cert_der]
    TrustAnchor.objects.update(active=False)  # a change the process does not hear of …
    assert services.trust_roots_der() == [ca.cert_der]  # … is seen when the cache expires
    settings.XASO_TRUSTSTORE_CACHE_SECONDS = 0
    assert services.trust_roots_der() == []


def test_no_cache_inside_a_transaction(db, ca, settings):
    settings.XASO_TRUSTSTORE_CACHE_SECONDS = 3600
    services.add_anchor(ca.cert_der, label="Demo CA")
    assert services.trust_roots_der() == [ca.cert_der]
    TrustAnchor.objects.update(active=False)
    assert services.trust_roots_der() == []


def test_command(db, ca, tmp_path):
    other = pki.make_demo_ca("Second CA")
    official = pki.issue_personal(ca, "Lò Văn Chủ")
    bundle = tmp_path / "bundle.pem"
    bundle.write_bytes(ca.cert_pem() + other.cert_pem() + official.cert_pem())
    out, err = io.StringIO(), io.StringIO()
    call_command("import_trust_anchor", str(bundle), "--label", "Bộ CA", stdout=out, stderr=err)
    assert TrustAnchor.objects.count() == 2
    assert set(TrustAnchor.objects.values_list("label", flat=True)) == {"Bộ CA (1)", "Bộ CA (2)"}
    assert "skipped" in err.getvalue()
    # Again: nothing changes.
    out = io.StringIO()
    call_command("import_trust_anchor", str(bundle), "--label", "Bộ CA", stdout=out, stderr=io.StringIO())
    assert TrustAnchor.objects.count() == 2 and "already trusted" in out.getvalue()
    single = tmp_path / "ca.der"
    single.write_bytes(pki.make_demo_ca("DER CA").cert_der)
    call_command("import_trust_anchor", str(single), stdout=io.StringIO())
    assert TrustAnchor.objects.filter(source="file ca.der").exists()

    leaf = tmp_path / "leaf.pem"
    leaf.write_bytes(official.cert_pem())
    with pytest.raises(CommandError):
        call_command("import_trust_anchor", str(leaf), stdout=io.StringIO(), stderr=io.StringIO())
    with pytest.raises(CommandError):
        call_command("import_trust_anchor", str(tmp_path / "missing.pem"))


def test_national_admin_adds_an_anchor_by_upload(db, ca, make_user, client_for):
    from django.core.files.uploadedfile import SimpleUploadedFile

    root = make_user("root", is_staff=True, is_superuser=True)
    client = client_for("localhost", root)
    assert client.get("/admin/truststore/trustanchor/add/").status_code == 200
    response = client.post("/admin/truststore/trustanchor/add/", {
        "certificate": SimpleUploadedFile("ca.pem", ca.cert_pem()), "label": "", "source": "",
    })
    assert response.status_code == 302, response.content.decode()[:2000]
    anchor = TrustAnchor.objects.get()
    assert anchor.added_by_user_id == root.pk and anchor.source == "administration"
    assert client.get(f"/admin/truststore/trustanchor/{anchor.pk}/change/").status_code == 200
    # A leaf certificate gets a form error, not a row.
    leaf = pki.issue_personal(ca, "Lò Văn Chủ")
    response = client.post("/admin/truststore/trustanchor/add/", {
        "certificate": SimpleUploadedFile("leaf.pem", leaf.cert_pem()), "label": "x", "source": "",
    })
    assert response.status_code == 200 and TrustAnchor.objects.count() == 1
    # Deactivate through the change form, then by the action.
    response = client.post(f"/admin/truststore/trustanchor/{anchor.pk}/change/", {
        "label": "Renamed", "source": "administration",
    })
    assert response.status_code == 302
    anchor.refresh_from_db()
    assert anchor.label == "Renamed" and not anchor.active
    client.post("/admin/truststore/trustanchor/", {"action": "activate", "_selected_action": [anchor.pk]})
    anchor.refresh_from_db()
    assert anchor.active
    assert client.get("/admin/truststore/verificationlog/").status_code == 200


def test_admin_is_for_superusers_on_the_national_host(db, tule, make_user, client_for):
    from communes.models import Role

    staff = make_user("staff", is_staff=True)
    assert client_for("localhost", staff).get("/admin/truststore/trustanchor/").status_code == 302
    commune_admin = make_user("qt", roles={tule: [Role.COMMUNE_ADMIN]}, is_staff=True)
    assert client_for("tule.localhost", commune_admin).get("/admin/truststore/trustanchor/").status_code == 404


def test_old_log_rows_are_pruned(db):
    import datetime as dt

    from django.utils import timezone

    from truststore.models import VerificationLog

    old = services.log_verification(host="tule.localhost", schema_name="c_04630", channel="api", user_id=None,
                                    client_ip="10.0.0.1", file_sha256="a" * 64, file_size=10, outcome={"verdict": "valid"})
    VerificationLog.objects.filter(pk=old.pk).update(created_at=timezone.now() - dt.timedelta(days=400))
    recent = services.log_verification(host="localhost", schema_name="", channel="page", user_id=None,
                                       client_ip=None, file_sha256="b" * 64, file_size=10, outcome={"rejected": "not_pdf"})
    out = io.StringIO()
    call_command("prune_verification_log", stdout=out)
    assert "log row(s) deleted" in out.getvalue()
    assert not VerificationLog.objects.filter(pk=old.pk).exists()
    assert VerificationLog.objects.filter(pk=recent.pk).exists()
