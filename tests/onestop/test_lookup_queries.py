"""The status lookup in few round trips: the search path set once per request, the day's wrong
phones read and the guess counted in one statement, the dossier read with its names and public
events in one statement written out once (no queryset compiled per lookup). Nothing is kept between lookups, so a dossier that moves shows its new state at the
next lookup (figures in bench/README.md, one-stop)."""
from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from core import throttle
from onestop import selectors, services
from onestop.models import EventKind

from .test_lookup import Visitor, received, visitor  # noqa: F401  (fixtures)

API = "/api/v1/onestop/lookup/"
JSON = {"content_type": "application/json"}


def _statements(client, code, last4="5678"):
    with CaptureQueriesContext(connection) as queries:
        response = client.post(API, {"code": code, "phone_last4": last4}, **JSON)
    return response, [q["sql"] for q in queries.captured_queries]


def test_a_lookup_sets_the_search_path_once_and_makes_few_statements(received, visitor):
    client = visitor("203.0.113.90")
    client.post(API, {"code": received.code, "phone_last4": "5678"}, **JSON)  # a connection already used
    response, statements = _statements(client, received.code)
    assert response.status_code == 200
    # The host (public schema), then the commune's: one SET each. Then the address's count with
    # the day's wrong phones and this guess's count, the dossier with its events and the count cleared.
    assert sum(sql.startswith("SET search_path") for sql in statements) == 2, statements
    assert len(statements) == 5, statements
    timeline = response.json()["timeline"]
    assert [row["kind"] for row in timeline] == ["submitted", "received", "handover"]
    assert all(row["at"] and row["label"] for row in timeline) and timeline[-1]["step"]


def test_the_timeline_read_with_the_dossier_equals_the_one_read_apart(received):
    found = selectors.lookup(received.code, "5678", address="203.0.113.91")
    assert found.public_events is not None
    assert (found.pk, found.code, found.state, found.due_at) == (received.pk, received.code, received.state, received.due_at)
    assert found.procedure.name == received.procedure.name and found.current_step.name == received.current_step.name
    assert found.applicant_email == received.applicant_email and found.procedure.code == received.procedure.code  # read on use
    apart = selectors.public_timeline(services.Dossier.objects.get(pk=received.pk))
    assert selectors.public_timeline(found) == apart
    assert [row["kind"] for row in apart] == ["submitted", "received", "handover"]
    assert all(timezone.is_aware(row["at"]) for row in apart)


def test_a_changed_dossier_shows_its_new_state_at_the_next_lookup(received, visitor, people):
    client = visitor("203.0.113.92")
    before = client.post(API, {"code": received.code, "phone_last4": "5678"}, **JSON).json()
    assert before["state"] == "in_progress"
    services.request_supplement(dossier=received, user=people["specialist"], items=["Bản sao giấy khai sinh"])
    after = client.post(API, {"code": received.code, "phone_last4": "5678"}, **JSON).json()
    assert after["state"] == "supplement" and after["state"] != before["state"]
    assert after["timeline"][-1]["kind"] == EventKind.SUPPLEMENT_REQUESTED
    assert len(after["timeline"]) == len(before["timeline"]) + 1


def test_one_statement_counts_the_guess_only_while_the_days_wrong_phones_allow(db, settings):
    settings.XASO_THROTTLE_NAMESPACE = "lookup-queries"
    guard = ("test.day", "203.0.113.93", 2)
    for expected in (1, 2):
        daily, counted = throttle.hit_unless("test.code", "A:203.0.113.93", 5, 3600, guard=guard)
        assert daily.allowed and counted.count == expected and counted.allowed
    throttle.hit("test.day", "203.0.113.93", 2, 86400)
    throttle.hit("test.day", "203.0.113.93", 2, 86400)
    daily, counted = throttle.hit_unless("test.code", "A:203.0.113.93", 5, 3600, guard=guard)
    assert counted is None and not daily.allowed and daily.count == 2 and daily.retry_after > 0
    assert throttle.peek("test.code", "A:203.0.113.93", 5, 3600).count == 2  # not counted when refused


def test_counts_outside_a_transaction_do_not_wait_for_the_disk(live_db, settings, monkeypatch):
    """A count in autocommit is sent with ``SET LOCAL synchronous_commit TO OFF`` (its own
    transaction only); inside a caller's transaction the caller's writes keep waiting for the disk."""
    import uuid

    from django.db import transaction

    # The occasional pruning of closed windows (one count in a few hundred) is a statement of its own.
    monkeypatch.setattr(throttle, "prune_closed", lambda: 0)

    settings.XASO_THROTTLE_NAMESPACE = f"unsynced-{uuid.uuid4().hex[:8]}"
    try:
        with CaptureQueriesContext(connection) as queries:
            assert throttle.hit("test.unsynced", "k", 5, 60).count == 1
            throttle.hit_unless("test.unsynced", "k", 5, 60, guard=("test.unsynced.day", "k", 5))
        sent = [q["sql"].strip() for q in queries.captured_queries if "core_throttlecounter" in q["sql"]]
        assert len(sent) == 2 and all(sql.startswith("SET LOCAL synchronous_commit TO OFF;") for sql in sent)
        with connection.cursor() as cursor:
            cursor.execute("SHOW synchronous_commit")
            assert cursor.fetchone()[0] == "on"  # only the count's own transaction was changed
        assert throttle.peek("test.unsynced", "k", 5, 60).count == 2  # seen at once
        with transaction.atomic(), CaptureQueriesContext(connection) as queries:
            throttle.hit("test.unsynced", "k", 5, 60)
        assert not any("synchronous_commit" in q["sql"] for q in queries.captured_queries)
    finally:
        throttle.clear("test.unsynced", "k")
        throttle.clear("test.unsynced.day", "k")
