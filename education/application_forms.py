"""The forms of online enrolment: the citizen's application (its files survive a refusal:
``core.uploads``), the papers sent later, and the school's decisions."""
from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from core.uploads import KeepUploadsMixin
from education import applications
from education.models import Application, School

ACCEPT = ".pdf,.jpg,.jpeg,.png,application/pdf,image/jpeg,image/png"
DATE_FORMATS = ["%d/%m/%Y", "%d-%m-%Y", "%Y-%m-%d"]


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": ACCEPT, "multiple": True}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if not data and self.required:
            raise ValidationError(self.error_messages["required"], code="required")
        if isinstance(data, (list, tuple)):
            return [single(d, initial) for d in data if d]
        return [single(data, initial)] if data else []


def _checked(upload):
    if upload:
        try:
            applications.read_upload(upload)
        except ValidationError as error:
            raise ValidationError(error.messages)
    return upload


class ApplicationForm(KeepUploadsMixin, forms.Form):
    grade = forms.TypedChoiceField(label=_("Grade"), coerce=int, widget=forms.RadioSelect,
                                   choices=[(1, _("Grade 1 (primary school)")), (6, _("Grade 6 (lower-secondary school)"))])
    school = forms.ModelChoiceField(label=_("School"), queryset=School.objects.none(),
                                    empty_label=_("— choose the school —"))
    year = forms.ModelChoiceField(label=_("School year"), queryset=None, empty_label=None)
    child_name = forms.CharField(label=_("Child's full name"), max_length=150)
    child_birth_date = forms.DateField(label=_("Child's birth date"), input_formats=DATE_FORMATS,
                                       widget=forms.TextInput(attrs={"placeholder": "dd/mm/yyyy", "inputmode": "numeric"}),
                                       help_text=_("For example 15/03/2020."))
    child_sex = forms.ChoiceField(label=_("Child's sex"), widget=forms.RadioSelect,
                                  choices=[("male", _("Male")), ("female", _("Female"))])
    previous_school = forms.CharField(label=_("Primary school completed (grade 6)"), max_length=200, required=False)
    applicant_name = forms.CharField(label=_("Your full name"), max_length=150)
    applicant_phone = forms.CharField(label=_("Your mobile phone"), max_length=15,
                                      widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}),
                                      help_text=_("The school's answers come by SMS to this number."))
    applicant_email = forms.EmailField(label=_("Your e-mail (optional)"), required=False)
    birth_certificate = forms.FileField(label=_("Birth certificate"), required=False,
                                        widget=forms.ClearableFileInput(attrs={"accept": ACCEPT}))
    primary_completion = forms.FileField(label=_("Primary school completion certificate (grade 6)"), required=False,
                                         widget=forms.ClearableFileInput(attrs={"accept": ACCEPT}))
    others = MultipleFileField(label=_("Other papers (optional)"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["school"].queryset = School.objects.filter(
            pk__in=[s.pk for s, _g in applications.open_schools()]).order_by("name")
        years = applications.open_years()
        from education.models import SchoolYear

        self.fields["year"].queryset = SchoolYear.objects.filter(pk__in=[y.pk for y in years]).order_by("starts_on")
        if years and not self.is_bound:
            self.initial.setdefault("year", years[-1].pk if len(years) > 1 else years[0].pk)

    def clean_birth_certificate(self):
        return _checked(self.cleaned_data.get("birth_certificate"))

    def clean_primary_completion(self):
        return _checked(self.cleaned_data.get("primary_completion"))

    def clean_others(self):
        uploads = self.cleaned_data.get("others") or []
        messages = []
        for upload in uploads:
            try:
                applications.read_upload(upload)
            except ValidationError as error:
                messages.extend(f"{upload.name}: {m}" for m in error.messages)
        if messages:
            raise ValidationError(messages)
        return uploads

    def papers(self) -> list:
        data = self.cleaned_data
        out = []
        if data.get("birth_certificate"):
            out.append((applications.BIRTH_CERTIFICATE, data["birth_certificate"]))
        if data.get("primary_completion"):
            out.append((applications.PRIMARY_COMPLETION, data["primary_completion"]))
        out.extend((applications.OTHER, upload) for upload in data.get("others") or [])
        return out

    def child_fields(self):
        return [self[n] for n in ("child_name", "child_birth_date", "child_sex", "previous_school")]

    def applicant_fields(self):
        return [self[n] for n in ("applicant_name", "applicant_phone", "applicant_email")]


FIELD_OF = {"documents": "others", applications.OTHER: "others", "note": None}


def errors_to_form(form, error: ValidationError) -> None:
    """A service's refusal shown on the form, beside the field it is about."""
    if hasattr(error, "error_dict"):
        for field, messages in error.message_dict.items():
            target = FIELD_OF.get(field, field)
            if target not in form.fields:
                target = None
            for message in messages:
                form.add_error(target, message)
    else:
        for message in error.messages:
            form.add_error(None, message)


class PapersForm(KeepUploadsMixin, forms.Form):
    kind = forms.ChoiceField(label=_("Which paper"), initial=applications.OTHER, required=False, choices=[
        (applications.BIRTH_CERTIFICATE, _("Birth certificate")),
        (applications.PRIMARY_COMPLETION, _("Primary school completion certificate")),
        (applications.OTHER, _("Other paper"))])
    files = MultipleFileField(label=_("Papers"), required=True)

    def clean_kind(self):
        return self.cleaned_data.get("kind") or applications.OTHER

    def clean_files(self):
        uploads = self.cleaned_data.get("files") or []
        messages = []
        for upload in uploads:
            try:
                applications.read_upload(upload)
            except ValidationError as error:
                messages.extend(f"{upload.name}: {m}" for m in error.messages)
        if messages:
            raise ValidationError(messages)
        return uploads


class NoteForm(forms.Form):
    note = forms.CharField(label=_("Note to the parent"), max_length=1000, widget=forms.Textarea(attrs={"rows": 3}))


class AdmitForm(forms.Form):
    school_class = forms.ModelChoiceField(label=_("Class"), queryset=None, required=False,
                                          empty_label=_("— admit without a class for now —"))
    note = forms.CharField(label=_("Note to the parent (optional)"), max_length=1000, required=False,
                           widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, application: Application, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["school_class"].queryset = applications.classes_for(application)
