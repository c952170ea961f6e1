from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from communes.models import (
    AdministrativeUnit, Commune, Domain, ExternalIdentity, LegacyWard, Membership, SupervisingUnit, UnitStaff, User,
)
from core.admin_site import national_admin
from django.contrib.auth.admin import UserAdmin


class DomainInline(admin.TabularInline):
    model = Domain
    extra = 0


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


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
class MembershipAdmin(SimpleHistoryAdmin):
    list_display = ["user", "commune", "role", "job_title", "is_active"]
    list_filter = ["role", "is_active"]
    search_fields = ["user__username", "user__full_name", "commune__name", "commune__code"]
    autocomplete_fields = ["user", "commune"]


@admin.register(UnitStaff, site=national_admin)
class UnitStaffAdmin(SimpleHistoryAdmin):
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

from django import forms  # noqa: E402
from django.utils.translation import gettext_lazy as _  # noqa: E402

from core.admin_site import CommuneModelAdmin, commune_admin  # noqa: E402


class CommuneMembershipForm(forms.ModelForm):
    username = forms.CharField(label=_("user name"), max_length=150)

    class Meta:
        model = Membership
        fields = ["role", "job_title", "is_active"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["username"].initial = self.instance.user.username
            self.fields["username"].disabled = True

    def clean_username(self):
        username = self.cleaned_data["username"].strip()
        user = User.objects.filter(username=username, is_active=True).first()
        if user is None:
            raise forms.ValidationError(_("No active user has this user name."))
        return user

    def clean(self):
        cleaned = super().clean()
        user, role = cleaned.get("username"), cleaned.get("role")
        commune = getattr(self, "commune", None)
        if user and role and commune and not self.instance.pk:
            if Membership.objects.filter(user=user, commune=commune, role=role).exists():
                raise forms.ValidationError(_("This user already has this role in the commune."))
        return cleaned


class CommuneMembershipAdmin(CommuneModelAdmin):
    form = CommuneMembershipForm
    list_display = ["user", "role", "job_title", "is_active"]
    list_filter = ["role", "is_active"]
    search_fields = ["user__username", "user__full_name"]

    def get_queryset(self, request):
        return super().get_queryset(request).filter(commune=request.commune).select_related("user")

    def get_form(self, request, obj=None, **kwargs):
        form_class = super().get_form(request, obj, **kwargs)
        form_class.commune = request.commune
        return form_class

    def save_model(self, request, obj, form, change):
        if not change:
            obj.user = form.cleaned_data["username"]
            obj.commune = request.commune
        super().save_model(request, obj, form, change)


commune_admin.register(Membership, CommuneMembershipAdmin)


# --- Second factor: administrators reset a member's authenticator app (the member sets it up again).

from communes.models import TotpDevice  # noqa: E402
from communes.second_factor import reset_device, reset_second_factor_action  # noqa: E402

CommuneMembershipAdmin.actions = [reset_second_factor_action]


@admin.register(TotpDevice, site=national_admin)
class TotpDeviceAdmin(admin.ModelAdmin):
    """No secret is shown; deleting a row (or the action) resets the user's app."""

    list_display = ["user", "created_at", "confirmed_at", "failed_attempts", "locked_until"]
    search_fields = ["user__username", "user__full_name"]
    fields = ["user", "created_at", "confirmed_at", "failed_attempts", "locked_until"]
    readonly_fields = fields
    actions = ["reset"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.action(description=_("Reset the selected authenticator apps"))
    def reset(self, request, queryset):
        for device in queryset.select_related("user"):
            reset_device(device.user, actor=request.user)
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
