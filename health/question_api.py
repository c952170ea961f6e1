"""The health station's API of its questions to the doctor (``/api/v1/health/…`` on a commune
host), for health staff only:

* ``questions/`` (``?state=waiting``), ``questions/{id}/``: the questions, for health staff only
  (each read logged); ``questions/{id}/answer/`` (``answer``, ``publish``, ``public_title``,
  ``public_body``) and ``questions/{id}/decline/`` (``reason``) call ``health.questions``.

A refusal is 400 with the error body ``{"code", "detail", "fields"}``. Nothing here is on the
national host.
"""
from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from communes.second_factor import SecondFactorVerified
from core.api import refusal_response
from health import access, questions
from health.models import Question
from health.report_api import HealthPermission

MAX_DB_ID = 2**63 - 1


class QuestionSerializer(serializers.ModelSerializer):
    class Meta:
        model = Question
        fields = ["id", "title", "body", "wants_public", "state", "created_at", "answer", "answered_by_name",
                  "answered_at", "public_title", "public_body"]
        read_only_fields = fields


class AnswerInput(serializers.Serializer):
    answer = serializers.CharField(max_length=questions.MAX_ANSWER, allow_blank=True)
    publish = serializers.BooleanField(required=False, default=False)
    public_title = serializers.CharField(max_length=questions.MAX_TITLE, required=False, allow_blank=True,
                                         default="")
    public_body = serializers.CharField(max_length=questions.MAX_BODY, required=False, allow_blank=True, default="")


class DeclineInput(serializers.Serializer):
    reason = serializers.CharField(max_length=questions.MAX_REASON, allow_blank=True)


class QuestionViewSet(viewsets.ReadOnlyModelViewSet):
    """Questions to the doctor, for the station's staff: waiting first."""

    serializer_class = QuestionSerializer
    permission_classes = [IsAuthenticated, HealthPermission, SecondFactorVerified]
    health_action = "question.answer"
    lookup_value_regex = r"[0-9]{1,18}"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Question.objects.none()
        state = self.request.query_params.get("state", "")
        if state and state not in Question.State.values:
            raise ValidationError({"state": [_("Unknown state. States: %(states)s.") % {
                "states": ", ".join(Question.State.values)}]})
        return questions.staff_queue(state)

    def get_object(self):
        pk = int(self.kwargs["pk"])
        question = Question.objects.filter(pk=pk).first() if pk <= MAX_DB_ID else None
        if question is None:
            raise NotFound(_("No question with this number."))
        return question

    @extend_schema(parameters=[OpenApiParameter("state", str, required=False, enum=list(Question.State.values))])
    def list(self, request, *args, **kwargs):
        response = super().list(request, *args, **kwargs)
        access.log_read(request.user, None, channel="api", what="questions to the doctor")
        return response

    def retrieve(self, request, *args, **kwargs):
        question = self.get_object()
        access.log_read(request.user, None, channel="api", what=f"question to the doctor {question.pk}")
        return Response(self.get_serializer(question).data)

    @extend_schema(request=AnswerInput, responses={200: QuestionSerializer})
    @action(detail=True, methods=["post"])
    def answer(self, request, pk=None):
        question = self.get_object()
        data = self._input(AnswerInput, request)
        try:
            question = questions.answer(request.user, question, data["answer"], publish=data["publish"],
                                        public_title=data["public_title"], public_body=data["public_body"])
        except DjangoValidationError as exc:
            return refusal_response(exc)
        return Response(self.get_serializer(question).data)

    @extend_schema(request=DeclineInput, responses={200: QuestionSerializer})
    @action(detail=True, methods=["post"])
    def decline(self, request, pk=None):
        question = self.get_object()
        data = self._input(DeclineInput, request)
        try:
            question = questions.decline(request.user, question, data["reason"])
        except DjangoValidationError as exc:
            return refusal_response(exc)
        return Response(self.get_serializer(question).data)

    @staticmethod
    def _input(serializer_class, request) -> dict:
        if not isinstance(request.data, dict):
            raise ValidationError({"non_field_errors": [_("Send a JSON object.")]})
        serializer = serializer_class(data=request.data)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data
