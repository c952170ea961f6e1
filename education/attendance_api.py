"""Attendance and timetables in the REST API (``/api/v1/education/…`` on a commune host), for the
school's staff:

* ``attendance/classes/{id}/days/{date}/``: GET a class's day (each student, absent or late with
  the reason), PUT the day (``{"absences": [{"enrolment", "kind", "reason"}]}``: every student
  not listed is present; ``attendance.take_attendance``).
* ``attendance/classes/{id}/months/{yyyy-mm}/``: GET a class's month (days, P/K/M per student,
  totals, flags).
* ``timetable/classes/{id}/?semester=``, ``timetable/teachers/{id}/?semester=``: GET a week.
* ``timetable/slots/``: POST a period; ``timetable/slots/{id}/``: DELETE it. A clash (a teacher or
  a room busy, the class's period taken) is 409 with the common body naming the other class.

Reading needs ``school.read`` in the school (a class's read is logged), writing
``may_take_attendance`` / ``timetable.write``; others get 403, another school's rows as well.
"""
from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import CommuneScopedMixin, refusal_response
from education import access, attendance, permissions, timetable
from education.models import Absence, SchoolClass, Semester, StaffMember, Subject, TimetableSlot

MAX_DB_ID = 2**63 - 1


class SchoolStaffOnly(BasePermission):
    """The commune's school staff on its own host (the rows' school is checked by each view)."""

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not user or not user.is_authenticated or getattr(view, "national_scope", False):
            return False
        return permissions.SCHOOL_STAFF in permissions.user_roles(user)


class StaffView(CommuneScopedMixin, APIView):
    permission_classes = [SchoolStaffOnly]


def _class(request, class_id: int) -> SchoolClass:
    if class_id > MAX_DB_ID:
        raise NotFound()
    school_class = get_object_or_404(SchoolClass.objects.select_related("school", "year"), pk=class_id)
    permissions.require(request.user, "school.read", school_class.school)
    return school_class


def _semester_param(request, year) -> Semester:
    raw = str(request.query_params.get("semester", "")).strip()
    if raw:
        if not raw.isdigit() or not 0 < int(raw) <= MAX_DB_ID:
            raise ValidationError({"semester": [_("Enter a valid id.")]})
        semester = Semester.objects.filter(pk=int(raw), year=year).first()
        if semester is None:
            raise ValidationError({"semester": [_("Choose a semester of the class's school year.")]})
        return semester
    semester = timetable.current_semester(year)
    if semester is None:
        raise NotFound()
    return semester


# --- attendance --------------------------------------------------------------------------------

class AttendanceAbsenceSerializer(serializers.Serializer):
    enrolment = serializers.IntegerField(min_value=1, max_value=MAX_DB_ID)
    kind = serializers.ChoiceField(choices=Absence.Kind.choices)
    reason = serializers.CharField(max_length=attendance.MAX_REASON, required=False, allow_blank=True, default="")


class AttendanceDayInput(serializers.Serializer):
    absences = AttendanceAbsenceSerializer(many=True, max_length=200)


class AttendanceDayStudentSerializer(serializers.Serializer):
    enrolment = serializers.IntegerField()
    number = serializers.IntegerField(allow_null=True)
    full_name = serializers.CharField()
    kind = serializers.CharField(allow_blank=True, help_text="empty when present")
    reason = serializers.CharField(allow_blank=True)


class AttendanceDaySerializer(serializers.Serializer):
    school_class = serializers.IntegerField()
    date = serializers.DateField()
    taken = serializers.BooleanField()
    taken_at = serializers.DateTimeField(allow_null=True)
    students = AttendanceDayStudentSerializer(many=True)
    present = serializers.IntegerField()
    excused = serializers.IntegerField()
    unexcused = serializers.IntegerField()
    late = serializers.IntegerField()


def _day_body(sheet) -> dict:
    counts = sheet.counts
    return {
        "school_class": sheet.school_class.pk, "date": sheet.date, "taken": sheet.taken is not None,
        "taken_at": sheet.taken.taken_at if sheet.taken else None,
        "students": [{"enrolment": e.pk, "number": e.number, "full_name": e.student.resident.full_name,
                      "kind": a.kind if a else "", "reason": a.reason if a else ""} for e, a in sheet.rows],
        "present": counts["present"], "excused": counts["excused"], "unexcused": counts["unexcused"],
        "late": counts["late"],
    }


