"""The second factor (a 6-digit code from an authenticator app, TOTP, RFC 6238) on django-otp.

Who: every user with an active membership whose role approves, signs, issues, broadcasts or
administers (``ROLES_NEEDING_SECOND_FACTOR``, from the apps' own permission tables: see
``tests/trust/test_second_factor_roles.py``), plus the installation's operators (superusers and
staff). ``settings.XASO_SECOND_FACTOR_ROLES`` may add roles, never remove one. Everyone else
logs in with the password alone.

One login page (``communes.oidc.LoginView`` at /accounts/login/, a subclass of ``LoginView``
here; both admin sites send their login there). A correct password does not log such a user
in: the page keeps a *pending* login in the session and sends them to ``/accounts/2fa/``, where
they enter the code of their app or, the first time, enrol (scan the QR code, confirm with a
first code). A correct code logs them in and calls ``django_otp.login``: from then on
``request.user.is_verified()`` (``django_otp.middleware.OTPMiddleware``) is the one answer to
"was this session confirmed?". The pending login expires after 5 minutes; 5 wrong codes in a
row lock the app for a few minutes; a code's time step is accepted once only.

Enforcement is at the root: ``SecondFactorMiddleware`` (after OTPMiddleware) answers every
request of a logged-in user who needs the second factor and whose session is not verified
(logged in before being given the role, or through any other door) with the code page: a
redirect for pages, ``HX-Redirect`` for htmx, and 403 ``second_factor_required`` (the common
error body) for the API. Only the login, code, logout, health, language and static paths pass.

API tokens (``TokenAuthentication`` here, in ``REST_FRAMEWORK``): tokens are for devices,
services and supervising units, which are outside the login flow. A token of a user who needs
the second factor never proves a second factor: it may read (GET, HEAD, OPTIONS), and every
other method (approve, sign, issue, broadcast, administer are all writes) is refused with 403
``second_factor_required``. ``SecondFactorVerified`` says the same on the views that sign.

The shared secret is encrypted by ``core.secrets`` (a keyring of its own, not SECRET_KEY) with
the user's id as context; ``manage.py rotate_secrets`` re-encrypts it under the current key.
"""
from __future__ import annotations

import datetime as dt
import hmac
import logging
import re
import time
from dataclasses import dataclass
from functools import wraps
from urllib.parse import urlencode, urlsplit

import django_otp
import pyotp
from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth import login as auth_login
from django.contrib.auth import views as auth_views
from django.contrib.auth.views import redirect_to_login
from django.core.mail import send_mail
from django.db import transaction
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import render, resolve_url
from django.urls import Resolver404, resolve, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.models import Device
from rest_framework import authentication, exceptions
from rest_framework.permissions import SAFE_METHODS, BasePermission

from communes.models import Membership, Role, TotpDevice
from core import secrets

logger = logging.getLogger(__name__)

# The roles that approve, sign, issue, broadcast or administer (see the apps' permissions):
# chairman and vice-chairman approve and sign (documents, dossier results, bulletins) and send
# emergency broadcasts; the clerk issues and applies the agency's seal; one-stop officers and
# specialists sign with their personal certificates (receipts, forms 4 and 5, drafts) and write
# the residents' registry (full-ID exports); the radio operator sends SMS campaigns and manages
# loudspeaker clusters and their device tokens; health and school staff export the whole
# residents' registry in one file; the economy officer approves OCOP producers, products and
# certificates; the commune administrator administers. Left out: producers
# and the community tech team, who hold none of these actions.
ROLES_NEEDING_SECOND_FACTOR = frozenset({
    Role.CHAIRMAN.value, Role.VICE_CHAIRMAN.value, Role.CLERK.value, Role.ONESTOP_OFFICER.value,
    Role.SPECIALIST.value, Role.RADIO_OPERATOR.value, Role.HEALTH_STAFF.value, Role.SCHOOL_STAFF.value,
    Role.ECONOMY_OFFICER.value, Role.COMMUNE_ADMIN.value,
})
DEFAULT_ROLES = tuple(sorted(ROLES_NEEDING_SECOND_FACTOR))
PENDING_KEY = "xaso_2fa_pending"
VERIFIED_KEY = DEVICE_ID_SESSION_KEY
STEP_SECONDS = 30
DIGITS = 6
# URL names that a session waiting for its second factor may still reach.
OPEN_URL_NAMES = frozenset({"login", "second_factor", "logout", "healthz", "set_language"})


