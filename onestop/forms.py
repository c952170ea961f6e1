"""Forms of the officials' pages of the one-stop desk. Dates are read day first (03/04/2026 is
3 April). The forms only shape the input: every rule is checked by ``onestop.services``, whose
refusals come back as errors on these forms."""
from __future__ import annotations

import datetime
import uuid

from django import forms
from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _

from communes.permissions import members
from core.uploads import KeepUploadsMixin
from core import periods
from documents.forms import DayFirstDateField, DayFirstDateTimeField
from onestop import fees, permissions
from onestop.models import Delivery, DossierState, PaymentMethod, Procedure

MAX_ITEMS = 30


def user_choices(users, blank: bool = True):
    choices = [(u.pk, u.full_name or u.username) for u in users]
    return ([("", "—")] if blank else []) + choices


def lines(value: str) -> list[str]:
    return [line.strip() for line in (value or "").splitlines() if line.strip()]


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class ScansField(forms.FileField):
    """Zero or more scans of one paper (PDF, JPEG or PNG; the content is checked by the service)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={
            "accept": "application/pdf,image/jpeg,image/png,.pdf,.jpg,.jpeg,.png", "multiple": True,
        }))
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def clean(self, data, initial=None):
        uploads = [f for f in (data if isinstance(data, (list, tuple)) else [data]) if f]
        return [super(ScansField, self).clean(upload, initial) for upload in uploads]


class ProcedureSearchForm(forms.Form):
    q = forms.CharField(label=_("Procedure"), required=False, max_length=100)


class ResidentSearchForm(forms.Form):
    rq = forms.CharField(label=_("Name or ID number"), required=False, max_length=100)


class IntakeForm(KeepUploadsMixin, forms.Form):
    """The counter intake of one procedure: the applicant, the checklist with the scans of each
    paper, the details the procedure asks, how the result is returned, and the decision."""

    DECISIONS = [
        ("receive", _("Receive (form 1)")),
        ("incomplete", _("Ask to complete (form 2)")),
        ("refuse", _("Refuse (form 3)")),
    ]

    EXPIRED = _("The form has expired: reload the page and send it again.")
    NOT_A_RESIDENT = _("This person is not in the commune's registry.")

    submit_token = forms.UUIDField(widget=forms.HiddenInput, error_messages={"required": EXPIRED, "invalid": EXPIRED})
    resident_id = forms.IntegerField(
        widget=forms.HiddenInput, required=False, min_value=1, max_value=2**62,
        error_messages={"invalid": NOT_A_RESIDENT, "min_value": NOT_A_RESIDENT, "max_value": NOT_A_RESIDENT},
    )
    applicant_name = forms.CharField(label=_("Full name"), max_length=200)
    applicant_id_number = forms.CharField(
        label=_("Personal ID number"), max_length=12, required=False,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    applicant_phone = forms.CharField(
        label=_("Phone"), max_length=20, required=False, widget=forms.TextInput(attrs={"inputmode": "tel"}),
        help_text=_("For the text messages about the dossier, and for the status lookup."),
    )
    applicant_email = forms.EmailField(label=_("E-mail"), required=False)
    applicant_address = forms.CharField(label=_("Address"), max_length=300, required=False)
    delivery = forms.ChoiceField(label=_("How the result is returned"), choices=Delivery.choices, initial=Delivery.COUNTER)
    delivery_address = forms.CharField(label=_("Postal address"), max_length=300, required=False)
    page_count = forms.IntegerField(label=_("Pages (for the fee)"), min_value=0, max_value=10000, required=False)
    copy_count = forms.IntegerField(label=_("Copies (for the fee)"), min_value=1, max_value=1000, required=False, initial=1)
    fee_exempt_reason = forms.CharField(label=_("Fee exemption"), max_length=200, required=False,
                                        help_text=_("Only when the applicant is exempt; say why."))
    missing = forms.CharField(
        label=_("Also to complete"), required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("One item per line. Left empty, form 2 lists the required papers not ticked."),
    )
    reason = forms.CharField(label=_("Reason for refusal"), required=False, max_length=2000,
                             widget=forms.Textarea(attrs={"rows": 2}))
    decision = forms.ChoiceField(choices=DECISIONS, initial="receive", widget=forms.HiddenInput)

    APPLICANT_FIELDS = ("applicant_name", "applicant_id_number", "applicant_phone", "applicant_email", "applicant_address")
    DETAIL_FIELDS = ("delivery", "delivery_address", "page_count", "copy_count", "fee_exempt_reason")

    def __init__(self, *args, procedure: Procedure, **kwargs):
        super().__init__(*args, **kwargs)
        self.procedure = procedure
        self.initial.setdefault("submit_token", uuid.uuid4())
        self.requirements = list(procedure.requirements.order_by("order", "pk"))
        max_size = filesizeformat(settings.XASO_DOSSIER_FILE_MAX_BYTES)
        for requirement in self.requirements:
            label = requirement.name
            if requirement.count > 1:
                label = f"{label} ({requirement.count})"
            self.fields[f"doc_{requirement.pk}"] = forms.BooleanField(label=label, required=False)
            self.fields[f"scan_{requirement.pk}"] = ScansField(
                label=_("Scans"), help_text=_("PDF, JPEG or PNG, at most %(max)s each.") % {"max": max_size},
            )
        if not fees.needs_pages(procedure):
            del self.fields["page_count"]
        if not fees.needs_copies(procedure):
            del self.fields["copy_count"]
        self.form_field_names = []
        for spec in procedure.form_fields or []:
            name = str(spec.get("name") or "").strip()
            if not name:
                continue
            field = self._form_field(spec)
            self.fields[f"f_{name}"] = field
            self.form_field_names.append(name)

    @staticmethod
    def _form_field(spec: dict) -> forms.Field:
        label = spec.get("label") or spec["name"]
        # At the counter the officer may take the dossier in before every detail is known.
        required = False
        kind = spec.get("type") or "text"
        if kind == "textarea":
            return forms.CharField(label=label, required=required, max_length=5000, widget=forms.Textarea(attrs={"rows": 3}))
        if kind == "date":
            return DayFirstDateField(label=label, required=required)
        if kind == "number":
            return forms.IntegerField(label=label, required=required, min_value=0, max_value=10**9)
        if kind == "select":
            choices = [(str(c[0]), str(c[1])) if isinstance(c, (list, tuple)) else (str(c), str(c))
                       for c in spec.get("choices") or []]
            return forms.ChoiceField(label=label, required=required, choices=[("", "—")] + choices)
        return forms.CharField(label=label, required=required, max_length=500)

    # --- the parts of the page -------------------------------------------------------------

    def applicant_fields(self):
        return [self[name] for name in self.APPLICANT_FIELDS]

    def detail_fields(self):
        return [self[name] for name in self.DETAIL_FIELDS if name in self.fields]

    def procedure_fields(self):
        return [self[f"f_{name}"] for name in self.form_field_names]

    def checklist(self):
        return [
            {"requirement": r, "tick": self[f"doc_{r.pk}"], "scans": self[f"scan_{r.pk}"]}
            for r in self.requirements
        ]

    # --- what the service takes ------------------------------------------------------------

    def clean_applicant_id_number(self):
        return "".join((self.cleaned_data.get("applicant_id_number") or "").split())

    def service_arguments(self) -> dict:
        data = self.cleaned_data
        form_data = {}
        for name in self.form_field_names:
            value = data.get(f"f_{name}")
            if value in (None, ""):
                continue
            form_data[name] = value.strftime("%d/%m/%Y") if isinstance(value, datetime.date) else value
        return {
            "applicant": {
                "name": data["applicant_name"], "id_number": data.get("applicant_id_number", ""),
                "phone": data.get("applicant_phone", ""), "email": data.get("applicant_email", ""),
                "address": data.get("applicant_address", ""),
            },
            "checklist": {r.pk: bool(data.get(f"doc_{r.pk}")) for r in self.requirements},
            "files": {r.pk: data[f"scan_{r.pk}"] for r in self.requirements if data.get(f"scan_{r.pk}")},
            "form_data": form_data,
            "decision": data["decision"],
            "missing": lines(data.get("missing", ""))[:MAX_ITEMS],
            "reason": data.get("reason", ""),
            "delivery": data.get("delivery") or Delivery.COUNTER,
            "delivery_address": data.get("delivery_address", ""),
            "page_count": data.get("page_count") or 0,
            "copy_count": data.get("copy_count") or 1,
            "fee_exempt_reason": data.get("fee_exempt_reason", ""),
            "resident_id": data.get("resident_id"),
            "submit_token": data["submit_token"],
        }

    def field_for(self, key: str) -> str | None:
        """The form field that shows a service's error on ``key`` (None: on top of the form,
        e.g. the checklist and the scans)."""
        for candidate in (key, f"applicant_{key}", f"f_{key}"):
            if key and key != "__all__" and candidate in self.fields:
                return candidate
        return None


# --- actions on a dossier ----------------------------------------------------------------------

class ItemsForm(forms.Form):
    items = forms.CharField(
        label=_("What is missing or to complete"), max_length=5000, widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("One item per line."),
    )
    note = forms.CharField(label=_("Reason"), max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def clean_items(self):
        items = lines(self.cleaned_data["items"])
        if not items:
            raise forms.ValidationError(_("Write at least one item."))
        if len(items) > MAX_ITEMS:
            raise forms.ValidationError(_("At most %(count)d items.") % {"count": MAX_ITEMS})
        return items


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))


class NoteForm(forms.Form):
    note = forms.CharField(label=_("Note"), max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 2}))


class HandOverForm(forms.Form):
    to_user = forms.TypedChoiceField(label=_("Hand over to"), coerce=int, required=False, empty_value=None)
    note = forms.CharField(label=_("Note"), max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, step_role: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        roles = permissions.step_roles(step_role) if step_role else permissions.STAFF_ROLES
        self.fields["to_user"].choices = user_choices(members(roles))


class AddFileForm(KeepUploadsMixin, forms.Form):
    requirement = forms.TypedChoiceField(label=_("Paper"), coerce=int, required=False, empty_value=None)
    file = forms.FileField(label=_("Scan"), widget=forms.ClearableFileInput(
        attrs={"accept": "application/pdf,image/jpeg,image/png,.pdf,.jpg,.jpeg,.png"}))

    def __init__(self, *args, procedure: Procedure, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["requirement"].choices = [("", _("Other paper"))] + [
            (r.pk, r.name) for r in procedure.requirements.order_by("order", "pk")]
        self.fields["file"].help_text = _("PDF, JPEG or PNG, at most %(max)s.") % {
            "max": filesizeformat(settings.XASO_DOSSIER_FILE_MAX_BYTES)}


class PrepareResultForm(forms.Form):
    result_number = forms.CharField(label=_("Number of the result"), max_length=60, required=False,
                                    help_text=_("The number in the register of results, if any."))


class ExtendForm(forms.Form):
    new_due_at = DayFirstDateTimeField(label=_("New date"))
    reason = forms.CharField(label=_("Reason for the delay"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))


class PinForm(forms.Form):
    pin = forms.CharField(
        label=_("PIN"), max_length=64, required=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "off", "inputmode": "numeric"}),
        help_text=_("The PIN of your key (not needed for a remote signature confirmed on your phone)."),
    )


class ReturnForm(forms.Form):
    delivery = forms.ChoiceField(label=_("How the result is returned"), choices=Delivery.choices)


class PaymentForm(forms.Form):
    method = forms.ChoiceField(
        label=_("Method"), choices=[(PaymentMethod.CASH.value, PaymentMethod.CASH.label),
                                    (PaymentMethod.VIETQR.value, PaymentMethod.VIETQR.label)],
    )
    amount = forms.IntegerField(label=_("Amount (đồng)"), min_value=1, max_value=10**10, required=False,
                                help_text=_("Empty: the fee of the dossier."))
    reference = forms.CharField(label=_("Bank reference"), max_length=100, required=False)


# --- lists, register, statistics ---------------------------------------------------------------

class PeriodForm(forms.Form):
    date_from = DayFirstDateField(label=_("From"), required=False)
    date_to = DayFirstDateField(label=_("To"), required=False)

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", _("The end date is before the start date."))
        return cleaned


class RegisterForm(PeriodForm):
    pass


class StatisticsForm(periods.PeriodForm):
    """A month, quarter or year, or dates typed dd/mm/yyyy; a procedure; an officer."""

    procedure = forms.ChoiceField(label=_("Procedure"), required=False)
    officer = forms.TypedChoiceField(label=_("Official"), coerce=int, required=False, empty_value=None)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        codes = Procedure.objects.filter(is_current=True).order_by("code").values_list("code", "name")
        self.fields["procedure"].choices = [("", _("All procedures"))] + [(c, f"{c} – {n}") for c, n in codes]
        self.fields["officer"].choices = [("", _("All officials"))] + user_choices(members(permissions.STAFF_ROLES), blank=False)


class DossierFilterForm(forms.Form):
    q = forms.CharField(required=False, max_length=100)
    state = forms.ChoiceField(required=False)
    view = forms.ChoiceField(required=False)
    date_from = DayFirstDateField(required=False)
    date_to = DayFirstDateField(required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["state"].choices = [("", _("All states"))] + list(DossierState.choices)
        from onestop.inbox import VIEWS

        self.fields["view"].choices = [("", _("All"))] + VIEWS
