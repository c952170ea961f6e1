"""The SMS that tells an asker their question was answered: none for an account without a mobile
phone; with a real Celery worker, it reaches the (local, fake) SMS gateway once, to the
account's phone, without the answer's text."""
from __future__ import annotations

import pytest

from tests.jobs.helpers import TULE_SCHEMA, wait_for


def test_an_account_without_a_mobile_phone_gets_no_sms(db, people, make_user, tule, in_commune):
    from health import questions
    from notifications.models import Notification

    landline = make_user("health_landline", phone="02163876543")
    with in_commune(tule):
        before = Notification.objects.count()
        for user in (landline, make_user("health_no_phone")):
            question = questions.ask(user, "Ho khan", "Tôi bị ho khan đã ba ngày.", False)
            questions.answer(people["nurse"], question, "Uống nhiều nước ấm.")
            assert question.__class__.objects.get(pk=question.pk).state == "answered"
        assert Notification.objects.count() == before


@pytest.mark.celery
@pytest.mark.xdist_group("celery")

def test_the_answer_s_sms_reaches_the_gateway(tule_live, worker, gateway):
    from django.db import connection
    from django_tenants.utils import schema_context, tenant_context

    from communes.models import Membership, Role, User
    from health import questions
    from health.models import Question
    from notifications.models import Notification

    # Committed rows (the worker reads them): the live_db fixture removes the users afterwards.
    asker = User.objects.create_user("health_sms_asker", password="Mat-khau-2026!", phone="0912777001")
    nurse = User.objects.create_user("health_sms_nurse", password="Mat-khau-2026!")
    Membership.objects.create(user=nurse, commune=tule_live, role=Role.HEALTH_STAFF)
    try:
        with tenant_context(tule_live):
            question = questions.ask(asker, "Đau bụng sau khi ăn", "Tôi hay đau bụng sau bữa trưa đã một tháng.", False)
            last = Notification.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
            questions.answer(nurse, question, "Anh nên đến trạm để khám và làm xét nghiệm.")
            job = Notification.objects.get(pk__gt=last)
        assert job.recipients == ["0912777001"] and "Anh nên đến trạm" not in job.message

        wait_for(lambda: gateway.effects_for(job.idempotency_key), timeout=60, message="the answer's SMS at the gateway")
        assert gateway.effects_for(job.idempotency_key) == {f"{job.idempotency_key}:0": "0912777001"}

        def succeeded():
            with schema_context(TULE_SCHEMA):
                return Notification.objects.get(pk=job.pk).state == "succeeded"

        wait_for(succeeded, timeout=30, message="the SMS job to succeed")
    finally:
        connection.set_schema_to_public()
        with schema_context(TULE_SCHEMA):
            Question.history.filter(asker_id=asker.pk).delete()
            Question.objects.filter(asker_id=asker.pk).delete()
