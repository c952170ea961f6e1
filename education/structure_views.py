"""The schools' structure pages for their staff (``/schools/…``): the school year, a school's
classes and staff, teaching assignments, a class's students and their import from .xlsx, a
student's page with guardians, and the enrolment changes (transfer out and in, another class,
promotion or repetition at the year's end).

Thin views: every page takes the school from the object it shows and checks
``permissions.can(user, action, school)``; staff of another school, the leaders (aggregates
only), other officials and citizens get 403. Reads of students' data are logged
(``education.access``); the rules are in ``education.structure``.
"""
from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from core import xlsx
from core.phones import mask_phone
from education import access, permissions, structure, structure_import
from education.models import Enrolment, Guardian, School, SchoolClass, SchoolYear, StaffMember, Student, StudentImport
from education.structure_forms import (
    ClassForm, ClassYearEndForm, EnrolForm, GuardianForm, ImportChoiceForm, ImportForm, MoveForm, SearchForm, SemestersForm,
    StaffAddForm, StaffEditForm, TransferOutForm, YearEndForm, YearForm, apply_refusal,
)
from population.models import Resident

page_requires = permissions.page_requires
P = permissions.P
FULL_PHONES = permissions.MANAGERS | permissions.TEACHING


def _check(user, action: str, school) -> None:
    if not permissions.can(user, action, school):
        raise PermissionDenied


def _class(pk, action="school.read", user=None) -> SchoolClass:
    school_class = get_object_or_404(SchoolClass.objects.select_related("school", "year", "homeroom_teacher"), pk=pk)
    _check(user, action, school_class.school)
    return school_class


def _enrolment(request, pk, action="school.manage") -> Enrolment:
    enrolment = get_object_or_404(Enrolment.objects.select_related(
        "student", "student__resident", "school_class", "school_class__school", "year"), pk=pk)
    _check(request.user, action, enrolment.school_class.school)
    return enrolment


def _shows_full_phones(user, school) -> bool:
    return bool(permissions.positions_in(user, school) & FULL_PHONES)


def _managed_schools(user):
    return [s for s in permissions.schools_for(user) if permissions.can(user, "school.manage", s)]


# --- the school year -------------------------------------------------------------------------------

@page_requires("module.open")
@require_http_methods(["GET", "POST"])
def year(request):
    """Open the next school year (when none is current), and the semesters' dates (principals,
    before marks exist)."""
    managed = _managed_schools(request.user)
    if not managed:
        raise PermissionDenied
    principal = any(permissions.can(request.user, "marks.lock", s) for s in managed)
    current = structure.current_year()
    year_form = YearForm(request.POST if request.POST.get("open") else None, initial={
        "name": structure.next_year_name(), "starts_on": None})
    dates_form = None
    if current is not None:
        semesters = {s.number: s for s in current.semesters.all()}
        initial = {}
        for number in (1, 2):
            if number in semesters:
                initial[f"s{number}_start"] = semesters[number].starts_on
                initial[f"s{number}_end"] = semesters[number].ends_on
        dates_form = SemestersForm(request.POST if request.POST.get("dates") else None, initial=initial)
    if request.method == "POST" and request.POST.get("open") and current is None and year_form.is_valid():
        try:
            opened = structure.open_year(year_form.cleaned_data["name"], year_form.cleaned_data["starts_on"])
        except ValidationError as exc:
            apply_refusal(year_form, exc)
        else:
            messages.success(request, _("The school year %(name)s is open.") % {"name": opened.name})
            return redirect("education:year")
    if request.method == "POST" and request.POST.get("dates") and dates_form is not None:
        if not principal:
            raise PermissionDenied
        if dates_form.is_valid():
            d = dates_form.cleaned_data
            try:
                structure.edit_semesters(current, {1: (d["s1_start"], d["s1_end"]), 2: (d["s2_start"], d["s2_end"])})
            except ValidationError as exc:
                apply_refusal(dates_form, exc)
            else:
                messages.success(request, _("The semesters' dates were saved."))
                return redirect("education:year")
    status = 400 if request.method == "POST" else 200
    return render(request, "education/structure/year.html", {
        "current": current, "years": SchoolYear.objects.prefetch_related("semesters"), "year_form": year_form,
        "dates_form": dates_form, "principal": principal,
        "has_marks": bool(current and structure.year_has_marks(current))}, status=status)


# --- a school ------------------------------------------------------------------------------------------

