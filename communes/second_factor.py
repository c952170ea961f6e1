"""The second factor at login for officials who can sign: a 6-digit code from an authenticator
app (TOTP, RFC 6238).

Who: users with an active membership whose role is in ``settings.XASO_SECOND_FACTOR_ROLES``
(default chairman, vice-chairman, clerk). Everyone else logs in with the password alone.

The flow: a correct password does not log such a user in. The login page keeps a *pending*
login in the session (user, backend, start time, where to go next) and sends them to
``/accounts/2fa/``. There they enter the code of their app, or — the first time — enrol: scan
the QR code (or type the secret), and confirm with a first code. A correct code logs them in
and marks the session as verified. The pending login expires after 5 minutes; 5 wrong codes in a
row lock the app for a few minutes; a code is accepted once only (its time step is kept).

Signing pages carry ``@second_factor_required``: a logged-in user who needs the second factor
and whose session is not verified (logged in through the admin's login page, or given the role
after logging in) is sent to the code page first. API requests authenticated by a token are
outside this scheme (``SecondFactorVerified`` lets them through); session-authenticated API
calls need a verified session.

The shared secret is stored encrypted with AES-GCM under a key derived (HKDF-SHA256) from
``SECRET_KEY`` and bound to the user's id; ``SECRET_KEY_FALLBACKS`` still open old secrets after
a key rotation.
"""
from __future__ import annotations

import datetime as dt
import hmac
import logging
import os
import re
import time
from dataclasses import dataclass
from functools import wraps
from urllib.parse import urlencode

import pyotp
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth import login as auth_login
from django.contrib.auth import views as auth_views
from django.contrib.auth.views import redirect_to_login
from django.db import transaction
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import render, resolve_url
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from rest_framework.authentication import SessionAuthentication
from rest_framework.permissions import BasePermission

from communes.models import Membership, TotpDevice

logger = logging.getLogger(__name__)

DEFAULT_ROLES = ("chairman", "vice_chairman", "clerk")
PENDING_KEY = "xaso_2fa_pending"
VERIFIED_KEY = "xaso_2fa_verified"
STEP_SECONDS = 30
DIGITS = 6
_FORMAT_VERSION = b"\x01"


def _setting(name: str, default):
    return getattr(settings, name, default)


def second_factor_roles() -> set[str]:
    return {str(role) for role in _setting("XASO_SECOND_FACTOR_ROLES", DEFAULT_ROLES)}


def max_attempts() -> int:
    return int(_setting("XASO_SECOND_FACTOR_MAX_ATTEMPTS", 5))


def lock_seconds() -> int:
    return int(_setting("XASO_SECOND_FACTOR_LOCK_SECONDS", 300))


def pending_seconds() -> int:
    return int(_setting("XASO_SECOND_FACTOR_PENDING_SECONDS", 300))


# --- who needs it -------------------------------------------------------------------------------

def requires_second_factor(user) -> bool:
    """Does this user hold, in any commune, an active role that signs?"""
    if user is None or not getattr(user, "is_authenticated", False) or not getattr(user, "pk", None):
        return False
    cache = user.__dict__.setdefault("_second_factor_cache", {})
    if "required" not in cache:
        cache["required"] = Membership.objects.filter(
            user_id=user.pk, is_active=True, role__in=second_factor_roles(),
        ).exists()
    return cache["required"]


def is_verified(request) -> bool:
    """Was the current session's login confirmed with a code (of the user's current app)?"""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return False
    data = request.session.get(VERIFIED_KEY)
    if not isinstance(data, dict) or data.get("user_id") != user.pk:
        return False
    # A reset of the app by an administrator ends the verification of every session.
    return TotpDevice.objects.filter(pk=data.get("device_id"), user_id=user.pk, confirmed_at__isnull=False).exists()


# --- the secret, encrypted at rest ------------------------------------------------------------

def _derive_key(secret_key: str | bytes) -> bytes:
    if isinstance(secret_key, str):
        secret_key = secret_key.encode()
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=b"xaso.second-factor.v1",
                info=b"totp device secret").derive(secret_key)


def _aad(user_id: int) -> bytes:
    return f"communes.TotpDevice:user:{user_id}".encode()


def encrypt_secret(secret: str, user_id: int) -> bytes:
    nonce = os.urandom(12)
    return _FORMAT_VERSION + nonce + AESGCM(_derive_key(settings.SECRET_KEY)).encrypt(nonce, secret.encode(), _aad(user_id))


def decrypt_secret(blob: bytes, user_id: int) -> str:
    blob = bytes(blob)
    if blob[:1] != _FORMAT_VERSION or len(blob) < 13 + 16:
        raise ValueError("unknown secret format")
    nonce, ciphertext = blob[1:13], blob[13:]
    for key in [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]:
        try:
            return AESGCM(_derive_key(key)).decrypt(nonce, ciphertext, _aad(user_id)).decode()
        except InvalidTag:
            continue
    raise ValueError("the secret cannot be decrypted with the current keys")


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
                user_id=user.pk, secret_encrypted=encrypt_secret(pyotp.random_base32(32), user.pk),
            )
            logger.info("second factor: enrolment started for user %s", user.pk)
    return device


