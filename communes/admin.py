from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from communes.models import AdministrativeUnit, Commune, Domain, LegacyWard, Membership, SupervisingUnit, UnitStaff, User
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
