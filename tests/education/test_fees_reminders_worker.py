"""The SMS reminder of a class's overdue invoices goes through the notification jobs and the real
worker to the SMS gateway: two accountants clicking at the same moment send one SMS to the
guardians' phones, and the invoices are reminded once (committed rows, cleaned up after)."""
from __future__ import annotations

import datetime
import threading

import pytest

from tests.jobs.helpers import TULE_SCHEMA, wait_for

PHONES = ("0987000661", "0987000662")


@pytest.fixture
def overdue_class(live_db):
    from django_tenants.utils import schema_context

    from communes.models import Commune, Membership, Role, User
    from education import fees
    from education.models import (
        Enrolment, FeeItem, FeeNotification, FeePayment, FeeReminder, Guardian, Invoice, School, SchoolClass,
        SchoolLevel, SchoolYear, Semester, Sequence, StaffMember, StaffPosition, Student,
    )
    from population.models import Household, Resident, Village

    tule = Commune.objects.get(schema_name=TULE_SCHEMA)
    accountant = User.objects.create_user("fees_live_accountant", password="Mat-khau-2026!", full_name="Vì Thị Thu")
    Membership.objects.create(user=accountant, commune=tule, role=Role.SCHOOL_STAFF)
    with schema_context(TULE_SCHEMA):
        village = Village.objects.create(name="Bản Nhắc Nộp")
        household = Household.objects.create(code="NN-LIVE-01", village=village, phone=PHONES[0])
        year = SchoolYear.objects.create(name="2026-2027", starts_on=datetime.date(2026, 9, 5),
                                         ends_on=datetime.date(2027, 5, 31))
        semester = Semester.objects.create(year=year, number=1, starts_on=datetime.date(2026, 9, 5),
                                           ends_on=datetime.date(2027, 1, 16))
        school = School.objects.create(name="Trường THCS Nhắc Nộp", level=SchoolLevel.LOWER_SECONDARY)
        StaffMember.objects.create(school=school, user=accountant, full_name="Vì Thị Thu",
                                   position=StaffPosition.ACCOUNTANT)
        school_class = SchoolClass.objects.create(school=school, year=year, grade=7, name="7N")
        for number, phone in enumerate(PHONES, start=1):
            child = Resident.objects.create(household=household, full_name=f"Lò Văn Nợ {number}",
                                            birth_date=datetime.date(2014, 2, number), sex="male", relation="child",
                                            ethnicity="01")
            student = Student.objects.create(resident=child)
            Enrolment.objects.create(student=student, school_class=school_class, year=year, number=number,
                                     starts_on=year.starts_on)
            Guardian.objects.create(student=student, full_name=f"Phụ huynh {number}", relation="father", phone=phone)
        item = FeeItem.objects.create(school=school, semester=semester, name="Đồng phục", amount=300_000,
                                      due_on=datetime.date(2026, 10, 1))
        item.classes.set([school_class])
        fees.issue_invoices(school, semester)
    try:
        yield {"school_class": school_class, "accountant": accountant, "commune": tule}
    finally:
        with schema_context(TULE_SCHEMA):
            FeeReminder.objects.all().delete()
            FeeNotification.objects.all().delete()
            FeePayment.objects.all().delete()
            Invoice.objects.all().delete()
            FeeItem.objects.all().delete()
            Guardian.objects.all().delete()
            Enrolment.objects.all().delete()
            Student.objects.all().delete()
            SchoolClass.objects.all().delete()
            StaffMember.objects.all().delete()
            School.objects.all().delete()
            Semester.objects.all().delete()
            SchoolYear.objects.all().delete()
            Sequence.objects.all().delete()
            Resident.objects.filter(household=household).delete()
            Household.objects.filter(pk=household.pk).delete()
            Village.objects.filter(pk=village.pk).delete()
            for model, pks in ((Household, [household.pk]), (Village, [village.pk])):
                history = getattr(model, "history", None)
                if history is not None:
                    history.model.objects.filter(id__in=pks).delete()


@pytest.mark.celery
@pytest.mark.xdist_group("celery")
def test_two_racing_clicks_send_one_reminder_through_the_worker(overdue_class, worker, gateway):
    from django.db import connection
    from django_tenants.utils import schema_context, tenant_context

    from education import fees
    from education.models import FeeReminder
    from notifications.models import Notification

    barrier = threading.Barrier(2)
    results, errors = [], []

    def click():
        try:
            with tenant_context(overdue_class["commune"]):  # the accountant's role is read in the commune
                barrier.wait(timeout=10)
                results.append(fees.remind_class(overdue_class["accountant"], overdue_class["school_class"]))
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
    assert sorted(r.invoices for r in results) == [0, 2]
    assert sorted(r.recent for r in results) == [0, 2]
    with schema_context(TULE_SCHEMA):
        reminders = list(FeeReminder.objects.all())
        assert len(reminders) == 2 and len({r.notification_id for r in reminders}) == 1
        job = Notification.objects.get(pk=reminders[0].notification_id)
        assert "7N" in job.message and sorted(job.recipients) == sorted(PHONES)

    def delivered():
        return len(gateway.effects_for(job.idempotency_key)) == 2

    wait_for(delivered, timeout=60, message="the reminders at the gateway")
    assert sorted(gateway.effects_for(job.idempotency_key).values()) == sorted(PHONES)
