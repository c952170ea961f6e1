"""Fixtures of the outbox tests."""
from __future__ import annotations

import uuid

import pytest

from tests.outbox import probe
from tests.outbox.state import empty_outbox


@pytest.fixture(autouse=True)
def _probe(request):
    probe.reset()
    marker = request.node.get_closest_marker("django_db")
    committed = "transactional_db" in request.fixturenames or (marker and marker.kwargs.get("transaction"))
    if "db" in request.fixturenames and not committed:
        request.getfixturevalue("db")
        empty_outbox()  # what a committed test left behind is not this test's
    yield
    probe.reset()


def public_rows(commune, source: str = "probe") -> dict:
    """{key: (figures, version)} of the commune's MonthlyFacts rows of ``source``."""
    from published.models import MonthlyFacts

    return {row.key: (row.figures, row.version) for row in MonthlyFacts.objects.filter(commune=commune, source=source)}


@pytest.fixture
def idle_queue(celery_broker):
    """Wake-ups go to a queue that no worker reads (counted with ``idle_queue.count()``)."""
    from config.celery import app
    from tests.celery_worker import queue_of_its_own

    name = f"xaso-outbox-idle-{uuid.uuid4().hex[:8]}"
    client = celery_broker["redis"]

    class Queue:
        def __init__(self):
            self.name = name

        def count(self) -> int:
            return client.llen(name)

        def schemas(self) -> list[str]:
            import base64
            import json

            found = []
            for raw in client.lrange(name, 0, -1):
                message = json.loads(raw)
                found.append(json.loads(base64.b64decode(message["body"]))[0][0])
            return found

    with queue_of_its_own(app, name):
        yield Queue()
    client.delete(name, f"_kombu.binding.{name}")