def _setting(name: str, default):
    return getattr(settings, name, default)


def second_factor_roles() -> set[str]:
    """The built-in roles, and those the installation adds (it cannot remove one)."""
    return set(ROLES_NEEDING_SECOND_FACTOR) | {str(role) for role in _setting("XASO_SECOND_FACTOR_ROLES", ()) if role}


def max_attempts() -> int:
    return int(_setting("XASO_SECOND_FACTOR_MAX_ATTEMPTS", 5))


def lock_seconds() -> int:
    return int(_setting("XASO_SECOND_FACTOR_LOCK_SECONDS", 300))


def pending_seconds() -> int:
    return int(_setting("XASO_SECOND_FACTOR_PENDING_SECONDS", 300))


# --- who needs it -------------------------------------------------------------------------------

def requires_second_factor(user) -> bool:
    """Is this user an operator of the installation, or do they hold, in any commune, an active
    role that approves, signs, issues, broadcasts or administers?"""
    if user is None or not getattr(user, "is_authenticated", False) or not getattr(user, "pk", None):
        return False
    if getattr(user, "is_superuser", False) or getattr(user, "is_staff", False):
        return True
    cache = user.__dict__.setdefault("_second_factor_cache", {})
    if "required" not in cache:
        cache["required"] = Membership.objects.filter(
            user_id=user.pk, is_active=True, role__in=second_factor_roles(),
        ).exists()
    return cache["required"]


def is_verified(request) -> bool:
    """Was the current session's login confirmed with a code of the user's current app?
    (``user.is_verified()`` of django-otp; computed from the session where OTPMiddleware did not
    run, e.g. a request built by hand.)"""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return False
    check = getattr(user, "is_verified", None)
    if callable(check):
        return bool(check())
    persistent_id = request.session.get(DEVICE_ID_SESSION_KEY)
    if not persistent_id:
        return False
    device = Device.from_persistent_id(persistent_id)
    # A reset of the app (the row is deleted) ends the verification of every session.
    return device is not None and device.user_id == user.pk and bool(device.confirmed)


# --- the secret, encrypted at rest ------------------------------------------------------------

def secret_context(user_id: int) -> str:
    return f"totp:user:{user_id}"


def encrypt_secret(secret: str, user_id: int) -> bytes:
    return secrets.encrypt(secret.encode(), context=secret_context(user_id))


def decrypt_secret(blob: bytes, user_id: int) -> str:
    """Raises ``core.secrets.SecretError`` (a ValueError) when no key opens it."""
    return secrets.decrypt(bytes(blob), context=secret_context(user_id)).decode()


def rotate_device_secret(device: TotpDevice) -> bool:
    """Re-encrypt the device's secret under the current key; False when it already was."""
    blob = bytes(device.secret_encrypted)
    if not secrets.needs_rotation(blob):
        return False
    fresh = secrets.reencrypt(blob, context=secret_context(device.user_id))
    TotpDevice.objects.filter(pk=device.pk).update(secret_encrypted=fresh)
    device.secret_encrypted = fresh
    return True


def device_secret(device: TotpDevice) -> str:
    return decrypt_secret(device.secret_encrypted, device.user_id)


def group_secret(secret: str) -> str:
    return " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))


# --- devices ----------------------------------------------------------------------------------------

def device_for(user) -> TotpDevice | None:
    return TotpDevice.objects.filter(user_id=user.pk).first()


