"""The commune admin of the schools: the commune's administrator registers the schools (level,
address, village, catchment villages, the bank account that fees are paid to) and their staff,
the principal(s) first, among the commune's ``school_staff`` members. The rest (classes,
students, marks) is kept by the schools' own staff on their pages."""
from __future__ import annotations

import re

from django import forms
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.db.models import Exists, OuterRef
from django.utils.translation import gettext as _

from communes.models import Membership, Role
from communes.permissions import current_commune
from core.admin_site import CommuneModelAdmin, commune_admin
from ecommerce.forms import BANKS
from education.models import School, SchoolYear, StaffMember

BANK_BINS = dict(BANKS)
ACCOUNT_RE = re.compile(r"[0-9]{6,19}")


def school_staff_of_commune(commune):
    """Users with an active ``school_staff`` membership in ``commune``."""
    if commune is None:
        return get_user_model().objects.none()
    return get_user_model().objects.filter(is_active=True).filter(Exists(Membership.objects.filter(
        user_id=OuterRef("pk"), commune_id=commune.pk, role=Role.SCHOOL_STAFF, is_active=True)))


class SchoolAdminForm(forms.ModelForm):
    class Meta:
        model = School
        fields = ["name", "short_name", "level", "code", "village", "address", "phone", "email", "catchment_villages",
                  "bank_bin", "bank_account", "bank_account_name", "absence_threshold", "active"]

    def clean_bank_bin(self):
        value = (self.cleaned_data.get("bank_bin") or "").strip()
        if value and value not in BANK_BINS:
            raise forms.ValidationError(_("This BIN is not a bank of the VietQR list (e.g. 970405 for Agribank)."))
        return value

    def clean_bank_account(self):
        value = re.sub(r"[\s.-]", "", self.cleaned_data.get("bank_account") or "")
        if value and not ACCOUNT_RE.fullmatch(value):
            raise forms.ValidationError(_("A bank account number has 6 to 19 digits."))
        return value

    def clean(self):
        data = super().clean()
        filled = [bool(data.get(f)) for f in ("bank_bin", "bank_account", "bank_account_name")]
        if any(filled) and not all(filled):
            raise forms.ValidationError(_("Give the bank, the account number and the account name, or none of them."))
        return data


class StaffInline(admin.TabularInline):
    model = StaffMember
    extra = 1
    fields = ["user", "full_name", "position", "phone", "active"]

    def has_view_permission(self, request, obj=None):
        return self.admin_site.has_permission(request)

    def has_add_permission(self, request, obj=None):
        return self.admin_site.has_permission(request)

    def has_change_permission(self, request, obj=None):
        return self.admin_site.has_permission(request)

    def has_delete_permission(self, request, obj=None):
        return False

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.related_model is get_user_model():
            kwargs["queryset"] = school_staff_of_commune(getattr(request, "commune", None) or current_commune())
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(School, site=commune_admin)
class SchoolAdmin(CommuneModelAdmin):
    form = SchoolAdminForm
    list_display = ["name", "level", "village", "active"]
    list_filter = ["level", "active"]
    search_fields = ["name", "short_name", "code"]
    filter_horizontal = ["catchment_villages"]
    inlines = [StaffInline]

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(SchoolYear, site=commune_admin)
class SchoolYearAdmin(CommuneModelAdmin):
    list_display = ["name", "starts_on", "ends_on", "current"]
    readonly_fields = ["name", "starts_on", "ends_on", "current"]

    def has_add_permission(self, request):
        return False  # opened on the schools' page (two semesters and the subjects with it)

    def has_delete_permission(self, request, obj=None):
        return False
