"""The public status lookup's throttles: per address and per (code, address) (a citizen cannot be
locked out of their own dossier by others' wrong guesses), counted in PostgreSQL so that they
still count while Redis is down (no 500) and count atomically under concurrent requests."""
from __future__ import annotations

import socket
import subprocess
import threading
import time
import uuid
from pathlib import Path

import pytest
from django.db import connection, connections
from django.test import Client

from onestop import selectors
from tests.onestop.conftest import _media, in_tule, people, procedures  # noqa: F401  (fixtures)
from tests.onestop.helpers import PHONE, received_dossier

HOST = "tule.localhost"
JSON = {"content_type": "application/json"}
API = "/api/v1/onestop/lookup/"


@pytest.fixture
def dossier(procedures, people):
    return received_dossier(procedures["HT-02"], people["onestop_officer"])


def visitor(tule, address: str) -> Client:
    class Visitor(Client):
        def request(self, **request):
            try:
                return super().request(**request)
            finally:
                connection.set_tenant(tule)

    return Visitor(HTTP_HOST=HOST, REMOTE_ADDR=address)


def page(client, code, digits):
    return client.post("/lookup/", {"code": code, "phone_last4": digits})


def api(client, code, digits):
    return client.post(API, {"code": code, "phone_last4": digits}, **JSON)


def exercise_lookup(tule, dossier, settings, prefix: str) -> list[int]:
    """The page and the API answer 200 / 404 / 429 as they should; returns every status seen."""
    settings.XASO_LOOKUP_RATE = "4/hour"
    seen = []
    one = visitor(tule, f"{prefix}.1")
    right = page(one, dossier.code, PHONE[-4:])
    assert right.status_code == 200 and dossier.procedure.name in right.content.decode()
    wrong = api(one, dossier.code, "0000")
    assert wrong.status_code == 404 and wrong.json()["code"] == "not_found"
    assert api(one, dossier.code, PHONE[-4:]).status_code == 200
    assert api(one, dossier.code, PHONE[-4:]).status_code == 200
    throttled = api(one, dossier.code, PHONE[-4:])
    assert throttled.status_code == 429 and throttled.json()["code"] == "throttled"
    assert 0 < int(throttled["Retry-After"]) <= 3600
    on_page = page(one, dossier.code, PHONE[-4:])
    assert on_page.status_code == 429 and 0 < int(on_page["Retry-After"]) <= 3600
    seen += [right.status_code, wrong.status_code, throttled.status_code, on_page.status_code]
    other = visitor(tule, f"{prefix}.2")
    assert api(other, dossier.code, PHONE[-4:]).status_code == 200
    return seen


def test_lookup_answers_while_the_shared_cache_is_unreachable(dossier, in_tule, settings):
    """Before: the throttle lived in Redis, and every lookup answered 500 while it was down."""
    settings.CACHES = {**settings.CACHES, "shared": {**settings.CACHES["shared"], "LOCATION": "redis://127.0.0.1:1/0"}}
    assert sorted(set(exercise_lookup(in_tule, dossier, settings, "192.0.2"))) == [200, 404, 429]


def test_an_online_application_is_saved_once_while_the_shared_cache_is_unreachable(procedures, people, in_tule,
                                                                                  settings):
    """The application's lock and its draft (which used to live in Redis) need no Redis."""
    from onestop.models import Dossier, DossierState
    from tests.onestop.test_public_pages import post_data

    settings.CACHES = {**settings.CACHES, "shared": {**settings.CACHES["shared"], "LOCATION": "redis://127.0.0.1:1/0"}}
    citizen = people["citizen"]
    procedure = procedures["HT-01"]
    client = visitor(in_tule, "192.0.2.50")
    client.force_login(citizen)
    token = uuid.uuid4()
    data = post_data(procedure, citizen, token=token, action="draft")
    first = client.post(f"/services/{procedure.code}/apply/", data)
    second = client.post(f"/services/{procedure.code}/apply/", data)  # a second click
    assert first.status_code == second.status_code == 302
    drafts = Dossier.objects.filter(citizen_id=citizen.pk, state=DossierState.DRAFT)
    assert drafts.count() == 1 and drafts.get().submit_token == token


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def own_redis(tmp_path: Path):
    """A redis-server of this test's own (never the machine's), that the test can shut down."""
    port = _free_port()
    process = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", str(tmp_path)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            if time.monotonic() > deadline:
                process.kill()
                raise RuntimeError("redis-server did not start")
            time.sleep(0.05)
    try:
        yield port, process
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=10)


def test_lookup_answers_after_its_redis_is_shut_down(dossier, in_tule, settings, own_redis):
    port, process = own_redis
    settings.CACHES = {**settings.CACHES, "shared": {**settings.CACHES["shared"], "LOCATION": f"redis://127.0.0.1:{port}/0"}}
    from django.core.cache import caches

    caches["shared"].set("probe", 1)  # Redis is up and in use
    assert caches["shared"].get("probe") == 1
    subprocess.run(["redis-cli", "-p", str(port), "shutdown", "nosave"], check=False, capture_output=True, timeout=10)
    process.wait(timeout=10)
    with pytest.raises(Exception):
        caches["shared"].get("probe")  # really down
    assert sorted(set(exercise_lookup(in_tule, dossier, settings, "198.18.0"))) == [200, 404, 429]


