"""Password reset pages: Django's, with the link built from the site's configured address and
with throttles.

* The e-mailed link uses the commune's (or the national site's) configured public address
  (``core.links``), never the request's Host header or port.
* Requests are limited per client address and per e-mail address asked for
  (``XASO_PASSWORD_RESET_ADDRESS_RATE``, ``XASO_PASSWORD_RESET_EMAIL_RATE``); both count every
  request, whether an account has the address or not, so the refusal reveals nothing. The page
  after a request is the same either way (Django's), and so is the work: an address that no
  account uses gets an e-mail too, saying so (without a link), so the time of the answer does not
  tell the two apart.
* Choosing a new password through the link lifts the login lock of that account (the owner
  proved the mailbox; see ``communes.login_throttle``).
"""
from __future__ import annotations

import logging

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.core.mail import send_mail
from django.http import HttpResponseRedirect
from django.utils import translation
from django.utils.translation import gettext as _

from communes import login_throttle
from core import links

logger = logging.getLogger(__name__)


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
        if not any(True for _user in form.get_users(email)):
            self._tell_no_account(email)
        return HttpResponseRedirect(self.get_success_url())

    def _tell_no_account(self, email: str) -> None:
        site = links.site_host()
        with translation.override(settings.LANGUAGE_CODE):
            subject = _("Password reset on Xã Số (%(domain)s)") % {"domain": site}
            body = _(
                "Someone asked to reset the password of an account on %(site)s with this e-mail "
                "address, but no account there uses it. If it was you, you may have signed up with "
                "another address or with your phone number only. If it was not you, ignore this e-mail."
            ) % {"site": site}
        try:
            send_mail(subject, body, None, [email], fail_silently=False)
        except Exception:  # noqa: BLE001 - the answer must not tell a sent e-mail from a failed one
            logger.exception("password reset: the e-mail could not be sent")


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    def form_valid(self, form):
        response = super().form_valid(form)
        login_throttle.forget_account_failures(form.user.get_username())
        return response
