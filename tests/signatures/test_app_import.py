"""Importing certificates: good and bad PKCS#12 files, grants, PINs, signature images."""
from __future__ import annotations

import io

import pytest
from django.core.exceptions import ValidationError

from communes.models import Role
from signatures import pki, services
from signatures.models import Backend, KeyGrant, SignatureImage, SigningCertificate


@pytest.fixture
def chairman(make_user, tule):
    return make_user("chu.tich", roles={tule: [Role.CHAIRMAN]}, full_name="Lò Văn Thành")


@pytest.fixture
def clerks(make_user, tule):
    return [make_user(f"van.thu{i}", roles={tule: [Role.CLERK]}) for i in range(2)]


def _import(identity, *, passphrase="mat-khau", kind="personal", owner=None, grants=None, data=None):
    return services.import_pkcs12(
        file_bytes=data if data is not None else identity.to_pkcs12(passphrase), passphrase=passphrase, kind=kind,
        owner_user_id=owner.pk if owner else None, grants=grants or {}, actor=None,
    )


def test_import_personal_keeps_only_the_encrypted_key(tule, in_commune, chairman, signing_pki):
    with in_commune(tule):
        certificate = _import(signing_pki.chairman, owner=chairman, grants={chairman.pk: "123456"})
        assert certificate.kind == "personal" and certificate.backend == Backend.SOFTWARE
        assert certificate.owner_user_id == chairman.pk
        assert certificate.subject == "Lò Văn Thành" and certificate.title == "Chủ tịch UBND xã"
        assert certificate.organisation == "UBND xã Tú Lệ" and "Test CA" in certificate.issuer
        assert certificate.cert_bytes == signing_pki.chairman.cert_der
        assert certificate.chain_bytes == [signing_pki.ca.cert_der]
        grant = KeyGrant.objects.get(certificate=certificate)
        blob = bytes(grant.encrypted_key)
        assert b"ENCRYPTED PRIVATE KEY" in blob
        assert pki.decrypt_key(blob, "123456").public_key().public_numbers() == \
            signing_pki.chairman.key.public_key().public_numbers()
        with pytest.raises(pki.WrongPin):
            pki.decrypt_key(blob, "654321")
        # neither the passphrase nor the PIN is anywhere in the rows
        for row in SigningCertificate.objects.values() , KeyGrant.objects.values():
            text = repr(list(row))
            assert "mat-khau" not in text and "123456" not in text


def test_import_agency_one_grant_per_clerk_under_their_own_pin(tule, in_commune, clerks, signing_pki):
    with in_commune(tule):
        certificate = _import(signing_pki.agency, kind="agency", grants={clerks[0].pk: "111111", clerks[1].pk: "2222222"})
        assert certificate.owner_user_id is None
        grants = {g.user_id: bytes(g.encrypted_key) for g in certificate.grants.all()}
        pki.decrypt_key(grants[clerks[0].pk], "111111")
        pki.decrypt_key(grants[clerks[1].pk], "2222222")
        with pytest.raises(pki.WrongPin):
            pki.decrypt_key(grants[clerks[0].pk], "2222222")


@pytest.mark.parametrize("case, field, message", [
    ("wrong_passphrase", "passphrase", "The passphrase does not open this file."),
    ("not_p12", "file", "This is not a PKCS#12 certificate file (.p12 or .pfx)."),
    ("empty", "file", "Choose the certificate file (.p12 or .pfx)."),
    ("expired", "file", "This certificate expired on"),
    ("future", "file", "This certificate is valid only from"),
    ("ca", "file", "This is a certification authority's certificate, not a signing certificate."),
    ("duplicate", "file", "This certificate is already registered."),
    ("bad_pin", "pin", "The PIN must have 6 to 12 digits."),
    ("no_pin", "pin", "Choose the owner's PIN."),
    ("not_official", "owner", "This person is not an official of the commune who may sign."),
    ("personal_for_other", "grants", "Only the owner may use a personal certificate."),
    ("agency_to_non_clerk", "grants", "Only clerks of the commune may be given the agency key."),
    ("agency_without_grant", "grants", "Give the key to at least one clerk."),
])
def test_bad_imports_are_refused_with_a_clear_message(tule, in_commune, chairman, clerks, make_user, signing_pki,
                                                       case, field, message):
    ok = {chairman.pk: "123456"}
    with in_commune(tule):
        if case == "duplicate":
            _import(signing_pki.chairman, owner=chairman, grants=ok)
        before = (SigningCertificate.objects.count(), KeyGrant.objects.count())
        calls = {
            "wrong_passphrase": lambda: _import(signing_pki.chairman, owner=chairman, grants=ok,
                                                data=signing_pki.chairman.to_pkcs12("other")),
            "not_p12": lambda: _import(signing_pki.chairman, owner=chairman, grants=ok, data=b"%PDF-1.7 not a p12"),
            "empty": lambda: _import(signing_pki.chairman, owner=chairman, grants=ok, data=b""),
            "expired": lambda: _import(signing_pki.expired, owner=chairman, grants=ok),
            "future": lambda: _import(signing_pki.future, owner=chairman, grants=ok),
            "ca": lambda: _import(signing_pki.ca, owner=chairman, grants=ok),
            "duplicate": lambda: _import(signing_pki.chairman, owner=chairman, grants=ok),
            "bad_pin": lambda: _import(signing_pki.chairman, owner=chairman, grants={chairman.pk: "12ab"}),
            "no_pin": lambda: _import(signing_pki.chairman, owner=chairman, grants={}),
            "not_official": lambda: _import(signing_pki.chairman, owner=make_user("citizen"),
                                            grants={chairman.pk: "123456"}),
            "personal_for_other": lambda: _import(signing_pki.chairman, owner=chairman,
                                                  grants={chairman.pk: "123456", clerks[0].pk: "123456"}),
            "agency_to_non_clerk": lambda: _import(signing_pki.agency, kind="agency", grants=ok),
            "agency_without_grant": lambda: _import(signing_pki.agency, kind="agency", grants={}),
        }
        with pytest.raises(ValidationError) as info:
            calls[case]()
        errors = info.value.message_dict
        assert field in errors, errors
        assert any(m.startswith(message) for m in errors[field]), errors
        assert (SigningCertificate.objects.count(), KeyGrant.objects.count()) == before


