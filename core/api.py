"""The REST layer's shared pieces: one error body, pagination, commune scoping, role permissions.

Every error leaves the API as ``{"code": ..., "detail": ..., "fields": {...}}`` with a
Vietnamese message (the active language), whatever raised it.
"""
from __future__ import annotations

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import connection
from django.http import Http404, JsonResponse
from django.utils.translation import gettext as _
from rest_framework import exceptions, permissions, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from communes.models import Commune
from communes.permissions import roles_for, supervises


class Pagination(PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 500


def _flatten(detail):
    if isinstance(detail, dict):
        return {key: _flatten(value) for key, value in detail.items()}
    if isinstance(detail, list):
        out = []
        for item in detail:
            flat = _flatten(item)
            out.extend(flat if isinstance(flat, list) else [flat])
        return out
    return str(detail)


def _codes(detail):
    if isinstance(detail, dict):
        return {k: _codes(v) for k, v in detail.items()}
    if isinstance(detail, list):
        return [_codes(v) for v in detail]
    return getattr(detail, "code", None)


def exception_handler(exc, context):
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        detail = exc.detail
        if isinstance(detail, dict):
            fields = {k: v for k, v in _flatten(detail).items() if k not in ("non_field_errors",)}
            non_field = _flatten(detail).get("non_field_errors", [])
        else:
            fields, non_field = {}, _flatten(detail)
        message = non_field[0] if non_field else _("The data sent are not valid.")
        response.data = {"code": "invalid", "detail": message, "fields": fields}
    else:
        detail = exc.detail if isinstance(exc, exceptions.APIException) else str(exc)
        code = getattr(exc, "default_code", "error")
        if isinstance(exc, exceptions.APIException):
            codes = exc.get_codes()
            if isinstance(codes, str):
                code = codes
        response.data = {"code": code, "detail": str(detail), "fields": {}}
    return response


def refusal_response(exc: DjangoValidationError, *, conflict_codes=(), statuses: dict | None = None) -> Response:
    """A service's refusal (a ValidationError with a code) as the error body: the code's status in
    ``statuses``, else 409 for a conflict with the state (``conflict_codes``), 404 for "not_found",
    400 otherwise."""
    from core.validation import error_code

    code = error_code(exc)
    if hasattr(exc, "error_dict"):
        fields = {key: [str(m) for m in messages] for key, messages in exc.message_dict.items() if key != "__all__"}
        general = exc.message_dict.get("__all__", [])
        detail = (general or [m for ms in fields.values() for m in ms] or [_("The data sent are not valid.")])[0]
    else:
        fields, detail = {}, exc.messages[0] if exc.messages else _("The data sent are not valid.")
    if statuses and code in statuses:
        status_code = statuses[code]
    elif code in conflict_codes:
        status_code = status.HTTP_409_CONFLICT
    elif code == "not_found":
        status_code = status.HTTP_404_NOT_FOUND
    else:
        status_code = status.HTTP_400_BAD_REQUEST
    return Response({"code": code, "detail": str(detail), "fields": fields}, status=status_code)


def json_error(status_code: int, code: str, detail: str) -> JsonResponse:
    return JsonResponse({"code": code, "detail": detail, "fields": {}}, status=status_code)


class RolePermission(permissions.BasePermission):
    """Role-based access in the commune of the current host (or of the URL on the national host).

    A view names ``read_roles`` and ``write_roles``; supervising-unit staff may read where the
    view sets ``supervisor_can_read`` (the default) and never write through this layer.
    """

    message = None

    def has_permission(self, request, view):
        user = request.user
        if not user or not user.is_authenticated:
            return False
        commune = getattr(request, "commune", None)
        if getattr(view, "national_scope", False):
            return request.method in permissions.SAFE_METHODS and getattr(view, "supervisor_can_read", True)
        roles = roles_for(user, commune)
        if request.method in permissions.SAFE_METHODS:
            allowed = set(getattr(view, "read_roles", ())) | set(getattr(view, "write_roles", ()))
        else:
            allowed = set(getattr(view, "write_roles", ()))
        return bool(roles & {str(r) for r in allowed})


class CommuneScopedMixin:
    """Serve a tenant API view on a commune host, or on the national host under
    ``/api/v1/communes/{commune_code}/…`` after a jurisdiction check.

    A commune outside the caller's supervising unit gets the same 404 as an unknown code.
    """

    permission_classes = [permissions.IsAuthenticated, RolePermission]
    national_scope = False

    def check_permissions(self, request):
        code = self.kwargs.get("commune_code")
        if code is not None:
            if not request.user or not request.user.is_authenticated:
                raise exceptions.NotAuthenticated()
            commune = Commune.objects.filter(code=code).first()  # the URL converter admits 5 digits only
            if commune is None or not supervises(request.user, commune):
                raise exceptions.NotFound(_("No commune with this code."))
            connection.set_tenant(commune)
            request.commune = commune
            request._request.commune = commune
            self.national_scope = True
        super().check_permissions(request)

    def finalize_response(self, request, response, *args, **kwargs):
        if self.kwargs.get("commune_code") is not None:
            connection.set_schema_to_public()
        return super().finalize_response(request, response, *args, **kwargs)
