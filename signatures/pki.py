"""Keys and certificates: reading PKCS#12 files, protecting private keys under a PIN, and a demo
PKI (a clearly labelled CA, officials' personal certificates, communes' agency certificates and
a timestamping certificate) for demonstrations and tests.

Nothing here talks to Django: the signing engine, the management commands and the tests share it.
"""
from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

DEMO_LABEL = "DEMO - NOT FOR REAL USE"
UTC = dt.timezone.utc


class InvalidPkcs12(ValueError):
    """The file is not a PKCS#12 bundle, the passphrase is wrong, or it holds no key or certificate."""

    def __init__(self, code: str, detail: str = ""):
        super().__init__(detail or code)
        self.code = code


class WrongPin(ValueError):
    """The PIN does not open the stored key."""


@dataclass
class Identity:
    """A private key with its certificate and the chain above it (issuer first, root last)."""

    key: object
    cert: x509.Certificate
    chain: list[x509.Certificate] = field(default_factory=list)

    @property
    def cert_der(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.DER)

    @property
    def chain_der(self) -> list[bytes]:
        return [c.public_bytes(serialization.Encoding.DER) for c in self.chain]

    def key_pem(self) -> bytes:
        return self.key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )

    def cert_pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)

    def to_pkcs12(self, passphrase: str | bytes, friendly_name: str = "xaso") -> bytes:
        if isinstance(passphrase, str):
            passphrase = passphrase.encode()
        return pkcs12.serialize_key_and_certificates(
            friendly_name.encode(), self.key, self.cert, self.chain or None,
            serialization.BestAvailableEncryption(passphrase),
        )


# --- PKCS#12 and PIN protection -----------------------------------------------------------------

def load_pkcs12(data: bytes, passphrase: str | bytes | None) -> Identity:
    if isinstance(passphrase, str):
        passphrase = passphrase.encode()
    try:
        key, cert, extra = pkcs12.load_key_and_certificates(data, passphrase or None)
    except ValueError as exc:
        message = str(exc).lower()
        code = "wrong_passphrase" if ("password" in message or "mac" in message) else "not_pkcs12"
        raise InvalidPkcs12(code, str(exc)) from None
    except Exception as exc:  # noqa: BLE001 - malformed input of any kind
        raise InvalidPkcs12("not_pkcs12", str(exc)) from None
    if key is None:
        raise InvalidPkcs12("no_key")
    if cert is None:
        raise InvalidPkcs12("no_certificate")
    if not isinstance(key, (rsa.RSAPrivateKey, ec.EllipticCurvePrivateKey)):
        raise InvalidPkcs12("unsupported_key")
    return Identity(key=key, cert=cert, chain=_order_chain(cert, list(extra or [])))


def _order_chain(cert: x509.Certificate, others: list[x509.Certificate]) -> list[x509.Certificate]:
    """Issuer first, root last; certificates unrelated to the chain are dropped."""
    chain, current, pool = [], cert, list(others)
    while True:
        issuer = next((c for c in pool if c.subject == current.issuer), None)
        if issuer is None or issuer in chain:
            break
        chain.append(issuer)
        pool.remove(issuer)
        if issuer.subject == issuer.issuer:
            break
        current = issuer
    return chain


def _pin_bytes(pin: str | bytes) -> bytes:
    if isinstance(pin, str):
        pin = pin.encode()
    if not pin:
        raise WrongPin("empty PIN")
    return pin


def encrypt_key(private_key, pin: str | bytes) -> bytes:
    """The key as encrypted PKCS#8 PEM (PBES2 with AES-256), openable only with the PIN."""
    return private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(_pin_bytes(pin)),
    )


def decrypt_key(blob: bytes, pin: str | bytes):
    try:
        return serialization.load_pem_private_key(bytes(blob), password=_pin_bytes(pin))
    except (ValueError, TypeError):
        raise WrongPin("the PIN does not open this key") from None


# --- reading certificates -----------------------------------------------------------------------

def load_certificate(data: bytes) -> x509.Certificate:
    """A certificate in DER or PEM."""
    data = bytes(data)
    if data.lstrip().startswith(b"-----BEGIN"):
        return x509.load_pem_x509_certificate(data)
    return x509.load_der_x509_certificate(data)


def _name_attr(name: x509.Name, oid) -> str:
    values = name.get_attributes_for_oid(oid)
    return values[0].value if values else ""


