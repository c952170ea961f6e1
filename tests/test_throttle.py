"""core.throttle: counts in PostgreSQL, atomically, with the real retry time."""
from __future__ import annotations

import threading
import uuid

import pytest
from django.db import connection, connections

from core import throttle


@pytest.fixture
def scope(db):
    name = f"test-{uuid.uuid4().hex[:10]}"
    yield name
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM public.core_throttlecounter WHERE scope = %s", [name])


def test_parse_rate():
    assert throttle.parse_rate("20/hour") == (20, 3600)
    assert throttle.parse_rate("5/15min") == (5, 900)
    assert throttle.parse_rate("30/minute") == (30, 60)
    assert throttle.parse_rate("3/day") == (3, 86400)
    for bad in ["", "x/hour", "5/fortnight", "5", "-1/hour"]:
        with pytest.raises(ValueError):
            throttle.parse_rate(bad)


def test_limit_then_refusal_with_retry_time(scope):
    decisions = [throttle.hit(scope, "203.0.113.7", 3, 600) for _ in range(5)]
    assert [d.allowed for d in decisions] == [True, True, True, False, False]
    assert [d.count for d in decisions] == [1, 2, 3, 4, 5]
    refused = decisions[-1]
    assert 590 <= refused.retry_after <= 600
    assert throttle.peek(scope, "203.0.113.7", 3, 600).allowed is False
    # Another key has its own budget; clearing a key gives its budget back.
    assert throttle.hit(scope, "203.0.113.8", 3, 600).allowed
    throttle.clear(scope, "203.0.113.7")
    assert throttle.hit(scope, "203.0.113.7", 3, 600).count == 1


def test_window_reopens_after_its_length(scope):
    assert throttle.hit(scope, "k", 1, 600).allowed
    assert not throttle.hit(scope, "k", 1, 600).allowed
    with connection.cursor() as cursor:  # the window opened 11 minutes ago
        cursor.execute("UPDATE public.core_throttlecounter SET window_start = now() - interval '11 minutes' "
                       "WHERE scope = %s", [scope])
    decision = throttle.hit(scope, "k", 1, 600)
    assert decision.allowed and decision.count == 1


def test_keys_are_stored_hashed(scope):
    throttle.hit(scope, "198.51.100.23", 5, 60)
    with connection.cursor() as cursor:
        cursor.execute("SELECT key_hash FROM public.core_throttlecounter WHERE scope = %s", [scope])
        (stored,) = cursor.fetchone()
    assert "198.51.100.23" not in stored and len(stored) == 64


def test_counts_the_same_from_a_commune_schema(scope, tule, in_commune):
    throttle.hit(scope, "k", 5, 60)
    with in_commune(tule):
        assert throttle.hit(scope, "k", 5, 60).count == 2


@pytest.mark.django_db(transaction=False)
def test_sixteen_concurrent_attempts_against_five_let_five_through(scope):
    barrier = threading.Barrier(16)
    results: list[bool] = []
    lock = threading.Lock()

    def attempt():
        try:
            barrier.wait(timeout=10)
            decision = throttle.hit(scope, "192.0.2.1", 5, 3600)
            with lock:
                results.append(decision.allowed)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=attempt) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(results) == 16
    assert results.count(True) == 5


def test_refusal_message_names_minutes_and_clock_time():
    text = throttle.refusal_message(throttle.Decision(False, 9, 5, 125))
    assert "3" in text and ":" in text
