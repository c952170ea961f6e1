"""The two admin sites' registrations of the shared models.

Role grants (memberships, unit staff) are never made by the person they name: the forms refuse
it, on both sites. Simple-history records who granted (HistoryRequestMiddleware); the commune's
chairman sees the last 30 days of grants on the officials' home.
"""
import logging

from django import forms
from django.contrib import admin, messages
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from communes.models import (
    AdministrativeUnit, Commune, Domain, ExternalIdentity, LegacyWard, Membership, SupervisingUnit, UnitStaff, User,
)
from core.admin_site import national_admin, session_verified
from django.contrib.auth.admin import UserAdmin

logger = logging.getLogger(__name__)


def self_grant_message() -> str:
    return gettext("Nobody grants a role to themselves: another administrator must add or change your own role.")


class NoSelfGrantForm(forms.ModelForm):
    """A grant form that refuses to name the user who is filling it in (``request_user`` is
    set by the admin's ``get_form``/``get_formset``)."""

    request_user = None

    def clean(self):
        cleaned = super().clean()
        user = cleaned.get("user")
        if user is None and self.instance.pk:
            user = self.instance.user
        actor = self.request_user
        if actor is not None and user is not None and getattr(user, "pk", None) == actor.pk:
            raise forms.ValidationError(self_grant_message(), code="self_grant")
        return cleaned


def log_grant(request, obj, change: bool) -> None:
    logger.warning(
        "role grant: user %s %s %s of user %s in %s (active: %s)", request.user.pk,
        "changed" if change else "granted", getattr(obj, "role", "unit staff"), obj.user_id,
        getattr(obj, "commune_id", None) or getattr(obj, "unit_id", None), obj.is_active,
    )


class NoSelfGrantAdminMixin:
    def get_form(self, request, obj=None, **kwargs):
        form_class = super().get_form(request, obj, **kwargs)
        return type(form_class.__name__, (form_class,), {"request_user": request.user})

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        log_grant(request, obj, change)


class DomainInline(admin.TabularInline):
    model = Domain
    extra = 0


class MembershipInline(admin.TabularInline):
    model = Membership
    form = NoSelfGrantForm
    extra = 0
    autocomplete_fields = ["user"]

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        formset.form = type(formset.form.__name__, (formset.form,), {"request_user": request.user})
        return formset


@admin.register(Commune, site=national_admin)
class CommuneAdmin(SimpleHistoryAdmin):
    list_display = ["code", "name", "kind", "supervising_unit", "schema_name"]
    list_filter = ["kind", "supervising_unit"]
    search_fields = ["code", "name"]
    readonly_fields = ["schema_name"]
    inlines = [DomainInline, MembershipInline]

    def get_readonly_fields(self, request, obj=None):
        return ["schema_name"] if obj else []


@admin.register(SupervisingUnit, site=national_admin)
class SupervisingUnitAdmin(SimpleHistoryAdmin):
    list_display = ["code", "name", "kind", "parent"]
    list_filter = ["kind"]
    search_fields = ["code", "name"]


@admin.register(User, site=national_admin)
class XasoUserAdmin(UserAdmin):
    fieldsets = UserAdmin.fieldsets + (("Xã Số", {"fields": ("full_name", "phone")}),)
    list_display = ["username", "full_name", "email", "is_active", "is_superuser"]
    search_fields = ["username", "full_name", "email"]


@admin.register(Membership, site=national_admin)
class MembershipAdmin(NoSelfGrantAdminMixin, SimpleHistoryAdmin):
    form = NoSelfGrantForm
    list_display = ["user", "commune", "role", "job_title", "is_active"]
    list_filter = ["role", "is_active"]
    search_fields = ["user__username", "user__full_name", "commune__name", "commune__code"]
    autocomplete_fields = ["user", "commune"]


@admin.register(UnitStaff, site=national_admin)
class UnitStaffAdmin(NoSelfGrantAdminMixin, SimpleHistoryAdmin):
    form = NoSelfGrantForm
    list_display = ["user", "unit", "job_title", "is_active"]
    autocomplete_fields = ["user", "unit"]


@admin.register(AdministrativeUnit, site=national_admin)
class AdministrativeUnitAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "kind", "level", "province_code"]
    list_filter = ["level", "kind"]
    search_fields = ["code", "name"]


@admin.register(LegacyWard, site=national_admin)
class LegacyWardAdmin(admin.ModelAdmin):
    list_display = ["old_ward_code", "old_ward_name", "old_district_name", "new_commune_code"]
    search_fields = ["old_ward_code", "old_ward_name", "old_district_name", "new_commune_code"]


# --- On commune hosts: the commune administrator manages the memberships of this commune only.

from core.admin_site import CommuneModelAdmin, commune_admin, users_of_commune_only  # noqa: E402
from communes.second_factor import reset_second_factor  # noqa: E402


def no_such_user_message() -> str:
    # The same answer for "does not exist" and "belongs elsewhere": nothing to learn from it.
    return gettext("No such user is available. Check the user name, or ask the installation's operators.")


