"""The schools' structure in the REST API (``/api/v1/education/…`` on a commune host).

* ``schools/``: the schools the caller works in.
* ``schools/{id}/classes/``: the classes of the current year (``?year=<name>`` another year).
* ``classes/{id}/students/``: GET the class list (personal ID numbers masked; logged as a read of
  the class); POST adds a child of the registry to the class (new or transferred in).
* ``students/{id}/``: a student with the guardians and the enrolments at the caller's schools
  (logged).
* ``enrolments/{id}/transfer-out/``: POST ends an enrolment (another school, or leaving school).

Staff of the school only (``education.permissions``), in a session confirmed by the second
factor: staff of another school, the leaders, other officials and citizens get 403, an anonymous
caller 401. Errors carry the project's body ``{"code", "detail", "fields"}``.
"""
from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import generics, serializers, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import BasePermission
from rest_framework.response import Response

from communes.second_factor import SecondFactorVerified
from core.api import CommuneScopedMixin, Pagination, refusal_response
from core.phones import mask_phone
from education import access, permissions, structure
from education.models import Enrolment, Guardian, School, SchoolClass, SchoolYear, Student
from population.models import Resident

FULL_PHONES = permissions.MANAGERS | permissions.TEACHING
ENTRY_HELP = "new, promoted, repeating, transferred_in or moved_class"
STATUS_HELP = "active, transferred_out, moved_class, dropped_out or completed"


class SchoolStaffOnly(BasePermission):
    """Staff on the list of a school of the host's commune; nobody on the national host."""

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not user or not user.is_authenticated or getattr(view, "national_scope", False):
            return False
        return permissions.schools_for(user).exists()


class StructureView(CommuneScopedMixin):
    pagination_class = Pagination
    filter_backends: list = []

    def get_permissions(self):
        return [SchoolStaffOnly(), SecondFactorVerified()]

    def require(self, action: str, school) -> None:
        if not permissions.can(self.request.user, action, school):
            raise PermissionDenied()


class SchoolSerializer(serializers.ModelSerializer):
    level_display = serializers.CharField(source="get_level_display", read_only=True)
    grades = serializers.ListField(child=serializers.IntegerField(), read_only=True)

    class Meta:
        model = School
        fields = ["id", "name", "short_name", "level", "level_display", "code", "address", "phone", "email", "grades"]
        read_only_fields = fields


class ClassSerializer(serializers.ModelSerializer):
    year = serializers.CharField(source="year.name", read_only=True)
    homeroom_teacher = serializers.CharField(source="homeroom_teacher.full_name", read_only=True, default="")
    students = serializers.IntegerField(read_only=True)

    class Meta:
        model = SchoolClass
        fields = ["id", "name", "grade", "year", "room", "homeroom_teacher", "students"]
        read_only_fields = fields


class ClassStudentSerializer(serializers.ModelSerializer):
    student_id = serializers.IntegerField(read_only=True)
    entry = serializers.CharField(read_only=True, help_text=ENTRY_HELP)
    status = serializers.CharField(read_only=True, help_text=STATUS_HELP)
    full_name = serializers.CharField(source="student.resident.full_name", read_only=True)
    birth_date = serializers.DateField(source="student.resident.birth_date", read_only=True)
    sex = serializers.CharField(source="student.resident.sex", read_only=True)
    masked_id = serializers.CharField(source="student.resident.masked_id", read_only=True,
                                      help_text=gettext_lazy("The personal ID number, masked."))
    guardian_phone = serializers.SerializerMethodField()

    class Meta:
        model = Enrolment
        fields = ["id", "student_id", "number", "full_name", "birth_date", "sex", "masked_id", "guardian_phone",
                  "entry", "status", "starts_on"]
        read_only_fields = fields

    def get_guardian_phone(self, enrolment) -> str:
        phones = [g.phone for g in enrolment.student.guardians.all() if g.phone]
        if not phones:
            return ""
        return phones[0] if self.context.get("full_phones") else mask_phone(phones[0])


