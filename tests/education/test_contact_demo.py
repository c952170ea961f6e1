"""The contact book's demo: messages to every class with guardians, one from the principal with a
failed delivery (the principal's inbox line), messages to the demo citizen's own child, each with
its sent notification and deliveries; a second run adds nothing."""
from __future__ import annotations

import random

import pytest

from education import contact, contact_demo

pytestmark = pytest.mark.django_db(transaction=False)


def test_the_demo_writes_messages_with_their_deliveries_once(tule, in_commune, schoolyard, school_people,
                                                             monkeypatch, rf):
    from communes.models import Role
    from education.models import Message
    from notifications.models import Delivery, Notification

    monkeypatch.setattr(contact_demo, "CITIZEN_PHONE", "0912000222")  # the fixtures' mother
    y = schoolyard
    with in_commune(tule):
        made = contact_demo.seed_commune(tule, random.Random(1))
        # 6A and 1A have guardians (6B has no student): three messages each, one from each
        # school's principal, and two to each of the mother's children.
        assert made == 3 * 2 + 2 + 2 * 2 == Message.objects.count()
        assert not Message.objects.filter(school_class=y["class6b"]).exists()
        an = y["students6"][0]
        to_an = Message.objects.filter(student=an)
        assert to_an.count() == 2 and all(m.body.startswith("THCS Tú Lệ: ") for m in to_an)
        assert {m.pk for m in contact.student_messages(an)} >= {m.pk for m in to_an}
        for message in Message.objects.all():
            [notification] = Notification.objects.filter(pk__in=message.notification_ids)
            assert notification.state == "succeeded" and notification.channel == "sms"
            assert Delivery.objects.filter(notification=notification).count() == len(notification.recipients) \
                == message.recipients
        class_message = Message.objects.filter(school_class=y["class6a"], student=None,
                                               sender=y["staff"]["literature"]).first()
        assert sorted(Notification.objects.get(pk=class_message.notification_ids[0]).recipients) == sorted(
            {g.phone for s in y["students6"] for g in s.guardians.all()})
        [line] = contact.inbox_lines(rf.get("/"), school_people["principal"], {Role.SCHOOL_STAFF})
        assert line.count == 1
        counts = contact.delivery_counts(Message.objects.all())
        assert all(c.waiting == 0 for c in counts.values())
        assert contact_demo.seed_commune(tule, random.Random(1)) == 0
        assert Message.objects.count() == made
