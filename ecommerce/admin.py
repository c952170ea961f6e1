"""The commune admin of the OCOP marketplace (the commune administrator, in a session confirmed
by the second factor, on this commune's host only: ``core.admin_site``).

The product groups are data the administrator edits; a producer's members are added here too
(only users with the producer role in this commune are offered). Producers, products, their
versions and certificates, lots and orders are read-only: they change through
``ecommerce.services`` (approvals by the economy officer, orders by the producers), which keep
their history and events.
"""
from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.db.models import Exists, OuterRef

from communes.models import Membership, Role
from communes.permissions import current_commune
from core.admin_site import CommuneModelAdmin, commune_admin
from ecommerce.models import (
    BankNotification, Certificate, Lot, Order, OrderPayment, Producer, ProducerMember, Product, ProductGroup,
    ProductSubGroup, ProductVersion,
)


class ReadOnlyAdmin(CommuneModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class SubGroupInline(admin.TabularInline):
    model = ProductSubGroup
    extra = 0
    fields = ["order", "code", "name", "name_en", "active"]

    def has_view_permission(self, request, obj=None):
        return self.admin_site.has_permission(request)

    def has_add_permission(self, request, obj=None):
        return self.admin_site.has_permission(request)

    def has_change_permission(self, request, obj=None):
        return self.admin_site.has_permission(request)

    def has_delete_permission(self, request, obj=None):
        return False  # a sub-group products used stays; take it out of the offer with "offered"


@admin.register(ProductGroup, site=commune_admin)
class ProductGroupAdmin(CommuneModelAdmin):
    list_display = ["code", "name", "name_en", "order", "active"]
    inlines = [SubGroupInline]

    def has_delete_permission(self, request, obj=None):
        return False


def producer_role_members(commune):
    """Users with an active producer membership in ``commune``."""
    if commune is None:
        return get_user_model().objects.none()
    return get_user_model().objects.filter(Exists(Membership.objects.filter(
        user_id=OuterRef("pk"), commune_id=commune.pk, role=Role.PRODUCER, is_active=True)))


@admin.register(ProducerMember, site=commune_admin)
class ProducerMemberAdmin(CommuneModelAdmin):
    list_display = ["producer", "user", "created_at"]
    list_select_related = ["producer"]
    fields = ["producer", "user"]

    def has_change_permission(self, request, obj=None):
        return False

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "user":
            kwargs["queryset"] = producer_role_members(getattr(request, "commune", None) or current_commune())
            return db_field.formfield(**kwargs)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        obj.added_by = request.user
        super().save_model(request, obj, form, change)


@admin.register(Producer, site=commune_admin)
class ProducerAdmin(ReadOnlyAdmin):
    list_display = ["name", "kind", "village", "status", "approved_at"]
    list_filter = ["status", "kind"]
    search_fields = ["name", "search_name", "tax_code"]
    exclude = ["bank_account"]


@admin.register(Product, site=commune_admin)
class ProductAdmin(ReadOnlyAdmin):
    list_display = ["slug", "producer", "status", "stock", "live_version", "pending_version"]
    list_filter = ["status"]
    search_fields = ["slug", "live_version__search_text"]


@admin.register(ProductVersion, site=commune_admin)
class ProductVersionAdmin(ReadOnlyAdmin):
    list_display = ["name", "product", "number", "state", "price", "unit", "reviewed_at"]
    list_filter = ["state", "group"]


@admin.register(Certificate, site=commune_admin)
class CertificateAdmin(ReadOnlyAdmin):
    list_display = ["number", "product", "score", "stars", "issued_on", "expires_on"]


@admin.register(Lot, site=commune_admin)
class LotAdmin(ReadOnlyAdmin):
    list_display = ["number", "product", "produced_on", "quantity", "unit"]


@admin.register(Order, site=commune_admin)
class OrderAdmin(ReadOnlyAdmin):
    list_display = ["code", "producer", "state", "total", "placed_at"]
    list_filter = ["state"]
    search_fields = ["code"]
    exclude = ["buyer_phone", "buyer_email", "delivery_address", "submit_token"]


@admin.register(OrderPayment, site=commune_admin)
class OrderPaymentAdmin(ReadOnlyAdmin):
    list_display = ["order", "amount", "source", "paid_at", "transaction_id"]
    list_filter = ["source"]


@admin.register(BankNotification, site=commune_admin)
class BankNotificationAdmin(ReadOnlyAdmin):
    list_display = ["transaction_id", "received_at", "outcome", "order"]
    list_filter = ["outcome"]
