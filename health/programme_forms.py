"""The forms of the programmes' pages: they read what was typed (dates dd/mm/yyyy, numbers with a
comma or a point); the rules are in ``health.programmes``, whose refusals come back onto the
fields (``apply_refusal``) so that the page shows them beside what was typed."""
from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils.formats import get_format
from django.utils.translation import gettext_lazy as _

from health import growth
from health.models import Pregnancy


class DayFirstDateField(forms.DateField):
    def __init__(self, **kwargs):
        kwargs.setdefault("input_formats", get_format("DATE_INPUT_FORMATS", lang="vi", use_l10n=True))
        kwargs.setdefault("widget", forms.DateInput(format="%d/%m/%Y", attrs={
            "placeholder": "dd/mm/yyyy", "inputmode": "numeric", "autocomplete": "off"}))
        kwargs.setdefault("error_messages", {"invalid": _("Enter the date as dd/mm/yyyy, e.g. 25/03/2026."),
                                             "required": _("Enter the date.")})
        super().__init__(**kwargs)


class NumberField(forms.CharField):
    """A number as typed ("7,5" or "7.5"): the service reads and checks it."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 12)
        kwargs.setdefault("required", False)
        kwargs.setdefault("widget", forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}))
        super().__init__(**kwargs)


def _int_field(label, **kwargs):
    kwargs.setdefault("required", False)
    kwargs.setdefault("error_messages", {"invalid": _("Enter a whole number.")})
    return forms.IntegerField(label=label, min_value=0, max_value=999, widget=forms.NumberInput(
        attrs={"inputmode": "numeric"}), **kwargs)


def apply_refusal(form: forms.Form, exc: ValidationError) -> None:
    """A service's refusal onto the form: each message on its field, the rest at the top."""
    if hasattr(exc, "error_dict"):
        for key, errors in exc.message_dict.items():
            form.add_error(key if key in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


class ReadingForm(forms.Form):
    taken_on = DayFirstDateField(label=_("Taken on"))
    systolic = _int_field(_("Systolic blood pressure (mmHg)"))
    diastolic = _int_field(_("Diastolic blood pressure (mmHg)"))
    glucose_mmol = NumberField(label=_("Blood glucose (mmol/l)"))
    fasting = forms.TypedChoiceField(label=_("Glucose taken"), required=False, choices=[
        ("", _("Not said")), ("1", _("Fasting")), ("0", _("Not fasting"))],
        coerce=lambda value: value == "1", empty_value=None)
    note = forms.CharField(label=_("Note"), required=False, max_length=300)


class PregnancyForm(forms.Form):
    registered_on = DayFirstDateField(label=_("Registered on"))
    last_period = DayFirstDateField(label=_("First day of the last menstrual period"), required=False)
    expected_delivery = DayFirstDateField(
        label=_("Expected delivery date from an ultrasound"), required=False,
        help_text=_("Leave empty to compute it from the last period (Naegele's rule: + 280 days)."))
    gravida = forms.IntegerField(label=_("Pregnancies so far (this one included)"), min_value=1, max_value=20,
                                 initial=1)
    para = forms.IntegerField(label=_("Births so far"), min_value=0, max_value=20, initial=0)
    risk_notes = forms.CharField(label=_("Risks"), required=False, max_length=300)


class AntenatalVisitForm(forms.Form):
    visited_on = DayFirstDateField(label=_("Visited on"))
    weight_kg = NumberField(label=_("Weight (kg)"))
    systolic = _int_field(_("Systolic blood pressure (mmHg)"))
    diastolic = _int_field(_("Diastolic blood pressure (mmHg)"))
    fundal_height_cm = _int_field(_("Fundal height (cm)"))
    tetanus_dose = _int_field(_("Tetanus vaccine dose"))
    notes = forms.CharField(label=_("Notes"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))


class PregnancyEndForm(forms.Form):
    outcome = forms.ChoiceField(label=_("Outcome"), choices=[("", _("Choose…"))] + [
        (value, label) for value, label in Pregnancy.Outcome.choices if value])
    ended_on = DayFirstDateField(label=_("Ended on"))
    children = forms.IntegerField(label=_("Children born alive"), min_value=0, max_value=6, initial=1)


class GrowthForm(forms.Form):
    measured_on = DayFirstDateField(label=_("Measured on"))
    weight_kg = NumberField(label=_("Weight (kg)"), required=True)
    height_cm = NumberField(label=_("Length or height (cm)"))
    position = forms.ChoiceField(
        label=_("Measured"), required=False,
        choices=[("", _("As for the age (lying under 2 years, standing from 2 years)")),
                 (growth.LYING, _("Lying (length)")), (growth.STANDING, _("Standing (height)"))],
        help_text=_("A child measured the other way is corrected by 0.7 cm, as the WHO standards say."))
