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


def test_the_demo_on_the_schools_demo_base_of_tule(tule, in_commune, make_user, client_for, rf):
    import time

    from communes.demo import DEMO_COMMUNES, DemoContext
    from communes.models import Role, User
    from education import permissions, structure_demo
    from education.models import Message, SchoolClass
    from notifications.models import Delivery
    from population.demo import populate

    spec = next(s for s in DEMO_COMMUNES if s.slug == "tule")
    populate(tule, villages=spec.villages, households=120, seed=4630)
    make_user("tule.school_staff", roles={tule: [Role.SCHOOL_STAFF]}, full_name="Lò Văn Thành")
    citizen = make_user("congdan", full_name="Hoàng Văn Nam", phone="0912345678")
    printed: list[str] = []
    context = DemoContext(communes=[(spec, tule)], citizen=citizen, households=120, pin="000000", out=printed.append)
    structure_demo.seed(context)
    started = time.perf_counter()
    contact_demo.seed(context)
    seconds = time.perf_counter() - started
    print(f"contact book demo for Tú Lệ: {seconds:.2f} s")
    assert seconds < 3, seconds
    assert any("contact book messages" in line for line in printed)
    with in_commune(tule):
        classes = SchoolClass.objects.filter(year__current=True)
        with_guardians = [c for c in classes if contact.guardians_for(c).exists()]
        assert with_guardians
        for school_class in with_guardians:
            assert Message.objects.filter(school_class=school_class, student=None,
                                          sender=school_class.homeroom_teacher).count() == 3
        children = list(permissions.children_of(citizen))
        assert len(children) == 2
        for child in children:
            assert Message.objects.filter(student=child).count() == 2
        total = Message.objects.count()
        assert Delivery.objects.filter(status="failed").exists()
        principal = User.objects.get(username="tule.school_staff")
        [line] = contact.inbox_lines(rf.get("/"), principal, {Role.SCHOOL_STAFF})
        assert line.count == 1
    contact_demo.seed(context)
    with in_commune(tule):
        assert Message.objects.count() == total
    page = client_for("tule.localhost", citizen).get(f"/my-children/{children[0].pk}/").content.decode()
    assert "Em đi học đầy đủ" in page and "họp phụ huynh đầu học kỳ" in page
