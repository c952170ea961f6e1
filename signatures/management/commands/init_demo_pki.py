from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from signatures import demo, pki


class Command(BaseCommand):
    help = (
        "Demo PKI (DEMO - NOT FOR REAL USE): a demo CA in the trust store, personal certificates for the "
        "chairman and vice-chairmen of every commune, an agency certificate per commune given to its clerks, "
        "demo signature and seal images. Idempotent; --force issues new certificates."
    )

    def add_arguments(self, parser):
        parser.add_argument("--pin", default="123456", help="PIN of every demo key (6 to 12 digits; default 123456).")
        parser.add_argument("--force", action="store_true", help="Deactivate the demo certificates and issue new ones.")
        parser.add_argument("--new-ca", action="store_true", help="Make a new demo CA (implies --force).")
        parser.add_argument("--commune", action="append", dest="communes", metavar="CODE",
                            help="Only this commune (5-digit code); repeatable. Default: every commune.")
        parser.add_argument("--ca-out", metavar="PATH",
                            help="Write the demo CA certificate (PEM) here, e.g. for certutil/pdfsig.")

    def handle(self, *args, **options):
        try:
            ca, report = demo.seed(pin=options["pin"], force=options["force"], new_ca=options["new_ca"],
                                   commune_codes=options["communes"])
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from None
        if options["ca_out"]:
            path = Path(options["ca_out"])
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(ca.cert_pem())
            self.stdout.write(f"CA certificate written to {path}")
        self.stdout.write(self.style.WARNING(f"Demo PKI – {pki.DEMO_LABEL}"))
        self.stdout.write(f"  CA: {ca.cert.subject.rfc4514_string()} ({'new' if report.ca_created else 'existing'})")
        self.stdout.write(f"  new personal certificates: {report.personal}, agency certificates: {report.agency}, "
                          f"key grants: {report.grants}, images: {report.images}")
        for line in report.skipped:
            self.stdout.write(f"  skipped: {line}")
        self.stdout.write(self.style.SUCCESS(f"Demo PIN of every demo key: {options['pin']}"))
