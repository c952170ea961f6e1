"""Keys on a PKCS#11 token, against SoftHSM."""
from __future__ import annotations

import hashlib

import pytest
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from signatures import keys, pki
from tests.signatures.softhsm import MODULE_PATH, create_token, require, softhsm_token  # noqa: F401



@pytest.fixture(autouse=True)
def _token_software():
    require()


@pytest.mark.parametrize("algorithm,make", [("sha256", hashlib.sha256), ("sha384", hashlib.sha384),
                                            ("sha512", hashlib.sha512)])
def test_rsa_token_signature_verifies(softhsm_token, algorithm, make):
    t = softhsm_token
    key = keys.Pkcs11Key(t.module_path, t.token_label, t.pin, key_label="signer")
    digest = make(b"Quyet dinh so 05/QD-UBND").digest()
    signature = key.sign_digest(digest, algorithm)
    assert keys.verify_digest_signature(t.identity.cert_der, digest, signature, algorithm)
    # RSA PKCS#1 v1.5 is deterministic: the token and the software key give the same bytes
    assert signature == keys.SoftwareKey(t.identity.key, t.identity.cert_der).sign_digest(digest, algorithm)


def test_certificate_and_chain_are_read_from_the_token(softhsm_token):
    t = softhsm_token
    key = keys.Pkcs11Key(t.module_path, t.token_label, t.pin, key_id="01")
    assert key.cert_der == t.identity.cert_der
    assert key.chain_der == t.identity.chain_der == [t.ca.cert_der]
    assert isinstance(key, keys.KeyBackend)


def test_given_certificate_is_used_as_is(softhsm_token):
    t = softhsm_token
    key = keys.Pkcs11Key(t.module_path, t.token_label, t.pin, key_id=b"\x01", cert_der=t.identity.cert_der,
                         chain_der=t.identity.chain_der)
    assert key.cert_der == t.identity.cert_der and key.chain_der == t.identity.chain_der
    digest = hashlib.sha256(b"by id").digest()
    assert keys.verify_digest_signature(key.cert_der, digest, key.sign_digest(digest))


def test_single_key_found_without_label_or_id(softhsm_token):
    t = softhsm_token
    key = keys.Pkcs11Key(t.module_path, t.token_label, t.pin)
    digest = hashlib.sha256(b"only key").digest()
    assert key.cert_der == t.identity.cert_der
    assert keys.verify_digest_signature(t.identity.cert_der, digest, key.sign_digest(digest))


def test_ec_token_created_after_the_module_was_loaded(softhsm_token):
    t = softhsm_token
    keys.Pkcs11Key(t.module_path, t.token_label, t.pin).cert_der  # the module is loaded now
    identity = pki.issue_personal(t.ca, "Hoàng Thị Ec", "Công chức Văn phòng", "UBND xã Tú Lệ", key_kind="ec")
    module_path, token_label, pin, _conf = create_token(identity, token_label="xaso-test-ec", pin="5678")
    key = keys.Pkcs11Key(module_path, token_label, pin, key_label="signer")
    digest = hashlib.sha256(b"EC on a token").digest()
    signature = key.sign_digest(digest)
    r, s = decode_dss_signature(signature)  # DER, not the raw r||s of CKM_ECDSA
    assert r > 0 and s > 0
    assert keys.verify_digest_signature(identity.cert_der, digest, signature)
    assert key.cert_der == identity.cert_der


def test_wrong_pin(softhsm_token):
    t = softhsm_token
    key = keys.Pkcs11Key(t.module_path, t.token_label, "9999", key_label="signer")
    with pytest.raises(keys.WrongPin) as caught:
        key.sign_digest(hashlib.sha256(b"x").digest())
    assert caught.value.code == "wrong_pin"
    with pytest.raises(keys.WrongPin):
        keys.Pkcs11Key(t.module_path, t.token_label, "", key_label="signer").sign_digest(hashlib.sha256(b"x").digest())
    # the right PIN still works afterwards
    good = keys.Pkcs11Key(t.module_path, t.token_label, t.pin, key_label="signer")
    digest = hashlib.sha256(b"y").digest()
    assert keys.verify_digest_signature(t.identity.cert_der, digest, good.sign_digest(digest))


