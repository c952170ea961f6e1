from django.contrib import admin

from core.admin_site import CommuneModelAdmin, commune_admin
from notifications.models import Delivery, Notification


class DeliveryInline(admin.TabularInline):
    model = Delivery
    fk_name = "notification"
    extra = 0
    can_delete = False
    readonly_fields = ["index", "recipient", "status", "gateway_message_id", "idempotency_key", "error", "sending_at",
                       "resent_in", "updated_at"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Notification, site=commune_admin)
class NotificationAdmin(CommuneModelAdmin):
    list_display = ["id", "channel", "state", "progress_percent", "sent_count", "attempts", "created_at"]
    list_filter = ["state", "channel"]
    readonly_fields = [f.name for f in Notification._meta.fields]
    inlines = [DeliveryInline]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