@page_requires("module.open")
def school(request, school_id):
    school = get_object_or_404(School, pk=school_id)
    _check(request.user, "school.read", school)
    current = structure.current_year()
    classes = structure.classes_of(school, current)
    if request.GET.get("without_homeroom") == "1":
        classes = classes.filter(homeroom_teacher__isnull=True)
    manage = permissions.can(request.user, "school.manage", school)
    return render(request, "education/structure/school.html", {
        "school": school, "year": current, "classes": classes,
        "staff": StaffMember.objects.filter(school=school).order_by("-active", "full_name"),
        "manage": manage, "me": permissions.staff_member(request.user, school),
        "imports": StudentImport.objects.filter(school_class__school=school).select_related("school_class")[:10]
        if manage else [],
    })


@page_requires("module.open")
def students_without_phone(request, school_id):
    school = get_object_or_404(School, pk=school_id)
    _check(request.user, "school.manage", school)
    rows = structure.students_without_phone([school]).select_related(
        "student__resident", "school_class").order_by("school_class__grade", "school_class__name", "number")
    access.log_search(request.user, query=f"students without a guardian's phone, school {school.pk}")
    return render(request, "education/structure/without_phone.html", {"school": school, "rows": rows})


@page_requires("module.open")
@require_http_methods(["GET", "POST"])
def class_new(request, school_id):
    school = get_object_or_404(School, pk=school_id)
    _check(request.user, "school.manage", school)
    return _class_form(request, school, None)


@page_requires("module.open")
@require_http_methods(["GET", "POST"])
def class_edit(request, class_id):
    school_class = _class(class_id, "school.manage", request.user)
    return _class_form(request, school_class.school, school_class)


def _class_form(request, school, school_class):
    current = school_class.year if school_class else structure.current_year()
    if current is None:
        messages.info(request, _("Open the school year first."))
        return redirect("education:year")
    initial = {}
    if school_class:
        initial = {"name": school_class.name, "grade": school_class.grade, "room": school_class.room,
                   "homeroom_teacher": school_class.homeroom_teacher_id}
    form = ClassForm(request.POST or None, school=school, staff=structure.active_staff(school), initial=initial)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            saved = structure.save_class(school, year=current, name=d["name"], grade=d["grade"],
                                         homeroom_teacher=d["homeroom_teacher"], room=d["room"], instance=school_class)
        except ValidationError as exc:
            apply_refusal(form, exc)
        else:
            messages.success(request, _("The class %(name)s was saved.") % {"name": saved.name})
            return redirect("education:school", school.pk)
    return render(request, "education/structure/class_form.html", {
        "school": school, "school_class": school_class, "form": form, "year": current},
        status=400 if request.method == "POST" else 200)


@page_requires("module.open")
@require_http_methods(["GET", "POST"])
def assignments(request, class_id):
    school_class = _class(class_id, "school.manage", request.user)
    staff = list(structure.active_staff(school_class.school))
    grid = structure.assignment_grid(school_class)
    problem = ""
    if request.method == "POST":
        chosen = {}
        for subject, _teacher in grid:
            raw = request.POST.get(f"subject-{subject.pk}", "")
            chosen[subject.pk] = int(raw) if raw.isdigit() and len(raw) < 12 else None
        try:
            count = structure.set_assignments(school_class, chosen)
        except ValidationError as exc:
            problem = exc.messages[0]
        else:
            messages.success(request, _("Teachers were assigned to %(count)s subjects.") % {"count": count})
            return redirect("education:assignments", school_class.pk)
    return render(request, "education/structure/assignments.html", {
        "school_class": school_class, "school": school_class.school, "grid": grid, "staff": staff,
        "problem": problem}, status=400 if problem else 200)


@page_requires("module.open")
@require_http_methods(["GET", "POST"])
def staff_new(request, school_id):
    school = get_object_or_404(School, pk=school_id)
    _check(request.user, "school.manage", school)
    form = StaffAddForm(request.POST or None, candidates=structure.staff_candidates(school).exclude(
        pk=request.user.pk))
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            member = structure.add_staff(school, request.user, user=d["user"], full_name=d["full_name"],
                                         position=d["position"], phone=d["phone"])
        except ValidationError as exc:
            apply_refusal(form, exc)
        else:
            messages.success(request, _("%(name)s was added to the staff.") % {"name": member.full_name})
            return redirect("education:school", school.pk)
    return render(request, "education/structure/staff_form.html", {"school": school, "form": form, "member": None},
                  status=400 if request.method == "POST" else 200)


