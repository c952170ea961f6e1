"""poppler's pdfsig with a temporary NSS database that trusts given CA certificates.

    with NssDb([ca.cert_der]) as db:
        sigs = db.pdfsig(pdf_bytes)      # one dict per signature
        assert sigs[0]["signature"] == "Signature is Valid."
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile

PDFSIG = shutil.which("pdfsig") or "/usr/bin/pdfsig"
CERTUTIL = shutil.which("certutil") or "/usr/bin/certutil"


def make_nss_db(directory: str, trusted_der: list[bytes], trust: str = "CT,C,C") -> str:
    """Create an NSS database in ``directory`` trusting ``trusted_der``; returns "sql:<directory>"."""
    db = f"sql:{directory}"
    subprocess.run([CERTUTIL, "-N", "-d", db, "--empty-password"], check=True, capture_output=True, timeout=30)
    for i, der in enumerate(trusted_der):
        path = os.path.join(directory, f"ca{i}.der")
        with open(path, "wb") as fh:
            fh.write(der)
        subprocess.run([CERTUTIL, "-A", "-d", db, "-n", f"xaso-ca-{i}", "-t", trust, "-i", path],
                       check=True, capture_output=True, timeout=30)
    return db


def parse_pdfsig(output: str) -> list[dict]:
    """pdfsig's text output as a list of {"field", "common_name", "signature", "certificate",
    "total", "ranges", "type", "raw": {...}} dicts, one per signature."""
    signatures: list[dict] = []
    current = None
    for line in output.splitlines():
        if re.match(r"^Signature #\d+:", line):
            current = {"raw": {}, "total": None}
            signatures.append(current)
            continue
        if current is None:
            continue
        match = re.match(r"^\s+- (.*)$", line)
        if not match:
            continue
        item = match.group(1).strip()
        if item == "Total document signed":
            current["total"] = True
        elif item == "Not total document signed":
            current["total"] = False
        elif ":" in item:
            key, value = item.split(":", 1)
            current["raw"][key.strip()] = value.strip()
    for sig in signatures:
        raw = sig["raw"]
        sig["field"] = raw.get("Signature Field Name")
        sig["common_name"] = raw.get("Signer Certificate Common Name")
        sig["signature"] = raw.get("Signature Validation")
        sig["certificate"] = raw.get("Certificate Validation")
        sig["ranges"] = raw.get("Signed Ranges")
        sig["type"] = raw.get("Signature Type")
    return signatures


class NssDb:
    def __init__(self, trusted_der: list[bytes], trust: str = "CT,C,C"):
        self.trusted_der = list(trusted_der)
        self.trust = trust
        self.directory: str | None = None
        self.db: str | None = None

    def __enter__(self) -> "NssDb":
        self.directory = tempfile.mkdtemp(prefix="xaso-nss-")
        self.db = make_nss_db(self.directory, self.trusted_der, self.trust)
        return self

    def __exit__(self, *exc) -> None:
        if self.directory:
            shutil.rmtree(self.directory, ignore_errors=True)

    def pdfsig(self, pdf: bytes | str, *extra: str) -> list[dict]:
        return pdfsig(pdf, self.db, *extra)


def pdfsig(pdf: bytes | str, nssdir: str, *extra: str) -> list[dict]:
    """Run pdfsig on a file path or bytes and parse its report."""
    tmp = None
    if isinstance(pdf, (bytes, bytearray)):
        fd, tmp = tempfile.mkstemp(suffix=".pdf")
        with os.fdopen(fd, "wb") as fh:
            fh.write(pdf)
        path = tmp
    else:
        path = pdf
    try:
        result = subprocess.run([PDFSIG, "-nssdir", nssdir, *extra, path], capture_output=True, text=True,
                                timeout=60)
    finally:
        if tmp:
            os.unlink(tmp)
    return parse_pdfsig(result.stdout)
