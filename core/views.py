"""Views shared by both hosts: health check and error pages."""
from __future__ import annotations

import time

from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from core.api import json_error


def _check_database() -> dict:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return {"ok": True}
    except Exception as exc:  # report, never raise
        return {"ok": False, "error": str(exc)[:200]}


def _check_redis() -> dict:
    import redis

    try:
        client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2, socket_timeout=2)
        client.ping()
        return {"ok": True}
    except Exception as exc:
        return {"ok": False, "error": str(exc)[:200]}


def _check_worker() -> dict:
    from jobs.heartbeat import last_worker_heartbeat

    try:
        seen = last_worker_heartbeat()
    except Exception as exc:  # the heartbeats live in PostgreSQL: report, never raise
        return {"ok": False, "last_seen": None, "error": str(exc)[:200]}
    if seen is None:
        return {"ok": False, "last_seen": None}
    age = time.time() - seen.timestamp()
    return {"ok": age < settings.XASO_WORKER_STALE_SECONDS, "last_seen": seen.isoformat(), "age_seconds": round(age)}


def _check_migrations() -> dict:
    from django.db.migrations.executor import MigrationExecutor

    try:
        executor = MigrationExecutor(connection)
        plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
        pending = [f"{m.app_label}.{m.name}" for m, _backwards in plan]
        return {"ok": not pending, "pending": pending}
    except Exception as exc:
        return {"ok": False, "error": str(exc)[:200]}


def _guarded(check) -> dict:
    try:
        return check()
    except Exception as exc:  # a check that raises is a failed check, never a 500
        return {"ok": False, "error": str(exc)[:200]}


def healthz(request):
    """200 when every check passes, else 503; always this JSON body, whatever is down."""
    checks = {
        "database": _guarded(_check_database),
        "redis": _guarded(_check_redis),
        "worker": _guarded(_check_worker),
        "migrations": _guarded(_check_migrations),
    }
    ok = all(c["ok"] for c in checks.values())
    failed = [name for name, check in checks.items() if not check["ok"]]
    return JsonResponse({"status": "ok" if ok else "error", "failed": failed, "checks": checks},
                        status=200 if ok else 503)


def _layout(request) -> str:
    """The layout of an error page: on a commune's host, the citizens' layout for anyone who
    holds no role in the commune (visitors, citizens), the officials' layout otherwise."""
    commune = getattr(request, "commune", None)
    if commune is None:
        return "base.html"
    try:
        from communes.modules import public_layout
        from communes.permissions import roles_for

        if roles_for(getattr(request, "user", None), commune):
            return "base.html"
        return public_layout()
    except Exception:  # an error page never fails for its layout
        return "base.html"


def page_not_found(request, exception=None):
    if request.path.startswith("/api/"):
        return json_error(404, "not_found", _("Not found."))
    return render(request, "404.html", {"layout": _layout(request)}, status=404)


def server_error(request):
    if request.path.startswith("/api/"):
        return json_error(500, "server_error", _("An internal error occurred."))
    # Drawn without the context processors: what failed may be the database they read.
    from django.http import HttpResponseServerError
    from django.template import loader

    body = loader.render_to_string("500.html", {"commune": getattr(request, "commune", None)})
    return HttpResponseServerError(body)


def csrf_failure(request, reason=""):
    """A form sent without a valid CSRF token (an old page, blocked cookies): a page in the
    site's layout that says what to do, not Django's technical one."""
    if request.path.startswith("/api/"):
        return json_error(403, "csrf_failed", _("The form has expired: reload the page and send it again."))
    return render(request, "403_csrf.html", {"layout": _layout(request)}, status=403)


def permission_denied(request, exception=None):
    if request.path.startswith("/api/"):
        return json_error(403, "permission_denied", _("You do not have permission to perform this action."))
    return render(request, "403.html", {"layout": _layout(request)}, status=403)


def bad_request(request, exception=None):
    if request.path.startswith("/api/"):
        return json_error(400, "bad_request", _("Bad request."))
    return render(request, "400.html", {"layout": _layout(request)}, status=400)
