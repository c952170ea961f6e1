"""SMS reminders of the doses due in a month: one SMS per household, in Vietnamese (NFC), with the
link from the commune's configured address; never twice for the same dose and month, not on a
second click nor when two clicks race; with a real Celery worker the SMS reaches the (local)
gateway once."""
from __future__ import annotations

import datetime
import threading
import unicodedata

import pytest

from tests.jobs.helpers import TULE_SCHEMA, wait_for

D = datetime.date
DECEMBER = D(2026, 12, 1)


def last_notification() -> int:
    from notifications.models import Notification

    return Notification.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


@pytest.mark.django_db
def test_one_sms_per_household_once_a_month(station, tule, in_commune, people, settings):
    from health import vaccination
    from health.models import HealthRecord, VaccinationReminder
    from notifications.models import Notification
    from population import services
    from population.models import Household, Resident

    settings.XASO_PUBLIC_SCHEME = "https"
    with in_commune(tule):
        # A second child of the same household, born 10/12/2025, nothing recorded: JE dose 1 due
        # on 10/12/2026; the infant doses still possible before the first birthday (09/12/2026 is
        # the last day) are overdue: BCG, 5-in-1 and polio dose 1, IPV; measles (9 months,
        # 10/09/2026, until 2 years) overdue. The baby: BCG, 5-in-1 1, polio 1, IPV overdue.
        twin = services.save_resident(Resident(
            household=station["household"], full_name="Lò Thị Hoa", birth_date=D(2025, 12, 10), sex="female",
            relation="grandchild", ethnicity="01"))
        HealthRecord.objects.create(resident=twin, opened_on=D(2026, 1, 5))
        start = last_notification()
        result = vaccination.send_reminders(DECEMBER, user=people["nurse"])
        made = list(Notification.objects.filter(pk__gt=start))
        assert (result.households, len(made)) == (1, 1)
        sms = made[0]
        assert sms.channel == "sms" and sms.recipients == ["0912000111"]
        assert sms.message == unicodedata.normalize("NFC", sms.message)
        assert sms.message.startswith("Trạm Y tế Tú Lệ: lịch tiêm chủng tháng 12/2026 cho")
        assert "Lò Văn Bé: Lao (BCG), DPT-VGB-Hib (5 trong 1) mũi 1, Bại liệt uống (bOPV) mũi 1, Bại liệt tiêm (IPV)" \
            in sms.message
        assert ("Lò Thị Hoa: Lao (BCG), DPT-VGB-Hib (5 trong 1) mũi 1, Bại liệt uống (bOPV) mũi 1, Bại liệt tiêm "
                "(IPV), Sởi, Viêm não Nhật Bản mũi 1") in sms.message
        assert "https://tule.localhost/" in sms.message
        reminders = VaccinationReminder.objects.filter(month=DECEMBER)
        assert reminders.count() == result.doses == 10
        assert set(reminders.values_list("notification_id", flat=True)) == {sms.pk}

        again = vaccination.send_reminders(DECEMBER, user=people["nurse"])
        assert (again.households, again.doses, again.already) == (0, 0, 10)
        assert last_notification() == sms.pk

        # A household whose phone is a landline gets nothing, and nothing is written for it.
        Household.objects.filter(pk=station["household"].pk).update(phone="0216387123")
        assert vaccination.send_reminders(D(2027, 1, 1)).no_phone == 1
        assert not VaccinationReminder.objects.filter(month=D(2027, 1, 1)).exists()


@pytest.mark.django_db
def test_the_button_on_the_due_list(station, tule, in_commune, people, client_for):
    from health.models import VaccinationReminder

    client = client_for("tule.localhost", people["nurse"])
    first = client.post("/health/vaccinations/due/remind/", {"month": "2026-12"}, follow=True)
    assert "1 tin nhắn đã gửi đến các hộ cho 4 mũi tiêm." in first.content.decode()
    second = client.post("/health/vaccinations/due/remind/", {"month": "2026-12"}, follow=True)
    assert "Không có lời nhắc mới" in second.content.decode()
    with in_commune(tule):
        assert VaccinationReminder.objects.count() == 4