@page_requires("module.open")
@require_http_methods(["GET", "POST"])
def staff_edit(request, pk):
    member = get_object_or_404(StaffMember.objects.select_related("school"), pk=pk)
    _check(request.user, "school.manage", member.school)
    form = StaffEditForm(request.POST or None, initial={"position": member.position, "phone": member.phone,
                                                        "active": member.active})
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            structure.update_staff(member, request.user, position=d["position"], active=d["active"], phone=d["phone"])
        except ValidationError as exc:
            apply_refusal(form, exc)
        else:
            messages.success(request, _("%(name)s was saved.") % {"name": member.full_name})
            return redirect("education:school", member.school_id)
    return render(request, "education/structure/staff_form.html", {"school": member.school, "form": form,
                                                                    "member": member},
                  status=400 if request.method == "POST" else 200)


# --- a class and its students ----------------------------------------------------------------------------

@page_requires("module.open")
def class_detail(request, class_id):
    school_class = _class(class_id, "school.read", request.user)
    show_ended = request.GET.get("ended") == "1"
    rows = list(structure.class_list(school_class, include_ended=show_ended))
    full = _shows_full_phones(request.user, school_class.school)
    for row in rows:
        phones = [g.phone for g in row.student.guardians.all() if g.phone]
        row.guardian_phone = (phones[0] if full else mask_phone(phones[0])) if phones else ""
    access.log_class_read(request.user, school_class, what="class list")
    return render(request, "education/structure/class.html", {
        "school_class": school_class, "school": school_class.school, "rows": rows, "show_ended": show_ended,
        "manage": permissions.can(request.user, "school.manage", school_class.school)})


@page_requires("module.open")
@require_http_methods(["GET", "POST"])
def student_add(request, class_id):
    school_class = _class(class_id, "school.manage", request.user)
    search = SearchForm(request.GET or None)
    found = []
    query = ""
    if search.is_valid() and search.cleaned_data["q"]:
        query = search.cleaned_data["q"]
        found = list(structure.search_children(school_class, query))
        enrolled = {e.student.resident_id: e for e in Enrolment.objects.filter(
            year=school_class.year, status=Enrolment.Status.ACTIVE, student__resident__in=found).select_related(
            "student", "school_class", "school_class__school")}
        for resident in found:
            resident.enrolled = enrolled.get(resident.pk)
        access.log_search(request.user, query=f"add to class {school_class.pk}: q={query}")
    form = EnrolForm(request.POST or None, initial={"resident": request.GET.get("resident") or None})
    resident = None
    raw = request.POST.get("resident") or request.GET.get("resident") or ""
    if raw.isdigit() and len(raw) < 19:
        resident = Resident.objects.select_related("household", "household__village").filter(pk=int(raw)).first()
    if request.method == "POST" and form.is_valid():
        if resident is None:
            form.add_error(None, _("Choose a child of the registry."))
        else:
            d = form.cleaned_data
            try:
                enrolment = structure.enrol(school_class, resident, entry=d["entry"], came_from=d["came_from"],
                                            starts_on=d["starts_on"])
            except ValidationError as exc:
                apply_refusal(form, exc)
            else:
                messages.success(request, _("%(name)s was added to class %(class)s.") % {
                    "name": resident.full_name, "class": school_class.name})
                return redirect("education:student", enrolment.student_id)
    proposed = structure.guardians_from_household(resident) if resident else []
    return render(request, "education/structure/student_add.html", {
        "school_class": school_class, "school": school_class.school, "search": search, "found": found,
        "query": query, "form": form, "resident": resident, "proposed": proposed},
        status=400 if request.method == "POST" else 200)


def _student_for(request, pk):
    student = get_object_or_404(Student.objects.select_related("resident", "resident__household"), pk=pk)
    schools = [s.pk for s in permissions.schools_for(request.user) if permissions.can(request.user, "school.read", s)]
    enrolments = list(Enrolment.objects.filter(student=student, school_class__school_id__in=schools).select_related(
        "school_class", "school_class__school", "year").order_by("-year__starts_on", "-starts_on", "-pk"))
    if not enrolments:
        raise PermissionDenied
    return student, enrolments


@page_requires("module.open")
def student(request, pk):
    student, enrolments = _student_for(request, pk)
    school = enrolments[0].school_class.school
    full = _shows_full_phones(request.user, school)
    guardians = list(student.guardians.all())
    for guardian in guardians:
        guardian.shown_phone = guardian.phone if full else mask_phone(guardian.phone)
    manage = permissions.can(request.user, "school.manage", school)
    access.log_read(request.user, student, what="student")
    return render(request, "education/structure/student.html", {
        "student": student, "resident": student.resident, "enrolments": enrolments, "school": school,
        "guardians": guardians, "manage": manage,
        "open": next((e for e in enrolments if e.status == Enrolment.Status.ACTIVE), None)})


