"""The contact book's pages for school staff (``/schools/…``): the classes a teacher may write
to with the messages they sent (``?failed=1``: those with failed deliveries of the last seven
days, the inbox's line), a class's messages with their delivery counts and the form to write to
the class, and one student's contact book (what their guardians were sent, per guardian) with
the form to write to them. The rules are in ``education.contact``."""
from __future__ import annotations

from django import forms
from django.contrib import messages as flash
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from education import access, contact, permissions
from education.models import SchoolClass, Student

page_requires = permissions.page_requires


class MessageForm(forms.Form):
    body = forms.CharField(label=gettext_lazy("Message"), max_length=contact.MAX_LENGTH, required=False,
                           widget=forms.Textarea(attrs={"rows": 4, "maxlength": contact.MAX_LENGTH,
                                                        "data-sms-count": "1"}))
    by_sms = forms.BooleanField(label=gettext_lazy("By SMS"), required=False, initial=True)
    by_email = forms.BooleanField(label=gettext_lazy("By e-mail"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["body"].error_messages["max_length"] = gettext_lazy(
            "A message can hold at most %(limit_value)d characters (it has %(show_value)d).")


def _send(request, form, **target):
    """Send from a bound form; the form with the refusal's messages when refused."""
    if not form.is_valid():
        return None
    try:
        return contact.send_message(request.user, body=form.cleaned_data["body"], by_sms=form.cleaned_data["by_sms"],
                                    by_email=form.cleaned_data["by_email"], **target)
    except ValidationError as exc:
        for name, errors in exc.message_dict.items():
            for error in errors:
                form.add_error(name if name in form.fields else None, error)
    return None


def _sent_flash(request, message):
    flash.success(request, _("The message was sent to %(count)d guardians.") % {"count": message.recipients})


@page_requires("module.open")
def my_messages(request):
    failed_only = request.GET.get("failed") == "1"
    sent = contact.failed_messages(request.user) if failed_only else contact.sent_by(request.user)
    sent = list(sent.select_related("school_class", "student__resident", "school").order_by("-created_at", "-pk")[:200])
    for message in sent:
        if message.student_id:
            access.log_read(request.user, message.student, what="contact book message (sent list)")
    counts = contact.delivery_counts(sent)
    return render(request, "education/contact/my_messages.html", {
        "classes": contact.classes_for_writer(request.user), "rows": [(m, counts[m.pk]) for m in sent],
        "failed_only": failed_only,
    })


def _class_for(request, class_id) -> SchoolClass:
    school_class = get_object_or_404(SchoolClass.objects.select_related("school", "year", "homeroom_teacher"),
                                     pk=class_id)
    if not contact.may_read_class(request.user, school_class):
        raise PermissionDenied
    return school_class


@page_requires("module.open")
@require_http_methods(["GET", "POST"])
def class_messages(request, class_id):
    school_class = _class_for(request, class_id)
    may_write = permissions.may_write_to_class(request.user, school_class)
    form = MessageForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if not may_write:
            raise PermissionDenied
        message = _send(request, form, school_class=school_class)
        if message is not None:
            _sent_flash(request, message)
            return redirect("education:class_messages", class_id=school_class.pk)
        status = 400
    listed = list(contact.class_messages(school_class)[:200])
    access.log_class_read(request.user, school_class, what="contact book messages")
    counts = contact.delivery_counts(listed)
    students = contact.guardians_for(school_class)
    reachable = contact.resolve_recipients(students, by_sms=True, by_email=True)
    return render(request, "education/contact/class_messages.html", {
        "school_class": school_class, "rows": [(m, counts[m.pk]) for m in listed], "form": form,
        "may_write": may_write, "max_length": contact.MAX_LENGTH, "reachable": len(reachable.guardians),
        "unreachable": reachable.unreachable, "rate_limit": contact.RATE_LIMIT,
        "students": contact.students_in(school_class),
    }, status=status)


@page_requires("module.open")
@require_http_methods(["GET", "POST"])
def student_contact_book(request, student_id):
    student = get_object_or_404(Student.objects.select_related("resident"), pk=student_id)
    enrolment = contact.current_enrolment(student)
    if enrolment is None or not contact.may_read_class(request.user, enrolment.school_class):
        raise PermissionDenied
    school_class = enrolment.school_class
    may_write = permissions.may_write_to_class(request.user, school_class)
    form = MessageForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if not may_write:
            raise PermissionDenied
        message = _send(request, form, student=student, school_class=school_class)
        if message is not None:
            _sent_flash(request, message)
            return redirect("education:student_contact_book", student_id=student.pk)
        status = 400
    guardians = list(student.guardians.order_by("pk"))
    listed = list(contact.student_messages(student)[:200])
    access.log_read(request.user, student, what="contact book")
    per_guardian = contact.delivery_to(listed, guardians)
    counts = contact.delivery_counts(listed)
    rows = [(message, counts[message.pk], per_guardian[message.pk]) for message in listed]
    return render(request, "education/contact/student.html", {
        "student": student, "school_class": school_class, "guardians": guardians, "rows": rows, "form": form,
        "may_write": may_write, "max_length": contact.MAX_LENGTH,
    }, status=status)
