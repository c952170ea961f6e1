"""The forms of the schools' structure pages: they read what was typed; the rules are in
``education.structure``, whose refusals come back onto the fields (``apply_refusal``)."""
from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils.formats import get_format
from django.utils.translation import gettext_lazy as _

from education.models import Enrolment, Guardian, StaffPosition
from education.structure_import import MAX_BYTES, MODES


class DayFirstDateField(forms.DateField):
    def __init__(self, **kwargs):
        kwargs.setdefault("input_formats", get_format("DATE_INPUT_FORMATS", lang="vi", use_l10n=True))
        kwargs.setdefault("widget", forms.DateInput(format="%d/%m/%Y", attrs={
            "placeholder": "dd/mm/yyyy", "inputmode": "numeric", "autocomplete": "off"}))
        kwargs.setdefault("error_messages", {"invalid": _("Enter the date as dd/mm/yyyy, e.g. 25/03/2026."),
                                             "required": _("Enter the date.")})
        super().__init__(**kwargs)


def apply_refusal(form: forms.Form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            for error in errors:
                form.add_error(field if field in form.fields else None, error)
    else:
        for error in exc.messages:
            form.add_error(None, error)


class YearForm(forms.Form):
    name = forms.CharField(label=_("School year"), max_length=9, help_text=_("For example 2026-2027."))
    starts_on = DayFirstDateField(label=_("Starts on"))


class SemestersForm(forms.Form):
    s1_start = DayFirstDateField(label=_("Semester 1 starts on"))
    s1_end = DayFirstDateField(label=_("Semester 1 ends on"))
    s2_start = DayFirstDateField(label=_("Semester 2 starts on"))
    s2_end = DayFirstDateField(label=_("Semester 2 ends on"))


class ClassForm(forms.Form):
    name = forms.CharField(label=_("Class name"), max_length=20, help_text=_("For example 6A or 1B."))
    grade = forms.TypedChoiceField(label=_("Grade"), coerce=int)
    homeroom_teacher = forms.ModelChoiceField(label=_("Homeroom teacher"), queryset=None, required=False)
    room = forms.CharField(label=_("Room"), max_length=30, required=False)

    def __init__(self, *args, school, staff, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["grade"].choices = [(g, str(g)) for g in school.grades]
        self.fields["homeroom_teacher"].queryset = staff
        self.fields["homeroom_teacher"].empty_label = _("No homeroom teacher yet")


class StaffAddForm(forms.Form):
    user = forms.ModelChoiceField(label=_("Account of a teacher of the commune"), queryset=None, required=False,
                                  empty_label=_("No account: a name only"))
    full_name = forms.CharField(label=_("Full name"), max_length=150, required=False,
                                help_text=_("Needed when no account is chosen."))
    position = forms.ChoiceField(label=_("Position"), choices=StaffPosition.choices, initial=StaffPosition.TEACHER)
    phone = forms.CharField(label=_("Mobile phone"), max_length=20, required=False)

    def __init__(self, *args, candidates, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = candidates
        self.fields["user"].label_from_instance = lambda u: f"{u.full_name or u.get_username()} ({u.get_username()})"


class StaffEditForm(forms.Form):
    position = forms.ChoiceField(label=_("Position"), choices=StaffPosition.choices)
    phone = forms.CharField(label=_("Mobile phone"), max_length=20, required=False)
    active = forms.BooleanField(label=_("Works at the school"), required=False)


class SearchForm(forms.Form):
    q = forms.CharField(label=_("Name (accents may be left out)"), max_length=100, required=False)


class EnrolForm(forms.Form):
    resident = forms.IntegerField(widget=forms.HiddenInput, min_value=1, max_value=2**63 - 1)
    entry = forms.ChoiceField(label=_("Comes to the class"), choices=[
        (Enrolment.Entry.NEW, _("New enrolment")), (Enrolment.Entry.TRANSFERRED_IN, _("Transferred in from another school"))])
    came_from = forms.CharField(label=_("Previous school"), max_length=200, required=False,
                                help_text=_("For a student transferred in."))
    starts_on = DayFirstDateField(label=_("From"), required=False)


class GuardianForm(forms.ModelForm):
    class Meta:
        model = Guardian
        fields = ["full_name", "relation", "phone", "email", "receives_messages"]


class TransferOutForm(forms.Form):
    status = forms.ChoiceField(label=_("Leaves"), choices=[
        (Enrolment.Status.TRANSFERRED_OUT, _("For another school")), (Enrolment.Status.DROPPED_OUT, _("Leaves school"))])
    on = DayFirstDateField(label=_("On"))
    went_to = forms.CharField(label=_("Next school"), max_length=200, required=False)
    reason = forms.CharField(label=_("Reason"), max_length=300)


class MoveForm(forms.Form):
    school_class = forms.ModelChoiceField(label=_("New class"), queryset=None)
    on = DayFirstDateField(label=_("On"))
    reason = forms.CharField(label=_("Reason"), max_length=300, required=False)

    def __init__(self, *args, classes, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["school_class"].queryset = classes


class YearEndForm(forms.Form):
    decision = forms.ChoiceField(label=_("At the year's end"), choices=[
        ("promote", _("Promoted to the next grade")), ("repeat", _("Repeats the grade"))])
    school_class = forms.ModelChoiceField(label=_("Class of the next year"), queryset=None)

    def __init__(self, *args, classes, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["school_class"].queryset = classes
        self.fields["school_class"].label_from_instance = lambda c: f"{c.name} · {c.school.name} · {c.year.name}"


class ClassYearEndForm(forms.Form):
    promote_to = forms.ModelChoiceField(label=_("Promoted students go to"), queryset=None, required=False,
                                        empty_label=_("Nowhere in this school: they complete its last grade"))
    repeat_to = forms.ModelChoiceField(label=_("Repeating students go to"), queryset=None, required=False)
    repeaters = forms.MultipleChoiceField(label=_("Students who repeat the grade"), required=False,
                                          widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args, promote_classes, repeat_classes, students, **kwargs):
        super().__init__(*args, **kwargs)
        label = lambda c: f"{c.name} · {c.year.name}"  # noqa: E731
        self.fields["promote_to"].queryset = promote_classes
        self.fields["promote_to"].label_from_instance = label
        self.fields["repeat_to"].queryset = repeat_classes
        self.fields["repeat_to"].label_from_instance = label
        self.fields["repeaters"].choices = [(e.pk, f"{e.number or ''}. {e.student.resident.full_name}")
                                            for e in students]


class ImportForm(forms.Form):
    file = forms.FileField(label=_("Class list (.xlsx, at most 2 MB)"))

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_BYTES:
            raise ValidationError(_("The file is larger than 2 MB."))
        return upload


class ImportChoiceForm(forms.Form):
    mode = forms.ChoiceField(label=_("What to write"), choices=MODES, widget=forms.RadioSelect)
