"""Citizens create their own account (``/accounts/signup/``): full name, mobile phone, e-mail and
password. The phone number is the username. A citizen's account has no membership: it opens the
citizens' pages only (applying online, "my dossiers")."""
from __future__ import annotations

from django import forms
from django.contrib.auth import login as auth_login
from django.contrib.auth import password_validation
from django.db import IntegrityError, transaction
from django.http import HttpResponseRedirect
from django.shortcuts import render, resolve_url
from django.conf import settings
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters

from communes.models import User
from core.phones import normalize_mobile
from core.text import clean_text


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
        if User.objects.filter(username__iexact=phone).exists():
            raise forms.ValidationError(_("An account with this phone number already exists. Log in, or reset your password."))
        return phone

    def clean_email(self):
        email = clean_text(self.cleaned_data.get("email")).lower()
        if email and User.objects.filter(email__iexact=email).exists():
            raise forms.ValidationError(_("An account with this e-mail address already exists. Log in, or reset your password."))
        return email

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

    def save(self) -> User:
        data = self.cleaned_data
        with transaction.atomic():
            user = User(username=data["phone"], full_name=data["full_name"], phone=data["phone"], email=data["email"])
            user.set_password(data["password1"])
            user.save()
        return user


def _next_url(request) -> str:
    url = request.POST.get("next") or request.GET.get("next") or ""
    if url and url_has_allowed_host_and_scheme(url, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return url
    return resolve_url(settings.LOGIN_REDIRECT_URL)


@never_cache
@csrf_protect
@sensitive_post_parameters("password1", "password2")
def signup(request):
    if request.user.is_authenticated:
        return HttpResponseRedirect(_next_url(request))
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = form.save()
        except IntegrityError:  # the same number registered at the same moment
            form.add_error("phone", _("An account with this phone number already exists. Log in, or reset your password."))
        else:
            auth_login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            return HttpResponseRedirect(_next_url(request))
    return render(request, "registration/signup.html", {
        "form": form, "next": request.POST.get("next") or request.GET.get("next") or "",
    })
