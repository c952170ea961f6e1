from django import forms
from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin
from simple_history.template_utils import HistoricalRecordContextHelper

from core.admin_site import CommuneModelAdmin, commune_admin
from population import services
from population.forms import RevealedIdFormMixin
from population.validators import mask_id
from population.models import AccessLog, Household, Resident, Village


class RegistryAdmin(SimpleHistoryAdmin, CommuneModelAdmin):
    """Commune admin for the registry; saves go through the services (validation, head)."""


@admin.register(Village, site=commune_admin)
class VillageAdmin(RegistryAdmin):
    list_display = ["name", "kind", "code"]
    list_filter = ["kind"]
    search_fields = ["name", "code"]

    def save_model(self, request, obj, form, change):
        services.save_village(obj)


@admin.register(Household, site=commune_admin)
class HouseholdAdmin(RegistryAdmin):
    list_display = ["code", "head", "village", "address", "phone"]
    list_filter = ["village"]
    search_fields = ["code", "address", "address_code"]
    raw_id_fields = ["head"]

    def save_model(self, request, obj, form, change):
        services.save_household(obj)


class ResidentAdminForm(RevealedIdFormMixin, forms.ModelForm):
    reveal_channel = "admin"


class MaskedIdHistoryHelper(HistoricalRecordContextHelper):
    """The history's list of changes shows ID numbers masked (the full one is in the form)."""

    def prepare_delta_change_value(self, change, value):
        if change.field == "personal_id":
            return mask_id(value) or "–"
        return super().prepare_delta_change_value(change, value)


@admin.register(Resident, site=commune_admin)
class ResidentAdmin(RegistryAdmin):
    form = ResidentAdminForm
    list_display = ["full_name", "birth_date", "sex", "masked_id", "relation", "household"]
    list_filter = ["sex", "relation", "household__village"]
    search_fields = ["search_name", "household__code"]
    raw_id_fields = ["household"]

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        # The change page (and a historical version's page) reveals the ID number for this
        # reader through population.reveal, which logs it.
        return type(form.__name__, (form,), {"reader": request.user})

    def get_historical_record_context_helper(self, request, historical_record):
        return MaskedIdHistoryHelper(self.model, historical_record)

    def save_model(self, request, obj, form, change):
        services.save_resident(obj)

    def get_search_results(self, request, queryset, search_term):
        from population.reveal import log_id_search
        from population.selectors import search_residents

        found = search_residents(queryset, search_term)
        log_id_search(found[:2], search_term, request.user, channel="admin")
        return found, False


@admin.register(AccessLog, site=commune_admin)
class AccessLogAdmin(CommuneModelAdmin):
    list_display = ["at", "username", "action", "channel", "object_type", "object_id", "description"]
    list_filter = ["action", "channel"]
    search_fields = ["username", "object_id", "description"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
