"""Marks and results in the API (``/api/v1/education/…`` on a commune host):

* ``classes/{id}/marks/{subject}/{period}/`` GET: the grid (students, columns, cells with their
  versions, the computed value); PUT or POST ``{"cells": [{"enrolment", "column", "value",
  "version"}]}``: the same service as the page (``assessment.save_cells``): 200 with a result per
  cell, 409 ``conflict`` with the conflicting cells when another person saved one meanwhile,
  400 ``invalid`` with the refused cells, 409 ``locked`` for a locked semester;
* ``classes/{id}/results/{period}/`` GET: the class's computed results;
* ``schools/{id}/locks/`` POST ``{"semester", "action": "lock"|"unlock", "reason"}``: the
  principal.

Staff of the class's school only (``marks.read``; writing as the services say); others get 404
for an object. Errors in the common body ``{"code", "detail", "fields"}``.
"""
from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from communes.second_factor import SecondFactorVerified
from core.api import refusal_response
from education import access, assessment, permissions
from education.models import Enrolment, Period, School, SchoolClass, Semester, StudentResult, Subject
from education.report_api import SchoolStaffHere


class CellSerializer(serializers.Serializer):
    enrolment = serializers.IntegerField(min_value=1, max_value=2_147_483_647)
    column = serializers.CharField(max_length=40)
    value = serializers.CharField(allow_blank=True, max_length=20)
    version = serializers.IntegerField(min_value=0, max_value=2_000_000_000)


class CellsSerializer(serializers.Serializer):
    cells = CellSerializer(many=True, help_text=gettext_lazy("The changed cells with the version shown."))

    def validate_cells(self, value):
        if len(value) > 2000:
            raise serializers.ValidationError(_("At most 2000 cells at once."))
        return value


class LockSerializer(serializers.Serializer):
    semester = serializers.IntegerField(min_value=1, max_value=2_147_483_647)
    action = serializers.ChoiceField(choices=[("lock", "lock"), ("unlock", "unlock")])
    reason = serializers.CharField(allow_blank=True, required=False, max_length=300)


def _class(request, class_id) -> SchoolClass:
    school_class = SchoolClass.objects.select_related("school", "year").filter(pk=class_id).first()
    if school_class is None or not permissions.can(request.user, "marks.read", school_class.school):
        raise NotFound()
    return school_class


def _subject(school_class, subject_id, period) -> Subject:
    subject = Subject.objects.filter(pk=subject_id, grade=school_class.grade).first()
    if subject is None or not assessment.columns_for(school_class, subject, period):
        raise NotFound()
    return subject


def _grid_body(school_class, subject, period) -> dict:
    table = assessment.grid(school_class, subject, period)
    return {
        "school_class": school_class.pk, "subject": subject.pk, "period": period, "columns": table["columns"],
        "locked": period != Period.RETEST and assessment.is_locked(school_class, period),
        "rows": [{"enrolment": row["enrolment"].pk, "number": row["enrolment"].number, "name": row["name"],
                  "active": row["active"], "computed": row["computed"],
                  "cells": {c["column"]: {"value": c["value"], "version": c["version"]} for c in row["cells"]}}
                 for row in table["rows"]],
    }


class GridView(APIView):
    permission_classes = [IsAuthenticated, SchoolStaffHere, SecondFactorVerified]

    @extend_schema(responses={200: dict})
    def get(self, request, class_id, subject_id, period):
        school_class = _class(request, class_id)
        subject = _subject(school_class, subject_id, period)
        access.log_class_read(request.user, school_class, channel="api", what=f"marks {subject.code} {period}")
        return Response(_grid_body(school_class, subject, period))

    @extend_schema(request=CellsSerializer, responses={200: dict, 409: dict})
    def put(self, request, class_id, subject_id, period):
        school_class = _class(request, class_id)
        subject = _subject(school_class, subject_id, period)
        serializer = CellsSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            results = assessment.save_cells(request.user, school_class, subject, period,
                                            serializer.validated_data["cells"])
        except PermissionDenied:
            return Response({"code": "permission_denied", "detail": _("You may not write these marks."),
                             "fields": {}}, status=status.HTTP_403_FORBIDDEN)
        except DjangoValidationError as exc:
            return refusal_response(exc, conflict_codes=("locked", "conflict"))
        conflicts = [r for r in results if r["status"] == "conflict"]
        errors = [r for r in results if r["status"] == "error"]
        if conflicts:
            return Response({"code": "conflict", "detail": _("Someone else saved these cells meanwhile."),
                             "fields": {}, "cells": results, "conflicts": conflicts}, status=status.HTTP_409_CONFLICT)
        if errors:
            return Response({"code": "invalid", "detail": errors[0]["message"], "fields": {}, "cells": results},
                            status=status.HTTP_400_BAD_REQUEST)
        return Response({"cells": results})

    post = put


class ResultsView(APIView):
    permission_classes = [IsAuthenticated, SchoolStaffHere, SecondFactorVerified]

    @extend_schema(responses={200: dict})
    def get(self, request, class_id, period):
        school_class = _class(request, class_id)
        if period not in Period.values:
            raise NotFound()
        access.log_class_read(request.user, school_class, channel="api", what=f"results {period}")
        enrolments = Enrolment.objects.filter(school_class=school_class, status__in=assessment.LISTED)
        rows = StudentResult.objects.filter(enrolment__in=enrolments, period=period).select_related(
            "enrolment__student__resident").order_by("enrolment__number", "enrolment_id")
        return Response({"school_class": school_class.pk, "period": period, "results": [
            {"enrolment": r.enrolment_id, "name": r.enrolment.student.resident.full_name,
             "average": str(r.average) if r.average is not None else None, "learning": r.learning,
             "conduct": r.conduct, "outcome": r.outcome, "commendation": r.commendation, "absences": r.absences,
             "decision": r.decision, "complete": r.complete} for r in rows]})


class LockView(APIView):
    permission_classes = [IsAuthenticated, SchoolStaffHere, SecondFactorVerified]

    @extend_schema(request=LockSerializer, responses={200: dict})
    def post(self, request, school_id):
        school = School.objects.filter(pk=school_id).first()
        if school is None or not permissions.can(request.user, "marks.read", school):
            raise NotFound()
        serializer = LockSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        semester = Semester.objects.filter(pk=data["semester"]).first()
        if semester is None:
            raise NotFound()
        try:
            if data["action"] == "unlock":
                assessment.unlock(request.user, school, semester, data.get("reason", ""))
            else:
                assessment.lock(request.user, school, semester)
        except PermissionDenied:
            return Response({"code": "permission_denied", "detail": _("Only the principal locks and unlocks marks."),
                             "fields": {}}, status=status.HTTP_403_FORBIDDEN)
        except DjangoValidationError as exc:
            return refusal_response(exc, conflict_codes=("already_locked", "not_locked"))
        return Response({"school": school.pk, "semester": semester.pk,
                         "locked": school.locks.filter(semester=semester).exists()})
