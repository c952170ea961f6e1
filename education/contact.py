"""The contact book (sổ liên lạc): a teacher's messages to the guardians of a class or of one
student, sent by SMS and/or e-mail through the notification jobs, and what the parents' pages
read of them.

* ``send_message`` is the one write: it checks the writer (``permissions.may_write_to_class``),
  the text (at most ``MAX_LENGTH`` characters, so that an SMS stays within four segments once the
  school's short name is put in front) and the channels, finds the guardians who receive the
  book's messages and have a phone (SMS) or an e-mail, counts the message against the writer's
  hourly limit (``core.throttle``, in PostgreSQL) and writes the ``Message`` with one
  ``Notification`` per channel in one transaction: each guardian is one recipient, so the
  notification's ``Delivery`` rows say per guardian whether it was sent or failed.
* A message to one student is kept with the student's class too (``school_class``) so that the
  class's page lists it; "to the class" is a message without a student.
"""
from __future__ import annotations

import datetime
import math
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from core import throttle
from education import permissions
from education.models import Enrolment, Guardian, Message, SchoolClass, Student
from notifications.services import MAX_SMS_LENGTH  # what the notification jobs send as one SMS

MAX_LENGTH = 500
RATE_LIMIT = 20  # messages a writer may send in RATE_WINDOW
RATE_WINDOW = 3600
RATE_SCOPE = "education.contact.message"
FAILED_DAYS = 7

# The GSM 03.38 basic alphabet (and its extension, two units each): an SMS of these characters
# holds 160 of them (153 a segment when split); any other character (Vietnamese letters with
# diacritics) makes the whole SMS UCS-2: 70 characters (67 a segment).
_GSM = set("@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§"
           "¿abcdefghijklmnopqrstuvwxyzäöñüà")
_GSM_EXTENDED = set("^{}\\[~]|€")


def sms_segments(text: str) -> int:
    """How many SMS segments the text is sent in (0 for an empty text)."""
    if not text:
        return 0
    if all(ch in _GSM or ch in _GSM_EXTENDED for ch in text):
        units = sum(2 if ch in _GSM_EXTENDED else 1 for ch in text)
        return 1 if units <= 160 else math.ceil(units / 153)
    # UCS-2 counts UTF-16 code units (a character outside the BMP takes two).
    units = len(text.encode("utf-16-le")) // 2
    return 1 if units <= 70 else math.ceil(units / 67)


def full_text(school, body: str) -> str:
    """What the guardian reads: the school's short name, then the teacher's words."""
    return f"{school.short_name or school.name}: {body.strip()}"


# --- who reads and writes ------------------------------------------------------------------------

def may_read_class(user, school_class) -> bool:
    """The class's messages: those who may write to the class, and the school's managers."""
    return (permissions.may_write_to_class(user, school_class)
            or permissions.can(user, "school.manage", school_class.school_id))


def current_enrolment(student, school_class=None):
    queryset = Enrolment.objects.filter(student=student, status=Enrolment.Status.ACTIVE)
    if school_class is not None:
        queryset = queryset.filter(school_class=school_class)
    return queryset.select_related("school_class__school", "school_class__year").order_by(
        "-year__starts_on", "-pk").first()


def classes_for_writer(user):
    """The classes of the current (or latest) year of the user's schools that they may write to."""
    classes = (SchoolClass.objects.filter(school__in=permissions.schools_for(user), year__current=True)
               .select_related("school", "homeroom_teacher").order_by("school__name", "grade", "name"))
    return [c for c in classes if permissions.may_write_to_class(user, c)]


# --- recipients ----------------------------------------------------------------------------------

@dataclass
class Recipients:
    guardians: list = field(default_factory=list)  # the guardians written to (by any channel)
    phones: list = field(default_factory=list)
    emails: list = field(default_factory=list)
    unreachable: int = 0  # guardians who receive messages but have nothing for the chosen channels


def guardians_for(school_class=None, student=None):
    """Guardians who receive the book's messages: of the students studying in the class now, or
    of one student."""
    queryset = Guardian.objects.filter(receives_messages=True).select_related("student__resident")
    if student is not None:
        queryset = queryset.filter(student=student)
    else:
        queryset = queryset.filter(student__enrolments__school_class=school_class,
                                   student__enrolments__status=Enrolment.Status.ACTIVE)
    return queryset.order_by("student_id", "pk").distinct()


def resolve_recipients(guardians, *, by_sms: bool, by_email: bool) -> Recipients:
    from notifications.services import normalize_phone

    found = Recipients()
    for guardian in guardians:
        phone = normalize_phone(guardian.phone or "") if by_sms else None
        email = (guardian.email or "").strip().lower() if by_email else ""
        if not phone and not email:
            found.unreachable += 1
            continue
        found.guardians.append(guardian)
        if phone and phone not in found.phones:
            found.phones.append(phone)
        if email and email not in found.emails:
            found.emails.append(email)
    return found