class CommuneMembershipForm(forms.ModelForm):
    username = forms.CharField(label=_("user name"), max_length=150)
    request_user = None
    commune = None

    class Meta:
        model = Membership
        fields = ["role", "job_title", "is_active"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["username"].initial = self.instance.user.username
            self.fields["username"].disabled = True

    def clean_username(self):
        if self.instance.pk:
            return self.instance.user
        username = self.cleaned_data["username"].strip()
        user = users_of_commune_only(self.commune).filter(username=username).first()
        if user is None:
            raise forms.ValidationError(no_such_user_message(), code="no_such_user")
        return user

    def clean(self):
        cleaned = super().clean()
        user, role = cleaned.get("username"), cleaned.get("role")
        actor = self.request_user
        if user is not None and actor is not None and user.pk == actor.pk:
            raise forms.ValidationError(self_grant_message(), code="self_grant")
        commune = self.commune
        if self.instance.pk and user is not None and commune is not None and self.has_changed() \
                and not users_of_commune_only(commune).filter(pk=user.pk).exists():
            granting = cleaned.get("role") != self.initial.get("role") or (
                cleaned.get("is_active") and not self.initial.get("is_active"))
            if granting:
                raise forms.ValidationError(gettext(
                    "Only the installation's operators change the role of an official who also works elsewhere."
                ), code="not_commune_only")
        if user and role and commune and not self.instance.pk:
            if Membership.objects.filter(user=user, commune=commune, role=role).exists():
                raise forms.ValidationError(_("This user already has this role in the commune."))
        return cleaned


@admin.action(description=_("Reset the authenticator app of the selected members"), permissions=["change"])
def reset_second_factor_action(modeladmin, request, queryset):
    """Forget the members' authenticator apps (they set them up again at their next login).
    Only from a session confirmed by the second factor, only for members who belong to this
    commune alone (the others are the installation operators'); logged and e-mailed."""
    if not session_verified(request):
        modeladmin.message_user(request, gettext("Confirm your login with your authenticator app first."), messages.ERROR)
        return None
    commune = request.commune
    own = set(users_of_commune_only(commune).values_list("pk", flat=True))
    count = refused = 0
    for membership in queryset.filter(commune=commune).select_related("user"):
        if membership.user_id not in own or membership.user_id == request.user.pk:
            refused += 1
            continue
        if reset_second_factor(request, membership.user):
            count += 1
            modeladmin.log_change(request, membership, gettext("Authenticator app reset."))
    modeladmin.message_user(
        request,
        gettext("Authenticator apps reset: %(count)s. Those members set up their app again at their next login.") % {"count": count},
        messages.SUCCESS,
    )
    if refused:
        modeladmin.message_user(request, gettext(
            "%(count)s selected members were left unchanged: only the installation's operators reset "
            "the app of an official who also works elsewhere, and nobody resets their own."
        ) % {"count": refused}, messages.WARNING)
    return None


class CommuneMembershipAdmin(CommuneModelAdmin):
    form = CommuneMembershipForm
    list_display = ["user", "role", "job_title", "is_active"]
    list_filter = ["role", "is_active"]
    search_fields = ["user__username", "user__full_name"]
    actions = [reset_second_factor_action]

    def get_queryset(self, request):
        return super().get_queryset(request).filter(commune=request.commune).select_related("user")

    def get_form(self, request, obj=None, **kwargs):
        form_class = super().get_form(request, obj, **kwargs)
        return type(form_class.__name__, (form_class,), {"commune": request.commune, "request_user": request.user})

    def save_model(self, request, obj, form, change):
        if not change:
            obj.user = form.cleaned_data["username"]
            obj.commune = request.commune
        if obj.commune_id != request.commune.pk or obj.user_id == request.user.pk:
            raise PermissionError("membership outside the commune, or of the administrator")
        super().save_model(request, obj, form, change)
        log_grant(request, obj, change)

    def delete_model(self, request, obj):
        if obj.commune_id != request.commune.pk:
            raise PermissionError("membership outside the commune")
        super().delete_model(request, obj)


commune_admin.register(Membership, CommuneMembershipAdmin)


# --- The installation's operators reset any official's authenticator app.

from communes.models import TotpDevice  # noqa: E402


@admin.register(TotpDevice, site=national_admin)
class TotpDeviceAdmin(admin.ModelAdmin):
    """No secret is shown; the action (or deleting a row) resets the user's app (logged and e-mailed)."""

    list_display = ["user", "created_at", "confirmed_at", "failed_attempts", "locked_until"]
    search_fields = ["user__username", "user__full_name"]
    fields = ["user", "created_at", "confirmed_at", "failed_attempts", "locked_until"]
    readonly_fields = fields
    actions = ["reset"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    # Deleting a row is a reset too (logged and told to the official); a user's own deletion
    # takes the app with it.
    def delete_model(self, request, obj):
        self._reset(request, [obj])

    def delete_queryset(self, request, queryset):
        self._reset(request, queryset)

    def _reset(self, request, devices):
        for device in devices:
            user = device.user
            if reset_second_factor(request, user):
                self.log_change(request, user, gettext("Authenticator app reset."))

    @admin.action(description=_("Reset the selected authenticator apps"))
    def reset(self, request, queryset):
        self._reset(request, queryset.select_related("user"))
        self.message_user(request, _("The selected authenticator apps were reset."))


@admin.register(ExternalIdentity, site=national_admin)
class ExternalIdentityAdmin(admin.ModelAdmin):
    """Logins through the province's identity provider; deleting a row unlinks the account
    (the person's next login through the provider makes a new one)."""

    list_display = ["user", "issuer", "subject", "created_at", "last_login_at"]
    search_fields = ["user__username", "user__full_name", "subject"]
    fields = list_display
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