def start_enrolment(user) -> TotpDevice:
    """The user's unconfirmed app (created with a new secret the first time). A confirmed app is
    returned as it is: it is replaced only after an administrator resets it."""
    with transaction.atomic():
        device = TotpDevice.objects.select_for_update().filter(user_id=user.pk).first()
        if device is None:
            device = TotpDevice.objects.create(
                user_id=user.pk, name="authenticator", confirmed=False,
                secret_encrypted=encrypt_secret(pyotp.random_base32(32), user.pk),
            )
            logger.info("second factor: enrolment started for user %s", user.pk)
    return device


def reset_device(user, actor=None) -> bool:
    """Forget the user's authenticator app: the next login enrols a new one. Who may ask it is
    the caller's check (``reset_second_factor`` for the administration)."""
    with transaction.atomic():
        device = TotpDevice.objects.select_for_update().filter(user_id=user.pk).first()
        if device is None:
            return False
        if actor is not None and getattr(actor, "pk", None):
            device._history_user = actor  # the history's "who", also outside a request
        device.delete()
    logger.info("second factor: app of user %s reset by user %s", user.pk, getattr(actor, "pk", None))
    return True


def notify_reset(user, actor=None) -> bool:
    """Tell the official by e-mail (no link in it) that their app was reset."""
    if not user.email:
        logger.warning("second factor: user %s has no e-mail address to tell of the reset", user.pk)
        return False
    when = date_format(timezone.localtime(), "d/m/Y H:i")
    subject = _("Your authenticator app was reset")
    body = _(
        "Hello %(name)s,\n\n"
        "The authenticator app of your account %(username)s was reset by an administrator "
        "(%(actor)s) on %(when)s. At your next login you will set up the app again.\n\n"
        "If you did not ask for this, tell your commune's chairman or the installation's "
        "operators at once.\n"
    ) % {"name": str(user), "username": user.get_username(), "actor": str(actor) if actor else "-", "when": when}
    user_email = user.email
    transaction.on_commit(lambda: send_mail(subject, body, None, [user_email], fail_silently=True))
    return True


def reset_second_factor(request, user) -> bool:
    """An administrator resets an official's app: only from a session confirmed by the second
    factor; logged (logger, the device's history) and told to the official by e-mail. Whether
    the administrator may touch this user at all is the admin's check."""
    if not is_verified(request):
        raise PermissionError("a second factor reset needs a confirmed session")
    done = reset_device(user, actor=request.user)
    if done:
        logger.warning("second factor: user %s reset the app of user %s", request.user.pk, user.pk)
        notify_reset(user, request.user)
    return done


def provisioning_uri(user, secret: str) -> str:
    issuer = str(_setting("XASO_SECOND_FACTOR_ISSUER", "Xã Số"))
    return pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS).provisioning_uri(
        name=user.get_username(), issuer_name=issuer,
    )


def qr_svg(text: str) -> str:
    """The QR code of ``text`` as inline SVG markup (scales with its container)."""
    import qrcode
    import qrcode.image.svg

    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, border=2)
    svg = image.to_string(encoding="unicode")
    svg = re.sub(r'^<svg width="[^"]*" height="[^"]*"', '<svg width="240" height="240" role="img" class="qr"', svg)
    return svg


@dataclass
class CodeResult:
    ok: bool
    reason: str = ""  # "", "format", "wrong", "replay", "locked", "no_device"
    locked_until: dt.datetime | None = None
    device: TotpDevice | None = None


def normalise_code(code: str) -> str:
    return re.sub(r"[\s\-]", "", str(code or ""))


def check_code(user, code: str, *, now: float | None = None) -> CodeResult:
    """Check a code against the user's app (row locked, one transaction) and record the outcome."""
    with transaction.atomic():
        device = TotpDevice.objects.select_for_update().filter(user_id=user.pk).first()
        if device is None:
            return CodeResult(False, "no_device")
        return check_device(device, code, now=now)


