"""Report cards in the API (``/api/v1/education/report-jobs/…`` on a commune host):

* ``report-jobs/`` POST ``{"school_class", "kind": "cards"|"sheet", "period"}``: ask for a class's
  report cards or result sheet as one PDF; 201 with the job, or 200 with the job already running
  for the same class, kind and period;
* ``report-jobs/{id}/``: the job's state, progress ("12/35 học sinh"), pages, whether it is signed;
* ``report-jobs/{id}/pdf/`` (``?signed=1`` for the principal's signed copy): the PDF, logged as an
  export; 409 ``not_ready`` while there is none.

Staff of the class's school with ``reports.make`` only (a teacher of another school, the chairman,
parents: 404 for an object, 403 for a request); errors in the common body ``{"code", "detail",
"fields"}``. Not on the national host.
"""
from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import HttpResponse
from django.urls import reverse
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from communes.permissions import current_commune
from communes.second_factor import SecondFactorVerified
from core.api import refusal_response
from education import permissions, report_cards
from education.models import Period, ReportCardJob, SchoolClass


class SchoolStaffHere(BasePermission):
    """A member of one of the commune's schools (the object's school is checked by the view)."""

    def has_permission(self, request, view) -> bool:
        if current_commune() is None:
            return False
        return permissions.schools_for(request.user).exists()


class RequestSerializer(serializers.Serializer):
    school_class = serializers.IntegerField(min_value=1, max_value=2**31 - 1, help_text=gettext_lazy("The class's id."))
    kind = serializers.ChoiceField(choices=ReportCardJob.Kind.choices)
    period = serializers.ChoiceField(choices=Period.choices)


class JobSerializer(serializers.ModelSerializer):
    school_class_name = serializers.CharField(source="school_class.name", read_only=True)
    school = serializers.CharField(source="school_class.school.name", read_only=True)
    pages = serializers.SerializerMethodField()
    students = serializers.SerializerMethodField()
    pdf_url = serializers.SerializerMethodField()
    signed_pdf_url = serializers.SerializerMethodField()

    class Meta:
        model = ReportCardJob
        fields = ["id", "school_class", "school_class_name", "school", "kind", "period", "state",
                  "progress_percent", "progress_message", "error", "signed", "pages", "students", "pdf_url",
                  "signed_pdf_url", "created_at", "finished_at"]
        read_only_fields = fields

    def get_pages(self, job) -> int | None:
        return (job.result or {}).get("pages")

    def get_students(self, job) -> int | None:
        return (job.result or {}).get("students")

    def get_pdf_url(self, job) -> str:
        return reverse("api-education-report-job-pdf", args=[job.pk]) if job.file else ""

    def get_signed_pdf_url(self, job) -> str:
        return reverse("api-education-report-job-pdf", args=[job.pk]) + "?signed=1" if job.signed else ""


def _job(request, pk) -> ReportCardJob:
    job = report_cards.job_for(request.user, pk)
    if job is None:
        raise NotFound()
    return job


class ReportJobsView(APIView):
    permission_classes = [IsAuthenticated, SchoolStaffHere, SecondFactorVerified]

    @extend_schema(request=RequestSerializer, responses={201: JobSerializer, 200: JobSerializer})
    def post(self, request):
        serializer = RequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        school_class = SchoolClass.objects.select_related("school").filter(pk=data["school_class"]).first()
        if school_class is None or not permissions.can(request.user, "reports.make", school_class.school):
            raise NotFound()
        try:
            job, created = report_cards.request_job(request.user, school_class, data["kind"], data["period"],
                                                    channel="api")
        except DjangoValidationError as exc:
            return refusal_response(exc, conflict_codes=("empty",))
        return Response(JobSerializer(job).data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


class ReportJobView(APIView):
    permission_classes = [IsAuthenticated, SchoolStaffHere, SecondFactorVerified]

    @extend_schema(responses={200: JobSerializer})
    def get(self, request, pk):
        return Response(JobSerializer(_job(request, pk)).data)


class ReportJobPdfView(APIView):
    permission_classes = [IsAuthenticated, SchoolStaffHere, SecondFactorVerified]

    @extend_schema(parameters=[OpenApiParameter("signed", str, required=False, description=gettext_lazy(
        "1 for the copy signed by the principal."))],
        responses={(200, "application/pdf"): OpenApiResponse(description=gettext_lazy("The PDF."))})
    def get(self, request, pk):
        job = _job(request, pk)
        try:
            data, filename = report_cards.download(request.user, job, signed=request.query_params.get("signed") == "1",
                                                   channel="api")
        except DjangoValidationError as exc:
            return refusal_response(exc, conflict_codes=("not_ready",))
        response = HttpResponse(data, content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        response["Cache-Control"] = "private, no-store"
        return response
