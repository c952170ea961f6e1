"""Role checks. Every check asks for a membership in the commune of the current host."""
from __future__ import annotations

from typing import Iterable

from django.core.exceptions import PermissionDenied
from django.db import connection

from communes.models import Commune, Role

# Officials' roles (everyone with a membership except producers).
OFFICIAL_ROLES = frozenset(r.value for r in Role if r != Role.PRODUCER)
LEADER_ROLES = frozenset({Role.CHAIRMAN, Role.VICE_CHAIRMAN})


def current_commune() -> Commune | None:
    tenant = getattr(connection, "tenant", None)
    if isinstance(tenant, Commune) and tenant.pk:
        return tenant
    return None


def members(roles: Iterable[str], commune: Commune | None = None):
    """Active users holding one of ``roles`` in ``commune`` (the current one by default), by name."""
    from django.contrib.auth import get_user_model

    commune = commune if commune is not None else current_commune()
    if commune is None:
        return get_user_model().objects.none()
    return get_user_model().objects.filter(
        is_active=True, memberships__commune=commune, memberships__is_active=True,
        memberships__role__in=[str(r) for r in roles],
    ).distinct().order_by("full_name", "username")


def roles_for(user, commune: Commune | None = None) -> set[str]:
    commune = commune if commune is not None else current_commune()
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return set()
    return set(user.roles_in(commune))


def has_any_role(user, roles: Iterable[str], commune: Commune | None = None) -> bool:
    return bool(roles_for(user, commune) & {str(r) for r in roles})


def supervises(user, commune: Commune | None) -> bool:
    """Is the user staff of a supervising unit that holds this commune?"""
    if commune is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    return commune.supervising_unit_id in user.supervised_unit_ids()


def require_roles(user, roles: Iterable[str], commune: Commune | None = None) -> None:
    if not has_any_role(user, roles, commune):
        raise PermissionDenied


def user_names(ids) -> dict[int, str]:
    """{user id: full name (or username)} for the given ids, in one query."""
    from django.contrib.auth import get_user_model

    ids = {int(i) for i in ids if i}
    if not ids:
        return {}
    return {pk: (full or username) for pk, full, username in
            get_user_model().objects.filter(pk__in=ids).values_list("pk", "full_name", "username")}


def page_guard(require):
    """Make ``page_requires(action)`` for an app whose ``require(user, action)`` raises
    PermissionDenied: a page decorator that sends an anonymous visitor to the login page, then
    asks for the action's role in the commune of the host."""
    from functools import wraps

    from django.contrib.auth.views import redirect_to_login

    def page_requires(action: str):
        def decorator(view):
            @wraps(view)
            def wrapped(request, *args, **kwargs):
                if not request.user.is_authenticated:
                    return redirect_to_login(request.get_full_path())
                require(request.user, action)
                return view(request, *args, **kwargs)

            return wrapped

        return decorator

    return page_requires