class AttendanceDayView(StaffView):
    @extend_schema(responses={200: AttendanceDaySerializer})
    def get(self, request, class_id: int, day: str):
        school_class = _class(request, class_id)
        date = attendance.parse_day(day)
        if date is None:
            raise ValidationError({"date": [_("Enter a date as dd-mm-yyyy or yyyy-mm-dd.")]})
        sheet = attendance.day_sheet(school_class, date)
        access.log_class_read(request.user, school_class, channel="api", what=f"attendance {date:%d/%m/%Y}")
        return Response(AttendanceDaySerializer(_day_body(sheet)).data)

    @extend_schema(request=AttendanceDayInput, responses={200: AttendanceDaySerializer})
    def put(self, request, class_id: int, day: str):
        school_class = _class(request, class_id)
        if not permissions.may_take_attendance(request.user, school_class):
            raise PermissionDenied
        date = attendance.parse_day(day)
        if date is None:
            raise ValidationError({"date": [_("Enter a date as dd-mm-yyyy or yyyy-mm-dd.")]})
        body = AttendanceDayInput(data=request.data)
        body.is_valid(raise_exception=True)
        marks = [attendance.Mark(a["enrolment"], a["kind"], a.get("reason", ""))
                 for a in body.validated_data["absences"]]
        try:
            sheet = attendance.take_attendance(request.user, school_class, date, marks)
        except DjangoValidationError as exc:
            return refusal_response(exc, conflict_codes=("conflict", "correction_closed"))
        access.log_class_read(request.user, school_class, channel="api", what=f"attendance {date:%d/%m/%Y}")
        return Response(AttendanceDaySerializer(_day_body(sheet)).data)


class AttendanceMonthStudentSerializer(serializers.Serializer):
    enrolment = serializers.IntegerField()
    number = serializers.IntegerField(allow_null=True)
    full_name = serializers.CharField()
    marks = serializers.ListField(child=serializers.CharField(allow_blank=True),
                                  help_text="one per day: P with leave, K without leave, M late, empty present")
    excused = serializers.IntegerField()
    unexcused = serializers.IntegerField()
    late = serializers.IntegerField()
    flagged = serializers.BooleanField()


class AttendanceMonthSerializer(serializers.Serializer):
    school_class = serializers.IntegerField()
    month = serializers.CharField()
    days = serializers.ListField(child=serializers.DateField())
    taken = serializers.ListField(child=serializers.DateField())
    students = AttendanceMonthStudentSerializer(many=True)


class AttendanceMonthView(StaffView):
    @extend_schema(responses={200: AttendanceMonthSerializer})
    def get(self, request, class_id: int, month: str):
        school_class = _class(request, class_id)
        first = attendance.parse_month(month)
        if first is None:
            raise ValidationError({"month": [_("Enter a month as yyyy-mm.")]})
        grid = attendance.month_grid(school_class, first)
        access.log_class_read(request.user, school_class, channel="api", what=f"attendance {first:%m/%Y}")
        return Response(AttendanceMonthSerializer({
            "school_class": school_class.pk, "month": f"{first:%Y-%m}", "days": grid.days, "taken": sorted(grid.taken),
            "students": [{"enrolment": r.enrolment.pk, "number": r.enrolment.number,
                          "full_name": r.enrolment.student.resident.full_name, "marks": r.marks,
                          "excused": r.excused, "unexcused": r.unexcused, "late": r.late, "flagged": r.flagged}
                         for r in grid.rows]}).data)


# --- timetable -----------------------------------------------------------------------------------

class TimetableSlotSerializer(serializers.ModelSerializer):
    class_name = serializers.CharField(source="school_class.name", read_only=True)
    subject_name = serializers.CharField(source="subject.name", read_only=True)
    teacher_name = serializers.CharField(source="teacher.full_name", read_only=True, default="")

    class Meta:
        model = TimetableSlot
        fields = ["id", "semester", "school_class", "class_name", "weekday", "lesson", "subject", "subject_name",
                  "teacher", "teacher_name", "room"]
        read_only_fields = fields


