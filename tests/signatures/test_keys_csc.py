"""Remote signing (CSC API with asynchronous authorisation) against the local test service."""
from __future__ import annotations

import hashlib
import socket
import threading

import pytest
import requests

from signatures import keys, pki
from signatures.csc import CscClient
from tests.signatures.csc_server import CscTestServer


@pytest.fixture(scope="module")
def ca():
    return pki.make_demo_ca("Xã Số CSC Test CA")


@pytest.fixture(scope="module")
def official(ca):
    return pki.issue_personal(ca, "Phạm Văn Xa", "Chủ tịch", "UBND xã Yên Hòa")


@pytest.fixture(scope="module")
def official_ec(ca):
    return pki.issue_personal(ca, "Đỗ Thị Ec", "Phó Chủ tịch", "UBND xã Yên Hòa", key_kind="ec")


@pytest.fixture
def server(official, official_ec):
    with CscTestServer() as srv:
        srv.add_credential(official, "cred-rsa", description="Chữ ký số từ xa")
        srv.add_credential(official_ec, "cred-ec")
        yield srv


@pytest.fixture
def client(server):
    c = CscClient(server.url, server.token, timeout=5)
    yield c
    c.close()


def digest_of(text: str) -> bytes:
    return hashlib.sha256(text.encode()).digest()


# --- the client calls ------------------------------------------------------------------------------

def test_info_and_credentials(client, official, official_ec):
    assert client.info()["specs"].startswith("1.0.4")
    assert client.list_credentials() == ["cred-ec", "cred-rsa"]
    info = client.credential_info("cred-rsa")
    assert info.cert_der == official.cert_der and info.chain_der == official.chain_der
    assert info.key_kind == "rsa" and info.scal == 2 and info.key_length == 2048
    assert "1.2.840.113549.1.1.1" in info.key_algorithms
    assert client.credential_info("cred-ec").key_kind == "ec"


def test_base_url_may_include_the_api_path(server):
    assert CscClient(server.url + "/csc/v1/", server.token).base_url == server.url + "/csc/v1"
    with pytest.raises(keys.KeyConfigurationError):
        CscClient("ftp://example.org", "t")


def test_unknown_credential_is_a_clear_error(client):
    with pytest.raises(keys.KeyConfigurationError) as caught:
        client.credential_info("cred-nobody")
    assert caught.value.code == "csc_invalid_request"
    assert "credentialID" in caught.value.detail


# --- two-step signing ------------------------------------------------------------------------------

@pytest.mark.parametrize("credential", ["cred-rsa", "cred-ec"])
def test_request_pending_release_collect(server, client, official, official_ec, credential):
    identity = official if credential == "cred-rsa" else official_ec
    key = keys.CscKey(client, credential)
    assert key.cert_der == identity.cert_der and key.chain_der == identity.chain_der
    digest = digest_of("Quyết định 05/QĐ-UBND")
    request_id = key.request(digest, "job-17-attempt-1", description="Ký Quyết định 05/QĐ-UBND")
    assert request_id == "job-17-attempt-1"
    [pending] = server.pending(credential)
    assert pending.hashes == [digest] and pending.description == "Ký Quyết định 05/QĐ-UBND"

    for _ in range(3):
        with pytest.raises(keys.AuthorizationPending) as caught:
            key.collect(request_id, digest)
        assert caught.value.reason == "authorization_pending"
        assert caught.value.retry_after == pytest.approx(server.interval)
        assert caught.value.request_id == request_id and caught.value.retryable

    assert server.release(request_id) == 1
    signature = key.collect(request_id, digest)
    assert keys.verify_digest_signature(identity.cert_der, digest, signature)
    assert server.effects == {request_id: 1}  # one prompt on the phone, however many polls
    assert server.sign_effects == {f"{request_id}/signHash": 1}

    # collecting again (a job re-run after a crash) gives the same signature, without a new prompt
    # or a second signing operation
    assert key.collect(request_id, digest) == signature
    assert server.effects == {request_id: 1}
    assert server.sign_effects == {f"{request_id}/signHash": 1}


def test_fresh_key_object_collects_in_another_process(server, client, official):
    """The request id is all a resumed job needs (with the digest it stored)."""
    digest = digest_of("Công văn 12/UBND-VP")
    request_id = keys.CscKey(client, "cred-rsa").request(digest, "job-18")
    server.release("cred-rsa")
    other = keys.CscKey(CscClient(server.url, server.token, timeout=5), "cred-rsa", cert_der=official.cert_der,
                        chain_der=official.chain_der)
    assert keys.verify_digest_signature(official.cert_der, digest, other.collect(request_id, digest))


def test_deny_is_refused(server, client):
    key = keys.CscKey(client, "cred-rsa")
    digest = digest_of("Tờ trình 3/TTr-UBND")
    request_id = key.request(digest, "job-19")
    server.deny(request_id)
    with pytest.raises(keys.AuthorizationRefused) as caught:
        key.collect(request_id, digest)
    assert caught.value.code == "access_denied" and not caught.value.retryable
    with pytest.raises(keys.AuthorizationRefused):
        key.collect(request_id, digest)  # still refused, and no new prompt
    assert server.effects == {"job-19": 1}


