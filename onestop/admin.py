"""The commune admin of the one-stop desk: the procedure catalogue is data the commune
administrator edits (sectors, procedures with their required documents and steps).

A procedure a dossier was received under is never changed in place (the dossier keeps its
version): the "new version" action copies it, with its documents and steps, into the next
version, which is offered from then on and can be edited until a dossier uses it. Dossiers,
payments and bank notifications are read-only here; they change through the services.
"""
from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.admin_site import CommuneModelAdmin, commune_admin
from onestop import permissions
from onestop.models import (
    BankNotification, Dossier, Payment, Procedure, ProcedureStep, RequiredDocument, Sector, StepKind,
)


def procedure_search_text(procedure: Procedure) -> str:
    """What the citizens' search compares (accents folded)."""
    from onestop.catalogue import search_text_for

    sector = procedure.sector.name if procedure.sector_id else ""
    return search_text_for(procedure.name, procedure.code, sector, procedure.national_code)


def _has_dossiers(procedure) -> bool:
    return bool(procedure and procedure.pk and procedure.dossiers.exists())


class CommuneInline:
    """Inline rows editable by the commune administrator while no dossier uses the procedure."""

    def has_view_permission(self, request, obj=None):
        return self.admin_site.has_permission(request)

    def has_add_permission(self, request, obj=None):
        return self.admin_site.has_permission(request) and not _has_dossiers(obj)

    def has_change_permission(self, request, obj=None):
        return self.admin_site.has_permission(request) and not _has_dossiers(obj)

    def has_delete_permission(self, request, obj=None):
        return self.admin_site.has_permission(request) and not _has_dossiers(obj)


class RequiredDocumentInline(CommuneInline, admin.TabularInline):
    model = RequiredDocument
    extra = 0
    fields = ["order", "name", "copy_kind", "count", "required", "condition", "template"]


ROLE_CHOICES = [
    (permissions.OFFICER, gettext_lazy("One-stop officer")),
    (permissions.SPECIALIST, gettext_lazy("Specialist")),
    (permissions.LEADER_STEP_ROLE, gettext_lazy("Chairman or vice-chairman")),
    (permissions.CLERK, gettext_lazy("Clerk")),
]


class StepForm(forms.ModelForm):
    role = forms.ChoiceField(label=gettext_lazy("role"), choices=ROLE_CHOICES)

    class Meta:
        model = ProcedureStep
        fields = ["order", "kind", "name", "role", "duration_hours"]


class ProcedureStepInline(CommuneInline, admin.TabularInline):
    model = ProcedureStep
    form = StepForm
    extra = 0


class ProcedureForm(forms.ModelForm):
    class Meta:
        model = Procedure
        exclude = ["search_text"]

    def clean_fee_rule(self):
        from onestop.fees import validate_rule

        rule = self.cleaned_data.get("fee_rule") or {"kind": "free"}
        problems = validate_rule(rule)
        if problems:
            raise forms.ValidationError(problems)
        return rule

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("handler") == "external" and not cleaned.get("external_url"):
            self.add_error("external_url", _("Give the address where this procedure is applied for."))
        return cleaned


@admin.register(Sector, site=commune_admin)
class SectorAdmin(CommuneModelAdmin):
    list_display = ["name", "code", "order"]
    search_fields = ["name", "code"]

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and not (obj and obj.procedures.exists())


@admin.register(Procedure, site=commune_admin)
class ProcedureAdmin(CommuneModelAdmin):
    form = ProcedureForm
    list_display = ["code", "name", "sector", "version", "valid_from", "is_current", "verified", "online_level"]
    list_filter = ["is_current", "sector", "online_level", "verified", "handler"]
    search_fields = ["code", "name", "national_code", "search_text"]
    inlines = [RequiredDocumentInline, ProcedureStepInline]
    actions = ["new_version", "withdraw"]
    readonly_fields = ["version", "created_at"]

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and not _has_dossiers(obj)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and obj is not None and not _has_dossiers(obj)

    def save_model(self, request, obj, form, change):
        obj.search_text = procedure_search_text(obj)
        with transaction.atomic():
            if obj.is_current:
                Procedure.objects.filter(code=obj.code, is_current=True).exclude(pk=obj.pk).update(is_current=False)
            if not change:
                latest = Procedure.objects.filter(code=obj.code).order_by("-version").first()
                obj.version = (latest.version + 1) if latest else 1
            super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        steps = list(form.instance.steps.order_by("order"))
        if steps and steps[-1].kind != StepKind.RETURN:
            self.message_user(request, _("The last step of %(code)s should return the result.") % {"code": form.instance.code},
                              level=messages.WARNING)

    @admin.action(description=gettext_lazy("Create a new version (copy) of the selected procedures"))
    def new_version(self, request, queryset):
        count = 0
        for procedure in queryset:
            copy_procedure(procedure)
            count += 1
        self.message_user(request, _("%(count)d new version(s) created: edit them before dossiers use them.")
                          % {"count": count})

    @admin.action(description=gettext_lazy("Stop offering the selected procedures"))
    def withdraw(self, request, queryset):
        updated = queryset.filter(is_current=True).update(is_current=False)
        self.message_user(request, _("%(count)d procedure(s) no longer offered.") % {"count": updated})


@transaction.atomic
def copy_procedure(procedure: Procedure) -> Procedure:
    """The next version of ``procedure``, with its documents and steps; it becomes the current one."""
    latest = Procedure.objects.select_for_update().filter(code=procedure.code).order_by("-version").first()
    requirements = list(procedure.requirements.all())
    steps = list(procedure.steps.all())
    Procedure.objects.filter(code=procedure.code, is_current=True).update(is_current=False)
    procedure.pk = None
    procedure.id = None
    procedure._state.adding = True
    procedure.version = latest.version + 1
    procedure.is_current = True
    procedure.valid_from = timezone.localdate()
    procedure.save()
    for requirement in requirements:
        requirement.pk = None
        requirement.id = None
        requirement._state.adding = True
        requirement.procedure = procedure
        requirement.save()
    for step in steps:
        step.pk = None
        step.id = None
        step._state.adding = True
        step.procedure = procedure
        step.save()
    return procedure


class ReadOnlyAdmin(CommuneModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Dossier, site=commune_admin)
class DossierAdmin(ReadOnlyAdmin):
    list_display = ["code", "procedure", "state", "channel", "received_at", "due_at", "completed_at"]
    list_filter = ["state", "channel", "procedure__sector"]
    search_fields = ["code"]
    exclude = ["applicant_id_number", "form_data", "submit_token"]


@admin.register(Payment, site=commune_admin)
class PaymentAdmin(ReadOnlyAdmin):
    list_display = ["receipt_number", "dossier", "amount", "method", "received_at", "reference"]
    list_filter = ["method"]


@admin.register(BankNotification, site=commune_admin)
class BankNotificationAdmin(ReadOnlyAdmin):
    list_display = ["transaction_id", "received_at", "outcome", "dossier"]
    list_filter = ["outcome"]