class EnrolRequestSerializer(serializers.Serializer):
    resident_id = serializers.IntegerField(min_value=1, max_value=2**63 - 1,
                                           help_text=gettext_lazy("The registry's resident (a child)."))
    entry = serializers.CharField(max_length=16, default=Enrolment.Entry.NEW, help_text=gettext_lazy(
        "new (enrolled) or transferred_in (from another school: give came_from)."))
    came_from = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    starts_on = serializers.DateField(required=False, allow_null=True, default=None)


class GuardianSerializer(serializers.ModelSerializer):
    phone = serializers.SerializerMethodField()

    class Meta:
        model = Guardian
        fields = ["id", "full_name", "relation", "phone", "email", "receives_messages"]
        read_only_fields = fields

    def get_phone(self, guardian) -> str:
        return guardian.phone if self.context.get("full_phones") else mask_phone(guardian.phone)


class EnrolmentSerializer(serializers.ModelSerializer):
    entry = serializers.CharField(read_only=True, help_text=ENTRY_HELP)
    status = serializers.CharField(read_only=True, help_text=STATUS_HELP)
    school_class = serializers.CharField(source="school_class.name", read_only=True)
    school_class_id = serializers.IntegerField(read_only=True)
    school = serializers.CharField(source="school_class.school.name", read_only=True)
    year = serializers.CharField(source="year.name", read_only=True)

    class Meta:
        model = Enrolment
        fields = ["id", "school", "school_class", "school_class_id", "year", "number", "entry", "status", "starts_on",
                  "ends_on", "came_from", "went_to", "reason"]
        read_only_fields = fields


class StudentSerializer(serializers.ModelSerializer):
    full_name = serializers.CharField(source="resident.full_name", read_only=True)
    birth_date = serializers.DateField(source="resident.birth_date", read_only=True)
    sex = serializers.CharField(source="resident.sex", read_only=True)
    masked_id = serializers.CharField(source="resident.masked_id", read_only=True)
    guardians = serializers.SerializerMethodField()
    enrolments = serializers.SerializerMethodField()

    class Meta:
        model = Student
        fields = ["id", "full_name", "birth_date", "sex", "masked_id", "student_code", "guardians", "enrolments"]
        read_only_fields = fields

    @extend_schema_field(GuardianSerializer(many=True))
    def get_guardians(self, student) -> list[dict]:
        return GuardianSerializer(student.guardians.all(), many=True, context=self.context).data

    @extend_schema_field(EnrolmentSerializer(many=True))
    def get_enrolments(self, student) -> list[dict]:
        return EnrolmentSerializer(self.context.get("enrolments", []), many=True).data


class TransferOutSerializer(serializers.Serializer):
    status = serializers.CharField(max_length=16, default=Enrolment.Status.TRANSFERRED_OUT, help_text=gettext_lazy(
        "transferred_out (give went_to) or dropped_out."))
    on = serializers.DateField()
    went_to = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    reason = serializers.CharField(max_length=300)


class SchoolListView(StructureView, generics.ListAPIView):
    serializer_class = SchoolSerializer

    @extend_schema(summary="The schools the caller works in (school staff)")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        return permissions.schools_for(self.request.user).order_by("name")


class ClassListView(StructureView, generics.ListAPIView):
    serializer_class = ClassSerializer

    @extend_schema(summary="Classes of a school (its staff)", parameters=[
        OpenApiParameter("year", str, description="A school year's name, e.g. 2026-2027 (default: the current year).")])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        school = get_object_or_404(School, pk=self.kwargs["pk"])
        self.require("school.read", school)
        name = "".join(ch for ch in str(self.request.query_params.get("year", "")) if ch.isdigit() or ch == "-")[:9]
        year = SchoolYear.objects.filter(name=name).first() if name else structure.current_year()
        return structure.classes_of(school, year)