def test_missing_token_is_unavailable(softhsm_token):
    key = keys.Pkcs11Key(softhsm_token.module_path, "no-such-token", "1234", key_label="signer")
    with pytest.raises(keys.KeyUnavailable) as caught:
        key.sign_digest(hashlib.sha256(b"x").digest())
    assert caught.value.code == "token_absent" and caught.value.retryable
    with pytest.raises(keys.KeyUnavailable):
        key.cert_der


def test_missing_module_is_unavailable():
    key = keys.Pkcs11Key("/nonexistent/libpkcs11-driver.so", "xaso-test", "1234")
    with pytest.raises(keys.KeyUnavailable) as caught:
        key.sign_digest(hashlib.sha256(b"x").digest())
    assert caught.value.code == "pkcs11_module_missing"


def test_missing_key_is_a_configuration_error(softhsm_token):
    t = softhsm_token
    with pytest.raises(keys.KeyConfigurationError) as caught:
        keys.Pkcs11Key(t.module_path, t.token_label, t.pin, key_label="nobody").sign_digest(hashlib.sha256(b"x").digest())
    assert caught.value.code == "key_not_found"
    with pytest.raises(keys.KeyConfigurationError) as caught:
        keys.Pkcs11Key(t.module_path, t.token_label, t.pin, key_label="nobody").cert_der
    assert caught.value.code == "certificate_not_found"
    with pytest.raises(keys.KeyConfigurationError):
        keys.Pkcs11Key(t.module_path, t.token_label, t.pin, key_id="zz")


def test_module_is_loaded_once(softhsm_token):
    keys.Pkcs11Key(softhsm_token.module_path, softhsm_token.token_label, softhsm_token.pin).cert_der
    assert keys._pkcs11_lib(MODULE_PATH) is keys._pkcs11_lib(MODULE_PATH)


def test_error_mapping():
    import pkcs11

    assert isinstance(keys._map_pkcs11_error(pkcs11.PinIncorrect()), keys.WrongPin)
    locked = keys._map_pkcs11_error(pkcs11.PinLocked())
    assert isinstance(locked, keys.PinLocked) and locked.code == "pin_locked"
    assert keys._map_pkcs11_error(pkcs11.PinExpired()).code == "pin_expired"
    for exc in (pkcs11.TokenNotPresent(), pkcs11.DeviceRemoved(), pkcs11.NoSuchToken()):
        mapped = keys._map_pkcs11_error(exc)
        assert isinstance(mapped, keys.KeyUnavailable) and mapped.code == "token_absent"
    assert keys._map_pkcs11_error(pkcs11.MechanismInvalid()).code == "mechanism_unsupported"
    assert keys._map_pkcs11_error(pkcs11.AttributeSensitive()).code == "token_error"


def test_concurrent_signing_from_threads(softhsm_token):
    from concurrent.futures import ThreadPoolExecutor

    t = softhsm_token
    key = keys.Pkcs11Key(t.module_path, t.token_label, t.pin, key_label="signer")
    digests = [hashlib.sha256(f"doc {n}".encode()).digest() for n in range(12)]
    with ThreadPoolExecutor(4) as pool:
        signatures = list(pool.map(key.sign_digest, digests))
    assert all(keys.verify_digest_signature(t.identity.cert_der, d, s) for d, s in zip(digests, signatures))


def _sign_in_child(args):
    module_path, token_label, pin, digest = args
    return keys.Pkcs11Key(module_path, token_label, pin, key_label="signer").sign_digest(digest)


def test_signing_in_a_forked_worker(softhsm_token):
    """Worker pools fork after the parent loaded the module: the child initialises it again."""
    import multiprocessing

    t = softhsm_token
    keys.Pkcs11Key(t.module_path, t.token_label, t.pin, key_label="signer").sign_digest(hashlib.sha256(b"p").digest())
    digest = hashlib.sha256(b"signed in a child process").digest()
    with multiprocessing.get_context("fork").Pool(1) as pool:
        signature = pool.apply(_sign_in_child, ((t.module_path, t.token_label, t.pin, digest),))
    assert keys.verify_digest_signature(t.identity.cert_der, digest, signature)
