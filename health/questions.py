"""Ask the doctor (hỏi đáp với bác sĩ): a resident with a citizen account asks the station a
question, privately or offering it for publication without their name; health staff answer, and
may publish a question whose asker allowed it, in their own anonymised wording
(``public_title``, ``public_body``) with the answer. The public page shows only that wording and
the answer: never the asker, never the asker's own words, never a private question.

A private question is read by the health staff and its asker only; each read by staff is logged
(``health.access``). When a question is answered (or declined), the asker gets a notification
by SMS through the notification jobs when their account has a mobile phone; the message carries
a link to their own questions' page on the commune's configured address, never the answer.

The writers here are the only ones; each runs in one transaction.
"""
from __future__ import annotations

import logging

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import NoReverseMatch, reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from core import throttle
from core.text import clean_text, fold
from health import permissions
from health.models import Question

logger = logging.getLogger(__name__)

MAX_TITLE = 200
MIN_BODY = 10
MAX_BODY = 3000
MAX_ANSWER = 5000
MAX_REASON = 500
ASK_SCOPE = "health.ask"
ASK_RATE_SETTING = "XASO_HEALTH_ASK_RATE"
DEFAULT_ASK_RATE = "5/day"
SEARCH_WORDS = 8

State = Question.State


def ask_rate() -> str:
    return str(getattr(settings, ASK_RATE_SETTING, DEFAULT_ASK_RATE))


def _text(value) -> str:
    """NFC and trimmed, keeping the line breaks of a long text."""
    lines = [clean_text(line) for line in str(value or "").replace("\r\n", "\n").split("\n")]
    text = "\n".join(lines).strip()
    while "\n\n\n" in text:
        text = text.replace("\n\n\n", "\n\n")
    return text


def _search_text(question: Question) -> str:
    return fold(f"{question.public_title} {question.public_body} {question.answer}")


def check_question(title, body) -> dict:
    errors = {}
    title, body = clean_text(title), _text(body)
    if not title:
        errors["title"] = _("Write the subject of your question.")
    elif len(title) > MAX_TITLE:
        errors["title"] = _("At most %(count)s characters.") % {"count": MAX_TITLE}
    if len(body) < MIN_BODY:
        errors["body"] = _("Write your question (at least %(count)s characters).") % {"count": MIN_BODY}
    elif len(body) > MAX_BODY:
        errors["body"] = _("At most %(count)s characters.") % {"count": MAX_BODY}
    if errors:
        raise ValidationError(errors)
    return {"title": title, "body": body}


def ask(user, title, body, wants_public: bool) -> Question:
    """A logged-in citizen's question; counted against the account's limit (``XASO_HEALTH_ASK_RATE``)
    only once it is valid, so that a typing mistake costs nothing."""
    if not getattr(user, "is_authenticated", False):
        raise ValidationError({"__all__": _("Log in to ask a question.")}, code="login")
    fields = check_question(title, body)
    decision = throttle.check(ASK_SCOPE, str(user.pk), ask_rate())
    if not decision.allowed:
        raise ValidationError({"__all__": throttle.refusal_message(decision)}, code="throttled")
    with transaction.atomic():
        return Question.objects.create(asker=user, wants_public=bool(wants_public), **fields)


def questions_of(user):
    """The asker's own questions, newest first."""
    if not getattr(user, "is_authenticated", False):
        return Question.objects.none()
    return Question.objects.filter(asker_id=user.pk).order_by("-created_at", "-pk")


def staff_queue(state: str = ""):
    """For the staff: waiting questions first (the oldest first), then the others, newest first."""
    from django.db.models import Case, IntegerField, Value, When

    rows = Question.objects.all()
    if state in State.values:
        rows = rows.filter(state=state)
    return rows.annotate(waiting=Case(When(state=State.WAITING, then=Value(0)), default=Value(1),
                                      output_field=IntegerField())).order_by("waiting", "created_at", "pk")


def published(query: str = ""):
    """The published questions, newest answer first, whose wording and answer hold the words
    typed (accents ignored)."""
    rows = Question.objects.filter(state=State.PUBLISHED)
    for word in fold(query or "").split()[:SEARCH_WORDS]:
        rows = rows.filter(search_text__contains=word)
    return rows.order_by("-answered_at", "-pk")


def _lock(question: Question) -> Question:
    return Question.objects.select_for_update().get(pk=question.pk)


