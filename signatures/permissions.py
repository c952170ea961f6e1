"""Who may do what with digital signatures: the one place for the app's role checks (pages and
API alike)."""
from __future__ import annotations

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied

from communes.models import Role
from communes.permissions import has_any_role, roles_for

# Officials who may hold a personal signing certificate (the leaders sign documents; the clerk,
# one-stop officers and specialists sign receipts, reports and drafts).
PERSONAL_SIGNER_ROLES = frozenset({
    Role.CHAIRMAN, Role.VICE_CHAIRMAN, Role.CLERK, Role.ONESTOP_OFFICER, Role.SPECIALIST,
    Role.SCHOOL_STAFF,  # a school's principal signs report cards (which member may: education.permissions)
})
# Who may be given the use of the commune's agency key.
AGENCY_SIGNER_ROLES = frozenset({Role.CLERK})
# Who manages the commune's certificates, key grants and seal.
ADMIN_ROLES = frozenset({Role.COMMUNE_ADMIN})
# Who sees every signing job and the signing log (the leaders, the clerk, the administrator).
OVERSEER_ROLES = frozenset({Role.CHAIRMAN, Role.VICE_CHAIRMAN, Role.CLERK, Role.COMMUNE_ADMIN})

SIGNER_ROLES = PERSONAL_SIGNER_ROLES | AGENCY_SIGNER_ROLES
# Who opens the signatures module at all.
MODULE_ROLES = SIGNER_ROLES | ADMIN_ROLES


def _values(roles) -> set[str]:
    return {str(r) for r in roles}


def can_use_module(user, commune=None) -> bool:
    return has_any_role(user, MODULE_ROLES, commune)


def can_sign(user, commune=None) -> bool:
    return has_any_role(user, SIGNER_ROLES, commune)


def may_hold_personal(user, commune=None) -> bool:
    return has_any_role(user, PERSONAL_SIGNER_ROLES, commune)


def may_use_agency_key(user, commune=None) -> bool:
    return has_any_role(user, AGENCY_SIGNER_ROLES, commune)


def can_manage(user, commune=None) -> bool:
    return has_any_role(user, ADMIN_ROLES, commune)


def sees_all_jobs(user, commune=None) -> bool:
    return has_any_role(user, OVERSEER_ROLES, commune)


def can_view_certificate(user, certificate, commune=None) -> bool:
    """The administrator sees every certificate; an official sees their own and the agency
    certificates they hold a key grant for."""
    if can_manage(user, commune):
        return True
    if not can_use_module(user, commune):
        return False
    if certificate.owner_user_id == user.pk:
        return True
    return certificate.grants.filter(user_id=user.pk).exists()


def can_view_job(user, job, commune=None) -> bool:
    """The official who asked for the signature, and the overseers."""
    roles = roles_for(user, commune)
    if not roles:
        return False
    if job.requested_by_id == user.pk and roles & _values(MODULE_ROLES):
        return True
    return bool(roles & _values(OVERSEER_ROLES))


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


module_required = _page_guard(can_use_module)
signer_required = _page_guard(can_sign)
manager_required = _page_guard(can_manage)
