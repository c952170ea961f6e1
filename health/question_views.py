"""Ask the doctor: the residents' pages (``/ask-the-doctor/…``, namespace ``health_public``) and
the staff's (``/health/questions/…``, namespace ``health``).

* ``answers``: public, no login: the published questions in the staff's anonymised wording with
  their answers, searchable without accents, paginated, light for a phone on 3G;
  ``answer_detail``: one of them.
* ``ask`` (a logged-in account; limited per account) and ``my_questions`` (the asker's own).
* ``questions`` (waiting first) and ``question`` (answer, publish, decline): health staff; each
  read of a question by staff is logged.
"""
from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from communes.permissions import page_guard
from core.text import clean_text
from health import access, permissions, questions
from health.models import Question

page_requires = page_guard(permissions.require)
PAGE_SIZE = 10
MAX_ID = 2**63 - 1


def _errors_to_form(form, exc: ValidationError) -> None:
    for field, errors in exc.message_dict.items():
        form.add_error(field if field in form.fields else None, errors)


class AskForm(forms.Form):
    title = forms.CharField(label=gettext_lazy("Subject"), max_length=questions.MAX_TITLE)
    body = forms.CharField(label=gettext_lazy("Your question"), widget=forms.Textarea(attrs={"rows": 6}),
                           max_length=questions.MAX_BODY,
                           help_text=gettext_lazy("Describe the problem: since when, what you feel, your age. "
                                                  "The station answers within a few working days; in an "
                                                  "emergency, call 115 or come to the station."))
    wants_public = forms.BooleanField(
        label=gettext_lazy("The station may publish my question without my name, with its answer"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["title"].error_messages.update({"required": _("Write the subject of your question.")})
        self.fields["body"].error_messages.update({"required": _("Write your question.")})
        for name in ("title", "body"):
            self.fields[name].error_messages["max_length"] = _("At most %(limit_value)s characters.")


class AnswerForm(forms.Form):
    answer = forms.CharField(label=gettext_lazy("Answer"), widget=forms.Textarea(attrs={"rows": 8}),
                             max_length=questions.MAX_ANSWER)
    publish = forms.BooleanField(label=gettext_lazy("Publish it on the public page, anonymised"), required=False)
    public_title = forms.CharField(label=gettext_lazy("Published subject"), required=False,
                                   max_length=questions.MAX_TITLE)
    public_body = forms.CharField(label=gettext_lazy("Published question"), required=False,
                                  widget=forms.Textarea(attrs={"rows": 5}), max_length=questions.MAX_BODY,
                                  help_text=gettext_lazy("Rewrite the question without names, places, dates or "
                                                         "anything that would let someone recognise the asker."))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["answer"].error_messages["required"] = _("Write the answer.")


class DeclineForm(forms.Form):
    reason = forms.CharField(label=gettext_lazy("Why it is not answered here"), max_length=questions.MAX_REASON,
                             widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reason"].error_messages["required"] = _("Write why the question is not answered here.")


# --- residents' pages ---------------------------------------------------------------------------

def answers(request):
    query = clean_text(request.GET.get("q", "").replace("\x00", ""))[:100]
    page = Paginator(questions.published(query).only("pk", "public_title", "answered_at"), PAGE_SIZE).get_page(
        request.GET.get("page"))
    return render(request, "health/questions/answers.html", {"page": page, "query": query})


def answer_detail(request, pk: int):
    question = Question.objects.filter(pk=pk, state=Question.State.PUBLISHED).only(
        "pk", "public_title", "public_body", "answer", "answered_at", "answered_by_name").first() if pk <= MAX_ID else None
    if question is None:
        raise Http404
    return render(request, "health/questions/answer_detail.html", {"question": question})


def ask(request):
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    form = AskForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            question = questions.ask(request.user, form.cleaned_data["title"], form.cleaned_data["body"],
                                     form.cleaned_data["wants_public"])
        except ValidationError as exc:
            _errors_to_form(form, exc)
        else:
            return render(request, "health/questions/asked.html", {"question": question})
    return render(request, "health/questions/ask.html", {"form": form}, status=400 if form.errors else 200)


def my_questions(request):
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    page = Paginator(questions.questions_of(request.user), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "health/questions/mine.html", {"page": page})


# --- staff pages ----------------------------------------------------------------------------------

@page_requires("question.answer")
def question_list(request):
    state = request.GET.get("state", "")
    state = state if state in Question.State.values else ""
    page = Paginator(questions.staff_queue(state).only("pk", "title", "state", "created_at", "wants_public"),
                     25).get_page(request.GET.get("page"))
    waiting, oldest = questions.waiting_summary()
    access.log_read(request.user, None, what=f"questions to the doctor, page {page.number}")
    return render(request, "health/questions/staff_list.html", {
        "page": page, "state": state, "states": Question.State.choices, "waiting": waiting, "oldest": oldest})


@page_requires("question.answer")
def question_detail(request, pk: int):
    from communes.permissions import user_names

    question = Question.objects.filter(pk=pk).first() if pk <= MAX_ID else None
    if question is None:
        raise Http404
    answer_form = AnswerForm(initial={"answer": question.answer, "public_title": question.public_title,
                                      "public_body": question.public_body,
                                      "publish": question.state == Question.State.PUBLISHED})
    decline_form = DeclineForm()
    action = request.POST.get("action") if request.method == "POST" else None
    try:
        if action == "answer":
            answer_form = AnswerForm(request.POST)
            if answer_form.is_valid():
                data = answer_form.cleaned_data
                questions.answer(request.user, question, data["answer"], publish=data["publish"],
                                 public_title=data["public_title"], public_body=data["public_body"])
                messages.success(request, _("The answer was saved and the asker told."))
                return redirect(reverse("health:question", args=[question.pk]))
        elif action == "decline":
            decline_form = DeclineForm(request.POST)
            if decline_form.is_valid():
                questions.decline(request.user, question, decline_form.cleaned_data["reason"])
                messages.success(request, _("The question was declined and the asker told."))
                return redirect(reverse("health:question", args=[question.pk]))
        elif action == "unpublish":
            questions.unpublish(request.user, question)
            messages.success(request, _("The question is no longer on the public page."))
            return redirect(reverse("health:question", args=[question.pk]))
    except ValidationError as exc:
        _errors_to_form(decline_form if action == "decline" else answer_form, exc)
    access.log_read(request.user, None, what=f"question to the doctor {question.pk}")
    asker = user_names([question.asker_id]).get(question.asker_id, "") if question.asker_id else ""
    failed = bool(answer_form.errors or decline_form.errors)
    return render(request, "health/questions/staff_detail.html", {
        "question": question, "asker": asker, "answer_form": answer_form, "decline_form": decline_form,
    }, status=400 if failed else 200)