def cert_summary(cert: x509.Certificate) -> dict:
    return {
        "subject": _name_attr(cert.subject, NameOID.COMMON_NAME),
        "organisation": _name_attr(cert.subject, NameOID.ORGANIZATION_NAME),
        "title": _name_attr(cert.subject, NameOID.TITLE),
        "issuer": _name_attr(cert.issuer, NameOID.COMMON_NAME),
        "serial": format(cert.serial_number, "x"),
        "not_before": cert.not_valid_before_utc,
        "not_after": cert.not_valid_after_utc,
        "fingerprint": hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest(),
        "is_ca": _is_ca(cert),
    }


def _is_ca(cert: x509.Certificate) -> bool:
    try:
        return cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    except x509.ExtensionNotFound:
        return False


# --- the demo PKI ------------------------------------------------------------------------------

def _new_key(kind: str = "rsa"):
    if kind == "ec":
        return ec.generate_private_key(ec.SECP256R1())
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _name(common_name: str, organisation: str | None = None, title: str | None = None,
          locality: str | None = None, email: str | None = None) -> x509.Name:
    attrs = [x509.NameAttribute(NameOID.COUNTRY_NAME, "VN")]
    if locality:
        attrs.append(x509.NameAttribute(NameOID.LOCALITY_NAME, locality))
    if organisation:
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation))
    attrs.append(x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, DEMO_LABEL))
    if title:
        attrs.append(x509.NameAttribute(NameOID.TITLE, title))
    attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, common_name))
    if email:
        attrs.append(x509.NameAttribute(NameOID.EMAIL_ADDRESS, email))
    return x509.Name(attrs)


def _window(not_before, not_after, days: int):
    now = dt.datetime.now(UTC)
    not_before = not_before or (now - dt.timedelta(days=1))
    not_after = not_after or (not_before + dt.timedelta(days=days))
    return not_before, not_after


def make_demo_ca(name: str = "Xã Số Demo CA", *, key_kind: str = "rsa", years: int = 10) -> Identity:
    key = _new_key(key_kind)
    subject = _name(f"{name} ({DEMO_LABEL})", organisation="Xã Số")
    not_before, not_after = _window(None, None, 365 * years)
    ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject).issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before).not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(
            digital_signature=True, content_commitment=False, key_encipherment=False,
            data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
            encipher_only=False, decipher_only=False), critical=True)
        .add_extension(ski, critical=False)
        .sign(key, hashes.SHA256())
    )
    return Identity(key=key, cert=cert, chain=[])


def _issue(ca: Identity, subject: x509.Name, *, key=None, key_kind="rsa", not_before=None, not_after=None,
           days=3 * 365, eku=None, email=None) -> Identity:
    key = key or _new_key(key_kind)
    not_before, not_after = _window(not_before, not_after, days)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject).issuer_name(ca.cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before).not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(
            digital_signature=True, content_commitment=eku is None, key_encipherment=False,
            data_encipherment=False, key_agreement=False, key_cert_sign=False, crl_sign=False,
            encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.key.public_key()), critical=False)
    )
    if eku is not None:
        builder = builder.add_extension(x509.ExtendedKeyUsage(eku), critical=True)
    if email:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.RFC822Name(email)]), critical=False)
    cert = builder.sign(ca.key, hashes.SHA256())
    return Identity(key=key, cert=cert, chain=[ca.cert, *ca.chain])


def issue_personal(ca: Identity, full_name: str, title: str | None = None, organisation: str | None = None, *,
                   email: str | None = None, not_before=None, not_after=None, key_kind: str = "rsa") -> Identity:
    """An official's own certificate (chữ ký số cá nhân)."""
    return _issue(ca, _name(full_name, organisation=organisation, title=title, email=email),
                  key_kind=key_kind, not_before=not_before, not_after=not_after, email=email)


def issue_agency(ca: Identity, organisation: str, *, locality: str | None = None, not_before=None,
                 not_after=None, key_kind: str = "rsa") -> Identity:
    """A commune's agency certificate (chữ ký số của cơ quan, tổ chức), used by its clerks."""
    return _issue(ca, _name(organisation, organisation=organisation, locality=locality),
                  key_kind=key_kind, not_before=not_before, not_after=not_after)


def issue_tsa(ca: Identity, name: str = "Xã Số Demo TSA") -> Identity:
    """A timestamping certificate (extended key usage id-kp-timeStamping, critical)."""
    return _issue(ca, _name(f"{name} ({DEMO_LABEL})", organisation="Xã Số"),
                  eku=[ExtendedKeyUsageOID.TIME_STAMPING])
