"""The contact book's demo: in each demo commune, a few messages of the last month to the
guardians of every class of the current year (from the homeroom teacher), one from each school's
principal, and messages to the demo citizen's own children (phone 0912345678, Tú Lệ), each with
its notification already sent: one SMS notification per message with the guardians' phones as
recipients and a delivery per guardian, a few of them failed (so that the principal's inbox line
shows something).

Written as the notification jobs leave them (succeeded, with their deliveries), with bulk_create:
a handful of queries per commune. Idempotent: a commune with messages in the current year is left
as it is."""
from __future__ import annotations

import datetime
import random
from collections import defaultdict

from django.db import transaction
from django.utils import timezone
from django_tenants.utils import tenant_context

from core.phones import normalize_mobile
from education.models import Enrolment, Guardian, Message, SchoolClass, SchoolYear, StaffMember, StaffPosition

CITIZEN_PHONE = "0912345678"
CLASS_TEXTS = [
    (21, "Kính gửi quý phụ huynh: thứ Bảy tuần này, 8 giờ sáng, lớp họp phụ huynh đầu học kỳ tại phòng học. "
         "Mong quý phụ huynh đến đúng giờ."),
    (12, "Nhà trường thông báo: học sinh nghỉ học chiều thứ Tư để giáo viên tập huấn chuyên môn."),
    (3, "Tuần sau lớp kiểm tra giữa kỳ các môn Toán và Ngữ văn. Đề nghị phụ huynh nhắc các em ôn bài."),
]
PRINCIPAL_TEXT = (2, "Nhà trường nhắc quý phụ huynh: đưa đón các em đúng giờ, không để các em tắm sông suối "
                     "trong mùa mưa lũ.")
CHILD_TEXTS = [
    (9, "Em đi học đầy đủ, tích cực phát biểu xây dựng bài. Cô chủ nhiệm khen em trong tuần qua."),
    (1, "Hôm nay em quên vở bài tập Toán. Đề nghị gia đình nhắc em chuẩn bị sách vở trước khi đến lớp."),
]
FAILED_SHARE = 0.03


def _when(now, days: int, rng) -> datetime.datetime:
    return now - datetime.timedelta(days=days, hours=rng.randrange(0, 6), minutes=rng.randrange(60))


def seed_commune(commune, rng) -> int:
    from notifications.models import Channel, Delivery, Notification, Target

    year = SchoolYear.objects.filter(current=True).first()
    if year is None or Message.objects.filter(school_class__year=year).exists():
        return 0
    classes = list(SchoolClass.objects.filter(year=year).select_related("school", "homeroom_teacher")
                   .order_by("school__name", "grade", "name"))
    if not classes:
        return 0
    phones_by_class: dict[int, list[str]] = defaultdict(list)
    phones_by_student: dict[int, list[str]] = defaultdict(list)
    class_of_student: dict[int, int] = {}
    rows = (Guardian.objects.filter(receives_messages=True, student__enrolments__school_class__in=classes,
                                    student__enrolments__status=Enrolment.Status.ACTIVE)
            .values_list("student__enrolments__school_class_id", "student_id", "phone"))
    for class_id, student_id, phone in rows:
        phone = normalize_mobile(phone or "")
        if not phone:
            continue
        if phone not in phones_by_class[class_id]:
            phones_by_class[class_id].append(phone)
        phones_by_student[student_id].append(phone)
        class_of_student[student_id] = class_id
    principals = {s.school_id: s for s in StaffMember.objects.filter(position=StaffPosition.PRINCIPAL, active=True)}
    now = timezone.now()
    plans = []  # (school_class, student_id, sender, text, phones, sent_at)
    seen_schools = set()
    for school_class in classes:
        phones = phones_by_class.get(school_class.pk)
        if not phones:
            continue
        prefix = f"{school_class.school.short_name or school_class.school.name}: "
        for days, text in CLASS_TEXTS:
            plans.append((school_class, None, school_class.homeroom_teacher, prefix + text, phones,
                          _when(now, days, rng)))
        principal = principals.get(school_class.school_id)
        if principal is not None and school_class.school_id not in seen_schools:
            seen_schools.add(school_class.school_id)
            days, text = PRINCIPAL_TEXT
            plans.append((school_class, None, principal, prefix + text, phones, _when(now, days, rng)))
    classes_by_id = {c.pk: c for c in classes}
    for student_id, phones in phones_by_student.items():
        if CITIZEN_PHONE not in phones:
            continue
        school_class = classes_by_id[class_of_student[student_id]]
        prefix = f"{school_class.school.short_name or school_class.school.name}: "
        for days, text in CHILD_TEXTS:
            plans.append((school_class, student_id, school_class.homeroom_teacher, prefix + text, sorted(set(phones)),
                          _when(now, days, rng)))
    if not plans:
        return 0
    with transaction.atomic():
        notifications = Notification.objects.bulk_create([
            Notification(channel=Channel.SMS, target=Target.LIST, recipients=phones, message=text,
                         state="succeeded", attempts=1, progress_percent=100,
                         created_by_id=getattr(sender, "user_id", None))
            for _c, _s, sender, text, phones, _at in plans])
        deliveries, messages = [], []
        principal_ids = {p.pk for p in principals.values()}
        for (school_class, student_id, sender, text, phones, at), notification in zip(plans, notifications):
            sent = 0
            for index, phone in enumerate(phones):
                # The principal's reminder of two days ago failed for one guardian: the inbox shows it.
                failed = (rng.random() < FAILED_SHARE) or (sender is not None and sender.pk in principal_ids
                                                            and index == 0)
                sent += 0 if failed else 1
                deliveries.append(Delivery(
                    notification=notification, index=index, recipient=phone,
                    status=Delivery.Status.FAILED if failed else Delivery.Status.SENT,
                    idempotency_key=f"{notification.idempotency_key}:{index}",
                    error="Thuê bao tạm thời không liên lạc được" if failed else "",
                    gateway_message_id="" if failed else f"demo-{notification.pk}-{index}", sending_at=at))
            notification.sent_count = sent
            notification.result = {"total": len(phones), "sent": sent, "failed": len(phones) - sent}
            notification.created_at = notification.started_at = at
            notification.finished_at = at + datetime.timedelta(seconds=len(phones))
            messages.append(Message(school=school_class.school, school_class=school_class, student_id=student_id,
                                    sender=sender, body=text, by_sms=True, recipients=len(phones),
                                    notification_ids=[notification.pk]))
        Delivery.objects.bulk_create(deliveries, batch_size=2000)
        Notification.objects.bulk_update(notifications, ["sent_count", "result", "created_at", "started_at",
                                                         "finished_at"], batch_size=500)
        made = Message.objects.bulk_create(messages)
        for message, plan in zip(made, plans):
            message.created_at = plan[5]
        Message.objects.bulk_update(made, ["created_at"], batch_size=500)
    return len(made)


def seed(context) -> None:
    for spec, commune in context.communes:
        rng = random.Random(f"education.contact:{commune.code}")
        with tenant_context(commune):
            count = seed_commune(commune, rng)
        if count:
            context.out(f"  {commune}: {count} contact book messages")