class ClassStudentsView(StructureView, generics.ListCreateAPIView):
    serializer_class = ClassStudentSerializer

    def school_class(self) -> SchoolClass:
        if not hasattr(self, "_class"):
            self._class = get_object_or_404(SchoolClass.objects.select_related("school", "year"), pk=self.kwargs["pk"])
        return self._class

    def get_serializer_context(self):
        context = super().get_serializer_context()
        if "pk" in getattr(self, "kwargs", {}) and getattr(self.request, "user", None) is not None:
            context["full_phones"] = bool(permissions.positions_in(self.request.user, self.school_class().school)
                                          & FULL_PHONES)
        return context

    def get_queryset(self):
        return structure.class_list(self.school_class())

    @extend_schema(summary="The students of a class (personal ID numbers masked)")
    def get(self, request, *args, **kwargs):
        self.require("school.read", self.school_class().school)
        access.log_class_read(request.user, self.school_class(), channel="api", what="class list")
        return super().get(request, *args, **kwargs)

    @extend_schema(summary="Add a child of the registry to the class (new, or transferred in)",
                   request=EnrolRequestSerializer, responses={201: ClassStudentSerializer})
    def post(self, request, *args, **kwargs):
        school_class = self.school_class()
        self.require("school.manage", school_class.school)
        data = EnrolRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        resident = Resident.objects.filter(pk=values["resident_id"]).first()
        if resident is None:
            message = str(gettext_lazy("No resident of the registry has this id."))
            return Response({"code": "not_found", "detail": message, "fields": {"resident_id": [message]}},
                            status=status.HTTP_400_BAD_REQUEST)
        try:
            enrolment = structure.enrol(school_class, resident, entry=values["entry"], came_from=values["came_from"],
                                        starts_on=values["starts_on"])
        except DjangoValidationError as exc:
            return refusal_response(exc, statuses={"duplicate": status.HTTP_409_CONFLICT})
        access.log_read(request.user, enrolment.student, channel="api", what="student (enrolled)")
        enrolment = structure.class_list(school_class).get(pk=enrolment.pk)
        return Response(self.get_serializer(enrolment).data, status=status.HTTP_201_CREATED)


class StudentView(StructureView, generics.GenericAPIView):
    serializer_class = StudentSerializer

    @extend_schema(summary="A student with the guardians and the enrolments (staff of the student's school)")
    def get(self, request, *args, **kwargs):
        student = get_object_or_404(Student.objects.select_related("resident"), pk=kwargs["pk"])
        schools = [s for s in permissions.schools_for(request.user) if permissions.can(request.user, "school.read", s)]
        enrolments = list(Enrolment.objects.filter(student=student, school_class__school__in=schools).select_related(
            "school_class", "school_class__school", "year").order_by("-year__starts_on", "-starts_on", "-pk"))
        if not enrolments:
            raise PermissionDenied()
        full = bool(permissions.positions_in(request.user, enrolments[0].school_class.school) & FULL_PHONES)
        access.log_read(request.user, student, channel="api", what="student")
        context = {**self.get_serializer_context(), "full_phones": full, "enrolments": enrolments}
        return Response(StudentSerializer(student, context=context).data)


class TransferOutView(StructureView, generics.GenericAPIView):
    serializer_class = TransferOutSerializer

    @extend_schema(summary="End an enrolment: the student leaves for another school, or leaves school",
                   request=TransferOutSerializer, responses={200: EnrolmentSerializer})
    def post(self, request, *args, **kwargs):
        enrolment = get_object_or_404(Enrolment.objects.select_related("school_class__school"), pk=kwargs["pk"])
        self.require("school.manage", enrolment.school_class.school)
        data = TransferOutSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            done = structure.transfer_out(enrolment, **data.validated_data)
        except DjangoValidationError as exc:
            return refusal_response(exc, conflict_codes=("ended",))
        return Response(EnrolmentSerializer(done).data)
