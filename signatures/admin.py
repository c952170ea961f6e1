"""Read-only views of the signatures app in the commune's admin (changes go through the pages)."""
from django.contrib import admin

from core.admin_site import CommuneModelAdmin, commune_admin
from signatures.models import KeyGrant, SignatureImage, SigningCertificate, SigningEvent, SigningJob


class ReadOnlyAdmin(CommuneModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class KeyGrantInline(admin.TabularInline):
    model = KeyGrant
    extra = 0
    fields = ["user_id", "failed_attempts", "locked_until", "created_at"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(SigningCertificate, site=commune_admin)
class SigningCertificateAdmin(ReadOnlyAdmin):
    list_display = ["subject", "kind", "backend", "issuer", "not_after", "active"]
    list_filter = ["kind", "backend", "active"]
    search_fields = ["subject", "fingerprint", "serial"]
    exclude = ["cert_der"]
    readonly_fields = [f.name for f in SigningCertificate._meta.fields if f.name != "cert_der"]
    inlines = [KeyGrantInline]


@admin.register(SignatureImage, site=commune_admin)
class SignatureImageAdmin(ReadOnlyAdmin):
    list_display = ["id", "kind", "owner_user_id", "width", "height", "active", "created_at"]
    list_filter = ["kind", "active"]
    readonly_fields = [f.name for f in SignatureImage._meta.fields]


@admin.register(SigningJob, site=commune_admin)
class SigningJobAdmin(ReadOnlyAdmin):
    list_display = ["id", "purpose", "subject", "state", "attempts", "created_at", "finished_at"]
    list_filter = ["state", "purpose"]
    search_fields = ["subject", "source_name", "output_name"]
    readonly_fields = [f.name for f in SigningJob._meta.fields]


@admin.register(SigningEvent, site=commune_admin)
class SigningEventAdmin(ReadOnlyAdmin):
    list_display = ["at", "username", "certificate_subject", "subject", "purpose", "outcome", "code", "job_id"]
    list_filter = ["outcome", "purpose"]
    search_fields = ["username", "subject", "certificate_fingerprint"]
    readonly_fields = [f.name for f in SigningEvent._meta.fields]
