"""The contact book's API on a commune's host (``/api/v1/education/…``):

* ``classes/{id}/messages/``: GET, the class's messages with their delivery counts (paginated),
  for those who may write to the class and the school's managers (the read is logged); POST
  ``{"body", "by_sms", "by_email", "student"?}`` writes to the class's guardians, or to one
  student's (``education.contact.send_message``): 201 with the message.
* ``my-children/`` and ``my-children/{id}/``: a parent's children (``permissions.children_of``)
  and, per child, the class, marks, results of locked semesters, attendance and messages (each
  read logged). Another family's child is a 404.

Every refusal is the common error body ``{"code", "detail", "fields"}`` (``core.api``).
"""
from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError as DjangoValidationError
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from communes.permissions import current_commune
from communes.second_factor import SecondFactorVerified
from core.api import Pagination
from education import access, contact, contact_parents, permissions
from education.models import Message, SchoolClass, Student

MAX_DB_ID = 2**63 - 1


class InCommune(BasePermission):
    def has_permission(self, request, view) -> bool:
        return current_commune() is not None


class CountsSerializer(serializers.Serializer):
    sent = serializers.IntegerField()
    failed = serializers.IntegerField()
    waiting = serializers.IntegerField()


class MessageSerializer(serializers.ModelSerializer):
    school_class = serializers.IntegerField(source="school_class_id", allow_null=True)
    student = serializers.IntegerField(source="student_id", allow_null=True)
    sender_name = serializers.SerializerMethodField()
    sms_segments = serializers.SerializerMethodField()
    deliveries = serializers.SerializerMethodField()

    class Meta:
        model = Message
        fields = ["id", "created_at", "school_class", "student", "sender_name", "body", "by_sms", "by_email",
                  "recipients", "sms_segments", "deliveries"]
        read_only_fields = fields

    def get_sender_name(self, obj) -> str:
        return obj.sender.full_name if obj.sender_id and obj.sender else ""

    def get_sms_segments(self, obj) -> int:
        return contact.sms_segments(obj.body) if obj.by_sms else 0

    @extend_schema_field(CountsSerializer)
    def get_deliveries(self, obj) -> dict:
        counts = self.context.get("counts", {}).get(obj.pk)
        if counts is None:
            counts = contact.delivery_counts([obj])[obj.pk]
        return {"sent": counts.sent, "failed": counts.failed, "waiting": counts.waiting}


class MessagePage(serializers.Serializer):
    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = MessageSerializer(many=True)


class MessageInput(serializers.Serializer):
    body = serializers.CharField(max_length=contact.MAX_LENGTH, allow_blank=True, trim_whitespace=False)
    by_sms = serializers.BooleanField(required=False, default=True)
    by_email = serializers.BooleanField(required=False, default=False)
    student = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=MAX_DB_ID)


def _id(value) -> int:
    if int(value) > MAX_DB_ID:
        raise NotFound()
    return int(value)


class ClassMessagesView(APIView):
    """The contact book of a class: its messages, and writing to its guardians."""

    permission_classes = [IsAuthenticated, InCommune, SecondFactorVerified]

    def _class(self, request, class_id) -> SchoolClass:
        school_class = get_object_or_404(SchoolClass.objects.select_related("school"), pk=_id(class_id))
        if not contact.may_read_class(request.user, school_class):
            raise PermissionDenied
        return school_class

    @extend_schema(operation_id="education_class_messages_list", responses=MessagePage)
    def get(self, request, class_id):
        school_class = self._class(request, class_id)
        paginator = Pagination()
        page = paginator.paginate_queryset(contact.class_messages(school_class), request, view=self)
        access.log_class_read(request.user, school_class, channel="api", what="contact book messages")
        serializer = MessageSerializer(page, many=True, context={"counts": contact.delivery_counts(page)})
        return paginator.get_paginated_response(serializer.data)

    @extend_schema(operation_id="education_class_messages_create", request=MessageInput,
                   responses={201: MessageSerializer})
    def post(self, request, class_id):
        school_class = self._class(request, class_id)
        if not permissions.may_write_to_class(request.user, school_class):
            raise PermissionDenied
        data = MessageInput(data=request.data)
        data.is_valid(raise_exception=True)
        student = None
        if data.validated_data.get("student"):
            student = Student.objects.filter(pk=data.validated_data["student"]).first()
            if student is None:
                raise ValidationError({"student": [_("This student is not studying in this class.")]})
        try:
            message = contact.send_message(request.user, body=data.validated_data["body"],
                                           by_sms=data.validated_data["by_sms"],
                                           by_email=data.validated_data["by_email"],
                                           school_class=school_class, student=student)
        except DjangoValidationError as exc:
            raise ValidationError(exc.message_dict if hasattr(exc, "error_dict") else {"body": exc.messages})
        return Response(MessageSerializer(message).data, status=status.HTTP_201_CREATED)


