"""Wrong PINs are counted per client address as well as per key grant: an address that keeps
guessing is refused, with the time it may try again, while the holder elsewhere still signs."""
from __future__ import annotations

import datetime as dt

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone
from django.utils.formats import date_format

from signatures.models import KeyGrant
from tests.signatures.conftest import SIGNER_PIN


def post_sign(client, signer, pdf, pin):
    return client.post("/api/v1/signatures/jobs/", {
        "file": SimpleUploadedFile("a.pdf", pdf, content_type="application/pdf"),
        "certificate": signer.certificate.pk, "pin": pin,
    })


def test_wrong_pins_from_one_address_are_limited(settings, tule, in_commune, signer, sample_pdf, client_for):
    settings.XASO_PIN_ADDRESS_RATE = "3/15min"
    guesser = client_for("tule.localhost", signer.user, second_factor=True)
    guesser.defaults["REMOTE_ADDR"] = "203.0.113.40"
    codes = [post_sign(guesser, signer, sample_pdf, f"00000{n}").json()["code"] for n in range(4)]
    assert codes == ["wrong_pin", "wrong_pin", "wrong_pin", "pin_locked"]
    with in_commune(tule):  # the key itself is not locked yet (5 wrong PINs lock it)
        grant = KeyGrant.objects.get(user_id=signer.user.pk)
        assert grant.locked_until is None and grant.failed_attempts == 3  # the fourth was not tried
    # From that address even the right PIN waits, and the answer says until when.
    refused = post_sign(guesser, signer, sample_pdf, SIGNER_PIN)
    assert refused.status_code == 423 and refused.json()["code"] == "pin_locked"
    until = date_format(timezone.localtime(timezone.now() + dt.timedelta(minutes=15)), "H:i")
    earlier = date_format(timezone.localtime(timezone.now() + dt.timedelta(minutes=14)), "H:i")
    assert until in refused.json()["detail"] or earlier in refused.json()["detail"]
    # The holder at another address signs.
    holder = client_for("tule.localhost", signer.user, second_factor=True)
    holder.defaults["REMOTE_ADDR"] = "192.0.2.41"
    assert post_sign(holder, signer, sample_pdf, SIGNER_PIN).status_code == 201


def test_right_pins_do_not_count(settings, signer, sample_pdf, client_for):
    settings.XASO_PIN_ADDRESS_RATE = "2/15min"
    client = client_for("tule.localhost", signer.user, second_factor=True)
    assert isinstance(client, Client)
    for _ in range(3):
        assert post_sign(client, signer, sample_pdf, SIGNER_PIN).status_code == 201
