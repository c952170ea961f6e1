"""The SMS provider of the tests that read what was sent: a local HTTP server (the portal's
``HttpGateway`` talks to it) that keeps every message. Use the ``sms`` fixture:
``from tests.sms_inbox import sms``."""
from __future__ import annotations

import http.server
import json
import threading

import pytest


class SmsInbox:
    def __init__(self):
        self.messages: list[tuple[str, str]] = []

    def to(self, phone: str) -> list[str]:
        return [text for number, text in self.messages if number == phone]


@pytest.fixture
def sms(settings):
    """The SMS provider: a local HTTP server that keeps what it is sent."""
    inbox = SmsInbox()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
            inbox.messages.append((body.get("to"), body.get("text")))
            data = b'{"message_id": "m-1"}'
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.XASO_SMS_BACKEND = "notifications.gateways.HttpGateway"
    settings.XASO_SMS_URL = f"http://127.0.0.1:{server.server_address[1]}/sms"
    settings.XASO_SMS_TOKEN = "t"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    yield inbox
    server.shutdown()
    server.server_close()