# --- the one write -------------------------------------------------------------------------------

def _refuse(field_name: str, message: str):
    raise ValidationError({field_name: message})


def check_input(body: str, by_sms: bool, by_email: bool) -> str:
    body = (body or "").replace("\r\n", "\n").strip()
    errors = {}
    if not body:
        errors["body"] = _("Write the message.")
    elif len(body) > MAX_LENGTH:
        errors["body"] = _("A message can hold at most %(max)d characters (it has %(count)d).") % {
            "max": MAX_LENGTH, "count": len(body)}
    elif "\x00" in body:
        errors["body"] = _("The message holds a character that cannot be sent.")
    if not by_sms and not by_email:
        errors["channels"] = _("Choose SMS, e-mail or both.")
    if errors:
        raise ValidationError(errors)
    return body


def send_message(user, *, body: str, by_sms: bool = True, by_email: bool = False, school_class=None,
                 student=None) -> Message:
    """Write to the guardians of ``school_class`` or of ``student`` (a student of a class the user
    may write to). Raises ``PermissionDenied`` for a writer who may not, ``ValidationError`` with a
    Vietnamese message for bad input, no recipient or the hourly limit reached."""
    from notifications.models import Channel
    from notifications.services import create_notification

    if student is not None:
        enrolment = current_enrolment(student, school_class)
        if enrolment is None:
            if school_class is not None:
                _refuse("student", _("This student is not studying in this class."))
            _refuse("student", _("This student is not studying in a class this year."))
        school_class = enrolment.school_class
    if school_class is None:
        _refuse("school_class", _("Choose the class."))
    if not permissions.may_write_to_class(user, school_class):
        raise PermissionDenied
    body = check_input(body, by_sms, by_email)
    recipients = resolve_recipients(guardians_for(school_class, student), by_sms=by_sms, by_email=by_email)
    if not recipients.guardians:
        if student is not None:
            _refuse("body", _("No guardian of this student has a phone number or an e-mail address to write to "
                              "(or they asked not to receive messages)."))
        _refuse("body", _("No guardian of this class has a phone number or an e-mail address to write to "
                          "(or they asked not to receive messages)."))
    school = school_class.school
    text = full_text(school, body)
    if recipients.phones and len(text) > MAX_SMS_LENGTH:
        _refuse("body", _("With the school's name in front, the message is too long for an SMS: shorten it by "
                          "%(count)d characters.") % {"count": len(text) - MAX_SMS_LENGTH})
    decision = throttle.hit(RATE_SCOPE, str(user.pk), RATE_LIMIT, RATE_WINDOW)
    if not decision.allowed:
        minutes = max(1, math.ceil(decision.retry_after / 60))
        _refuse("body", _("You have sent %(limit)d messages in the last hour, the most allowed. Try again in "
                          "%(minutes)d minutes.") % {"limit": RATE_LIMIT, "minutes": minutes})
    sender = permissions.staff_member(user, school)
    try:
        with transaction.atomic():
            notification_ids = []
            if recipients.phones:
                notification_ids.append(create_notification(
                    channel=Channel.SMS, message=text, recipients=recipients.phones, user=user).pk)
            if recipients.emails:
                subject = _("Contact book of %(school)s") % {"school": school.short_name or school.name}
                notification_ids.append(create_notification(
                    channel=Channel.EMAIL, message=text, subject=subject, recipients=recipients.emails,
                    user=user).pk)
            return Message.objects.create(
                school=school, school_class=school_class, student=student, sender=sender, body=text,
                by_sms=bool(recipients.phones), by_email=bool(recipients.emails),
                recipients=len(recipients.guardians), notification_ids=notification_ids)
    except IntegrityError:
        _refuse("body", _("The message could not be saved. Try again."))


# --- reading -------------------------------------------------------------------------------------

@dataclass
class Counts:
    sent: int = 0
    failed: int = 0
    waiting: int = 0

    @property
    def total(self) -> int:
        return self.sent + self.failed + self.waiting


def _deliveries(messages):
    from notifications.models import Delivery, Notification

    ids = {pk for m in messages for pk in (m.notification_ids or []) if isinstance(pk, int)}
    rows = list(Delivery.objects.filter(notification_id__in=ids).values_list("notification_id", "recipient",
                                                                             "status"))
    sizes = dict((pk, len(r or [])) for pk, r in Notification.objects.filter(pk__in=ids)
                 .values_list("pk", "recipients"))
    return rows, sizes


