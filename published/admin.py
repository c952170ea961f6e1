"""The outbox's undelivered entries on the national administration (installation operators):
which communes wait, since when, and the last error of a failing entry."""
from __future__ import annotations

from django.contrib import admin

from core.admin_site import national_admin
from published.models import Pending


@admin.register(Pending, site=national_admin)
class PendingAdmin(admin.ModelAdmin):
    list_display = ["schema_name", "entry_id", "topic", "attempts", "due_at", "created_at", "short_error"]
    list_filter = ["topic"]
    search_fields = ["schema_name", "topic", "error"]
    ordering = ["due_at"]

    @admin.display(description=Pending._meta.get_field("error").verbose_name)
    def short_error(self, obj):
        return obj.error[:120]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
