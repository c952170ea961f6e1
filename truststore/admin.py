"""The trust store on the national administration (superusers of the installation only)."""
from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from simple_history.admin import SimpleHistoryAdmin

from core.admin_site import national_admin
from truststore import services
from truststore.models import TrustAnchor, VerificationLog


class TrustAnchorAddForm(forms.ModelForm):
    certificate = forms.FileField(
        label=_("certificate file"),
        help_text=_("The certificate of a certificate authority, in PEM (.pem, .crt) or DER (.cer, .der) form."),
    )

    class Meta:
        model = TrustAnchor
        fields = ["label", "source"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["label"].required = False
        self.fields["label"].help_text = _("Leave empty to use the certificate's subject.")

    def clean_certificate(self):
        upload = self.cleaned_data["certificate"]
        if upload.size > services.MAX_CERTIFICATE_BYTES:
            raise ValidationError(_("The file is too large to be a certificate."), code="not_certificate")
        data = upload.read()
        certs = services.load_certificates(data)
        if len(certs) != 1:
            raise ValidationError(
                _("The file holds %(count)s certificates; add them one at a time.") % {"count": len(certs)},
                code="several_certificates",
            )
        services.check_anchor(certs[0])
        return data


@admin.register(TrustAnchor, site=national_admin)
class TrustAnchorAdmin(SimpleHistoryAdmin):
    list_display = ["label", "subject", "not_before", "not_after", "current", "active", "source", "added_at"]
    list_filter = ["active", "source"]
    search_fields = ["label", "subject", "issuer", "fingerprint"]
    readonly_fields = ["subject", "issuer", "fingerprint", "not_before", "not_after", "added_at", "added_by_user_id"]
    actions = ["activate", "deactivate"]

    @admin.display(boolean=True, description=_("currently valid"))
    def current(self, obj):
        return obj.is_current

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["certificate", "label", "source"]
        return ["label", "source", "active", *self.readonly_fields]

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj is not None else []

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = TrustAnchorAddForm
            kwargs["fields"] = ["label", "source"]
        return super().get_form(request, obj, change=change, **kwargs)

    def save_model(self, request, obj, form, change):
        if change:
            if "active" in form.changed_data:
                services.set_active(obj, obj.active, actor=request.user)
            obj.save(update_fields=["label", "source"])
            return
        anchor = services.add_anchor(
            form.cleaned_data["certificate"], label=form.cleaned_data.get("label") or "",
            source=form.cleaned_data.get("source") or "administration", actor=request.user,
        )
        # The admin goes on with the row that the service created (or found).
        obj.__dict__.update({key: value for key, value in anchor.__dict__.items() if key != "_state"})
        obj._state.adding, obj._state.db = False, anchor._state.db

    @admin.action(description=_("Trust the selected authorities"))
    def activate(self, request, queryset):
        for anchor in queryset:
            services.set_active(anchor, True, actor=request.user)
        self.message_user(request, ngettext("%d authority is trusted.", "%d authorities are trusted.",
                                            queryset.count()) % queryset.count(), messages.SUCCESS)

    @admin.action(description=_("Stop trusting the selected authorities"))
    def deactivate(self, request, queryset):
        for anchor in queryset:
            services.set_active(anchor, False, actor=request.user)
        self.message_user(request, ngettext("%d authority is no longer trusted.", "%d authorities are no longer trusted.",
                                            queryset.count()) % queryset.count(), messages.SUCCESS)


@admin.register(VerificationLog, site=national_admin)
class VerificationLogAdmin(admin.ModelAdmin):
    list_display = ["created_at", "host", "channel", "verdict", "signature_count", "file_size", "file_sha256", "client_ip"]
    list_filter = ["channel", "schema_name"]
    search_fields = ["file_sha256", "host", "client_ip"]
    date_hierarchy = "created_at"
    readonly_fields = [f.name for f in VerificationLog._meta.fields]

    @admin.display(description=_("verdict"))
    def verdict(self, obj):
        return obj.outcome.get("verdict") or obj.outcome.get("rejected", "")

    @admin.display(description=_("signatures"))
    def signature_count(self, obj):
        return obj.outcome.get("count", "")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