def check_device(device: TotpDevice, code: str, *, now: float | None = None) -> CodeResult:
    """The rule of a code (``TotpDevice.verify_token`` of django-otp calls it on a locked row).

    A wrong or replayed code counts towards the lock; a code of the wrong shape does not.
    The previous, current and next 30-second steps are accepted (clocks drift); a step is
    accepted once only.
    """
    code = normalise_code(code)
    if not re.fullmatch(rf"\d{{{DIGITS}}}", code):
        return CodeResult(False, "format", None, device)
    now = time.time() if now is None else now
    moment = timezone.now()
    allowed, detail = device.verify_is_allowed()
    if not allowed:
        return CodeResult(False, "locked", detail["locked_until"], device)
    totp = pyotp.TOTP(device_secret(device), digits=DIGITS, interval=STEP_SECONDS)
    current = int(now) // STEP_SECONDS
    matched = next(
        (step for step in (current - 1, current, current + 1)
         if hmac.compare_digest(totp.generate_otp(step), code)),
        None,
    )
    replay = matched is not None and device.last_used_step is not None and matched <= device.last_used_step
    # Codes are not history (a row per login); the enrolment's confirmation and the reset are.
    device.skip_history_when_saving = True
    try:
        if matched is None or replay:
            device.failed_attempts += 1
            locked = device.failed_attempts >= max_attempts()
            if locked:
                device.failed_attempts = 0
                device.locked_until = moment + dt.timedelta(seconds=lock_seconds())
                logger.warning("second factor: app of user %s locked after wrong codes", device.user_id)
            device.save(update_fields=["failed_attempts", "locked_until"])
            if locked:
                return CodeResult(False, "locked", device.locked_until, device)
            return CodeResult(False, "replay" if replay else "wrong", None, device)
        device.last_used_step = matched
        device.failed_attempts = 0
        device.locked_until = None
        fields = ["last_used_step", "failed_attempts", "locked_until"]
        if not device.confirmed:
            device.__dict__.pop("skip_history_when_saving", None)  # the confirmation is history
            device.confirmed, device.confirmed_at = True, moment
            fields += ["confirmed", "confirmed_at"]
            logger.info("second factor: app of user %s confirmed", device.user_id)
        device.save(update_fields=fields)
    finally:
        device.__dict__.pop("skip_history_when_saving", None)
    return CodeResult(True, "", None, device)


def refusal_message(result: CodeResult) -> str:
    if result.reason == "format":
        return _("Enter the 6 digits shown in your authenticator app.")
    if result.reason == "replay":
        return _("This code has already been used. Wait for the app to show a new code and enter that one.")
    if result.reason == "locked":
        until = timezone.localtime(result.locked_until)
        return _("Too many wrong codes. For your safety, codes are refused until %(time)s.") % {
            "time": date_format(until, "H:i"),
        }
    if result.reason == "no_device":
        return _("No authenticator app is set up for this account.")
    return _("The code is not correct. Check that you entered the code currently shown in the app "
             "and that the phone's clock is right.")


# --- the pending login ------------------------------------------------------------------------

def start_pending(request, user, next_url: str) -> None:
    request.session[PENDING_KEY] = {
        "user_id": user.pk,
        "backend": getattr(user, "backend", None) or settings.AUTHENTICATION_BACKENDS[0],
        "started": time.time(),
        "next": next_url,
        "auth_hash": user.get_session_auth_hash(),
    }
    request.session.pop(VERIFIED_KEY, None)
    request.session.cycle_key()


def _pending(request):
    """(user, data, expired) of the session's pending login; (None, None, False) when there is none."""
    data = request.session.get(PENDING_KEY)
    if not isinstance(data, dict):
        return None, None, False
    if time.time() - float(data.get("started", 0)) > pending_seconds():
        return None, data, True
    user = get_user_model()._default_manager.filter(pk=data.get("user_id"), is_active=True).first()
    if user is None or not hmac.compare_digest(str(data.get("auth_hash", "")), user.get_session_auth_hash()):
        return None, data, True
    return user, data, False


def _safe_next(request, url: str | None) -> str:
    if url and url_has_allowed_host_and_scheme(url, allowed_hosts={request.get_host()},
                                               require_https=request.is_secure()):
        return url
    return resolve_url(settings.LOGIN_REDIRECT_URL)