def test_wrong_phones_lock_one_address_out_of_one_code_only(dossier, procedures, people, in_tule, settings):
    settings.XASO_LOOKUP_MAX_FAILURES = 5
    settings.XASO_LOOKUP_RATE = "100/hour"
    other = received_dossier(procedures["HT-02"], people["onestop_officer"])
    for n in range(5):  # five wrong endings from five addresses (the reported lockout)
        assert api(visitor(in_tule, f"203.0.113.{n + 1}"), dossier.code, f"111{n}").status_code == 404
    assert api(visitor(in_tule, "203.0.113.77"), dossier.code, PHONE[-4:]).status_code == 200
    guesser = visitor(in_tule, "203.0.113.200")
    assert [api(guesser, dossier.code, f"22{n:02d}").status_code for n in range(5)] == [404] * 5
    refused = api(guesser, dossier.code, PHONE[-4:])  # the sixth try is not even compared
    assert refused.status_code == 429 and refused.json()["code"] == "throttled"
    assert api(guesser, other.code, PHONE[-4:]).status_code == 200  # other codes still answer it
    assert api(visitor(in_tule, "203.0.113.78"), dossier.code, PHONE[-4:]).status_code == 200
    # A right answer clears that address's count for that code.
    mistaken = visitor(in_tule, "203.0.113.201")
    for _ in range(4):
        api(mistaken, dossier.code, "9999")
    assert api(mistaken, dossier.code, PHONE[-4:]).status_code == 200
    assert [api(mistaken, dossier.code, "9999").status_code for _ in range(5)] == [404] * 5


def test_wrong_phones_per_address_over_a_day_are_bounded(dossier, procedures, people, in_tule, settings):
    """Guessing over many codes from one address: a daily budget of wrong phones."""
    settings.XASO_LOOKUP_RATE = "100/hour"
    settings.XASO_LOOKUP_FAILURE_RATE = "6/day"
    guesser = visitor(in_tule, "203.0.113.150")
    statuses = [api(guesser, f"{dossier.code[:-4]}{n:04d}", "1234").status_code for n in range(100, 107)]
    assert statuses == [404] * 6 + [429]
    assert api(guesser, dossier.code, PHONE[-4:]).status_code == 429
    assert api(visitor(in_tule, "203.0.113.151"), dossier.code, PHONE[-4:]).status_code == 200


# --- concurrency --------------------------------------------------------------------------------

def test_sixteen_concurrent_lookups_against_a_limit_of_five_let_exactly_five_through(live_db, tule_live, settings):
    """Before: the cache's read-then-write let 32 of a 20-an-hour budget through."""
    from core import throttle

    settings.XASO_LOOKUP_RATE = "5/hour"
    address = f"100.64.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}"
    barrier = threading.Barrier(16)
    statuses: list[int] = []
    lock = threading.Lock()

    def one():
        try:
            client = Client(HTTP_HOST=HOST, REMOTE_ADDR=address)
            barrier.wait(timeout=30)
            status = client.post(API, {"code": "KHONG-CO-0001", "phone_last4": "1234"}, **JSON).status_code
            with lock:
                statuses.append(status)
        finally:
            connections.close_all()  # this thread's own connection

    threads = [threading.Thread(target=one) for _ in range(16)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        assert sorted(statuses) == [404] * 5 + [429] * 11
    finally:
        throttle.clear(selectors.LOOKUP_ADDRESS_SCOPE, address)
        throttle.clear(selectors.LOOKUP_WRONG_DAY_SCOPE, address)
        throttle.clear(selectors.LOOKUP_WRONG_SCOPE, f"{tule_live.schema_name}:KHONG-CO-0001:{address}")


# --- the public signature check ------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/api/v1/verify/", "/verify/"])
def test_signature_check_is_throttled_in_postgresql_while_redis_is_down(db, settings, path):
    """Before: the check's throttle counted in each process's own memory (eight gunicorn workers,
    eight budgets) and not in one place that every process sees."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from core import throttle

    settings.CACHES = {**settings.CACHES, "shared": {**settings.CACHES["shared"], "LOCATION": "redis://127.0.0.1:1/0"}}
    settings.XASO_VERIFY_RATE = "3/minute"
    address = "198.51.100.99"
    client = Client(HTTP_HOST="tule.localhost", REMOTE_ADDR=address)

    def check():
        return client.post(path, {"file": SimpleUploadedFile("a.pdf", b"not a pdf", content_type="application/pdf")})

    statuses = [check().status_code for _ in range(4)]
    assert statuses == [400, 400, 400, 429]
    assert throttle.peek("signatures.verify", address, 3, 60).count == 4  # every process reads this count
