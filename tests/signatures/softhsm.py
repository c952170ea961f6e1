"""SoftHSM tokens for tests: a private key and its certificate (and the CA chain) on a PKCS#11 token.

The SoftHSM configuration is chosen once per process: SOFTHSM2_CONF must be in the environment
before the PKCS#11 module is first loaded, so every token of the process lives in one temporary
token directory (removed at exit). Tokens created after the module was loaded are found by
``signatures.keys.Pkcs11Key`` (it re-initialises the module when a token label is unknown).

    module_path, token_label, pin, conf_path = create_token(identity, token_label="xaso-test")
    key = Pkcs11Key(module_path, token_label, pin, key_label="signer")

Fixtures for other test modules: ``from tests.signatures.softhsm import softhsm_token  # noqa: F401``
(a token "xaso-test" holding a demo official's RSA key; ``softhsm_token`` returns a
``SoftHsmToken`` with the identity, the CA and the tuple above).
"""
from __future__ import annotations

import atexit
import os
import shutil
import subprocess
import tempfile
import threading
from dataclasses import dataclass

import pytest

MODULE_PATH = "/usr/lib/softhsm/libsofthsm2.so"
SO_PIN = "123456"

_lock = threading.Lock()
_conf_path: str | None = None
_tokens: dict[str, tuple[bytes, tuple]] = {}


def available() -> bool:
    return os.path.exists(MODULE_PATH) and shutil.which("softhsm2-util") is not None and \
        shutil.which("pkcs11-tool") is not None


def require() -> None:
    """Fail (never skip) when the token software is missing: the PKCS#11 path must be tested."""
    if not available():
        pytest.fail("SoftHSM or OpenSC is missing: sudo apt-get install softhsm2 opensc (bin/test installs them)")


def _module_loaded() -> bool:
    try:
        import pkcs11
    except ImportError:
        return False
    return MODULE_PATH in getattr(pkcs11, "_loaded", {})


def ensure_conf() -> str:
    """The process-wide SoftHSM configuration (created on first use), exported as SOFTHSM2_CONF."""
    global _conf_path
    with _lock:
        if _conf_path is not None:
            return _conf_path
        if _module_loaded():
            raise RuntimeError("the SoftHSM module was loaded before the test token directory was configured")
        base = tempfile.mkdtemp(prefix="xaso-softhsm-")
        atexit.register(shutil.rmtree, base, True)
        tokens = os.path.join(base, "tokens")
        os.mkdir(tokens)
        conf = os.path.join(base, "softhsm2.conf")
        with open(conf, "w") as fh:
            fh.write(f"directories.tokendir = {tokens}\nobjectstore.backend = file\nlog.level = ERROR\n"
                     "slots.removable = false\nslots.mechanisms = ALL\nlibrary.reset_on_fork = false\n")
        os.environ["SOFTHSM2_CONF"] = conf
        _conf_path = conf
        return conf


def _run(args: list[str], conf: str) -> None:
    env = {**os.environ, "SOFTHSM2_CONF": conf}
    result = subprocess.run(args, env=env, capture_output=True, text=True, timeout=60)
    if result.returncode != 0:
        raise RuntimeError(f"{args[0]} failed ({result.returncode}): {result.stderr.strip() or result.stdout.strip()}")


def create_token(identity, *, token_label: str = "xaso-test", pin: str = "1234", key_label: str = "signer",
                 key_id: str = "01", with_chain: bool = True) -> tuple[str, str, str, str]:
    """A token holding the identity's key and certificate (id ``key_id``, label ``key_label``) and,
    with ``with_chain``, the CA certificates (labels ca-0, ca-1, …). Returns
    ``(module_path, token_label, pin, conf_path)``. Asking again for the same label and identity
    returns the existing token."""
    from cryptography.hazmat.primitives import serialization

    if not available():
        raise RuntimeError("SoftHSM (libsofthsm2, softhsm2-util) or pkcs11-tool is not installed")
    conf = ensure_conf()
    cert_der = identity.cert_der
    with _lock:
        existing = _tokens.get(token_label)
        if existing is not None:
            if existing[0] != cert_der:
                raise ValueError(f"token {token_label!r} already holds another identity")
            return existing[1]
        _run(["softhsm2-util", "--init-token", "--free", "--label", token_label, "--pin", pin, "--so-pin", SO_PIN],
             conf)
        work = tempfile.mkdtemp(prefix="xaso-token-", dir=os.path.dirname(conf))
        try:
            key_pem = os.path.join(work, "key.pem")
            with open(key_pem, "wb") as fh:
                fh.write(identity.key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                    serialization.NoEncryption()))
            _run(["softhsm2-util", "--import", key_pem, "--token", token_label, "--label", key_label,
                  "--id", key_id, "--pin", pin], conf)
            objects = [(cert_der, key_label, key_id)]
            if with_chain:
                objects += [(der, f"ca-{n}", f"{0xc0 + n:02x}") for n, der in enumerate(identity.chain_der)]
            for n, (der, label, ident) in enumerate(objects):
                path = os.path.join(work, f"cert-{n}.der")
                with open(path, "wb") as fh:
                    fh.write(der)
                _run(["pkcs11-tool", "--module", MODULE_PATH, "--token-label", token_label, "--login", "--pin", pin,
                      "--write-object", path, "--type", "cert", "--id", ident, "--label", label], conf)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        result = (MODULE_PATH, token_label, pin, conf)
        _tokens[token_label] = (cert_der, result)
        return result


@dataclass
class SoftHsmToken:
    ca: object
    identity: object
    module_path: str
    token_label: str
    pin: str
    conf_path: str
    key_label: str = "signer"
    key_id: str = "01"


_default: SoftHsmToken | None = None


def default_token() -> SoftHsmToken:
    """Token "xaso-test" (PIN 1234) with a demo official's RSA key "signer" (id 01) and its chain;
    made once per process."""
    global _default
    if _default is None:
        from signatures import pki

        ca = pki.make_demo_ca("Xã Số Token Test CA")
        identity = pki.issue_personal(ca, "Nguyễn Văn Token", "Chủ tịch", "UBND xã Tú Lệ")
        module_path, token_label, pin, conf = create_token(identity, token_label="xaso-test")
        _default = SoftHsmToken(ca, identity, module_path, token_label, pin, conf)
    return _default


@pytest.fixture(scope="session")
def softhsm_token() -> SoftHsmToken:
    """The ``default_token()`` (fails when SoftHSM is not installed)."""
    require()
    return default_token()
