from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from core.admin_site import national_admin
from workcalendar.models import CalendarYear, DayOverride, StatutoryHoliday


class DayOverrideFormSet(forms.BaseInlineFormSet):
    def clean(self):
        super().clean()
        year = self.instance.year
        for form in self.forms:
            if not hasattr(form, "cleaned_data") or form.cleaned_data.get("DELETE"):
                continue
            date = form.cleaned_data.get("date")
            if date and year and date.year != year:
                form.add_error("date", ValidationError(
                    _("The date must fall in %(year)s.") % {"year": year}, code="wrong_year",
                ))


class DayOverrideInline(admin.TabularInline):
    model = DayOverride
    formset = DayOverrideFormSet
    extra = 0
    fields = ["date", "kind", "name", "confidence", "source"]


@admin.register(CalendarYear, site=national_admin)
class CalendarYearAdmin(SimpleHistoryAdmin):
    list_display = ["year_label", "status", "notice"]
    list_display_links = ["year_label"]

    @admin.display(description=_("year"), ordering="year")
    def year_label(self, obj):
        return str(obj.year)  # no thousands separator
    list_filter = ["status"]
    inlines = [DayOverrideInline]


@admin.register(StatutoryHoliday, site=national_admin)
class StatutoryHolidayAdmin(SimpleHistoryAdmin):
    list_display = ["name", "day", "month", "valid_from", "valid_until", "compensated", "confidence"]
