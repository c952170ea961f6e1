"""Citizens create their own account (``/accounts/signup/``): full name, mobile phone, e-mail and
password. The phone number is the username. A citizen's account has no membership: it opens the
citizens' pages only (applying online, "my dossiers").

The page never says whether a phone number or an e-mail address already has an account (that
would let anyone test numbers one by one). Whatever the answer, the form is followed by the same
page, "enter the code we sent by SMS", after the same work (the password hashed, one SMS to the
number, one e-mail to the address when one is given):

* a new number gets a 6-digit code; the account is created when the code is entered, which also
  proves that the person holds the phone;
* a number that already has an account gets a message saying so, with the addresses to log in
  and to reset the password, and no code;
* an e-mail address is told that an account is being created with it, or, when another account
  already has it, that it does (the new account is then created without the address).

Sign-ups are throttled per client address and per phone number; codes per client address, and
each code dies after ``MAX_CODE_ATTEMPTS`` wrong tries or ``CODE_SECONDS``.
"""
from __future__ import annotations

import hmac
import logging
import secrets
import time

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth import password_validation
from django.contrib.auth.hashers import make_password
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.http import HttpResponseRedirect
from django.shortcuts import render, resolve_url
from django.urls import reverse
from django.utils import translation
from django.utils.crypto import salted_hmac
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters

from communes import login_throttle
from communes.models import User
from core import links
from core.phones import normalize_mobile
from core.text import clean_text

logger = logging.getLogger(__name__)

PENDING_KEY = "xaso_signup_pending"
CODE_SECONDS = 15 * 60
MAX_CODE_ATTEMPTS = 5


