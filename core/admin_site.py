"""Two admin sites: the national one (installation operators) and one on every commune host.

Both follow django-otp's ``OTPAdminSite``: ``has_permission`` asks for a session confirmed by the
second factor (``request.user.is_verified()``), and neither has a login page of its own: the
admin's login sends to the one login page (/accounts/login/, password then code).

On a commune host ``is_staff`` alone opens nothing: the user needs the commune administrator
role in the commune of the current host. Users are global, so a commune administrator sees and
touches only users who belong to this commune alone (``users_of_commune_only``): not members of
another commune, not staff of a supervising unit, not the installation's operators. Those are
the national administration's.
"""
from django.contrib import admin
from django.contrib.auth import REDIRECT_FIELD_NAME, get_user_model
from django.contrib.auth.views import redirect_to_login
from django.db.models import Exists, OuterRef, Q
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _

from communes.models import Membership, Role, UnitStaff
from communes.permissions import current_commune, has_any_role


def session_verified(request) -> bool:
    from communes.second_factor import is_verified

    return is_verified(request)


def users_of_commune_only(commune):
    """Active users that a commune administrator may see and act on: no active membership in
    another commune, not staff of a supervising unit, not an operator of the installation
    (citizens without any role are included: they may be added as members)."""
    if commune is None or not getattr(commune, "pk", None):
        return get_user_model().objects.none()
    elsewhere = Membership.objects.filter(user_id=OuterRef("pk"), is_active=True).filter(~Q(commune_id=commune.pk))
    unit = UnitStaff.objects.filter(user_id=OuterRef("pk"), is_active=True)
    return get_user_model().objects.filter(is_active=True, is_superuser=False, is_staff=False).exclude(
        Exists(elsewhere)).exclude(Exists(unit))


def members_of(commune):
    """Users with an active membership in ``commune`` (choices of a user field in its admin)."""
    if commune is None:
        return get_user_model().objects.none()
    return get_user_model().objects.filter(
        Exists(Membership.objects.filter(user_id=OuterRef("pk"), commune_id=commune.pk, is_active=True)),
    )


class SingleLoginAdminSite(admin.AdminSite):
    """No login page of its own: the one login page, then back here."""

    def login(self, request, extra_context=None):
        next_url = request.GET.get(REDIRECT_FIELD_NAME) or reverse(f"{self.name}:index", current_app=self.name)
        if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
            next_url = reverse(f"{self.name}:index", current_app=self.name)
        if request.method == "GET" and self.has_permission(request):
            return HttpResponseRedirect(next_url)
        return redirect_to_login(next_url, login_url=reverse("login"))


class NationalAdminSite(SingleLoginAdminSite):
    site_header = _("Xã Số – national administration")
    site_title = _("Xã Số")
    index_title = _("Administration")

    def has_permission(self, request):
        return bool(
            request.user.is_active and request.user.is_superuser and getattr(request, "is_national", False)
            and session_verified(request)
        )


class CommuneAdminSite(SingleLoginAdminSite):
    site_header = _("Xã Số – commune administration")
    site_title = _("Xã Số")
    index_title = _("Commune administration")

    def has_permission(self, request):
        commune = getattr(request, "commune", None) or current_commune()
        return bool(
            commune is not None
            and request.user.is_active
            and has_any_role(request.user, [Role.COMMUNE_ADMIN], commune)
            and session_verified(request)
        )


class CommuneModelAdmin(admin.ModelAdmin):
    """Model admin on commune hosts: the site's membership check is the permission, and a field
    that names a user offers (and accepts) only members of this commune."""

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

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.related_model is get_user_model():
            kwargs["queryset"] = members_of(getattr(request, "commune", None) or current_commune())
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.related_model is get_user_model():
            kwargs["queryset"] = members_of(getattr(request, "commune", None) or current_commune())
        return super().formfield_for_manytomany(db_field, request, **kwargs)


national_admin = NationalAdminSite(name="national_admin")
commune_admin = CommuneAdminSite(name="commune_admin")