def _guardian_student(request, student_pk):
    student, enrolments = _student_for(request, student_pk)
    _check(request.user, "school.manage", enrolments[0].school_class.school)
    return student


@page_requires("module.open")
@require_http_methods(["GET", "POST"])
def guardian_new(request, pk):
    student = _guardian_student(request, pk)
    return _guardian_form(request, student, None)


@page_requires("module.open")
@require_http_methods(["GET", "POST"])
def guardian_edit(request, pk):
    guardian = get_object_or_404(Guardian, pk=pk)
    student = _guardian_student(request, guardian.student_id)
    if request.method == "POST" and request.POST.get("remove"):
        structure.remove_guardian(guardian)
        messages.success(request, _("The guardian was removed."))
        return redirect("education:student", student.pk)
    return _guardian_form(request, student, guardian)


def _guardian_form(request, student, guardian):
    form = GuardianForm(request.POST or None, instance=guardian)
    if request.method == "POST" and form.is_valid():
        try:
            structure.save_guardian(student, form.cleaned_data, instance=guardian)
        except ValidationError as exc:
            apply_refusal(form, exc)
        else:
            messages.success(request, _("The guardian was saved."))
            return redirect("education:student", student.pk)
    access.log_read(request.user, student, what="guardian")
    return render(request, "education/structure/guardian_form.html", {
        "student": student, "form": form, "guardian": guardian}, status=400 if request.method == "POST" else 200)


# --- enrolment changes ---------------------------------------------------------------------------------

@page_requires("module.open")
@require_http_methods(["GET", "POST"])
def transfer_out(request, pk):
    enrolment = _enrolment(request, pk)
    form = TransferOutForm(request.POST or None, initial={"on": structure.today()})
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            structure.transfer_out(enrolment, on=d["on"], went_to=d["went_to"], reason=d["reason"], status=d["status"])
        except ValidationError as exc:
            apply_refusal(form, exc)
        else:
            messages.success(request, _("The enrolment was ended."))
            return redirect("education:class", enrolment.school_class_id)
    return render(request, "education/structure/enrolment_form.html", {
        "enrolment": enrolment, "form": form, "title": _("Transfer out")},
        status=400 if request.method == "POST" else 200)


@page_requires("module.open")
@require_http_methods(["GET", "POST"])
def move(request, pk):
    enrolment = _enrolment(request, pk)
    classes = SchoolClass.objects.filter(school=enrolment.school_class.school, year=enrolment.year).exclude(
        pk=enrolment.school_class_id).order_by("grade", "name")
    form = MoveForm(request.POST or None, classes=classes, initial={"on": structure.today()})
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            new = structure.move_class(enrolment, d["school_class"], on=d["on"], reason=d["reason"])
        except ValidationError as exc:
            apply_refusal(form, exc)
        else:
            messages.success(request, _("The student moved to class %(class)s.") % {"class": new.school_class.name})
            return redirect("education:class", new.school_class_id)
    return render(request, "education/structure/enrolment_form.html", {
        "enrolment": enrolment, "form": form, "title": _("Move to another class")},
        status=400 if request.method == "POST" else 200)


@page_requires("module.open")
@require_http_methods(["GET", "POST"])
def year_end(request, pk):
    enrolment = _enrolment(request, pk)
    school_ids = [s.pk for s in _managed_schools(request.user)]
    classes = structure.next_classes(enrolment).filter(school_id__in=school_ids)
    form = YearEndForm(request.POST or None, classes=classes)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        service = structure.promote if d["decision"] == "promote" else structure.repeat
        try:
            new = service(enrolment, d["school_class"])
        except ValidationError as exc:
            apply_refusal(form, exc)
        else:
            messages.success(request, _("The student goes to class %(class)s in %(year)s.") % {
                "class": new.school_class.name, "year": new.year.name})
            return redirect("education:student", enrolment.student_id)
    return render(request, "education/structure/enrolment_form.html", {
        "enrolment": enrolment, "form": form, "title": _("Promotion or repetition")},
        status=400 if request.method == "POST" else 200)