def _finish(request, user, device, data) -> HttpResponseRedirect:
    if data is not None:
        backend = data.get("backend") or settings.AUTHENTICATION_BACKENDS[0]
        auth_login(request, user, backend=backend)
        request.session.pop(PENDING_KEY, None)
        next_url = data.get("next")
    else:
        request.session.cycle_key()
        next_url = request.POST.get("next") or request.GET.get("next")
    django_otp.login(request, device)
    return HttpResponseRedirect(_safe_next(request, next_url))


def mark_verified(session, user, device: TotpDevice) -> None:
    """Record in a session that its login was confirmed with the user's (confirmed) app, as
    ``django_otp.login`` does (for sessions made outside a request)."""
    if device.user_id == user.pk:
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id


# --- pages --------------------------------------------------------------------------------------

class LoginView(auth_views.LoginView):
    """Django's login page, with the second factor for those who need it."""

    def form_valid(self, form):
        user = form.get_user()
        if not requires_second_factor(user):
            return super().form_valid(form)
        start_pending(self.request, user, self.get_success_url())
        return HttpResponseRedirect(reverse("second_factor"))


class CodeForm(forms.Form):
    code = forms.CharField(
        label=gettext_lazy("6-digit code"), max_length=12, strip=True,
        widget=forms.TextInput(attrs={
            "inputmode": "numeric", "autocomplete": "one-time-code", "pattern": "[0-9 ]*",
            "autofocus": True, "size": 8,
        }),
    )


@never_cache
@csrf_protect
def second_factor_view(request):
    """Enter the code of the authenticator app, or set the app up the first time."""
    user, data, expired = _pending(request)
    if expired:
        request.session.pop(PENDING_KEY, None)
        messages.error(request, _("The login took too long and has expired. Log in again."))
        return HttpResponseRedirect(reverse("login"))
    if request.method == "POST" and request.POST.get("cancel"):
        request.session.pop(PENDING_KEY, None)
        return HttpResponseRedirect(reverse("login"))
    if user is None:
        if not request.user.is_authenticated:
            return HttpResponseRedirect(reverse("login"))
        user = request.user
        if not requires_second_factor(user) or is_verified(request):
            return HttpResponseRedirect(_safe_next(request, request.GET.get("next") or request.POST.get("next")))

    device = device_for(user)
    enrolling = device is None or not device.confirmed
    if enrolling:
        device = start_enrolment(user)
    form = CodeForm(request.POST or None)
    notice = ""
    if request.method == "POST" and form.is_valid():
        result = check_code(user, form.cleaned_data["code"])
        if result.ok:
            if enrolling:
                messages.success(request, _("Your authenticator app is set up. From now on, enter its code after your password."))
            return _finish(request, user, result.device, data)
        form.add_error("code", refusal_message(result))
    elif request.method == "GET" and device.locked_until and device.locked_until > timezone.now():
        notice = refusal_message(CodeResult(False, "locked", device.locked_until, device))

    context = {"form": form, "notice": notice, "enrolling": enrolling, "next": request.GET.get("next") or request.POST.get("next") or ""}
    if enrolling:
        secret = device_secret(device)
        context["qr_svg"] = mark_safe(qr_svg(provisioning_uri(user, secret)))  # generated markup, no user input
        context["secret_groups"] = group_secret(secret)
        context["issuer"] = str(_setting("XASO_SECOND_FACTOR_ISSUER", "Xã Số"))
        context["account_name"] = user.get_username()
    return render(request, "registration/second_factor.html", context)


# --- protecting views ---------------------------------------------------------------------------

def code_page_url(next_url: str | None) -> str:
    url = reverse("second_factor")
    return f"{url}?{urlencode({'next': next_url})}" if next_url else url


def needs_code(request) -> bool:
    """A logged-in user who needs the second factor, in a session not confirmed by it."""
    user = getattr(request, "user", None)
    return bool(user is not None and user.is_authenticated and requires_second_factor(user) and not is_verified(request))


