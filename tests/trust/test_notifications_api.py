"""The notifications API shows what following a campaign needs, never a key: phones masked (their
last four digits are the status lookup's secret), no rating key in any message (the messages no
longer carry one, and links in older ones are shortened to their site), no personal message body
to supervisors; and a rating key, wherever it was read, rates no dossier sent online."""
from __future__ import annotations

import uuid

import pytest
from django.db import connection
from django.utils import timezone

from communes.models import Role
from notifications.models import Notification
from notifications.services import create_notification
from onestop import notify, services
from onestop.models import Dossier, DossierState, Rating
from tests.onestop.conftest import _media, in_tule, people, procedures  # noqa: F401  (fixtures)
from tests.onestop.helpers import PHONE, received_dossier
from tests.onestop.test_public_pages import online_dossier

URL = "/api/v1/notifications/"


def ready(dossier):
    Dossier.objects.filter(pk=dossier.pk).update(state=DossierState.RESULT_READY, completed_at=timezone.now())
    dossier.refresh_from_db()
    return dossier


@pytest.fixture
def online(procedures, people):
    return ready(online_dossier(people["citizen"], procedures["HT-01"], receive_by=people["onestop_officer"]))


@pytest.fixture
def at_desk(procedures, people):
    return ready(received_dossier(procedures["HT-02"], people["onestop_officer"]))


def test_messages_about_a_dossier_carry_no_rating_key(online, at_desk):
    for dossier in (online, at_desk):
        jobs = notify.result_ready(dossier)
        assert jobs and all(str(dossier.rating_token) not in job.message for job in jobs)
        assert all("/rate/" not in job.message for job in jobs)
    [sms] = [job for job in notify.result_ready(online) if job.channel == "sms"]
    assert f"/my/dossiers/{online.pk}/" in sms.message  # the citizen rates in their account


def test_the_api_masks_phones_and_shortens_links(online, tule, make_user, client_for, in_tule):
    notify.result_ready(online)
    key = uuid.uuid4()
    older = create_notification(  # a message as they were written before: a rating key in its link
        channel="sms", recipients=[PHONE], message=f"Danh gia: http://tule.localhost:8000/rate/{key}/ cam on",
    )
    sender = make_user("radio", roles={tule: [Role.RADIO_OPERATOR]})
    official = client_for("tule.localhost", sender, second_factor=True)
    response = official.get(URL)
    connection.set_tenant(in_tule)
    assert response.status_code == 200
    text = response.content.decode()
    assert PHONE not in text and PHONE[-4:] not in text and str(key) not in text
    assert str(online.rating_token) not in text and "/rate/" not in text
    rows = {row["id"]: row for row in response.json()["results"]}
    assert rows[older.pk]["message"] == "Danh gia: http://tule.localhost:8000/… cam on"
    assert rows[older.pk]["recipients"] == ["091*******"]
    assert any(r.startswith("n***@") for row in rows.values() for r in row["recipients"])


def test_supervisors_get_no_personal_message_and_no_phone(online, tule, make_user, client_for, in_tule):
    notify.result_ready(online)
    campaign = create_notification(channel="sms", recipients=[PHONE], message="Hop thon luc 8h")
    Notification.objects.filter(pk=campaign.pk).update(target="all_households")
    supervisor = make_user("province-reader", units=[tule.supervising_unit])
    response = client_for("localhost", supervisor).get(f"/api/v1/communes/{tule.code}/notifications/")
    connection.set_tenant(in_tule)
    assert response.status_code == 200
    text = response.content.decode()
    assert PHONE not in text and online.code not in text and str(online.rating_token) not in text
    rows = {row["id"]: row for row in response.json()["results"]}
    assert rows[campaign.pk]["message"] == "Hop thon luc 8h"
    assert all(row["message"] == "" for pk, row in rows.items() if pk != campaign.pk)


def test_a_rating_key_alone_does_not_rate_a_dossier_sent_online(online, people, client_for, in_tule):
    url = f"/rate/{online.rating_token}/"
    anonymous = client_for("tule.localhost")
    page = anonymous.get(url)
    assert page.status_code == 302 and "/login/" in page["Location"]
    assert anonymous.post(url, {"score": "1"}).status_code == 302
    forged = anonymous.post("/api/v1/onestop/ratings/", {"token": str(online.rating_token), "score": 1},
                            content_type="application/json")
    connection.set_tenant(in_tule)
    assert 400 <= forged.status_code < 500 and forged.json()["code"] == "login_required"
    official = client_for("tule.localhost", people["onestop_officer"])
    assert official.post(url, {"score": "1"}).status_code == 404
    connection.set_tenant(in_tule)
    assert not Rating.objects.exists()
    owner = client_for("tule.localhost", people["citizen"])
    assert owner.post(url, {"score": "3"}).status_code == 200
    connection.set_tenant(in_tule)
    assert Rating.objects.get(dossier=online).score == 3


def test_the_rating_service_binds_a_dossier_sent_online_to_its_citizen(online, people):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        services.rate(token=online.rating_token, score=1)
    with pytest.raises(ValidationError):
        services.rate(token=online.rating_token, score=1, user=people["onestop_officer"])
    assert services.rate(token=online.rating_token, score=2, user=people["citizen"]).score == 2


def test_keys_in_messages_sent_before_are_forgotten(in_tule):
    """The data migration cuts the rating keys out of the bodies stored before this change."""
    import importlib

    from django.apps import apps as global_apps

    migration = importlib.import_module("onestop.migrations.0003_forget_rating_keys_in_messages")
    key = uuid.uuid4()
    old = create_notification(channel="sms", recipients=[PHONE],
                              message=f"Ket qua san sang. Danh gia: http://tule.localhost/rate/{key}/")
    other = create_notification(channel="sms", recipients=[PHONE], message="Hop thon luc 8h")
    migration.forget_rating_keys(global_apps, None)
    old.refresh_from_db()
    other.refresh_from_db()
    assert old.message == "Ket qua san sang. Danh gia: http://tule.localhost/rate/…/" and str(key) not in old.message
    assert other.message == "Hop thon luc 8h"
