"""Password reset pages: Django's, with the link built from the site's configured address and
with throttles.

* The e-mailed link uses the commune's (or the national site's) configured public address
  (``core.links``), never the request's Host header or port.
* Requests are limited per client address and per e-mail address asked for
  (``XASO_PASSWORD_RESET_ADDRESS_RATE``, ``XASO_PASSWORD_RESET_EMAIL_RATE``); both count every
  request, whether an account has the address or not, so the refusal reveals nothing. The page
  after a request is the same either way (Django's).
* Choosing a new password through the link lifts the login lock of that account (the owner
  proved the mailbox; see ``communes.login_throttle``).
"""
from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.http import HttpResponseRedirect

from communes import login_throttle
from core import links


class PasswordResetView(auth_views.PasswordResetView):
    def form_valid(self, form):
        email = form.cleaned_data["email"].strip().lower()
        message = login_throttle.refusal(
            ("password_reset.address", login_throttle.client_address(self.request), "XASO_PASSWORD_RESET_ADDRESS_RATE"),
            ("password_reset.email", email, "XASO_PASSWORD_RESET_EMAIL_RATE"),
        )
        if message:
            form.add_error(None, message)
            response = self.form_invalid(form)
            response.status_code = 429
            return response
        form.save(
            domain_override=links.site_host(),
            use_https=links.site_base_url().startswith("https://"),
            token_generator=self.token_generator,
            from_email=self.from_email,
            email_template_name=self.email_template_name,
            subject_template_name=self.subject_template_name,
            request=self.request,
            html_email_template_name=self.html_email_template_name,
            extra_email_context=self.extra_email_context,
        )
        return HttpResponseRedirect(self.get_success_url())


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    def form_valid(self, form):
        response = super().form_valid(form)
        login_throttle.forget_account_failures(form.user.get_username())
        return response
