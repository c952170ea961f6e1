"""Online enrolment in the schools' API (``/api/v1/education/applications/…`` on a commune host).

Citizens (their own applications only):

* ``mine/``: GET their applications; POST sends one, as multipart with the files
  ``birth_certificate``, ``primary_completion`` (grade 6) and ``others`` (several), or as JSON
  without files: the papers are then sent from the application's page (``missing_papers`` lists
  them); the ``submission_key`` makes a second send give the first application back (200 instead
  of 201).
* ``mine/{id}/withdraw/``: POST withdraws one while submitted or being checked.

School staff (``applications.decide`` of the application's school):

* ``schools/{id}/``: GET the school's applications (``?state=``, ``?grade=``, ``?catchment=in|out``,
  ``?q=`` without accents), paginated;
* ``{id}/``: GET one, with its papers (the read is logged);
* ``{id}/decide/``: POST ``{"action": "check"|"ask_papers"|"admit"|"refuse", "note", "school_class"}``.

A refusal is the common error body ``{"code", "detail", "fields"}``; another school's staff get
403, an application of another citizen 404.
"""
from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from communes.permissions import current_commune
from core.api import Pagination, refusal_response
from core.parsers import JSONParser  # the size and depth limits of every JSON body
from education import applications, permissions
from education.application_views import log_read
from education.models import Application, School, SchoolClass, SchoolYear

MAX_ID = 2_147_483_647
CONFLICTS = ("state", "duplicate")


class InCommune(BasePermission):
    def has_permission(self, request, view) -> bool:
        return current_commune() is not None


def _id(value) -> int:
    if int(value) > MAX_ID:
        raise NotFound()
    return int(value)


class EnrolmentPaperSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    name = serializers.CharField()
    size = serializers.IntegerField()
    uploaded_at = serializers.DateTimeField()


class EnrolmentApplicationSerializer(serializers.ModelSerializer):
    school_name = serializers.CharField(source="school.name", read_only=True)
    year_name = serializers.CharField(source="year.name", read_only=True)
    state_label = serializers.SerializerMethodField()
    village_name = serializers.SerializerMethodField()
    expected_answer = serializers.SerializerMethodField()
    documents = serializers.SerializerMethodField()
    missing_papers = serializers.SerializerMethodField()

    class Meta:
        model = Application
        fields = ["id", "code", "school", "school_name", "year", "year_name", "grade", "child_name",
                  "child_birth_date", "child_sex", "previous_school", "in_catchment", "village_name",
                  "applicant_name", "applicant_phone", "applicant_email", "state", "state_label", "decision_note",
                  "submitted_at", "decided_at", "expected_answer", "documents", "missing_papers"]
        read_only_fields = fields

    def get_state_label(self, obj) -> str:
        return applications.state_label(obj.state)

    def get_village_name(self, obj) -> str:
        return obj.village.name if obj.village_id else ""

    def get_expected_answer(self, obj) -> str:
        return applications.expected_answer(obj).isoformat()

    def get_missing_papers(self, obj) -> list[str]:
        return applications.missing_papers(obj)

    @extend_schema(responses=EnrolmentPaperSerializer(many=True))
    def get_documents(self, obj) -> list:
        return [{"id": d.pk, "kind": d.kind, "name": d.name, "size": d.size, "uploaded_at": d.uploaded_at}
                for d in obj.documents.order_by("pk")]


class EnrolmentApplicationInput(serializers.Serializer):
    school = serializers.IntegerField(min_value=1, max_value=MAX_ID)
    year = serializers.IntegerField(min_value=1, max_value=MAX_ID, required=False)
    grade = serializers.ChoiceField(choices=[1, 6])
    child_name = serializers.CharField(max_length=150)
    child_birth_date = serializers.DateField(input_formats=["%Y-%m-%d", "%d/%m/%Y"])
    child_sex = serializers.ChoiceField(choices=Application._meta.get_field("child_sex").choices)
    previous_school = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    applicant_name = serializers.CharField(max_length=150)
    applicant_phone = serializers.CharField(max_length=15)
    applicant_email = serializers.EmailField(required=False, allow_blank=True, default="")
    submission_key = serializers.CharField(max_length=64)


class EnrolmentDecisionInput(serializers.Serializer):
    action = serializers.ChoiceField(choices=["check", "ask_papers", "admit", "refuse"])
    note = serializers.CharField(max_length=1000, required=False, allow_blank=True, default="")
    school_class = serializers.IntegerField(min_value=1, max_value=MAX_ID, required=False, allow_null=True)


def _papers(request) -> list:
    papers = []
    for kind in (applications.BIRTH_CERTIFICATE, applications.PRIMARY_COMPLETION):
        papers.extend((kind, f) for f in request.FILES.getlist(kind)[:applications.MAX_FILES + 1])
    papers.extend((applications.OTHER, f) for f in request.FILES.getlist("others")[:applications.MAX_FILES + 1])
    return papers


