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
from django.db import connection, connections

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
    browser's keep-alive holds some, and would keep the test database from being dropped).

    Only the server threads' own connections are ended, as they recorded them: while Playwright
    runs, its event loop makes this thread's code use a second connection of its own (asgiref
    keeps thread-critical locals apart when a loop is running), which must survive for the
    browser tests of the next module."""
    from config.wsgi import application

    served = set()
    handler = StaticFilesHandler(application)

    def app(environ, start_response):
        try:
            return handler(environ, start_response)
        finally:
            if connection.connection is not None:
                served.add(connection.connection.get_backend_pid())

    server = ThreadedWSGIServer(("127.0.0.1", 0), QuietHandler, allow_reuse_address=False)
    server.set_app(app)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
        connection.set_schema_to_public()
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                           " WHERE pid = ANY(%s) AND pid <> pg_backend_pid()", [sorted(served)])


@pytest.fixture(scope="module")
def browser():
    """Headless Chromium for the module's tests (registered in tests/conftest.py: a module that
    imported it as well would get a second instance)."""
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop on this thread; Django's ORM calls made by the
    # fixtures meanwhile are still plain synchronous calls.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            instance = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            yield instance
            # The connections this thread opened while Playwright's loop ran are closed with it
            # (they are not the ones pytest-django closes before dropping the test database).
            connections.close_all()
            instance.close()
    finally:
        del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]
