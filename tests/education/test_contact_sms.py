"""A teacher's message reaches the (local, fake) SMS gateway through a real Celery worker: once to
each guardian of the class who receives messages, and to nobody else; the class's page then
counts the deliveries as sent.

The worker reads committed rows: the school, class, students and guardians are committed here and
removed afterwards (with their history rows), like the notification (``live_db``)."""
from __future__ import annotations

import datetime

import pytest

from tests.jobs.helpers import TULE_SCHEMA, wait_for


def test_a_landline_is_not_sent_an_sms(db, tule, in_commune, schoolyard, school_people):
    """The registry's rule: an SMS to a landline could never be delivered; the guardian is counted
    as one who cannot be reached by the chosen channel."""
    from education import contact
    from education.models import Guardian
    from notifications.models import Notification

    y = schoolyard
    with in_commune(tule):
        Guardian.objects.filter(student__in=y["students6"][1:]).update(phone="0216387654")
        found = contact.resolve_recipients(contact.guardians_for(y["class6a"]), by_sms=True, by_email=False)
        assert found.phones == ["0912000222"] and found.unreachable == 4
        message = contact.send_message(school_people["literature"], body="Họp phụ huynh", school_class=y["class6a"])
        assert message.recipients == 1
        assert Notification.objects.get(pk=message.notification_ids[0]).recipients == ["0912000222"]


@pytest.mark.celery
@pytest.mark.xdist_group("celery")
def test_a_class_message_reaches_each_guardian_once_through_the_worker(tule_live, worker, gateway, client_for):
    from django.db import connection
    from django_tenants.utils import schema_context, tenant_context

    from communes.models import Membership, Role, User
    from core import throttle
    from education import contact
    from education.models import (
        Enrolment, Guardian, Message, School, SchoolClass, SchoolLevel, SchoolYear, StaffMember, StaffPosition, Student,
    )
    from notifications.models import Notification
    from population.models import AccessLog, Household, Resident, Village

    teacher = User.objects.create_user("edu_sms_teacher", password="Mat-khau-2026!", full_name="Lò Thị Nhắn")
    Membership.objects.create(user=teacher, commune=tule_live, role=Role.SCHOOL_STAFF)
    made = []

    def keep(obj):
        made.append(obj)
        return obj

    try:
        with tenant_context(tule_live):
            village = keep(Village.objects.create(name="Bản Thử Tin Nhắn"))
            household = keep(Household.objects.create(code="SMS-TEST-1", village=village, address="Bản Thử Tin Nhắn"))
            year = SchoolYear.objects.filter(current=True).first() or keep(SchoolYear.objects.create(
                name="2098-2099", starts_on=datetime.date(2098, 9, 5), ends_on=datetime.date(2099, 5, 31)))
            school = keep(School.objects.create(name="Trường THCS Thử Tin Nhắn", short_name="THCS Thử",
                                                level=SchoolLevel.LOWER_SECONDARY))
            staff = keep(StaffMember.objects.create(school=school, user=teacher, full_name=teacher.full_name,
                                                    position=StaffPosition.TEACHER))
            school_class = keep(SchoolClass.objects.create(school=school, year=year, grade=7, name="7S",
                                                           homeroom_teacher=staff))
            other_class = keep(SchoolClass.objects.create(school=school, year=year, grade=7, name="7T"))
            phones = {}
            for n, (name, klass, phone, receives) in enumerate([
                ("Lò Văn Một", school_class, "0912888001", True), ("Lò Văn Hai", school_class, "0912888002", True),
                ("Lò Văn Ba", school_class, "0912888003", False), ("Lò Văn Bốn", other_class, "0912888004", True),
            ], start=1):
                resident = keep(Resident.objects.create(household=household, full_name=name, sex="male",
                                                        birth_date=datetime.date(2013, n, 1), relation="child",
                                                        ethnicity="03"))
                student = keep(Student.objects.create(resident=resident))
                keep(Enrolment.objects.create(student=student, school_class=klass, year=year, number=n,
                                              starts_on=year.starts_on))
                keep(Guardian.objects.create(student=student, full_name=f"Phụ huynh {name}", relation="father",
                                             phone=phone, receives_messages=receives))
                phones[name] = phone
            message = contact.send_message(teacher, body="Ngày mai lớp 7S lao động, các em mang theo chổi.",
                                           school_class=school_class)
            [notification] = Notification.objects.filter(pk__in=message.notification_ids)

        key = notification.idempotency_key
        wanted = {"0912888001", "0912888002"}
        wait_for(lambda: set(gateway.effects_for(key).values()) == wanted, timeout=60,
                 message="the class message's SMS at the gateway")

        def succeeded():
            with schema_context(TULE_SCHEMA):
                return Notification.objects.get(pk=notification.pk).state == "succeeded"

        wait_for(succeeded, timeout=30, message="the SMS job to succeed")
        effects = gateway.effects_for(key)
        assert sorted(effects.values()) == sorted(wanted)  # once each; the silent one and 7T's guardian: nothing
        assert all(gateway.effect_counts[k] == 1 for k in effects)
        with tenant_context(tule_live):
            counts = contact.delivery_counts([Message.objects.get(pk=message.pk)])[message.pk]
            assert (counts.sent, counts.failed, counts.waiting) == (2, 0, 0)
        page = client_for("tule.localhost", teacher).get(f"/schools/classes/{school_class.pk}/messages/")
        assert page.status_code == 200 and "2/2" in page.content.decode()
    finally:
        connection.set_schema_to_public()
        throttle.clear(contact.RATE_SCOPE, str(teacher.pk))
        with schema_context(TULE_SCHEMA):
            Message.objects.filter(school__name="Trường THCS Thử Tin Nhắn").delete()
            AccessLog.objects.filter(user_id=teacher.pk).delete()
            for obj in reversed(made):
                model = type(obj)
                model.objects.filter(pk=obj.pk).delete()
                history = getattr(model, "history", None)
                if history is not None:
                    history.filter(id=obj.pk).delete()
