"""Trust a certificate authority: ``manage.py import_trust_anchor ca.pem --label "…"``."""
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from truststore import services


class Command(BaseCommand):
    help = ("Add a CA certificate (PEM or DER; a PEM bundle adds each of its CA certificates) to the "
            "trust store used to check signatures. Running it again with the same certificate changes nothing.")

    def add_arguments(self, parser):
        parser.add_argument("file", help="Certificate file (.pem, .crt, .cer, .der).")
        parser.add_argument("--label", default="", help="Name shown to operators (default: the certificate's subject).")
        parser.add_argument("--source", default="", help="Where the certificate came from (default: the file name).")

    def handle(self, *args, **options):
        path = Path(options["file"])
        try:
            if path.stat().st_size > services.MAX_CERTIFICATE_BYTES:
                raise CommandError(f"{path}: too large to be a certificate.")
            data = path.read_bytes()
        except OSError as exc:
            raise CommandError(f"{path}: {exc.strerror or exc}") from None
        try:
            certs = services.load_certificates(data)
        except ValidationError as exc:
            raise CommandError(f"{path}: {' '.join(str(m) for m in exc.messages)}") from None
        source = options["source"] or f"file {path.name}"
        added, failed = 0, 0
        for index, cert in enumerate(certs, start=1):
            label = options["label"]
            if label and len(certs) > 1:
                label = f"{label} ({index})"
            der = cert.public_bytes(serialization.Encoding.DER)
            existed = services.TrustAnchor.objects.filter(fingerprint=services.fingerprint(der), active=True).exists()
            try:
                anchor = services.add_anchor(der, label=label, source=source)
            except ValidationError as exc:
                failed += 1
                self.stderr.write(f"{cert.subject.rfc4514_string()}: {' '.join(str(m) for m in exc.messages)}")
                continue
            added += 1
            state = "already trusted" if existed else "trusted"
            self.stdout.write(self.style.SUCCESS(
                f"{state}: {anchor.label} — {anchor.subject} (SHA-256 {anchor.fingerprint}, "
                f"valid {anchor.not_before:%d/%m/%Y}–{anchor.not_after:%d/%m/%Y})"
            ))
        if not added:
            raise CommandError("No certificate was added.")
        if failed:
            self.stderr.write(f"{failed} certificate(s) skipped.")