def reset_device(user, actor=None) -> bool:
    """Forget the user's authenticator app: the next login enrols a new one."""
    with transaction.atomic():
        deleted, _detail = TotpDevice.objects.filter(user_id=user.pk).delete()
    if deleted:
        logger.info("second factor: app of user %s reset by user %s", user.pk, getattr(actor, "pk", None))
    return bool(deleted)


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
    """Check a code against the user's app and record the outcome (in one transaction).

    A wrong or replayed code counts towards the lock; a code of the wrong shape does not.
    The previous, current and next 30-second steps are accepted (clocks drift); a step is
    accepted once only.
    """
    code = normalise_code(code)
    if not re.fullmatch(rf"\d{{{DIGITS}}}", code):
        return CodeResult(False, "format")
    now = time.time() if now is None else now
    moment = timezone.now()
    with transaction.atomic():
        device = TotpDevice.objects.select_for_update().filter(user_id=user.pk).first()
        if device is None:
            return CodeResult(False, "no_device")
        if device.locked_until and device.locked_until > moment:
            return CodeResult(False, "locked", device.locked_until, device)
        totp = pyotp.TOTP(device_secret(device), digits=DIGITS, interval=STEP_SECONDS)
        current = int(now) // STEP_SECONDS
        matched = next(
            (step for step in (current - 1, current, current + 1)
             if hmac.compare_digest(totp.generate_otp(step), code)),
            None,
        )
        replay = matched is not None and device.last_used_step is not None and matched <= device.last_used_step
        if matched is None or replay:
            device.failed_attempts += 1
            locked = device.failed_attempts >= max_attempts()
            if locked:
                device.failed_attempts = 0
                device.locked_until = moment + dt.timedelta(seconds=lock_seconds())
                logger.warning("second factor: app of user %s locked after wrong codes", user.pk)
            device.save(update_fields=["failed_attempts", "locked_until"])
            if locked:
                return CodeResult(False, "locked", device.locked_until, device)
            return CodeResult(False, "replay" if replay else "wrong", None, device)
        device.last_used_step = matched
        device.failed_attempts = 0
        device.locked_until = None
        fields = ["last_used_step", "failed_attempts", "locked_until"]
        if device.confirmed_at is None:
            device.confirmed_at = moment
            fields.append("confirmed_at")
            logger.info("second factor: app of user %s confirmed", user.pk)
        device.save(update_fields=fields)
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
    mark_verified(request.session, user, device)
    return HttpResponseRedirect(_safe_next(request, next_url))


def mark_verified(session, user, device: TotpDevice) -> None:
    """Record in the session that its login was confirmed with the user's (confirmed) app."""
    session[VERIFIED_KEY] = {"user_id": user.pk, "device_id": device.pk}


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

def second_factor_required(view_func):
    """For the signing pages: login required, and a verified session for users who need the
    second factor. (Class-based views: ``method_decorator(second_factor_required, name="dispatch")``.)"""

    @wraps(view_func)
    def wrapped(request, *args, **kwargs):
        user = request.user
        if not user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if requires_second_factor(user) and not is_verified(request):
            url = f"{reverse('second_factor')}?{urlencode({'next': request.get_full_path()})}"
            if request.headers.get("HX-Request"):
                response = HttpResponse(status=204)
                response["HX-Redirect"] = url
                return response
            return HttpResponseRedirect(url)
        return view_func(request, *args, **kwargs)

    return wrapped


def confirmation_redirect(request, next_url: str):
    """For an action that signs: a redirect to the code page (coming back to ``next_url``, a page
    that answers GET) when the user needs the second factor and the session lacks it; else None."""
    if requires_second_factor(request.user) and not is_verified(request):
        return HttpResponseRedirect(f"{reverse('second_factor')}?{urlencode({'next': next_url})}")
    return None


class SecondFactorVerified(BasePermission):
    """DRF permission: a session-authenticated call by a user who needs the second factor must
    come from a verified session. Token-authenticated calls are not covered (tokens are issued
    to devices and services, outside the login flow)."""

    message = gettext_lazy("Confirm your login with the code of your authenticator app first.")
    code = "second_factor_required"

    def has_permission(self, request, view):
        user = request.user
        if not user or not user.is_authenticated:
            return True  # the authentication permissions answer
        if isinstance(getattr(request, "successful_authenticator", None), SessionAuthentication):
            return not requires_second_factor(user) or is_verified(request)
        return True


# --- administration ------------------------------------------------------------------------------

def reset_second_factor_action(modeladmin, request, queryset):
    """Admin action on memberships: forget the members' authenticator apps."""
    count = 0
    for membership in queryset.select_related("user"):
        if reset_device(membership.user, actor=request.user):
            count += 1
            modeladmin.log_change(request, membership, _("Authenticator app reset."))
    modeladmin.message_user(
        request,
        _("Authenticator apps reset: %(count)s. Those members set up their app again at their next login.") % {"count": count},
        messages.SUCCESS,
    )


reset_second_factor_action.short_description = gettext_lazy("Reset the authenticator app of the selected members")
reset_second_factor_action.allowed_permissions = ("change",)