@page_requires("module.open")
@require_http_methods(["GET", "POST"])
def class_year_end(request, class_id):
    """The year's end of a whole class: promoted, repeating, or completing the school's last grade."""
    school_class = _class(class_id, "school.manage", request.user)
    later = SchoolClass.objects.filter(school=school_class.school, year__starts_on__gt=school_class.year.starts_on
                                       ).select_related("year").order_by("year__starts_on", "name")
    students = list(structure.class_list(school_class))
    form = ClassYearEndForm(request.POST or None, promote_classes=later.filter(grade=school_class.grade + 1),
                            repeat_classes=later.filter(grade=school_class.grade), students=students)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            counts = structure.year_end_class(school_class, promote_to=d["promote_to"], repeat_to=d["repeat_to"],
                                              repeaters=d["repeaters"])
        except ValidationError as exc:
            apply_refusal(form, exc)
        else:
            messages.success(request, _("Year's end of class %(class)s: %(promoted)s promoted, %(repeating)s "
                                        "repeating, %(completed)s completed the school.") % {
                "class": school_class.name, **counts})
            return redirect("education:class", school_class.pk)
    access.log_class_read(request.user, school_class, what="class list (year's end)")
    return render(request, "education/structure/class_year_end.html", {
        "school_class": school_class, "school": school_class.school, "form": form, "students": students},
        status=400 if request.method == "POST" else 200)


# --- import of a class list ----------------------------------------------------------------------------

@page_requires("module.open")
@require_http_methods(["GET", "POST"])
def import_start(request, class_id):
    school_class = _class(class_id, "school.manage", request.user)
    form = ImportForm(request.POST or None, request.FILES or None)
    problem = ""
    if request.method == "POST" and form.is_valid():
        try:
            checked = structure_import.check_file(school_class, form.cleaned_data["file"], request.user)
        except structure_import.FileRefused as refused:
            problem = refused.message
        else:
            access.log_search(request.user, query=f"class list import {checked.pk} checked")
            return redirect("education:import", checked.pk)
    return render(request, "education/structure/import.html", {
        "school_class": school_class, "school": school_class.school, "form": form, "problem": problem,
        "imports": school_class.imports.all()[:10]},
        status=400 if problem or (request.method == "POST" and form.errors) else 200)


def _import(request, pk) -> StudentImport:
    checked = get_object_or_404(StudentImport.objects.select_related("school_class", "school_class__school",
                                                                     "school_class__year"), pk=pk)
    _check(request.user, "school.manage", checked.school_class.school)
    return checked


@page_requires("module.open")
@require_http_methods(["GET", "POST"])
def import_detail(request, pk):
    checked = _import(request, pk)
    form = ImportChoiceForm(request.POST or None, initial={"mode": structure_import.GOOD_ROWS})
    problem = ""
    if request.method == "POST":
        if request.POST.get("cancel"):
            structure_import.cancel(checked)
            messages.info(request, _("The import was cancelled: nothing was written."))
            return redirect("education:import", checked.pk)
        if form.is_valid():
            try:
                done = structure_import.apply(checked, form.cleaned_data["mode"])
            except ValidationError as exc:
                problem = exc.messages[0]
            else:
                if done.state == StudentImport.State.APPLIED:
                    messages.success(request, _("%(count)s students were added to the class.") % {"count": done.created})
                else:
                    messages.info(request, _("Nothing was written: some rows were refused. Correct them in the file "
                                             "and import it again."))
                return redirect("education:import", done.pk)
    access.log_class_read(request.user, checked.school_class, what=f"import {checked.pk} of the class list")
    return render(request, "education/structure/import_detail.html", {
        "checked": checked, "school_class": checked.school_class, "form": form, "problem": problem,
        "errors": checked.errors, "good": len(checked.rows)}, status=400 if problem else 200)


@page_requires("module.open")
def import_errors(request, pk):
    """The refused rows of an import as .xlsx (row, column, reason), to correct the file by."""
    checked = _import(request, pk)
    access.log_export(request.user, what=f"refused rows of the import {checked.pk} of a class list",
                      count=len(checked.errors))
    response = HttpResponse(xlsx.refused_rows_workbook(checked.errors), content_type=xlsx.CONTENT_TYPE)
    response["Content-Disposition"] = f'attachment; filename="dong-bi-tu-choi-lop-{checked.pk}.xlsx"'
    return response


@page_requires("module.open")
def import_template(request):
    if not _managed_schools(request.user):
        raise PermissionDenied
    response = HttpResponse(structure_import.template_workbook(), content_type=xlsx.CONTENT_TYPE)
    response["Content-Disposition"] = 'attachment; filename="mau-danh-sach-lop.xlsx"'
    return response