class TimetableSlotInput(serializers.Serializer):
    school_class = serializers.IntegerField(min_value=1, max_value=MAX_DB_ID)
    semester = serializers.IntegerField(min_value=1, max_value=MAX_DB_ID)
    weekday = serializers.IntegerField(min_value=1, max_value=6, help_text="1 Monday … 6 Saturday")
    lesson = serializers.IntegerField(min_value=1, max_value=10)
    subject = serializers.IntegerField(min_value=1, max_value=MAX_DB_ID)
    teacher = serializers.IntegerField(min_value=1, max_value=MAX_DB_ID, required=False, allow_null=True)
    room = serializers.CharField(max_length=30, required=False, allow_blank=True, default="")


WEEK_PARAMETERS = [OpenApiParameter("semester", int, description="A semester's id; the current one by default.")]


class ClassTimetableView(StaffView):
    @extend_schema(parameters=WEEK_PARAMETERS, responses={200: TimetableSlotSerializer(many=True)})
    def get(self, request, class_id: int):
        school_class = _class(request, class_id)
        semester = _semester_param(request, school_class.year)
        slots = sorted(timetable.class_week(school_class, semester).values(), key=lambda s: (s.weekday, s.lesson))
        return Response(TimetableSlotSerializer(slots, many=True).data)


class TeacherTimetableView(StaffView):
    @extend_schema(parameters=WEEK_PARAMETERS, responses={200: TimetableSlotSerializer(many=True)})
    def get(self, request, staff_id: int):
        if staff_id > MAX_DB_ID:
            raise NotFound()
        staff = get_object_or_404(StaffMember.objects.select_related("school"), pk=staff_id)
        permissions.require(request.user, "school.read", staff.school)
        from education.models import SchoolYear

        year = SchoolYear.objects.filter(current=True).first()
        if year is None:
            raise NotFound()
        semester = _semester_param(request, year)
        slots = sorted(timetable.teacher_week(staff, semester).values(), key=lambda s: (s.weekday, s.lesson))
        return Response(TimetableSlotSerializer(slots, many=True).data)


CLASH_STATUSES = {code: status.HTTP_409_CONFLICT for code in (*timetable.CLASH_CODES, "conflict")}


class SlotsView(StaffView):
    @extend_schema(request=TimetableSlotInput, responses={201: TimetableSlotSerializer})
    def post(self, request):
        body = TimetableSlotInput(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        school_class = _class(request, data["school_class"])
        if not permissions.can(request.user, "timetable.write", school_class.school):
            raise PermissionDenied
        semester = Semester.objects.filter(pk=data["semester"], year=school_class.year_id).first()
        if semester is None:
            raise ValidationError({"semester": [_("Choose a semester of the class's school year.")]})
        subject = Subject.objects.filter(pk=data["subject"], grade=school_class.grade).first()
        if subject is None:
            raise ValidationError({"subject": [_("Choose a subject of grade %(grade)s.") % {"grade": school_class.grade}]})
        teacher = None
        if data.get("teacher"):
            teacher = StaffMember.objects.filter(pk=data["teacher"], school=school_class.school, active=True).first()
            if teacher is None:
                raise ValidationError({"teacher": [_("Choose a teacher of the school.")]})
        cell = timetable.Cell(data["weekday"], data["lesson"], subject, teacher, data.get("room", ""))
        try:
            slot = timetable.save_slot(request.user, school_class, semester, cell)
        except DjangoValidationError as exc:
            return refusal_response(exc, statuses=CLASH_STATUSES)
        return Response(TimetableSlotSerializer(slot).data, status=status.HTTP_201_CREATED)


class SlotView(StaffView):
    @extend_schema(responses={204: None})
    def delete(self, request, pk: int):
        if pk > MAX_DB_ID:
            raise NotFound()
        slot = get_object_or_404(TimetableSlot.objects.select_related("school_class__school"), pk=pk)
        if not permissions.can(request.user, "timetable.write", slot.school_class.school):
            raise PermissionDenied
        timetable.delete_slot(request.user, slot)
        return Response(status=status.HTTP_204_NO_CONTENT)