def answer(user, question: Question, text, *, publish: bool = False, public_title="", public_body="") -> Question:
    """Answer a question (or change the answer); publish it, in the staff's anonymised wording,
    only when its asker allowed it."""
    permissions.require(user, "question.answer")
    text, public_title, public_body = _text(text), clean_text(public_title), _text(public_body)
    errors = {}
    if not text:
        errors["answer"] = _("Write the answer.")
    elif len(text) > MAX_ANSWER:
        errors["answer"] = _("At most %(count)s characters.") % {"count": MAX_ANSWER}
    with transaction.atomic():
        question = _lock(question)
        if question.state == State.DECLINED:
            errors["__all__"] = _("This question was declined: it cannot be answered any more.")
        if publish:
            if not question.wants_public:
                errors["publish"] = _("The asker did not allow this question to be published.")
            if not public_title:
                errors["public_title"] = _("Write the published subject, without anything that names the asker.")
            elif len(public_title) > MAX_TITLE:
                errors["public_title"] = _("At most %(count)s characters.") % {"count": MAX_TITLE}
            if len(public_body) < MIN_BODY:
                errors["public_body"] = _("Write the published question, without anything that names the asker.")
            elif len(public_body) > MAX_BODY:
                errors["public_body"] = _("At most %(count)s characters.") % {"count": MAX_BODY}
        if errors:
            raise ValidationError(errors)
        first_answer = question.state == State.WAITING
        question.answer = text
        question.answered_by = user
        question.answered_by_name = clean_text(getattr(user, "full_name", "") or user.get_username())[:150]
        question.answered_at = timezone.now()
        question.state = State.PUBLISHED if publish else State.ANSWERED
        question.public_title = public_title if publish else ""
        question.public_body = public_body if publish else ""
        question.search_text = _search_text(question) if publish else ""
        question.save()
        if first_answer:
            notify_asker(question)
        return question


def decline(user, question: Question, reason) -> Question:
    """Decline a waiting question with a reason the asker reads (e.g. it needs an examination)."""
    permissions.require(user, "question.answer")
    reason = _text(reason)
    errors = {}
    if not reason:
        errors["reason"] = _("Write why the question is not answered here.")
    elif len(reason) > MAX_REASON:
        errors["reason"] = _("At most %(count)s characters.") % {"count": MAX_REASON}
    with transaction.atomic():
        question = _lock(question)
        if question.state != State.WAITING:
            errors["__all__"] = _("Only a question waiting for an answer can be declined.")
        if errors:
            raise ValidationError(errors)
        question.state = State.DECLINED
        question.answer = reason
        question.answered_by = user
        question.answered_by_name = clean_text(getattr(user, "full_name", "") or user.get_username())[:150]
        question.answered_at = timezone.now()
        question.public_title = question.public_body = question.search_text = ""
        question.save()
        notify_asker(question)
        return question


def unpublish(user, question: Question) -> Question:
    permissions.require(user, "question.answer")
    with transaction.atomic():
        question = _lock(question)
        if question.state == State.PUBLISHED:
            question.state = State.ANSWERED
            question.public_title = question.public_body = question.search_text = ""
            question.save()
        return question


def my_questions_url() -> str:
    from core.links import commune_base_url

    try:
        path = reverse("health_public:my_questions", urlconf="config.urls_tenant")
    except NoReverseMatch:
        return ""
    return f"{commune_base_url()}{path}"


def notify_asker(question: Question) -> None:
    """An SMS to the asker that their question has an answer (the answer itself stays on the
    page behind their login), when the account has a mobile phone. Written in the caller's
    transaction: a rolled-back answer sends nothing."""
    from django.contrib.auth import get_user_model

    from notifications.models import Channel
    from notifications.services import create_notification, normalize_phone

    asker = get_user_model().objects.filter(pk=question.asker_id, is_active=True).first()
    phone = normalize_phone(getattr(asker, "phone", "") or "") if asker else None
    if not phone:
        return
    with translation.override(settings.LANGUAGE_CODE):
        if question.state == State.DECLINED:
            text = _("The health station replied to your question \"%(title)s\". Read it at %(url)s")
        else:
            text = _("The health station answered your question \"%(title)s\". Read it at %(url)s")
        title = question.title if len(question.title) <= 60 else question.title[:59].rstrip() + "…"
        message = text % {"title": title, "url": my_questions_url()}
    try:
        create_notification(channel=Channel.SMS, message=message, recipients=[phone])
    except ValidationError as exc:
        logger.warning("Question %s: SMS not sent: %s", question.pk, exc)


def waiting_summary() -> tuple[int, object]:
    """How many questions wait, and when the oldest was asked."""
    from django.db.models import Count, Min

    row = Question.objects.filter(state=State.WAITING).aggregate(count=Count("pk"), oldest=Min("created_at"))
    return row["count"], row["oldest"]



def inbox_lines(request, user, roles) -> list:
    """The staff's line of the to-do inbox: the questions waiting for an answer, with the oldest's
    age (due soon after two days, overdue after five)."""
    from django.urls import reverse

    from communes.modules import InboxLine, Severity

    if not permissions.can(user, "question.answer"):
        return []
    count, oldest = waiting_summary()
    if not count:
        return []
    days = (timezone.now() - oldest).days
    severity = Severity.OVERDUE if days >= 5 else Severity.DUE_SOON if days >= 2 else Severity.NORMAL
    label = _("Questions to the doctor waiting for an answer (the oldest asked %(days)s days ago)") % {"days": days}
    return [InboxLine("health.questions_waiting", label, count, f"{reverse('health:questions')}?state=waiting",
                      severity, module="health")]
