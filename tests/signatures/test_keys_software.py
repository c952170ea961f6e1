"""Keys held by the portal under a PIN, and the common key functions."""
from __future__ import annotations

import hashlib
import subprocess
import sys

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed, decode_dss_signature

from signatures import keys, pki


@pytest.fixture(scope="module")
def ca():
    return pki.make_demo_ca("Xã Số Key Test CA")


@pytest.fixture(scope="module")
def rsa_identity(ca):
    return pki.issue_personal(ca, "Trần Thị Lan", "Phó Chủ tịch", "UBND xã Tú Lệ")


@pytest.fixture(scope="module")
def ec_identity(ca):
    return pki.issue_personal(ca, "Lò Văn Minh", "Chủ tịch", "UBND xã Tú Lệ", key_kind="ec")


DIGESTS = {"sha256": (hashlib.sha256, hashes.SHA256), "sha384": (hashlib.sha384, hashes.SHA384),
           "sha512": (hashlib.sha512, hashes.SHA512)}


@pytest.mark.parametrize("algorithm", sorted(DIGESTS))
def test_rsa_signature_verifies_with_certificate(rsa_identity, algorithm):
    make, hash_class = DIGESTS[algorithm]
    digest = make(b"Quyet dinh 05/QD-UBND").digest()
    key = keys.SoftwareKey(rsa_identity.key, rsa_identity.cert_der, rsa_identity.chain_der)
    signature = key.sign_digest(digest, algorithm)
    # PKCS#1 v1.5 over the DigestInfo: the public key of the certificate verifies it on the message too
    rsa_identity.cert.public_key().verify(signature, b"Quyet dinh 05/QD-UBND", padding.PKCS1v15(), hash_class())
    rsa_identity.cert.public_key().verify(signature, digest, padding.PKCS1v15(), Prehashed(hash_class()))
    assert keys.verify_digest_signature(rsa_identity.cert_der, digest, signature, algorithm)
    assert key.cert_der == rsa_identity.cert_der
    assert key.chain_der == rsa_identity.chain_der
    assert isinstance(key, keys.KeyBackend)


@pytest.mark.parametrize("algorithm", sorted(DIGESTS))
def test_ec_signature_is_der_and_verifies(ec_identity, algorithm):
    make, hash_class = DIGESTS[algorithm]
    digest = make(b"Cong van 12/UBND-VP").digest()
    key = keys.SoftwareKey(ec_identity.key, ec_identity.cert_der, ec_identity.chain_der)
    signature = key.sign_digest(digest, algorithm)
    r, s = decode_dss_signature(signature)  # DER SEQUENCE {r, s}
    assert r > 0 and s > 0
    ec_identity.cert.public_key().verify(signature, b"Cong van 12/UBND-VP", ec.ECDSA(hash_class()))
    assert keys.verify_digest_signature(ec_identity.cert_der, digest, signature, algorithm)


def test_from_encrypted_with_the_right_pin(rsa_identity):
    blob = pki.encrypt_key(rsa_identity.key, "246810")
    key = keys.SoftwareKey.from_encrypted(blob, "246810", rsa_identity.cert_der, rsa_identity.chain_der)
    digest = hashlib.sha256(b"x").digest()
    assert keys.verify_digest_signature(rsa_identity.cert_der, digest, key.sign_digest(digest))


@pytest.mark.parametrize("pin", ["000000", "", b"2468"])
def test_from_encrypted_with_a_wrong_pin(ec_identity, pin):
    blob = pki.encrypt_key(ec_identity.key, "246810")
    with pytest.raises(keys.WrongPin) as caught:
        keys.SoftwareKey.from_encrypted(blob, pin, ec_identity.cert_der, ec_identity.chain_der)
    assert caught.value.code == "wrong_pin"
    assert not caught.value.retryable
    assert isinstance(caught.value, keys.KeyError_)


def test_key_must_belong_to_the_certificate(rsa_identity, ec_identity, ca):
    other = pki.issue_personal(ca, "Người Khác", key_kind="rsa")
    with pytest.raises(keys.KeyConfigurationError) as caught:
        keys.SoftwareKey(other.key, rsa_identity.cert_der)
    assert caught.value.code == "key_certificate_mismatch"
    with pytest.raises(keys.KeyConfigurationError):
        keys.SoftwareKey(ec_identity.key, rsa_identity.cert_der)


def test_bad_digests_are_refused(rsa_identity):
    key = keys.SoftwareKey(rsa_identity.key, rsa_identity.cert_der)
    with pytest.raises(keys.BadDigest) as caught:
        key.sign_digest(b"short", "sha256")
    assert caught.value.code == "bad_digest"
    with pytest.raises(keys.BadDigest) as caught:
        key.sign_digest(hashlib.sha1(b"x").digest(), "sha1")
    assert caught.value.code == "unsupported_digest"
    with pytest.raises(ValueError):  # BadDigest is also a ValueError
        key.sign_digest(hashlib.sha256(b"x").digest(), "sha512")


def test_digest_info_and_failed_verification(rsa_identity, ec_identity):
    digest = hashlib.sha256(b"abc").digest()
    assert keys.digest_info(digest).hex().startswith("3031300d060960864801650304020105000420")
    assert len(keys.digest_info(hashlib.sha512(b"abc").digest(), "sha512")) == 19 + 64
    signature = keys.SoftwareKey(rsa_identity.key, rsa_identity.cert_der).sign_digest(digest)
    assert not keys.verify_digest_signature(rsa_identity.cert_der, hashlib.sha256(b"abd").digest(), signature)
    assert not keys.verify_digest_signature(ec_identity.cert_der, digest, signature)


def test_error_codes_and_retry_flags():
    pending = keys.AuthorizationPending(2.5, "slow_down", request_id="r1")
    assert (pending.retry_after, pending.reason, pending.request_id, pending.code) == (2.5, "slow_down", "r1",
                                                                                      "authorization_pending")
    assert pending.retryable and keys.KeyUnavailable().retryable
    assert keys.KeyUnavailable("x", code="token_absent").code == "token_absent"
    assert not keys.AuthorizationRefused().retryable and keys.AuthorizationRefused().code == "authorization_refused"
    assert keys.PinLocked().code == "pin_locked"
    for cls in (keys.WrongPin, keys.PinLocked, keys.KeyUnavailable, keys.AuthorizationRefused,
                keys.KeyConfigurationError):
        assert issubclass(cls, keys.KeyError_)


def test_modules_do_not_import_django():
    code = ("import sys; import signatures.keys, signatures.csc; "
            "assert not any(m == 'django' or m.startswith('django.') for m in sys.modules), 'django imported'")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            cwd=str(__import__("pathlib").Path(keys.__file__).resolve().parents[1]))
    assert result.returncode == 0, result.stderr