def test_untrusted_issuer_is_refused_once_the_trust_store_has_anchors(tule, in_commune, chairman, signing_pki, trust_ca):
    with in_commune(tule):
        with pytest.raises(ValidationError) as info:
            _import(signing_pki.stranger, owner=chairman, grants={chairman.pk: "123456"})
        assert "trusted" in info.value.message_dict["file"][0]
        assert _import(signing_pki.chairman, owner=chairman, grants={chairman.pk: "123456"}).pk


def test_chain_is_trusted():
    from signatures import pki as p

    ca = p.make_demo_ca("A")
    other = p.make_demo_ca("B")
    person = p.issue_personal(ca, "X")
    assert services.chain_is_trusted(person.cert_der, person.chain_der, [ca.cert_der])
    assert services.chain_is_trusted(person.cert_der, [], [ca.cert_der])  # the root is only in the store
    assert not services.chain_is_trusted(person.cert_der, person.chain_der, [other.cert_der])
    assert not services.chain_is_trusted(person.cert_der, [other.cert_der], [other.cert_der])  # forged chain
    assert not services.chain_is_trusted(person.cert_der, person.chain_der, [])


def test_add_grant_change_pin_and_revoke(tule, in_commune, clerks, signing_pki):
    with in_commune(tule):
        certificate = _import(signing_pki.agency, kind="agency", grants={clerks[0].pk: "111111"})
        with pytest.raises(ValidationError) as info:
            services.add_grant(certificate, clerks[1].pk, "222222", clerks[0], "999999")
        assert "unlocking_pin" in info.value.message_dict
        assert KeyGrant.objects.get(user_id=clerks[0].pk).failed_attempts == 1
        grant = services.add_grant(certificate, clerks[1].pk, "222222", clerks[0], "111111")
        pki.decrypt_key(bytes(grant.encrypted_key), "222222")
        assert KeyGrant.objects.get(user_id=clerks[0].pk).failed_attempts == 0  # a right PIN resets the count
        with pytest.raises(ValidationError):
            services.add_grant(certificate, clerks[1].pk, "333333", clerks[0], "111111")  # already holds it
        services.change_pin(grant, old_pin="222222", new_pin="7654321")
        grant.refresh_from_db()
        pki.decrypt_key(bytes(grant.encrypted_key), "7654321")
        with pytest.raises(ValidationError):
            services.change_pin(grant, old_pin="222222", new_pin="1234567")
        services.revoke_grant(grant, actor=None)
        assert list(certificate.grants.values_list("user_id", flat=True)) == [clerks[0].pk]


def _png(colour=(20, 60, 200), *, alpha=True, size=(200, 80), fmt="PNG") -> bytes:
    from PIL import Image, ImageDraw

    image = Image.new("RGBA" if alpha else "RGB", size, (255, 255, 255, 0) if alpha else (255, 255, 255))
    ImageDraw.Draw(image).line([(10, 40), (60, 10), (120, 70), (190, 20)], fill=colour, width=8)
    out = io.BytesIO()
    image.save(out, format=fmt)
    return out.getvalue()


@pytest.mark.parametrize("data, kind, message", [
    (_png(), "signature", None),
    (_png((200, 20, 30), size=(300, 300)), "seal", None),
    (_png(fmt="JPEG", alpha=False), "signature", "The image must be a PNG file."),
    (_png(alpha=False), "signature", "The image must have a transparent background (PNG with alpha)."),
    (_png((0, 0, 0)), "signature", "The handwritten signature must be in blue ink."),
    (_png(), "seal", "The seal must be red."),
    (b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, "signature", "The image file is damaged or is not a PNG file."),
    (b"\x89PNG\r\n\x1a\n" + b"\x00" * (1024 * 1024 + 1), "signature", "The image is larger than 1 MB."),
    (b"", "signature", "Choose the image file."),
])
def test_signature_images(tule, in_commune, chairman, data, kind, message):
    with in_commune(tule):
        if message is None:
            image = services.save_signature_image(data=data, kind=kind, owner_user_id=chairman.pk, actor=chairman)
            assert image.active and image.read() == data
            assert (image.owner_user_id is None) == (kind == "seal")
        else:
            with pytest.raises(ValidationError) as info:
                services.save_signature_image(data=data, kind=kind, owner_user_id=chairman.pk, actor=chairman)
            assert info.value.message_dict["file"] == [message]
            assert not SignatureImage.objects.exists()


def test_one_active_image_each(tule, in_commune, chairman):
    with in_commune(tule):
        first = services.save_signature_image(data=_png(), kind="signature", owner_user_id=chairman.pk, actor=None)
        second = services.save_signature_image(data=_png((10, 10, 250)), kind="signature", owner_user_id=chairman.pk,
                                               actor=None)
        first.refresh_from_db()
        assert not first.active and second.active
        assert services.active_image("signature", chairman.pk) == second
