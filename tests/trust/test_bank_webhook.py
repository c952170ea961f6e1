"""Bank notifications name their commune and are signed with that commune's own secret (derived
from the installation's): one commune's secret, or a notification addressed to one commune,
never pays a dossier of another."""
from __future__ import annotations

import hashlib
import hmac
import io
import json

import pytest
from django.core.management import call_command

from onestop import payments, vietqr
from onestop.models import BankNotification, Payment
from tests.onestop.conftest import _media, in_tule, people, procedures  # noqa: F401  (fixtures)
from tests.onestop.helpers import received_dossier

MASTER = "bi-mat-cua-ca-cai-dat-2026"
URL = "/api/v1/onestop/bank-notifications/"


@pytest.fixture
def dossier(procedures, people, tule, settings):
    settings.XASO_BANK_WEBHOOK_SECRET = MASTER
    return received_dossier(procedures["CT-03"], people["onestop_officer"])


def body(dossier, commune_code, **overrides) -> bytes:
    data = {"commune": commune_code, "transaction_id": "FT-1", "amount": 50000,
            "purpose": vietqr.purpose_for(dossier.code), "paid_at": "2026-04-03T09:15:00+07:00"}
    data.update(overrides)
    return json.dumps(data).encode()


def post(client_for, host, raw, secret):
    signature = hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
    return client_for(host).post(URL, raw, content_type="application/json", HTTP_X_XASO_SIGNATURE=signature)


def nothing_recorded(in_commune, *communes):
    for commune in communes:
        with in_commune(commune):
            assert not Payment.objects.exists() and not BankNotification.objects.exists()


def test_each_commune_has_its_own_secret(dossier, tule, yenhoa, client_for, in_commune):
    tule_secret, yenhoa_secret = payments.commune_secret(tule), payments.commune_secret(yenhoa)
    assert len({tule_secret, yenhoa_secret, MASTER}) == 3 and len(tule_secret) == 64
    # The installation's secret itself (the old single secret) signs for nobody.
    assert post(client_for, "tule.localhost", body(dossier, tule.code), MASTER).status_code == 403
    # Yên Hòa's secret does not sign for Tú Lệ, whatever the notification says.
    assert post(client_for, "tule.localhost", body(dossier, tule.code), yenhoa_secret).status_code == 403
    nothing_recorded(in_commune, tule, yenhoa)
    ok = post(client_for, "tule.localhost", body(dossier, tule.code), tule_secret)
    assert ok.status_code == 200 and ok.json() == {"status": "recorded", "dossier": dossier.code}


def test_a_notification_signed_for_one_commune_naming_another_is_refused(dossier, tule, yenhoa, client_for,
                                                                       in_commune):
    # Signed with Tú Lệ's secret but naming Yên Hòa, at either host.
    at_tule = post(client_for, "tule.localhost", body(dossier, yenhoa.code), payments.commune_secret(tule))
    assert at_tule.status_code == 400 and at_tule.json()["code"] == "wrong_commune"
    assert set(at_tule.json()) == {"code", "detail", "fields"}
    at_yenhoa = post(client_for, "yenhoa.localhost", body(dossier, yenhoa.code), payments.commune_secret(tule))
    assert at_yenhoa.status_code == 403 and at_yenhoa.json()["code"] == "bad_signature"
    # Naming nobody (no commune code, no account) is not naming this commune.
    anonymous = post(client_for, "tule.localhost", body(dossier, ""), payments.commune_secret(tule))
    assert anonymous.status_code == 400 and anonymous.json()["code"] == "wrong_commune"
    nothing_recorded(in_commune, tule, yenhoa)


def test_the_commune_may_be_named_by_its_account(dossier, tule, client_for, in_commune):
    tule.bank_bin, tule.bank_account = "970415", "113366668888"
    tule.save()
    other_account = post(client_for, "tule.localhost", body(dossier, "", account="999999999"),
                         payments.commune_secret(tule))
    assert other_account.status_code == 400 and other_account.json()["code"] == "wrong_commune"
    by_account = post(client_for, "tule.localhost", body(dossier, "", account="1133 6666 8888"),
                      payments.commune_secret(tule))
    assert by_account.json() == {"status": "recorded", "dossier": dossier.code}


def test_a_dossier_of_one_commune_is_not_paid_by_a_notification_to_another(dossier, tule, yenhoa, client_for,
                                                                          in_commune):
    to_yenhoa = post(client_for, "yenhoa.localhost", body(dossier, yenhoa.code), payments.commune_secret(yenhoa))
    assert to_yenhoa.status_code == 200 and to_yenhoa.json()["status"] == "unmatched"
    with in_commune(tule):
        dossier.refresh_from_db()
        assert dossier.fee_paid_at is None and not Payment.objects.exists()
    with in_commune(yenhoa):
        assert not Payment.objects.exists() and BankNotification.objects.get().outcome == "unmatched"


def test_the_operator_prints_a_communes_secret_for_its_bank(db, tule, settings):
    settings.XASO_BANK_WEBHOOK_SECRET = MASTER
    out = io.StringIO()
    call_command("bank_webhook_secret", tule.code, stdout=out)
    text = out.getvalue()
    assert f"secret: {payments.commune_secret(tule)}" in text and MASTER not in text
    assert "/api/v1/onestop/bank-notifications/" in text and f'"commune": "{tule.code}"' in text
