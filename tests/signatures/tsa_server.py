"""A local RFC 3161 timestamp authority over HTTP for tests: POST a TimeStampReq, get a
TimeStampResp (application/timestamp-reply) signed with a demo TSA identity (pki.issue_tsa).

    with TsaServer(pki.issue_tsa(ca), chain=[ca.cert]) as tsa:
        signed = pades.sign(pdf, ..., timestamp_url=tsa.url)

``fail = True`` makes it answer 503 (a TSA that is down); ``requests`` counts the requests served.
"""
from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def _asn1_cert(cert):
    from asn1crypto import x509
    from cryptography.hazmat.primitives import serialization

    return x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))


class TsaServer:
    def __init__(self, identity, *, chain=None, fixed_dt=None, host: str = "127.0.0.1"):
        from asn1crypto import keys
        from cryptography.hazmat.primitives import serialization
        from pyhanko.sign.timestamps import DummyTimeStamper

        key_der = identity.key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                             serialization.NoEncryption())
        chain = identity.chain if chain is None else chain
        self.stamper = DummyTimeStamper(
            tsa_cert=_asn1_cert(identity.cert),
            tsa_key=keys.PrivateKeyInfo.load(key_der),
            certs_to_embed=[_asn1_cert(c) for c in chain],
            fixed_dt=fixed_dt,
        )
        self.host = host
        self.fail = False
        self.requests = 0
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        assert self._server is not None, "not started"
        return f"http://{self.host}:{self._server.server_address[1]}/tsa"

    def start(self) -> "TsaServer":
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server naming
                from asn1crypto import tsp

                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(min(length, 1 << 20))
                if owner.fail:
                    self.send_error(503, "timestamping unavailable")
                    return
                try:
                    request = tsp.TimeStampReq.load(body)
                    response = owner.stamper.request_tsa_response(request).dump()
                except Exception:  # noqa: BLE001 - a bad request gets a 400
                    self.send_error(400, "bad timestamp request")
                    return
                owner.requests += 1
                self.send_response(200)
                self.send_header("Content-Type", "application/timestamp-reply")
                self.send_header("Content-Length", str(len(response)))
                self.end_headers()
                self.wfile.write(response)

            def log_message(self, *args):  # keep test output quiet
                pass

        self._server = ThreadingHTTPServer((self.host, 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="tsa-server", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> "TsaServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
