"""The parent's pages on the commune's host (``/my-children/…``), made for a phone, in the
citizens' layout: a citizen whose account's phone is a guardian's (``permissions.children_of``)
reads their children's current class, marks as they are entered, results once the school has
locked the semester, attendance, the class's timetable and the contact book's messages. Every
read is logged (``education.access``); a child of another family is a 404."""
from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render
from django.views.decorators.cache import never_cache

from education import access, contact, contact_parents as parent_data, permissions


@never_cache
@login_required
def my_children(request):
    children = contact.students_of(permissions.children_of(request.user))
    for student, _enrolment in children:
        access.log_read(request.user, student, what="child in the parent's list")
    return render(request, "education/parents/my_children.html", {
        "children": children, "phone": parent_data.account_phone(request.user)})


@never_cache
@login_required
def child(request, pk):
    student = permissions.children_of(request.user).filter(pk=pk).select_related("resident").first()
    if student is None:
        raise Http404
    access.log_read(request.user, student, what="marks, results, attendance, timetable and messages (parent)")
    return render(request, "education/parents/child.html", parent_data.child_page(student))
