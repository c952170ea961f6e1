"""The OCOP marketplace's REST API (``/api/v1/ocop/…`` on a commune host): the pieces its
modules share. ``products.py`` (producers, products, versions, certificates, photos),
``orders.py`` and ``trace.py`` each register their routes in ``ecommerce/api_urls.py``.

* ``OcopPermission``: a view maps each of its actions to an action of
  ``ecommerce.permissions`` (``action_permissions``; ``"<action>:<method>"``, e.g.
  ``"photos:post"``, when one action reads and writes); ``LOGGED_IN`` lets any logged-in user in
  (a buyer, a citizen asking to register a producer), ``PUBLIC`` anyone. An action that is not
  mapped is refused. On the national host (``/api/v1/communes/{code}/ocop/…``) supervising-unit
  staff reach only the view's ``supervisor_actions`` (reads), none by default.
* ``SecondFactorVerified`` (re-exported): the actions that approve (``permissions.APPROVE_ACTIONS``)
  add it, so that a session of a password alone, or a token, never approves.
* ``refusal(exc)``: a service's refusal as the error body ``{"code", "detail", "fields"}``: 409
  for a conflict with the row's state (``services.CONFLICT_CODES``), 404 for "not_found", 400
  otherwise. ``PermissionDenied`` from a service is the common 403 body (``core.api``).
* ``OcopViewSet``: the base of the view sets: commune scoping, numeric ids, ``run`` (call a
  service, answer its refusal or the serialized result) and ``input`` (validate a body).

Rows are read through ``ecommerce.selectors`` (``producers_for``, ``products_for``,
``orders_for``): a producer's member never finds another producer's row (404), and the
services check the row's producer again before any write (403).
"""
from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext as _
from rest_framework import status, viewsets
from rest_framework.exceptions import NotFound
from rest_framework.permissions import SAFE_METHODS, AllowAny, BasePermission
from rest_framework.response import Response

from communes.permissions import current_commune
from communes.second_factor import SecondFactorVerified  # noqa: F401  (the approving actions use it)
from core.api import CommuneScopedMixin, refusal_response
from ecommerce import permissions, services

MAX_DB_ID = 2**63 - 1
ID_REGEX = r"[0-9]{1,18}"
LOGGED_IN = "logged_in"  # any logged-in user of any role, or none
PUBLIC = "public"  # anyone, logged in or not
APPROVE_ACTIONS = frozenset(permissions.APPROVE_ACTIONS)


def refusal(exc: DjangoValidationError) -> Response:
    """A service's refusal as the API's error body (409 for a conflict with the row's state)."""
    return refusal_response(exc, conflict_codes=services.CONFLICT_CODES)


def require_commune() -> None:
    """The marketplace lives in a commune's schema: on the national host it is not there."""
    if current_commune() is None:
        raise NotFound(_("Not found."))


def needed_permission(view, request) -> str | None:
    """What the view's ``action_permissions`` asks for this request (None: nobody)."""
    action_name = getattr(view, "action", None) or request.method.lower()
    table = getattr(view, "action_permissions", {})
    return table.get(f"{action_name}:{request.method.lower()}", table.get(action_name))


class OcopPermission(BasePermission):
    """The view's ``action_permissions`` ({view action: ecommerce.permissions action, or
    ``LOGGED_IN`` / ``PUBLIC``}); the row's producer is checked by the querysets and services."""

    def has_permission(self, request, view) -> bool:
        action_name = getattr(view, "action", None) or request.method.lower()
        needed = needed_permission(view, request)
        if needed == PUBLIC and not getattr(view, "national_scope", False):
            return True
        user = request.user
        if not user or not user.is_authenticated:
            return False
        if getattr(view, "national_scope", False):
            return request.method in SAFE_METHODS and action_name in getattr(view, "supervisor_actions", ())
        if needed is None:
            return False
        if needed == LOGGED_IN:
            return True
        return permissions.can(user, needed)


class OcopViewSet(CommuneScopedMixin, viewsets.GenericViewSet):
    """The base of the marketplace's view sets (see the module's docstring)."""

    permission_classes = [OcopPermission]
    lookup_value_regex = ID_REGEX
    action_permissions: dict[str, str] = {}
    supervisor_actions: tuple[str, ...] = ()
    filter_backends: list = []

    def get_permissions(self):
        needed = needed_permission(self, self.request) if getattr(self, "request", None) is not None else None
        extra = [SecondFactorVerified()] if needed in APPROVE_ACTIONS else []
        return [*super().get_permissions(), *extra]

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        require_commune()

    def run(self, func, *args, serializer_class=None, status_code=status.HTTP_200_OK, **kwargs):
        """Call a service; its refusal becomes the API's error body, its result the answer
        (204 without a serializer)."""
        try:
            result = func(*args, **kwargs)
        except DjangoValidationError as exc:
            return refusal(exc)
        if serializer_class is None:
            return Response(status=status.HTTP_204_NO_CONTENT)
        return Response(serializer_class(result, context=self.get_serializer_context()).data, status=status_code)

    def input(self, serializer_class, data=None, **kwargs) -> dict:
        """The request's body checked by ``serializer_class`` (400 with the fields otherwise)."""
        serializer = serializer_class(data=self.request.data if data is None else data,
                                      context=self.get_serializer_context(), **kwargs)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data


__all__ = [
    "APPROVE_ACTIONS", "ID_REGEX", "LOGGED_IN", "MAX_DB_ID", "PUBLIC", "AllowAny", "OcopPermission", "OcopViewSet",
    "SecondFactorVerified", "needed_permission", "refusal", "require_commune",
]
