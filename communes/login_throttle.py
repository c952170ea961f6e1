"""Throttling of the login and of the other steps where a secret can be guessed.

**Passwords** (django-axes, its database handler: the counts live in PostgreSQL and hold while
Redis is down). Failures are counted per account and per client address, as two separate
limits: an account locks after ``XASO_LOGIN_FAILURES_PER_ACCOUNT`` failures from any number of
addresses (one account is not attacked from many), an address after
``XASO_LOGIN_FAILURES_PER_ADDRESS`` failures on any accounts (one address cannot try every
account). Axes has one failure limit for all its parameters; ``LoginThrottleHandler`` gives each
parameter its own. A lock lasts until ``XASO_LOGIN_COOLOFF_MINUTES`` after the last counted
failure; attempts made while locked are refused without being counted, so the time the page
shows is the time the lock ends.

An account lock is also a way to keep its owner out: anyone who knows an official's username can
lock it for a quarter of an hour at a time. Hence a moderate per-account limit (10, several times
what a person who mistypes needs), locks that do not grow while they last, and a way out for the
owner: a password reset through the e-mailed link (which proves the mailbox) lifts the lock of
its account. Officials who sign also need their authenticator app, so the password alone never
opens their account.

The client address is read as everywhere else (``core.http.client_ip``): ``X-Forwarded-For``
only behind a configured number of proxies.

**The other steps** (second-factor codes, sign-up and its confirmation code, password reset
requests, PINs of signatures) count in ``core.throttle`` with the numbers of the
``XASO_*_RATE`` settings, and refuse with the same message: how long to wait and until what time.
"""
from __future__ import annotations

import datetime as dt

from axes.backends import AxesStandaloneBackend
from axes.handlers.database import AxesDatabaseHandler
from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_client_parameters, get_client_username, get_cool_off, get_failure_limit, get_lockout_parameters
from axes.models import AccessAttempt
from django import forms
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.db.models import Sum
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone

from core import throttle
from core.http import client_ip

# --- passwords: django-axes -----------------------------------------------------------------------


def username_of(request, credentials=None) -> str | None:
    """The account a login attempt is about, as axes counts it (trimmed, lower case)."""
    value = (credentials or {}).get("username")
    if value is None and request is not None:
        data = getattr(request, "data", None) or getattr(request, "POST", None) or {}
        value = data.get("username")
    value = str(value or "").strip().lower()[:150]
    return value or None


def limit_of(parameter) -> int:
    """The failure limit of one lockout parameter (``"username"`` or ``"ip_address"``)."""
    if parameter == "ip_address":
        return int(settings.XASO_LOGIN_FAILURES_PER_ADDRESS)
    return int(settings.XASO_LOGIN_FAILURES_PER_ACCOUNT)


