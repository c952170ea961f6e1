"""Citizens' login through the province's identity provider (OpenID Connect, code flow).

Configured per installation with the ``OIDC_*`` settings (``XASO_OIDC_*`` environment
variables): client id and secret, the provider's authorization, token, JWKS and userinfo
endpoints, the expected issuer and the provider's name shown on the login page. With no
authorization endpoint the backend is inert: it authenticates nobody, the ``/oidc/`` pages answer
404 and the login page shows no provider button; ordinary logins are untouched.

A person is recognised by the pair (issuer, subject) of the signed ID token, kept in
``communes.ExternalIdentity``: never by e-mail address or name, which the person may change at
the provider. The first login creates a citizen account (no membership); the names, e-mail and
phone are refreshed from the claims at every login. An official who must confirm logins with
an authenticator app still does so after the provider's login.
"""
from __future__ import annotations

import hashlib
import logging

import jwt
import requests
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import SuspiciousOperation
from django.db import IntegrityError, transaction
from django.http import Http404, HttpResponseRedirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from mozilla_django_oidc.auth import OIDCAuthenticationBackend
from mozilla_django_oidc.views import OIDCAuthenticationCallbackView, OIDCAuthenticationRequestView

from communes import second_factor
from communes.models import ExternalIdentity
from core.phones import normalize_mobile
from core.text import clean_text

logger = logging.getLogger(__name__)


def is_configured() -> bool:
    """Is a provider configured? (authorization and token endpoints, a client id, and a way to
    check the ID token's signature)."""
    get = lambda name: getattr(settings, name, "") or ""  # noqa: E731
    return bool(
        get("OIDC_OP_AUTHORIZATION_ENDPOINT") and get("OIDC_OP_TOKEN_ENDPOINT") and get("OIDC_RP_CLIENT_ID")
        and (get("OIDC_OP_JWKS_ENDPOINT") or get("OIDC_RP_IDP_SIGN_KEY")
             or not str(get("OIDC_RP_SIGN_ALGO") or "HS256").startswith(("RS", "ES")))
    )


def provider_name() -> str:
    return getattr(settings, "XASO_OIDC_PROVIDER_NAME", "") or _("the province's identity provider")


def full_name_from(claims: dict) -> str:
    """The person's full name from the claims: ``name``, else family, middle and given names in
    the Vietnamese order."""
    name = clean_text(claims.get("name"))
    if name:
        return name[:200]
    parts = [clean_text(claims.get(key)) for key in ("family_name", "middle_name", "given_name")]
    return " ".join(part for part in parts if part)[:200]