@pytest.fixture
def committed_child(live_db):
    """In Tú Lệ, committed: a village, a household with a mobile phone, a child born 04/10/2026
    with a record and the birth dose and BCG (December 2026: 5-in-1 and polio dose 1 due)."""
    from django_tenants.utils import schema_context

    from health.models import HealthRecord, Vaccination, VaccinationReminder
    from population.models import Household, Resident, Village

    with schema_context(TULE_SCHEMA):
        village = Village.objects.create(name="Bản Nhắc Tiêm")
        household = Household.objects.create(code="NT-LIVE-01", village=village, phone="0987000555")
        child = Resident.objects.create(household=household, full_name="Hà Văn Tiêm", birth_date=D(2026, 10, 4),
                                        sex="male", relation="head", ethnicity="01")
        record = HealthRecord.objects.create(resident=child, opened_on=D(2026, 10, 5))
        Vaccination.objects.create(record=record, vaccine="VGB_SS", dose=1, given_on=D(2026, 10, 4))
        Vaccination.objects.create(record=record, vaccine="BCG", dose=1, given_on=D(2026, 10, 15))
    try:
        yield {"village": village, "record": record}
    finally:
        with schema_context(TULE_SCHEMA):
            VaccinationReminder.objects.filter(record=record).delete()
            Vaccination.objects.filter(record=record).delete()
            Vaccination.history.model.objects.filter(record_id=record.pk).delete()
            HealthRecord.objects.filter(pk=record.pk).delete()
            HealthRecord.history.model.objects.filter(id=record.pk).delete()
            Resident.objects.filter(pk=child.pk).delete()
            Household.objects.filter(pk=household.pk).delete()
            Village.objects.filter(pk=village.pk).delete()
            for model, pk in ((Resident, child.pk), (Household, household.pk), (Village, village.pk)):
                history = getattr(model, "history", None)
                if history is not None:
                    history.model.objects.filter(id=pk).delete()


@pytest.mark.celery
@pytest.mark.xdist_group("celery")
def test_two_racing_clicks_send_one_sms_through_the_worker(committed_child, worker, gateway):
    from django.db import connection
    from django_tenants.utils import schema_context

    from health import vaccination
    from health.models import VaccinationReminder
    from notifications.models import Notification

    village_id = committed_child["village"].pk
    barrier = threading.Barrier(2)
    results, errors = [], []

    def click():
        try:
            with schema_context(TULE_SCHEMA):
                barrier.wait(timeout=10)
                results.append(vaccination.send_reminders(DECEMBER, village_id=village_id))
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=click) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    assert sorted(r.households for r in results) == [0, 1]
    with schema_context(TULE_SCHEMA):
        reminders = list(VaccinationReminder.objects.filter(record=committed_child["record"]))
        assert sorted((r.vaccine, r.dose) for r in reminders) == [("DPT_VGB_HIB", 1), ("OPV", 1)]
        job = Notification.objects.get(pk=reminders[0].notification_id)
        assert "Hà Văn Tiêm" in job.message

    wait_for(lambda: gateway.effects_for(job.idempotency_key), timeout=60, message="the reminder at the gateway")
    assert gateway.effects_for(job.idempotency_key) == {f"{job.idempotency_key}:0": "0987000555"}

    def succeeded():
        with schema_context(TULE_SCHEMA):
            return Notification.objects.get(pk=job.pk).state == "succeeded"

    wait_for(succeeded, timeout=30, message="the job to succeed")
    assert [r for r in gateway.requests if r[2] == "0987000555"].__len__() == 1


@pytest.mark.django_db
def test_the_monthly_beat_sends_in_every_commune(station, tule, in_commune, settings):
    from config.celery import app
    from health import vaccination
    from health.models import VaccinationReminder

    entry = settings.CELERY_BEAT_SCHEDULE["health-vaccination-reminders"]
    assert entry["task"] == "health.send_vaccination_reminders" and entry["schedule"].day_of_month == {1}
    app.loader.import_default_modules()
    assert "health.send_vaccination_reminders" in app.tasks
    totals = vaccination.send_all_communes(DECEMBER)
    assert totals["households"] >= 1 and totals["communes"] >= 3
    with in_commune(tule):
        assert VaccinationReminder.objects.filter(month=DECEMBER).count() == 4
    assert vaccination.send_all_communes(DECEMBER)["doses"] == 0  # a second run sends nothing new