def delivery_counts(messages) -> dict[int, Counts]:
    """Per message: deliveries sent, failed (or uncertain) and still waiting (including the
    recipients a job has not reached yet)."""
    from notifications.models import Delivery

    messages = list(messages)
    rows, sizes = _deliveries(messages)
    per_notification: dict[int, Counter] = defaultdict(Counter)
    for notification_id, _recipient, status in rows:
        per_notification[notification_id][status] += 1
    counts = {}
    for message in messages:
        total = Counts()
        for pk in message.notification_ids or []:
            seen = per_notification.get(pk, Counter())
            total.sent += seen[Delivery.Status.SENT]
            total.failed += seen[Delivery.Status.FAILED] + seen[Delivery.Status.UNCERTAIN]
            total.waiting += sizes.get(pk, 0) - seen[Delivery.Status.SENT] - seen[Delivery.Status.FAILED] \
                - seen[Delivery.Status.UNCERTAIN]
        counts[message.pk] = total
    return counts


def delivery_to(messages, guardians) -> dict[int, list[tuple]]:
    """Per message: for each of ``guardians``, the statuses of the deliveries to their phone and
    e-mail (labels; "waiting" while a job has not reached them; nothing when the message did not
    go to them)."""
    from notifications.models import Delivery, Notification
    from notifications.services import normalize_phone

    messages = list(messages)
    rows, _sizes = _deliveries(messages)
    by_notification: dict[int, dict] = defaultdict(dict)
    for notification_id, recipient, status in rows:
        by_notification[notification_id][recipient] = status
    lists = dict(Notification.objects.filter(
        pk__in={pk for m in messages for pk in (m.notification_ids or []) if isinstance(pk, int)})
        .values_list("pk", "recipients"))
    result = {}
    for message in messages:
        lines = []
        for guardian in guardians:
            addresses = {a for a in ((normalize_phone(guardian.phone or "") or ""),
                                     (guardian.email or "").lower()) if a}
            statuses = []
            for pk in message.notification_ids or []:
                for address in addresses:
                    if address in (lists.get(pk) or []):
                        status = by_notification.get(pk, {}).get(address, Delivery.Status.PENDING)
                        statuses.append(Delivery.Status(status).label)
            if statuses:
                lines.append((guardian, statuses))
        result[message.pk] = lines
    return result


def class_messages(school_class):
    """Every message of the class: to the class and to each of its students."""
    return (Message.objects.filter(school_class=school_class)
            .select_related("sender", "student__resident").order_by("-created_at", "-pk"))


def student_messages(student):
    """What a student's guardians were sent: the messages to the student, and those to the
    classes the student was studying in when they were sent."""
    enrolments = list(Enrolment.objects.filter(student=student).values_list("school_class_id", "starts_on",
                                                                               "ends_on"))
    to_class = Q()
    for class_id, starts_on, ends_on in enrolments:
        window = Q(school_class_id=class_id, student__isnull=True, created_at__date__gte=starts_on)
        if ends_on:
            window &= Q(created_at__date__lte=ends_on)
        to_class |= window
    condition = Q(student=student) | to_class if enrolments else Q(student=student)
    return Message.objects.filter(condition).select_related("sender", "school").order_by("-created_at", "-pk")


def failed_messages(user, *, days: int = FAILED_DAYS):
    """The messages ``user`` sent in the last ``days`` days with at least one failed delivery."""
    from notifications.models import Delivery

    since = timezone.now() - datetime.timedelta(days=days)
    mine = list(Message.objects.filter(sender__user_id=user.pk, created_at__gte=since)
                .values_list("pk", "notification_ids"))
    ids = {pk for _m, n in mine for pk in (n or []) if isinstance(pk, int)}
    failed = set(Delivery.objects.filter(notification_id__in=ids,
                                         status__in=[Delivery.Status.FAILED, Delivery.Status.UNCERTAIN])
                 .values_list("notification_id", flat=True).distinct())
    keep = [m for m, n in mine if set(n or []) & failed]
    return Message.objects.filter(pk__in=keep)


def sent_by(user):
    return (Message.objects.filter(sender__user_id=user.pk)
            .select_related("school_class", "student__resident", "school").order_by("-created_at", "-pk"))


def inbox_lines(request, user, roles) -> list:
    """For teachers (any school staff member with a staff row): their messages of the last seven
    days with deliveries that failed."""
    from django.urls import reverse

    from communes.modules import InboxLine, Severity

    if permissions.SCHOOL_STAFF not in roles or not permissions.staff_rows(user).exists():
        return []
    return [InboxLine("education.contact_failed", _("Your messages to parents with failed deliveries (last 7 days)"),
                      failed_messages(user).count(), f"{reverse('education:my_messages')}?failed=1",
                      Severity.DUE_SOON)]


def students_of(children):
    """The children with their current enrolment (class and school), for the parent's pages."""
    result = []
    for student in children.select_related("resident").order_by("resident__birth_date", "pk"):
        result.append((student, current_enrolment(student)))
    return result


def students_in(school_class):
    """The class's students studying now, in the order of the class list."""
    return list(Enrolment.objects.filter(school_class=school_class, status=Enrolment.Status.ACTIVE)
                .select_related("student__resident").order_by("number", "pk"))


def is_child_of(user, student: Student) -> bool:
    return permissions.children_of(user).filter(pk=student.pk).exists()
