"""The links of a class's pages that the person may open (marks, attendance, timetable,
messages, report cards, fees), drawn at the top of the class page and the student page, so that
nobody needs to know an address. Each link is shown under the same check as its page."""
from __future__ import annotations

from django import template
from django.urls import reverse
from django.utils.translation import gettext as _

from education import permissions

register = template.Library()


def links_for(user, school_class) -> list[tuple[str, str]]:
    from education import contact

    school = school_class.school
    pk = school_class.pk
    links = []
    if permissions.can(user, "marks.read", school):
        links.append((_("Marks"), reverse("education:class_marks", args=[pk])))
    if permissions.can(user, "school.read", school):
        label = _("Take attendance") if permissions.may_take_attendance(user, school_class) else _("Attendance")
        links.append((label, reverse("education:attendance_today", args=[pk])))
        links.append((_("Attendance of the month"), reverse("education:attendance_month", args=[pk])))
        links.append((_("Timetable"), reverse("education:class_timetable", args=[pk])))
    if contact.may_read_class(user, school_class):
        links.append((_("Messages to the guardians"), reverse("education:class_messages", args=[pk])))
    if permissions.can(user, "reports.make", school):
        links.append((_("Report cards"), reverse("education:reports_class", args=[pk])))
    if permissions.can(user, "fees.read", school):
        links.append((_("Fees"), reverse("education:fee_class", args=[pk])))
    return links


@register.inclusion_tag("education/_class_links.html", takes_context=True)
def class_links(context, school_class):
    return {"links": links_for(context["request"].user, school_class), "school_class": school_class}


def student_links_for(user, enrolment) -> list[tuple[str, str]]:
    from education import contact

    links = []
    if contact.may_read_class(user, enrolment.school_class):
        links.append((_("Contact book"), reverse("education:student_contact_book", args=[enrolment.student_id])))
    if permissions.can(user, "reports.make", enrolment.school_class.school_id):
        links.append((_("Report card (PDF)"), reverse("education:reports_student", args=[enrolment.pk])))
    return links


@register.inclusion_tag("education/_class_links.html", takes_context=True)
def student_links(context, enrolment):
    """The pages of a student in their open enrolment (the contact book, the report card)."""
    return {"links": student_links_for(context["request"].user, enrolment), "school_class": enrolment.school_class}
