"""The commune admin: the catalogue of types, the numbering policy and signing authorities are
data the commune administrator may edit; documents themselves are read-only here (their
changes go through the services, with history)."""
from django.contrib import admin

from core.admin_site import CommuneModelAdmin, commune_admin
from documents.models import (
    DocumentType, ExchangeJob, IncomingDocument, NumberingPolicy, NumberSequence, OutgoingDocument, ReminderJob,
    SigningAuthority,
)


@admin.register(DocumentType, site=commune_admin)
class DocumentTypeAdmin(CommuneModelAdmin):
    list_display = ["name", "abbreviation", "kind", "code", "version", "valid_from", "active"]
    list_filter = ["kind", "active", "version"]
    search_fields = ["name", "abbreviation", "code"]

    def has_delete_permission(self, request, obj=None):
        return False  # documents refer to their type: retire a type with "active" instead


@admin.register(NumberingPolicy, site=commune_admin)
class NumberingPolicyAdmin(CommuneModelAdmin):
    list_display = ["__str__", "mode", "agency_symbol", "default_unit_code"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(SigningAuthority, site=commune_admin)
class SigningAuthorityAdmin(CommuneModelAdmin):
    list_display = ["user", "prefix", "title", "valid_from", "valid_until"]
    filter_horizontal = ["document_types"]
    raw_id_fields = ["user"]


class ReadOnlyAdmin(CommuneModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(NumberSequence, site=commune_admin)
class NumberSequenceAdmin(ReadOnlyAdmin):
    list_display = ["year", "key", "last_number", "updated_at"]
    list_filter = ["year"]


@admin.register(OutgoingDocument, site=commune_admin)
class OutgoingDocumentAdmin(ReadOnlyAdmin):
    list_display = ["number_symbol", "issued_on", "doc_type", "subject", "state", "confidentiality"]
    list_filter = ["state", "confidentiality", "doc_type"]
    search_fields = ["number_symbol", "search_text"]
    exclude = ["body", "search_text"]


@admin.register(IncomingDocument, site=commune_admin)
class IncomingDocumentAdmin(ReadOnlyAdmin):
    list_display = ["incoming_number", "arrived_at", "sender_org", "subject", "state", "deadline"]
    list_filter = ["state", "source", "confidentiality"]
    search_fields = ["original_number_symbol", "search_text"]
    exclude = ["search_text"]


@admin.register(ExchangeJob, site=commune_admin)
class ExchangeJobAdmin(ReadOnlyAdmin):
    list_display = ["id", "kind", "target_code", "state", "attempts", "created_at"]
    list_filter = ["kind", "state"]


@admin.register(ReminderJob, site=commune_admin)
class ReminderJobAdmin(ReadOnlyAdmin):
    list_display = ["day", "state", "result", "created_at"]