class MyApplicationsView(APIView):
    permission_classes = [IsAuthenticated, InCommune]
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    @extend_schema(responses=EnrolmentApplicationSerializer(many=True))
    def get(self, request):
        return Response(EnrolmentApplicationSerializer(applications.mine(request.user).order_by("-submitted_at"),
                                              many=True).data)

    @extend_schema(request=EnrolmentApplicationInput, responses={201: EnrolmentApplicationSerializer, 200: EnrolmentApplicationSerializer})
    def post(self, request):
        data = EnrolmentApplicationInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        school = School.objects.filter(pk=values["school"]).first()
        years = applications.open_years()
        year = (SchoolYear.objects.filter(pk=values["year"]).first() if values.get("year")
                else (years[0] if years else None))
        if school is None:
            return refusal_response(DjangoValidationError({"school": [_("This school does not take applications for "
                                                                        "this grade.")]}))
        try:
            application, created = applications.submit(
                request.user, school=school, year=year, grade=values["grade"], child_name=values["child_name"],
                child_birth_date=values["child_birth_date"], child_sex=values["child_sex"],
                previous_school=values["previous_school"], applicant_name=values["applicant_name"],
                applicant_phone=values["applicant_phone"], applicant_email=values["applicant_email"],
                papers=_papers(request), submission_key=values["submission_key"],
                papers_later=not request.FILES)
        except DjangoValidationError as error:
            return refusal_response(error, conflict_codes=CONFLICTS)
        return Response(EnrolmentApplicationSerializer(application).data,
                        status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


class WithdrawView(APIView):
    permission_classes = [IsAuthenticated, InCommune]

    @extend_schema(request=None, responses=EnrolmentApplicationSerializer)
    def post(self, request, pk):
        application = Application.objects.filter(pk=_id(pk), applicant_id=request.user.pk).first()
        if application is None:
            raise NotFound()
        try:
            application = applications.withdraw(request.user, application)
        except DjangoValidationError as error:
            return refusal_response(error, conflict_codes=CONFLICTS)
        return Response(EnrolmentApplicationSerializer(application).data)


class SchoolApplicationsView(APIView):
    permission_classes = [IsAuthenticated, InCommune]

    @extend_schema(responses=EnrolmentApplicationSerializer(many=True))
    def get(self, request, school_id):
        school = School.objects.filter(pk=_id(school_id)).first()
        if school is None:
            raise NotFound()
        if not permissions.can(request.user, "applications.decide", school):
            raise PermissionDenied
        q = {k: str(request.query_params.get(k) or "")[:100] for k in ("state", "grade", "catchment", "q")}
        rows = applications.for_school(school, state=q["state"], grade=q["grade"], catchment=q["catchment"],
                                       query=q["q"]).select_related("school", "year", "village")
        paginator = Pagination()
        page = paginator.paginate_queryset(rows, request, view=self)
        from population.models import AccessLog
        from population.services import log_access

        log_access(request.user, action=AccessLog.Action.VIEW, channel="api", object_type="enrolment_application",
                   description=f"list of {len(page)} enrolment applications of school {school.pk}")
        return paginator.get_paginated_response(EnrolmentApplicationSerializer(page, many=True).data)


def _staff_application(request, pk) -> Application:
    application = Application.objects.select_related("school", "year", "village").filter(pk=_id(pk)).first()
    if application is None:
        raise NotFound()
    if not permissions.can(request.user, "applications.decide", application.school):
        raise PermissionDenied
    return application


class ApplicationView(APIView):
    permission_classes = [IsAuthenticated, InCommune]

    @extend_schema(responses=EnrolmentApplicationSerializer)
    def get(self, request, pk):
        application = _staff_application(request, pk)
        log_read(request.user, application, channel="api")
        return Response(EnrolmentApplicationSerializer(application).data)


class DecideView(APIView):
    permission_classes = [IsAuthenticated, InCommune]

    @extend_schema(request=EnrolmentDecisionInput, responses=EnrolmentApplicationSerializer)
    def post(self, request, pk):
        application = _staff_application(request, pk)
        data = EnrolmentDecisionInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        try:
            if values["action"] == "check":
                application = applications.start_checking(request.user, application)
            elif values["action"] == "ask_papers":
                application = applications.ask_papers(request.user, application, values["note"])
            elif values["action"] == "refuse":
                application = applications.refuse(request.user, application, values["note"])
            else:
                school_class = None
                if values.get("school_class"):
                    school_class = SchoolClass.objects.filter(pk=values["school_class"]).first()
                    if school_class is None:
                        raise DjangoValidationError({"school_class": [_("Choose a class of the list, or none.")]})
                application = applications.admit(request.user, application, school_class=school_class,
                                                 note=values["note"])
        except DjangoValidationError as error:
            return refusal_response(error, conflict_codes=CONFLICTS)
        return Response(EnrolmentApplicationSerializer(application).data)