def test_expired_prompt_is_refused(server, client):
    key = keys.CscKey(client, "cred-ec")
    digest = digest_of("expired")
    request_id = key.request(digest, "job-20")
    server.expire(request_id)
    with pytest.raises(keys.AuthorizationRefused) as caught:
        key.collect(request_id, digest)
    assert caught.value.code == "authorization_expired"


def test_same_idempotency_key_twice_makes_one_request(server, client):
    key = keys.CscKey(client, "cred-rsa")
    digest = digest_of("Báo cáo 7/BC-UBND")
    assert key.request(digest, "job-21") == key.request(digest, "job-21") == "job-21"
    assert len(server.pending("cred-rsa")) == 1
    assert server.effects == {"job-21": 1}
    # requests sent concurrently with the same key also make one prompt
    threads = [threading.Thread(target=key.request, args=(digest, "job-22")) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert server.effects["job-22"] == 1
    assert len(server.pending("cred-rsa")) == 2


def test_idempotency_key_reused_for_another_digest(server, client):
    key = keys.CscKey(client, "cred-rsa")
    key.request(digest_of("a"), "job-23")
    with pytest.raises(keys.KeyConfigurationError) as caught:
        key.request(digest_of("b"), "job-23")
    assert caught.value.code == "csc_idempotency_conflict"


def test_signature_is_bound_to_the_authorised_hash(server, client):
    """SCAL2: a SAD for one hash cannot sign another."""
    authorised = digest_of("authorised")
    key = keys.CscKey(client, "cred-rsa")
    key.request(authorised, "job-24")
    server.release("job-24")
    sad = client.authorize("cred-rsa", [authorised], idempotency_key="job-24").sad
    with pytest.raises(keys.AuthorizationRefused) as caught:
        client.sign_hash("cred-rsa", sad, [digest_of("something else")])
    assert caught.value.code == "csc_invalid_sad"
    with pytest.raises(keys.AuthorizationRefused):
        client.sign_hash("cred-rsa", "forged-sad", [authorised])
    assert server.sign_effects == {}


def test_pending_as_http_400_like_rfc_8628(official):
    with CscTestServer(pending_status=400) as server:
        server.add_credential(official, "cred")
        key = keys.CscKey(CscClient(server.url, server.token, timeout=5), "cred")
        digest = digest_of("400")
        request_id = key.request(digest, "k")
        with pytest.raises(keys.AuthorizationPending):
            key.collect(request_id, digest)
        server.release("cred")
        assert keys.verify_digest_signature(official.cert_der, digest, key.collect(request_id, digest))
        assert ("credentials/authorize", 400) in server.calls


def test_sign_digest_waits_briefly_then_pending(server, client, official):
    key = keys.CscKey(client, "cred-rsa", sync_wait=0.3, poll_interval=0.05)
    digest = digest_of("sync")
    with pytest.raises(keys.AuthorizationPending) as caught:
        key.sign_digest(digest)
    request_id = caught.value.request_id
    assert request_id and len(server.pending("cred-rsa")) == 1
    server.release(request_id)
    assert keys.verify_digest_signature(official.cert_der, digest, key.collect(request_id, digest))


def test_sign_digest_returns_when_confirmed_in_time(server, client, official):
    key = keys.CscKey(client, "cred-rsa", sync_wait=5, poll_interval=0.05)
    digest = digest_of("confirmed quickly")
    timer = threading.Timer(0.3, server.release, args=("cred-rsa",))
    timer.start()
    try:
        signature = key.sign_digest(digest)
    finally:
        timer.cancel()
    assert keys.verify_digest_signature(official.cert_der, digest, signature)


def test_service_authorising_at_once(official):
    with CscTestServer(auto_release=True) as server:
        server.add_credential(official, "cred")
        key = keys.CscKey(CscClient(server.url, server.token, timeout=5), "cred", sync_wait=0)
        digest = digest_of("implicit")
        assert keys.verify_digest_signature(official.cert_der, digest, key.sign_digest(digest))
        assert sum(server.effects.values()) == 1


def test_pin_is_sent_and_checked(official):
    with CscTestServer(auto_release=True) as server:
        server.add_credential(official, "cred", pin="4321")
        client = CscClient(server.url, server.token, timeout=5)
        with pytest.raises(keys.WrongPin) as caught:
            keys.CscKey(client, "cred", pin="0000").request(digest_of("p"), "k1")
        assert caught.value.code == "wrong_pin"
        key = keys.CscKey(client, "cred", pin="4321")
        digest = digest_of("p")
        assert keys.verify_digest_signature(official.cert_der, digest, key.collect(key.request(digest, "k2"), digest))


# --- failures --------------------------------------------------------------------------------------

def test_wrong_token_is_a_clear_error(server):
    client = CscClient(server.url, "not-the-token", timeout=5)
    key = keys.CscKey(client, "cred-rsa")
    with pytest.raises(keys.KeyConfigurationError) as caught:
        key.request(digest_of("x"), "job-30")
    assert caught.value.code == "csc_invalid_token" and not caught.value.retryable
    with pytest.raises(keys.KeyConfigurationError):
        client.list_credentials()
    assert server.effects == {}
    assert ("credentials/authorize", 401) in server.calls


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_server_down_is_unavailable(official):
    client = CscClient(f"http://127.0.0.1:{_closed_port()}", "t", timeout=2)
    key = keys.CscKey(client, "cred", cert_der=official.cert_der, chain_der=official.chain_der)
    digest = digest_of("down")
    for call in (lambda: key.request(digest, "job-31"), lambda: key.collect("job-31", digest), lambda: client.info()):
        with pytest.raises(keys.KeyUnavailable) as caught:
            call()
        assert caught.value.code == "csc_unreachable" and caught.value.retryable


def test_server_stopped_between_steps(official):
    server = CscTestServer().start()
    server.add_credential(official, "cred")
    key = keys.CscKey(CscClient(server.url, server.token, timeout=2), "cred")
    digest = digest_of("stopped")
    key.cert_der
    request_id = key.request(digest, "job-32")
    server.stop()
    with pytest.raises(keys.KeyUnavailable):
        key.collect(request_id, digest)


def test_timeout_is_unavailable(official):
    with socket.socket() as listener:  # accepts connections, never answers
        listener.bind(("127.0.0.1", 0))
        listener.listen(5)
        client = CscClient(f"http://127.0.0.1:{listener.getsockname()[1]}", "t", timeout=0.3)
        with pytest.raises(keys.KeyUnavailable) as caught:
            client.authorize("cred", [digest_of("t")], idempotency_key="job-33")
        assert caught.value.code == "csc_timeout"


def test_service_errors_are_retryable_then_work(server, client, official):
    key = keys.CscKey(client, "cred-rsa", cert_der=official.cert_der, chain_der=official.chain_der)
    digest = digest_of("flaky")
    server.fail_next = [503, 429]
    with pytest.raises(keys.KeyUnavailable) as caught:
        key.request(digest, "job-34")
    assert caught.value.code == "csc_service_error" and caught.value.retry_after == 1.0
    with pytest.raises(keys.KeyUnavailable) as caught:
        key.request(digest, "job-34")
    assert caught.value.code == "csc_rate_limited"
    key.request(digest, "job-34")
    server.release("job-34")
    assert keys.verify_digest_signature(official.cert_der, digest, key.collect("job-34", digest))
    assert server.effects == {"job-34": 1}


def test_answers_that_are_not_json(official):
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Html(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_POST(self):  # noqa: N802
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", "6")
            self.end_headers()
            self.wfile.write(b"<html>")

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Html)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        client = CscClient(f"http://127.0.0.1:{httpd.server_address[1]}", "t", timeout=2)
        with pytest.raises(keys.KeyError_) as caught:
            client.info()
        assert caught.value.code == "csc_bad_response"
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_signature_not_matching_the_certificate_is_rejected(server, client, official, ca):
    stranger = pki.issue_personal(ca, "Người Lạ")
    key = keys.CscKey(client, "cred-rsa", cert_der=stranger.cert_der, chain_der=stranger.chain_der)
    digest = digest_of("wrong cert")
    request_id = key.request(digest, "job-35")
    server.release(request_id)
    with pytest.raises(keys.KeyError_) as caught:
        key.collect(request_id, digest)
    assert caught.value.code == "bad_signature"


def test_requests_library_is_used_with_bearer_token(server, client):
    """The raw protocol, as documented in docs/csc.md."""
    base = server.url + "/csc/v1"
    digest = digest_of("raw")
    import base64

    body = {"credentialID": "cred-rsa", "numSignatures": 1, "hash": [base64.b64encode(digest).decode()],
            "clientData": "raw-1"}
    headers = {"Authorization": f"Bearer {server.token}", "Idempotency-Key": "raw-1"}
    first = requests.post(f"{base}/credentials/authorize", json=body, headers=headers, timeout=5)
    assert first.status_code == 202 and first.json()["error"] == "authorization_pending"
    assert "interval" in first.json() and first.headers["Retry-After"]
    server.release("raw-1")
    second = requests.post(f"{base}/credentials/authorize", json=body, headers=headers, timeout=5)
    assert second.status_code == 200 and second.json()["SAD"]
    signed = requests.post(f"{base}/signatures/signHash", headers=headers, timeout=5, json={
        "credentialID": "cred-rsa", "SAD": second.json()["SAD"], "hash": body["hash"],
        "hashAlgo": "2.16.840.1.101.3.4.2.1", "signAlgo": "1.2.840.113549.1.1.1"})
    assert signed.status_code == 200 and len(signed.json()["signatures"]) == 1
