"""The fees' forms: a fee item (name, amount, semester, classes or whole grades, due date) and a
cash payment. The rules are checked by ``education.fees``; these only read what was typed."""
from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from core import periods
from education import fees


class FeeItemForm(forms.Form):
    name = forms.CharField(label=_("Name of the fee"), max_length=150,
                           error_messages={"required": _("Enter the name of the fee.")})
    amount = forms.IntegerField(label=_("Amount (đ)"), min_value=1, max_value=fees.MAX_AMOUNT,
                                error_messages={"required": _("Enter the amount."),
                                                "invalid": _("Enter the amount in whole đồng, digits only."),
                                                "min_value": _("The amount must be above 0."),
                                                "max_value": _("The amount can be at most 50.000.000 đ.")})
    classes = forms.TypedMultipleChoiceField(label=_("Classes charged"), coerce=int, required=False,
                                             widget=forms.CheckboxSelectMultiple,
                                             error_messages={"invalid_choice": _("Choose classes of this school.")})
    grades = forms.TypedMultipleChoiceField(label=_("Every class of the grade"), coerce=int, required=False,
                                            widget=forms.CheckboxSelectMultiple,
                                            error_messages={"invalid_choice": _("Choose grades of this school.")})
    due_on = periods.DateField(label=_("Payment due on"), required=False)
    note = forms.CharField(label=_("Note"), max_length=300, required=False)

    def __init__(self, *args, school=None, semester=None, **kwargs):
        super().__init__(*args, **kwargs)
        classes = list(fees.classes_of(school, semester)) if school is not None and semester is not None else []
        self.fields["classes"].choices = [(c.pk, c.name) for c in classes]
        grades = sorted({c.grade for c in classes})
        self.fields["grades"].choices = [(g, _("Grade %(grade)s") % {"grade": g}) for g in grades]


class CashForm(forms.Form):
    amount = forms.IntegerField(label=_("Amount received (đ)"), min_value=1,
                                error_messages={"required": _("Enter the amount received."),
                                                "invalid": _("Enter the amount in whole đồng, digits only."),
                                                "min_value": _("The amount must be above 0.")})
