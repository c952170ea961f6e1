"""Forms of the registry's pages. Dates are read day first (dd/mm/yyyy) whatever the language."""
from __future__ import annotations

from django import forms
from django.utils.formats import get_format
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from core.uploads import KeepUploadsMixin
from population import validators
from population.models import Household, Resident, Village
from population.reveal import reveal_id


def date_input_formats():
    # The Vietnamese formats module (config/formats/vi) reads '03/04/2026' as 3 April.
    return get_format("DATE_INPUT_FORMATS", lang="vi", use_l10n=True)


class DayFirstDateField(forms.DateField):
    def __init__(self, **kwargs):
        kwargs.setdefault("input_formats", date_input_formats())
        kwargs.setdefault("widget", forms.DateInput(format="%d/%m/%Y", attrs={"placeholder": "dd/mm/yyyy", "inputmode": "numeric"}))
        kwargs.setdefault("error_messages", {"invalid": _("Enter the date as dd/mm/yyyy, e.g. 03/04/2026.")})
        super().__init__(**kwargs)


def _clean_phone(value):
    normalized = validators.normalize_phone(value)
    if normalized is None:
        raise forms.ValidationError(_("Enter a Vietnamese mobile number of 10 digits, e.g. 0912345678."))
    return normalized


class VillageForm(forms.ModelForm):
    class Meta:
        model = Village
        fields = ["name", "kind", "code"]


class HouseholdForm(forms.ModelForm):
    phone = forms.CharField(
        label=_("phone for SMS"), required=False, max_length=20,
        help_text=_("Vietnamese mobile number, e.g. 0912345678."), widget=forms.TextInput(attrs={"inputmode": "tel"}),
    )
    class Meta:
        model = Household
        fields = ["code", "village", "address", "address_code", "latitude", "longitude", "phone", "note"]
        widgets = {"note": forms.Textarea(attrs={"rows": 3})}

    def clean_phone(self):
        return _clean_phone(self.cleaned_data.get("phone"))


class RevealedIdFormMixin:
    """A resident's form shows the stored ID number only through ``population.reveal`` (one
    access-log line per form shown): the reader and the channel come with the form."""

    reader = None
    reveal_channel = "page"

    def __init__(self, *args, reader=None, channel=None, **kwargs):
        super().__init__(*args, **kwargs)
        if self.is_bound:
            return  # a sent form shows what was sent; the stored number stays for has_changed()
        self.initial.pop("personal_id", None)
        instance = self.instance
        if instance.pk and instance.personal_id and "personal_id" in self.fields:
            reader = reader or self.reader
            if reader is None:
                raise ValueError("A form that shows a stored ID number needs its reader.")
            self.initial["personal_id"] = reveal_id(
                instance, reader, purpose=gettext("edit form"), channel=channel or self.reveal_channel)


class ResidentForm(RevealedIdFormMixin, forms.ModelForm):
    birth_date = DayFirstDateField(label=_("birth date"))
    phone = forms.CharField(label=_("phone"), required=False, max_length=20, widget=forms.TextInput(attrs={"inputmode": "tel"}))

    class Meta:
        model = Resident
        fields = ["household", "full_name", "birth_date", "sex", "ethnicity", "personal_id", "relation", "phone"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["household"].queryset = Household.objects.select_related("village").order_by("code")
        self.fields["personal_id"].widget.attrs.update({"inputmode": "numeric", "autocomplete": "off"})

    def clean_phone(self):
        return _clean_phone(self.cleaned_data.get("phone"))

    def clean_personal_id(self):
        return (self.cleaned_data.get("personal_id") or "").strip() or None


class ImportForm(KeepUploadsMixin, forms.Form):
    file = forms.FileField(label=_("File (.xlsx or .csv)"), allow_empty_file=True)
