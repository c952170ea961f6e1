"""The bank's payment notification: HMAC-SHA256 over the raw body under the commune's secret
(derived from the installation's); a bad or missing signature is 403 and records nothing; a replayed transaction records no second
payment; the dossier is found by its code in the transfer's purpose."""
from __future__ import annotations

import hashlib
import hmac
import json

import pytest

from onestop import payments, vietqr
from onestop.models import BankNotification, Payment

from .conftest import flat, pdftotext
from .helpers import read, received_dossier

MASTER = "bi-mat-cua-ngan-hang-2026"
SECRET = hmac.new(MASTER.encode(), b"xaso.bank-notifications:04630", hashlib.sha256).hexdigest()  # Tu Le's
URL = "/api/v1/onestop/bank-notifications/"


@pytest.fixture
def dossier(procedures, people, tule, settings):
    settings.XASO_BANK_WEBHOOK_SECRET = MASTER
    assert payments.commune_secret(tule) == SECRET
    tule.bank_bin, tule.bank_account, tule.bank_account_name = "970415", "113366668888", "UBND XA TU LE"
    tule.save()
    return received_dossier(procedures["CT-03"], people["onestop_officer"])


def body(dossier, **overrides) -> bytes:
    data = {"commune": "04630", "transaction_id": "FT26093012345", "amount": 50000, "purpose": vietqr.purpose_for(dossier.code),
            "account": "113366668888", "paid_at": "2026-04-03T09:15:00+07:00"}
    data.update(overrides)
    return json.dumps(data).encode()


def post(client, raw: bytes, secret: str | None = SECRET, signature: str | None = None):
    if signature is None and secret is not None:
        signature = hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
    headers = {"HTTP_X_XASO_SIGNATURE": signature} if signature is not None else {}
    return client.post(URL, raw, content_type="application/json", **headers)


def test_signed_notification_records_the_payment_once(dossier, client_for, tule, in_commune):
    client = client_for("tule.localhost")
    raw = body(dossier)
    first = post(client, raw)
    assert first.status_code == 200 and first.json() == {"status": "recorded", "dossier": dossier.code}
    replay = post(client, raw)
    assert replay.status_code == 200 and replay.json() == {"status": "duplicate"}
    with in_commune(tule):
        [payment] = Payment.objects.filter(dossier=dossier)
        assert (payment.amount, payment.method, payment.reference) == (50000, "bank", "FT26093012345")
        assert payment.recorded_by_id is None
        dossier.refresh_from_db()
        assert dossier.fee_paid_at == payment.received_at
        assert BankNotification.objects.get().outcome == "recorded"
        text = flat(pdftotext(read(dossier.forms.get(kind="fee").file)))
        assert "BIÊN LAI THU PHÍ, LỆ PHÍ" in text and "FT26093012345" in text


def test_bad_or_missing_signature_is_403_and_records_nothing(dossier, client_for, tule, in_commune, settings):
    client = client_for("tule.localhost")
    raw = body(dossier)
    wrong = post(client, raw, secret="doan-mo")
    missing = post(client, raw, secret=None)
    tampered = post(client, body(dossier, amount=5), signature=hmac.new(SECRET.encode(), raw, hashlib.sha256).hexdigest())
    for response in (wrong, missing, tampered):
        assert response.status_code == 403
        assert response.json()["code"] == "bad_signature" and set(response.json()) == {"code", "detail", "fields"}
    settings.XASO_BANK_WEBHOOK_SECRET = ""  # no secret configured: everything is refused
    assert post(client, raw, secret="").status_code == 403
    with in_commune(tule):
        assert not Payment.objects.exists() and not BankNotification.objects.exists()


def test_purpose_without_dashes_unknown_code_wrong_account(dossier, client_for, tule, in_commune):
    client = client_for("tule.localhost")
    flat_code = dossier.code.replace("-", "")
    found = post(client, body(dossier, transaction_id="T1", purpose=f"PHI HS {flat_code} NGUYEN VAN A"))
    assert found.json() == {"status": "recorded", "dossier": dossier.code}
    unknown = post(client, body(dossier, transaction_id="T2", purpose="Phi HS 04630-990101-0099"))
    assert unknown.status_code == 200 and unknown.json()["status"] == "unmatched"
    other = post(client, body(dossier, transaction_id="T3", account="999999999"))
    assert other.json()["status"] == "wrong_account"
    paid_twice = post(client, body(dossier, transaction_id="T4"))
    assert paid_twice.json()["status"] == "not_payable"
    with in_commune(tule):
        assert Payment.objects.count() == 1
        assert dict(BankNotification.objects.values_list("transaction_id", "outcome")) == {
            "T1": "recorded", "T2": "unmatched", "T3": "wrong_account", "T4": "not_payable"}


def test_malformed_notifications_are_400(dossier, client_for):
    client = client_for("tule.localhost")
    for raw in (b"not json", b"[1, 2]", json.dumps({"transaction_id": "X"}).encode(),
                body(dossier, amount=-5), body(dossier, amount="nhieu"), body(dossier, paid_at="hôm qua")):
        response = post(client, raw)
        assert response.status_code == 400, raw
        assert response.json()["code"] == "invalid"
    assert client.get(URL).status_code == 405


def test_not_on_the_national_host(dossier, client_for):
    national = client_for("localhost")
    raw = body(dossier)
    signature = hmac.new(SECRET.encode(), raw, hashlib.sha256).hexdigest()
    for url in (URL, "/api/v1/communes/04630/onestop/bank-notifications/"):
        response = national.post(url, raw, content_type="application/json", HTTP_X_XASO_SIGNATURE=signature)
        assert response.status_code == 404, url