class CitizenOIDCBackend(OIDCAuthenticationBackend):
    """mozilla-django-oidc's backend, matching users by (issuer, subject)."""

    def __init__(self, *args, **kwargs):
        self.configured = is_configured()
        if self.configured:
            super().__init__(*args, **kwargs)
        else:
            self.UserModel = get_user_model()

    def authenticate(self, request, **kwargs):
        # A username and password belong to the ordinary login; without a provider, nothing.
        if not self.configured or request is None or "username" in kwargs or "password" in kwargs:
            return None
        return super().authenticate(request, **kwargs)

    def get_user(self, user_id):
        # As Django's own backend: an inactive user's session ends.
        return ModelBackend.get_user(self, user_id)

    # --- the ID token and the claims -------------------------------------------------------------

    def verify_token(self, token, **kwargs):
        payload = super().verify_token(token, **kwargs)
        if kwargs.get("nonce") is None and "nonce" not in kwargs:
            return payload  # a userinfo answer signed as a JWT: checked by the base class only
        expected_issuer = getattr(settings, "XASO_OIDC_ISSUER", "") or ""
        if expected_issuer and payload.get("iss") != expected_issuer:
            raise SuspiciousOperation("The ID token comes from another issuer.")
        audience = payload.get("aud")
        audiences = audience if isinstance(audience, list) else [audience]
        if self.OIDC_RP_CLIENT_ID not in audiences:
            raise SuspiciousOperation("The ID token was not issued to this client.")
        if not payload.get("iss") or not payload.get("sub"):
            raise SuspiciousOperation("The ID token has no issuer or subject.")
        return payload

    def verify_claims(self, claims):
        return bool(claims.get("sub"))

    def get_or_create_user(self, access_token, id_token, payload):
        issuer, subject = str(payload["iss"]), str(payload["sub"])
        claims = dict(payload)
        if self.OIDC_OP_USER_ENDPOINT and access_token:
            info = self.get_userinfo(access_token, id_token, payload) or {}
            # OpenID Connect Core 5.3.2: the userinfo answer must be about the same person.
            if str(info.get("sub", "")) != subject:
                raise SuspiciousOperation("The userinfo answer is about another subject.")
            claims.update(info)
        if not self.verify_claims(claims):
            raise SuspiciousOperation("Claims verification failed")

        with transaction.atomic():
            identity = (
                ExternalIdentity.objects.select_for_update().select_related("user")
                .filter(issuer=issuer, subject=subject).first()
            )
            if identity is not None:
                user = self.update_user(identity.user, claims)
            else:
                user = self.create_user(claims)
                try:
                    with transaction.atomic():
                        identity = ExternalIdentity.objects.create(user=user, issuer=issuer, subject=subject)
                except IntegrityError:  # the same person logging in twice at the same moment
                    raise SuspiciousOperation("This identity was linked meanwhile; log in again.") from None
            ExternalIdentity.objects.filter(pk=identity.pk).update(last_login_at=timezone.now())
        return user

    def _username(self, claims: dict) -> str:
        """A username that says nothing about the person (a digest of issuer and subject)."""
        digest = hashlib.sha256(f"{claims['iss']}\n{claims['sub']}".encode()).hexdigest()[:20]
        username, n = f"oidc-{digest}", 1
        while self.UserModel.objects.filter(username=username).exists():  # a link removed by an administrator
            n += 1
            username = f"oidc-{digest}-{n}"
        return username

    def _details(self, claims: dict) -> dict:
        details = {}
        name = full_name_from(claims)
        if name:
            details["full_name"] = name
        email = clean_text(claims.get("email"))
        if email and claims.get("email_verified", True) is not False:
            details["email"] = email[:254]
        phone = normalize_mobile(claims.get("phone_number"))
        if phone:
            details["phone"] = phone
        return details

    def create_user(self, claims):
        user = self.UserModel(username=self._username(claims), **self._details(claims))
        user.set_unusable_password()
        user.save()
        logger.info("oidc: account %s created for a first login through %s", user.pk, claims.get("iss"))
        return user

    def update_user(self, user, claims):
        changed = [field for field, value in self._details(claims).items() if getattr(user, field) != value]
        if changed:
            for field in changed:
                setattr(user, field, self._details(claims)[field])
            user.save(update_fields=changed)
        return user


# --- pages --------------------------------------------------------------------------------------

class AuthenticateView(OIDCAuthenticationRequestView):
    """/oidc/authenticate/: off to the provider (404 when none is configured)."""

    def get(self, request):
        if not is_configured():
            raise Http404
        return super().get(request)


class CallbackView(OIDCAuthenticationCallbackView):
    """/oidc/callback/: back from the provider. A failure returns to the login page with a
    message, never an error page."""

    @property
    def failure_url(self):
        return reverse("login")

    def login_failure(self):
        messages.error(self.request, _(
            "The login through %(provider)s did not succeed. Try again, or log in with your "
            "phone number and password."
        ) % {"provider": provider_name()})
        return HttpResponseRedirect(self.failure_url)

    def login_success(self):
        if second_factor.requires_second_factor(self.user):
            # Officials who sign still confirm the login with their authenticator app.
            second_factor.start_pending(self.request, self.user, self.success_url)
            return HttpResponseRedirect(reverse("second_factor"))
        return super().login_success()

    def get(self, request):
        if not is_configured():
            raise Http404
        try:
            return super().get(request)
        except (requests.RequestException, SuspiciousOperation, jwt.PyJWTError, ValueError, KeyError, TypeError) as exc:
            logger.warning("oidc: login failed: %s", exc)
            return self.login_failure()


urlpatterns = [
    path("callback/", CallbackView.as_view(), name="oidc_authentication_callback"),
    path("authenticate/", AuthenticateView.as_view(), name="oidc_authentication_init"),
]


class LoginView(second_factor.LoginView):
    """The login page, with the provider's button when one is configured."""

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        if is_configured():
            context["oidc_provider"] = provider_name()
        return context
