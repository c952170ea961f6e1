"""Two admin sites: the national one (installation operators) and one on every commune host.

On a commune host ``is_staff`` alone opens nothing: the user needs the commune administrator
role in the commune of the current host.
"""
from django.contrib import admin
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from communes.models import Role
from communes.permissions import current_commune, has_any_role


class NationalAdminSite(admin.AdminSite):
    site_header = _("Xã Số – national administration")
    site_title = _("Xã Số")
    index_title = _("Administration")

    def has_permission(self, request):
        return bool(request.user.is_active and request.user.is_superuser and getattr(request, "is_national", False))


class CommuneAdminLoginForm(AuthenticationForm):
    """The admin's login on a commune host: the commune-administrator role, not ``is_staff``."""

    def confirm_login_allowed(self, user):
        super().confirm_login_allowed(user)
        commune = getattr(self.request, "commune", None) or current_commune()
        if not has_any_role(user, [Role.COMMUNE_ADMIN], commune):
            raise ValidationError(
                _("This account is not an administrator of this commune."), code="not_commune_admin",
            )


class CommuneAdminSite(admin.AdminSite):
    site_header = _("Xã Số – commune administration")
    site_title = _("Xã Số")
    index_title = _("Commune administration")
    login_form = CommuneAdminLoginForm

    def has_permission(self, request):
        commune = getattr(request, "commune", None) or current_commune()
        return bool(
            commune is not None
            and request.user.is_active
            and has_any_role(request.user, [Role.COMMUNE_ADMIN], commune)
        )


class CommuneModelAdmin(admin.ModelAdmin):
    """Model admin on commune hosts: the site's membership check is the permission."""

    def has_module_permission(self, request):
        return self.admin_site.has_permission(request)

    def has_view_permission(self, request, obj=None):
        return self.admin_site.has_permission(request)

    def has_add_permission(self, request):
        return self.admin_site.has_permission(request)

    def has_change_permission(self, request, obj=None):
        return self.admin_site.has_permission(request)

    def has_delete_permission(self, request, obj=None):
        return self.admin_site.has_permission(request)


national_admin = NationalAdminSite(name="national_admin")
commune_admin = CommuneAdminSite(name="commune_admin")