class SignupForm(forms.Form):
    full_name = forms.CharField(
        label=gettext_lazy("Full name"), max_length=200,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    phone = forms.CharField(
        label=gettext_lazy("Mobile phone number"), max_length=20,
        help_text=gettext_lazy("You log in with this number. Notices about your dossiers are sent to it."),
        widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}),
    )
    email = forms.EmailField(
        label=gettext_lazy("E-mail"), required=False,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    password1 = forms.CharField(
        label=gettext_lazy("Password"), strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=gettext_lazy("At least 8 characters, not only digits, not a common password."),
    )
    password2 = forms.CharField(
        label=gettext_lazy("Password again"), strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean_full_name(self):
        name = clean_text(self.cleaned_data["full_name"])
        if len(name) < 2:
            raise forms.ValidationError(_("Enter your full name."))
        return name

    def clean_phone(self):
        phone = normalize_mobile(self.cleaned_data["phone"])
        if not phone:
            raise forms.ValidationError(_("Enter a Vietnamese mobile number of 10 digits, for example 0912 345 678."))
        return phone

    def clean_email(self):
        return clean_text(self.cleaned_data.get("email")).lower()

    def clean(self):
        cleaned = super().clean()
        first, second = cleaned.get("password1"), cleaned.get("password2")
        if first and second and first != second:
            self.add_error("password2", _("The two passwords are not the same."))
        elif first:
            candidate = User(username=cleaned.get("phone") or "", full_name=cleaned.get("full_name") or "",
                             email=cleaned.get("email") or "")
            try:
                password_validation.validate_password(first, candidate)
            except forms.ValidationError as error:
                self.add_error("password1", error)
        return cleaned


class CodeForm(forms.Form):
    code = forms.CharField(
        label=gettext_lazy("6-digit code"), max_length=12, strip=True,
        widget=forms.TextInput(attrs={
            "inputmode": "numeric", "autocomplete": "one-time-code", "pattern": "[0-9 ]*",
            "autofocus": True, "size": 8,
        }),
    )


def _next_url(request, url: str | None = None) -> str:
    url = url if url is not None else (request.POST.get("next") or request.GET.get("next") or "")
    if url and url_has_allowed_host_and_scheme(url, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return url
    return resolve_url(settings.LOGIN_REDIRECT_URL)


def masked_phone(phone: str) -> str:
    return f"{phone[:2]}{'•' * max(0, len(phone) - 5)}{phone[-3:]}" if phone else ""


def _code_digest(code: str, salt: str) -> str:
    return salted_hmac("xaso.signup.code", f"{salt}:{code}").hexdigest()


def _site_name() -> str:
    from communes.permissions import current_commune

    commune = current_commune()
    return f"Xã Số – {commune.name}" if commune is not None else "Xã Số"


def _send_sms(phone: str, text: str) -> None:
    """One SMS, straight through the gateway that XASO_SMS_BACKEND names (not a notification
    job: a code must never be stored where officials can list messages). A failure is logged;
    the answer stays the same."""
    try:
        gateway = import_string(settings.XASO_SMS_BACKEND)()
        gateway.send_sms(phone, text, f"signup:{secrets.token_hex(12)}")
    except Exception:  # noqa: BLE001 - the page must not tell a sent message from a failed one
        logger.exception("signup: the SMS could not be sent")


def _send_email(address: str, subject: str, text: str) -> None:
    try:
        send_mail(subject, text, None, [address], fail_silently=False)
    except Exception:  # noqa: BLE001 - as for the SMS
        logger.exception("signup: the e-mail could not be sent")


def start(request, data: dict) -> None:
    """Keep the sign-up pending in the session and send its messages (see the module's text)."""
    phone, email = data["phone"], data["email"]
    phone_taken = User.objects.filter(username__iexact=phone).exists()
    email_taken = bool(email) and User.objects.filter(email__iexact=email).exists()
    code = f"{secrets.randbelow(10 ** 6):06d}"
    salt = secrets.token_hex(8)
    request.session[PENDING_KEY] = {
        "phone": phone, "full_name": data["full_name"], "email": email,
        "password": make_password(data["password1"]),
        "salt": salt, "code": _code_digest(code, salt),
        "started": time.time(), "attempts": 0, "next": _next_url(request),
    }
    site = _site_name()
    login_url = links.absolute_url(reverse("login"))
    reset_url = links.absolute_url(reverse("password_reset"))
    with translation.override(settings.LANGUAGE_CODE):
        if phone_taken:
            sms = _(
                "Someone asked to create an account on %(site)s with this phone number, which already has "
                "one. To log in or reset your password: %(reset)s. If it was not you, ignore this message."
            ) % {"site": site, "reset": reset_url}
        else:
            sms = _(
                "%(code)s is your code to create your account on %(site)s. It expires in 15 minutes. "
                "Never give it to anyone."
            ) % {"code": code, "site": site}
        _send_sms(phone, sms)
        if email:
            if email_taken:
                subject = _("An account already has this e-mail address")
                text = _(
                    "Someone asked to create an account on %(site)s with this e-mail address, which "
                    "another account already has. Log in at %(login)s, or choose a new password at "
                    "%(reset)s. If it was not you, ignore this e-mail: nothing changes."
                ) % {"site": site, "login": login_url, "reset": reset_url}
            else:
                subject = _("An account is being created with this e-mail address")
                text = _(
                    "Someone is creating an account on %(site)s with this e-mail address. The account "
                    "is created once the code sent by SMS to its phone number is entered. If it was "
                    "not you, ignore this e-mail."
                ) % {"site": site}
            _send_email(email, subject, text)
    logger.info("signup: started on %s", site)


def _pending(request) -> dict | None:
    data = request.session.get(PENDING_KEY)
    return data if isinstance(data, dict) else None


def create_account(data: dict) -> User | None:
    """The account of a confirmed sign-up; None when its number was taken meanwhile."""
    email = data["email"]
    if email and User.objects.filter(email__iexact=email).exists():
        email = ""  # its owner was told by e-mail when the sign-up started
    try:
        with transaction.atomic():
            if User.objects.filter(username__iexact=data["phone"]).exists():
                return None
            user = User(username=data["phone"], full_name=data["full_name"], phone=data["phone"], email=email,
                        password=data["password"])
            user.save()
    except IntegrityError:  # the same number registered at the same moment
        return None
    logger.info("signup: account %s created", user.pk)
    return user


@never_cache
@csrf_protect
@sensitive_post_parameters("password1", "password2")
def signup(request):
    if request.user.is_authenticated:
        return HttpResponseRedirect(_next_url(request))
    form = SignupForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        refusal = login_throttle.refusal(
            ("signup.address", login_throttle.client_address(request), "XASO_SIGNUP_ADDRESS_RATE"),
            ("signup.phone", form.cleaned_data["phone"], "XASO_SIGNUP_PHONE_RATE"),
        )
        if refusal:
            form.add_error(None, refusal)
            status = 429
        else:
            start(request, form.cleaned_data)
            return HttpResponseRedirect(reverse("signup_confirm"))
    return render(request, "registration/signup.html", {
        "form": form, "next": request.POST.get("next") or request.GET.get("next") or "",
    }, status=status)


@never_cache
@csrf_protect
def signup_confirm(request):
    """Enter the code sent by SMS; the account is created and logged in."""
    data = _pending(request)
    if data is None:
        return HttpResponseRedirect(reverse("signup"))
    if time.time() - float(data.get("started", 0)) > CODE_SECONDS or data.get("attempts", 0) >= MAX_CODE_ATTEMPTS:
        request.session.pop(PENDING_KEY, None)
        messages.error(request, _("The code has expired or was entered wrongly too many times. Fill in the form again to get a new code."))
        return HttpResponseRedirect(reverse("signup"))
    form = CodeForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        refusal = login_throttle.refusal(
            ("signup.code.address", login_throttle.client_address(request), "XASO_SIGNUP_CODE_ADDRESS_RATE"),
        )
        code = "".join(form.cleaned_data["code"].split())
        if refusal:
            form.add_error("code", refusal)
            status = 429
        elif hmac.compare_digest(_code_digest(code, data["salt"]), data["code"]):
            request.session.pop(PENDING_KEY, None)
            user = create_account(data)
            if user is None:
                messages.error(request, _("This phone number already has an account. Log in, or reset your password."))
                return HttpResponseRedirect(reverse("login"))
            auth_login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            return HttpResponseRedirect(_next_url(request, data.get("next")))
        else:
            data["attempts"] = data.get("attempts", 0) + 1
            request.session[PENDING_KEY] = data
            left = MAX_CODE_ATTEMPTS - data["attempts"]
            if left <= 0:
                request.session.pop(PENDING_KEY, None)
                messages.error(request, _("The code has expired or was entered wrongly too many times. Fill in the form again to get a new code."))
                return HttpResponseRedirect(reverse("signup"))
            form.add_error("code", _("The code is not correct. %(left)d attempts left.") % {"left": left})
    return render(request, "registration/signup_confirm.html", {
        "form": form, "phone": masked_phone(data["phone"]),
    }, status=status)
