"""Who may read and write the residents' registry: the one place for the app's role checks."""
from __future__ import annotations

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied

from communes.models import Role
from communes.permissions import has_any_role

READ_ROLES = frozenset({
    Role.CHAIRMAN, Role.VICE_CHAIRMAN, Role.CLERK, Role.ONESTOP_OFFICER, Role.SPECIALIST,
    Role.HEALTH_STAFF, Role.SCHOOL_STAFF, Role.COMMUNE_ADMIN,
})
WRITE_ROLES = frozenset({Role.ONESTOP_OFFICER, Role.SPECIALIST, Role.COMMUNE_ADMIN})


def can_read(user, commune=None) -> bool:
    return has_any_role(user, READ_ROLES | WRITE_ROLES, commune)


def can_write(user, commune=None) -> bool:
    return has_any_role(user, WRITE_ROLES, commune)


def sees_full_id_in_export(user, commune=None, national_scope: bool = False) -> bool:
    """Exports carry full ID numbers only for the officials who keep the registry (write roles):
    they need them to correct and re-import the file. Read-only roles and supervising units get
    masked numbers."""
    return not national_scope and can_write(user, commune)


def _page_guard(check):
    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not check(request.user, getattr(request, "commune", None)):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


read_required = _page_guard(can_read)
write_required = _page_guard(can_write)
