"""What the browser tests share: Debian's Chromium driven by Playwright, and the portal served on
the test database by a live server in this process."""
from __future__ import annotations

import os
import shutil
import threading
from contextlib import contextmanager

import pytest
from django.contrib.staticfiles.handlers import StaticFilesHandler
from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler
from django.db import connection

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# Without the background-networking flags Chromium keeps calling outside hosts that this machine
# cannot reach.
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]


class QuietHandler(WSGIRequestHandler):
    def log_message(self, *args):
        pass


def require_chromium() -> None:
    if not shutil.which("chromium"):
        pytest.fail("Chromium is missing: bin/test installs Debian's chromium package")


@contextmanager
def live_server():
    """The portal (static files included) on a free port of 127.0.0.1; yields the port. On exit
    the server stops and the database connections its request threads left open are ended (a
    browser's keep-alive holds some, and would keep the test database from being dropped)."""
    from config.wsgi import application

    connection.set_schema_to_public()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pid FROM pg_stat_activity WHERE datname = current_database()")
        before = sorted(row[0] for row in cursor.fetchall())
    server = ThreadedWSGIServer(("127.0.0.1", 0), QuietHandler, allow_reuse_address=False)
    server.set_app(StaticFilesHandler(application))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
        connection.set_schema_to_public()
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid() AND NOT pid = ANY(%s)",
                [before],
            )


@pytest.fixture(scope="module")
def browser():
    """Headless Chromium for the module's tests."""
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop on this thread; Django's ORM calls made by the
    # fixtures meanwhile are still plain synchronous calls.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            instance = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            yield instance
            instance.close()
    finally:
        del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]