def refusal(request) -> HttpResponse:
    """The answer to a request that needs the second factor first (see the module's docstring)."""
    from core.api import json_error

    if request.path_info.startswith("/api/"):
        return json_error(403, "second_factor_required", str(SecondFactorVerified.message))
    next_url = request.get_full_path() if request.method in ("GET", "HEAD") else _back_path(request)
    if request.headers.get("HX-Request"):
        response = HttpResponse(status=403)
        current = urlsplit(request.headers.get("HX-Current-URL") or "")
        response["HX-Redirect"] = code_page_url((current.path + (f"?{current.query}" if current.query else "")) or next_url)
        return response
    return HttpResponseRedirect(code_page_url(next_url))


def _back_path(request) -> str:
    """After a refused POST, come back to the page it was sent from (same host only), else to
    the page above the action (``/documents/outgoing/7/sign/`` → ``/documents/outgoing/7/``)."""
    referer = request.META.get("HTTP_REFERER") or ""
    if referer and url_has_allowed_host_and_scheme(referer, allowed_hosts={request.get_host()}):
        parts = urlsplit(referer)
        return parts.path + (f"?{parts.query}" if parts.query else "")
    return request.path.rstrip("/").rsplit("/", 1)[0] + "/"


def _is_open_path(request) -> bool:
    path = request.path_info
    static_url = str(getattr(settings, "STATIC_URL", "/static/") or "/static/")
    if static_url.startswith("/") and path.startswith(static_url):
        return True
    try:
        match = resolve(path, urlconf=getattr(request, "urlconf", None))
    except Resolver404:
        return False
    return match.url_name in OPEN_URL_NAMES


class SecondFactorMiddleware:
    """After AuthenticationMiddleware and django-otp's OTPMiddleware: a user who needs the
    second factor reaches nothing but the login, code, logout, health, language and static
    paths until the session is confirmed."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if needs_code(request) and not _is_open_path(request):
            logger.info("second factor: unconfirmed session of user %s sent to the code page (%s %s)",
                        request.user.pk, request.method, request.path_info)
            return refusal(request)
        return self.get_response(request)


def second_factor_required(view_func):
    """Login required, and a verified session for users who need the second factor (the
    middleware already says so for every path; views that sign keep the mark as a statement).
    Class-based views: ``method_decorator(second_factor_required, name="dispatch")``."""

    @wraps(view_func)
    def wrapped(request, *args, **kwargs):
        user = request.user
        if not user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if needs_code(request):
            url = code_page_url(request.get_full_path())
            if request.headers.get("HX-Request"):
                response = HttpResponse(status=403)
                response["HX-Redirect"] = url
                return response
            return HttpResponseRedirect(url)
        return view_func(request, *args, **kwargs)

    return wrapped


def confirmation_redirect(request, next_url: str):
    """For an action that signs: a redirect to the code page (coming back to ``next_url``, a page
    that answers GET) when the user needs the second factor and the session lacks it; else None."""
    if needs_code(request):
        return HttpResponseRedirect(code_page_url(next_url))
    return None


class TokenAuthentication(authentication.TokenAuthentication):
    """DRF's token authentication; a token of a user who needs the second factor reads only
    (see the module's docstring)."""

    def authenticate(self, request):
        result = super().authenticate(request)
        if result is not None and request.method not in SAFE_METHODS and requires_second_factor(result[0]):
            raise exceptions.PermissionDenied(SecondFactorVerified.message, code="second_factor_required")
        return result


class SecondFactorVerified(BasePermission):
    """DRF permission for the views that sign: a session-authenticated call of a user who needs
    the second factor comes from a verified session, and such a user's token does not write."""

    message = gettext_lazy("Confirm your login with the code of your authenticator app first.")
    code = "second_factor_required"

    def has_permission(self, request, view):
        user = request.user
        if not user or not user.is_authenticated or not requires_second_factor(user):
            return True  # the authentication permissions answer
        authenticator = getattr(request, "successful_authenticator", None)
        if isinstance(authenticator, authentication.SessionAuthentication):
            return is_verified(request)
        if isinstance(authenticator, authentication.TokenAuthentication):
            return getattr(request, "method", "POST") in SAFE_METHODS
        return True


# --- administration ------------------------------------------------------------------------------
# The commune admin's action (with its checks of who may be reset) is in communes/admin.py.
