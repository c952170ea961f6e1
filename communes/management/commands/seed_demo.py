import os

from django.core.management.base import BaseCommand

from communes.demo import DEMO_COMMUNES, DEMO_PASSWORD, DEMO_PIN, seed


class Command(BaseCommand):
    help = "Create the demo: pilot communes at *.localhost hosts, officials, registry data (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--households", type=int, help="Households per commune (default: per commune).")

    def handle(self, *args, **options):
        result = seed(out=self.stdout.write, households=options["households"])
        port = os.environ.get("PORT", "8000")
        self.stdout.write(self.style.SUCCESS("Demo ready. Logins (password: %s):" % DEMO_PASSWORD))
        self.stdout.write(f"  national admin:      admin            http://localhost:{port}/admin/")
        for spec in DEMO_COMMUNES:
            self.stdout.write(
                f"  {spec.name:<10} officials: {spec.slug}.<role>  http://{spec.slug}.localhost:{port}/"
            )
        self.stdout.write("  roles: chairman, vice_chairman, clerk, onestop_officer, specialist, radio_operator,")
        self.stdout.write("         health_staff, school_staff, economy_officer, producer, tech_team, commune_admin")
        self.stdout.write(f"  signing PIN of the demo certificates (demo CA, not for real use): {DEMO_PIN}")
        self.stdout.write("  every official except producers and the tech team, and the national admin, add an")
        self.stdout.write("  authenticator app (TOTP) at their first login: the page shows its QR code and secret")
        self.stdout.write("  a citizen (one-stop dossiers online, on every commune host): congdan")
        self.stdout.write("  OCOP producers (their products, lots and orders, without the authenticator app):")
        self.stdout.write(f"    tule.producer (Hợp tác xã Nông nghiệp Tú Lệ)   http://tule.localhost:{port}/ocop/")
        self.stdout.write(f"    yenhoa.producer (HTX Dịch vụ nông nghiệp Yên Hòa)   http://yenhoa.localhost:{port}/ocop/")
        self.stdout.write("  the economy officer approves them: tule.economy_officer, yenhoa.economy_officer")
        self.stdout.write(f"  province of Thanh Hóa (API): thanhhoa.staff  token {result['token']}")
        self.stdout.write(
            f"    curl -H 'Authorization: Token {result['token']}' http://localhost:{port}/api/v1/communes/"
        )