class LoginThrottleBackend(AxesStandaloneBackend):
    """Axes' backend (first in ``AUTHENTICATION_BACKENDS``: it refuses any login of a locked
    account or address). An authentication without a request (the test client's ``login()``,
    scripts) is not throttled, since it has no address to count; every login page of the portal
    passes its request."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


class LoginThrottleHandler(AxesDatabaseHandler):
    """Axes' database handler with one limit per lockout parameter.

    Axes locks when ``get_failures() >= AXES_FAILURE_LIMIT``. Each parameter's failures are
    scaled to that limit (``count × limit ÷ own limit``, rounded down), so the answer reaches
    the limit exactly when one parameter reaches its own."""

    def get_failures(self, request, credentials=None) -> int:
        base = get_failure_limit(request, credentials)
        parameters = get_lockout_parameters(request, credentials)
        worst = 0
        for parameter, attempts in zip(parameters, self.get_user_attempts(request, credentials)):
            count = attempts.aggregate(total=Sum("failures_since_start"))["total"] or 0
            worst = max(worst, count * base // max(1, limit_of(parameter)))
        return worst


def lockout_until(request, credentials=None) -> dt.datetime | None:
    """When the lock of this request's account or address ends (None when it is not locked).

    A parameter is locked while its failures within the cool-off sum to its limit or more;
    axes keeps one row per (account, address, browser) with the time of its last failure, so
    the rows leave the count oldest first, each at its time plus the cool-off."""
    AxesProxyHandler.update_request(request)
    cool_off = get_cool_off(request)
    if cool_off is None:
        return None
    now = timezone.now()
    username = get_client_username(request, credentials)
    filters = get_client_parameters(username, request.axes_ip_address, request.axes_user_agent, request, credentials)
    until = None
    for parameter, filter_kwargs in zip(get_lockout_parameters(request, credentials), filters):
        if any(value is None for value in filter_kwargs.values()):
            continue
        limit = limit_of(parameter)
        rows = list(
            AccessAttempt.objects.filter(**filter_kwargs, attempt_time__gte=now - cool_off)
            .order_by("attempt_time").values_list("attempt_time", "failures_since_start")
        )
        total = sum(failures for _moment, failures in rows)
        for moment, failures in rows:
            if total < limit:
                break
            total -= failures
            lifted = moment + cool_off
            until = lifted if until is None or lifted > until else until
    return until


def lockout_message(request, credentials=None) -> str:
    until = lockout_until(request, credentials)
    seconds = max(1, int((until - timezone.now()).total_seconds())) if until else int(get_cool_off(request).total_seconds())
    return throttle.message_for_wait(seconds)


class LoginForm(AuthenticationForm):
    """The login form: a refused login of a locked account or address says so, with the time it
    ends; the typed username stays in the form."""

    def clean(self):
        try:
            return super().clean()
        except forms.ValidationError:
            if self.request is not None and getattr(self.request, "axes_locked_out", False):
                credentials = {"username": self.cleaned_data.get("username")}
                raise forms.ValidationError(lockout_message(self.request, credentials), code="throttled") from None
            raise


def lockout_response(request, original_response=None, credentials=None):
    """Axes' answer to a locked-out login (``AXES_LOCKOUT_CALLABLE``): the login page as the view
    rendered it (with the message of ``LoginForm``), as 429 with ``Retry-After``."""
    until = lockout_until(request, credentials)
    wait = max(1, int((until - timezone.now()).total_seconds())) if until else None
    if (original_response is not None and original_response.status_code == 200
            and "text/html" in original_response.get("Content-Type", "")):
        response = original_response
        response.status_code = 429
    else:
        message = throttle.message_for_wait(wait or 60)
        if request.path.startswith("/api/"):
            response = JsonResponse({"code": "throttled", "detail": message, "fields": {}}, status=429)
        else:
            response = HttpResponse(message, status=429, content_type="text/plain; charset=utf-8")
    if wait:
        response["Retry-After"] = str(wait)
    return response


def forget_account_failures(username: str) -> None:
    """Lift the lock of an account (its owner proved the mailbox by a password reset link)."""
    from axes.utils import reset

    if username:
        reset(username=username.strip().lower())


# --- the other steps: core.throttle --------------------------------------------------------------

def client_address(request) -> str:
    return client_ip(request) or "unknown"


def refusal(*checks: tuple[str, str, str]) -> str | None:
    """Count one attempt for each ``(scope, key, rate setting name)``; the refusal message (for
    the longest wait) when any is over its limit, else None. Every check is counted, so a
    refused request still counts against each key."""
    decisions = [
        throttle.check(scope, key, str(getattr(settings, rate_name))) for scope, key, rate_name in checks if key
    ]
    refused = [d for d in decisions if not d.allowed]
    if not refused:
        return None
    return throttle.refusal_message(max(refused, key=lambda d: d.retry_after))


def throttled_page(request, message: str):
    """The page of a refused attempt where the form cannot be shown again (429)."""
    return render(request, "registration/throttled.html", {"message": message}, status=429)


def second_factor_throttled(view_func):
    """The code page of the second factor, with a limit of codes per client address (each
    account also locks after its own number of wrong codes)."""
    from functools import wraps

    @wraps(view_func)
    def wrapped(request, *args, **kwargs):
        if request.method == "POST" and not request.POST.get("cancel"):
            message = refusal(("second_factor.address", client_address(request), "XASO_SECOND_FACTOR_ADDRESS_RATE"))
            if message:
                return throttled_page(request, message)
        return view_func(request, *args, **kwargs)

    return wrapped
