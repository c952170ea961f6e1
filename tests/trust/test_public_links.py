"""Links that leave the portal (e-mails, SMS, printed forms) come from the configured public
address of the commune or of the national site, never from the request's Host or port."""
from __future__ import annotations

import re

import pytest
from django.core import mail
from django.test import Client

from tests.sms_inbox import sms  # noqa: F401  (fixture)


@pytest.fixture(autouse=True)
def outbox(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.XASO_PUBLIC_SCHEME = "http"
    settings.XASO_PUBLIC_PORT = ""
    settings.XASO_NATIONAL_PUBLIC_URL = ""


def reset_link(host: str, email: str) -> tuple[str, str]:
    client = Client(HTTP_HOST=host, REMOTE_ADDR="203.0.113.30")
    response = client.post("/accounts/password/reset/", {"email": email})
    assert response.status_code == 302
    message = mail.outbox[-1]
    return re.search(r"\S+/accounts/password/reset/\S+/", message.body).group(0), message.subject


def test_a_forged_port_does_not_reach_the_reset_link(make_user):
    make_user("0912000301", email="mai@example.vn")
    link, subject = reset_link("tule.localhost:6666", "mai@example.vn")
    assert link.startswith("http://tule.localhost/accounts/password/reset/")
    # The port, not the digits: the reset token itself may hold "6666".
    assert ":6666" not in link + subject and "tule.localhost" in subject


def test_the_reset_link_uses_the_configured_scheme_and_port(settings, make_user):
    settings.XASO_PUBLIC_SCHEME = "https"
    settings.XASO_PUBLIC_PORT = "8443"
    make_user("0912000302", email="lan@example.vn")
    link, _subject = reset_link("tule.localhost:6666", "lan@example.vn")
    assert link.startswith("https://tule.localhost:8443/accounts/password/reset/")
    settings.XASO_PUBLIC_PORT = "443"
    assert reset_link("tule.localhost:80", "lan@example.vn")[0].startswith("https://tule.localhost/accounts/")


def test_the_national_host_uses_its_configured_address(settings, make_user):
    make_user("operator.links", email="ops@example.vn")
    link, _subject = reset_link("localhost:6666", "ops@example.vn")
    assert link.startswith("http://localhost/accounts/password/reset/")
    settings.XASO_NATIONAL_PUBLIC_URL = "https://xaso.example.gov.vn"
    link, subject = reset_link("127.0.0.1:6666", "ops@example.vn")
    assert link.startswith("https://xaso.example.gov.vn/accounts/password/reset/") and "6666" not in subject


def test_sign_up_messages_carry_the_configured_address(make_user, sms):
    make_user("0912000303", email="nam@example.vn")
    client = Client(HTTP_HOST="tule.localhost:6666", REMOTE_ADDR="203.0.113.31")
    client.post("/accounts/signup/", {"full_name": "Hoàng Văn Nam", "phone": "0912000303", "email": "nam@example.vn",
                                      "password1": "Ban-Na-Hin-2026", "password2": "Ban-Na-Hin-2026"})
    texts = sms.to("0912000303") + [m.body for m in mail.outbox]
    assert len(texts) == 2
    for text in texts:
        assert "http://tule.localhost/accounts/" in text and "6666" not in text


def test_printed_forms_and_notices_use_one_helper(tule, in_commune, settings):
    from core import links
    from onestop import links as dossier_links

    settings.XASO_PUBLIC_PORT = "8000"
    with in_commune(tule):
        assert dossier_links.base_url() == links.commune_base_url() == "http://tule.localhost:8000"
        assert links.absolute_url("/lookup/") == "http://tule.localhost:8000/lookup/"
    assert links.site_base_url() == "http://localhost:8000"