def _child_summary(student, enrolment) -> dict:
    return {
        "id": student.pk,
        "full_name": student.resident.full_name,
        "birth_date": student.resident.birth_date,
        "class": None if enrolment is None else {
            "id": enrolment.school_class_id, "name": enrolment.school_class.name,
            "school": enrolment.school_class.school.name, "year": enrolment.year.name,
        },
    }


class MyChildrenView(APIView):
    """The parent's children (by the account's phone)."""

    permission_classes = [IsAuthenticated, InCommune]

    @extend_schema(operation_id="education_my_children_list",
                   responses={200: {"type": "array", "items": {"type": "object"}}})
    def get(self, request):
        children = contact.students_of(permissions.children_of(request.user))
        for student, _enrolment in children:
            access.log_read(request.user, student, channel="api", what="child in the parent's list")
        return Response([_child_summary(student, enrolment) for student, enrolment in children])


class MyChildView(APIView):
    """One of the parent's children: class, marks, results of locked semesters, attendance,
    messages."""

    permission_classes = [IsAuthenticated, InCommune]

    @extend_schema(operation_id="education_my_child_retrieve", responses={200: {"type": "object"}})
    def get(self, request, pk):
        student = permissions.children_of(request.user).filter(pk=_id(pk)).select_related("resident").first()
        if student is None:
            raise NotFound()
        access.log_read(request.user, student, channel="api",
                        what="marks, results, attendance, timetable and messages (parent)")
        page = contact_parents.child_page(student)
        enrolment = page["enrolment"]
        body = _child_summary(student, enrolment)
        body["messages"] = [{"id": m.pk, "sent_at": m.created_at, "body": m.body,
                             "to": "student" if m.student_id else "class"} for m in page["book"]]
        if enrolment is None:
            body.update({"marks": [], "results": [], "attendance": None})
            return Response(body)
        body["marks"] = [{"subject": row["subject"].name, "periods": [
            {"period": p["period"], "cells": [{"column": label, "value": value} for label, value in p["cells"]]}
            for p in row["periods"]]} for row in page["marks"]]
        body["results"] = [{
            "period": r["period"],
            "subjects": [{"subject": s.subject.name, "average": None if s.average is None else str(s.average),
                          "level": s.level} for s in r["subjects"]],
            "overall": None if r["overall"] is None else {
                "average": None if r["overall"].average is None else str(r["overall"].average),
                "learning": r["overall"].learning, "conduct": r["overall"].conduct,
                "outcome": r["overall"].outcome},
        } for r in page["results"]]
        attendance = page["attendance"]
        body["attendance"] = {
            "this_month": [{"date": a.date, "kind": a.kind, "reason": a.reason} for a in attendance["month"]],
            "year_totals": attendance["totals_by_kind"],
        }
        body["timetable"] = [{"day": day, "periods": [{"period": s.lesson, "subject": s.subject.name, "room": s.room}
                                                      for s in slots]} for day, slots in page["timetable"]]
        return Response(body)
