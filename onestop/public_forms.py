"""Forms of the citizens' pages: the online application, the status lookup, the rating."""
from __future__ import annotations

import datetime
import re
from decimal import Decimal

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.phones import normalize_mobile
from core.text import clean_text
from onestop.models import Delivery, OnlineLevel, Rating

FIELD_PREFIX = "f_"
DATE_INPUT_FORMATS = ["%d/%m/%Y", "%Y-%m-%d", "%d-%m-%Y", "%d.%m.%Y"]
STORED_DATE_FORMAT = "%d/%m/%Y"
ID_NUMBER = re.compile(r"\d{12}")


def _choices(raw) -> list[tuple[str, str]]:
    """Choices as the catalogue writes them: plain strings, [value, label] pairs or
    {"value", "label"} objects."""
    out = []
    for item in raw or []:
        if isinstance(item, dict):
            value = str(item.get("value", item.get("label", "")))
            out.append((value, str(item.get("label", value))))
        elif isinstance(item, (list, tuple)) and item:
            out.append((str(item[0]), str(item[-1])))
        else:
            out.append((str(item), str(item)))
    return out


def _procedure_field(spec: dict) -> forms.Field:
    kind = spec.get("type") or "text"
    common = {"label": spec.get("label") or spec.get("name"), "required": bool(spec.get("required", False))}
    if spec.get("help"):
        common["help_text"] = spec["help"]
    if kind == "textarea":
        return forms.CharField(max_length=2000, widget=forms.Textarea(attrs={"rows": 3}), **common)
    if kind == "date":
        return forms.DateField(
            input_formats=DATE_INPUT_FORMATS,
            widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"), **common,
        )
    if kind == "number":
        return forms.IntegerField(min_value=0, max_value=10**9, **common)
    if kind == "select":
        choices = _choices(spec.get("choices"))
        if not common["required"]:
            choices = [("", "—")] + choices
        return forms.ChoiceField(choices=choices, **common)
    return forms.CharField(max_length=300, **common)


def stored_to_initial(spec: dict, value):
    """A value kept in ``Dossier.form_data`` back into the form."""
    if value in (None, ""):
        return value
    if (spec.get("type") or "text") == "date":
        for fmt in DATE_INPUT_FORMATS:
            try:
                return datetime.datetime.strptime(str(value), fmt).date()
            except ValueError:
                continue
    return value


class ApplicationForm(forms.Form):
    """The applicant's details and the fields the procedure asks for (nothing more)."""

    applicant_name = forms.CharField(
        label=gettext_lazy("Full name"), max_length=200, widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    applicant_phone = forms.CharField(
        label=gettext_lazy("Mobile phone number"), max_length=20,
        help_text=gettext_lazy("Notices about the dossier are sent to it; its last four digits open the status page."),
        widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}),
    )
    applicant_email = forms.EmailField(
        label=gettext_lazy("E-mail (optional)"), required=False, widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    applicant_id_number = forms.CharField(
        label=gettext_lazy("Personal ID number (12 digits)"), max_length=20, required=False,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    applicant_address = forms.CharField(
        label=gettext_lazy("Address"), max_length=300, required=False,
        widget=forms.TextInput(attrs={"autocomplete": "street-address"}),
    )
    delivery = forms.ChoiceField(label=gettext_lazy("How do you want to receive the result?"), widget=forms.RadioSelect)
    delivery_address = forms.CharField(
        label=gettext_lazy("Postal address (when sent by post)"), max_length=300, required=False,
    )

    def __init__(self, procedure, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.procedure = procedure
        choices = [(Delivery.COUNTER.value, Delivery.COUNTER.label), (Delivery.POST.value, Delivery.POST.label)]
        if procedure.online_level == OnlineLevel.FULL:
            choices.insert(0, (Delivery.ONLINE.value, Delivery.ONLINE.label))
        self.fields["delivery"].choices = choices
        self.fields["delivery"].initial = choices[0][0]
        self.specs = [spec for spec in (procedure.form_fields or []) if isinstance(spec, dict) and spec.get("name")]
        for spec in self.specs:
            self.fields[FIELD_PREFIX + str(spec["name"])] = _procedure_field(spec)

    @classmethod
    def initial_for(cls, procedure, *, user=None, dossier=None) -> dict:
        """The account's details for a new application, or what the draft holds."""
        if dossier is not None:
            initial = {
                "applicant_name": dossier.applicant_name, "applicant_phone": dossier.applicant_phone,
                "applicant_email": dossier.applicant_email, "applicant_id_number": dossier.applicant_id_number,
                "applicant_address": dossier.applicant_address, "delivery": dossier.delivery,
                "delivery_address": dossier.delivery_address,
            }
            data = dossier.form_data or {}
            for spec in procedure.form_fields or []:
                if isinstance(spec, dict) and spec.get("name") in data:
                    initial[FIELD_PREFIX + spec["name"]] = stored_to_initial(spec, data[spec["name"]])
            return initial
        initial = {}
        if user is not None and user.is_authenticated:
            phone = normalize_mobile(user.phone) or normalize_mobile(user.get_username()) or ""
            initial = {"applicant_name": user.full_name or "", "applicant_phone": phone, "applicant_email": user.email or ""}
        return initial

    def field_items(self):
        """The procedure's own fields, bound, in the catalogue's order."""
        return [self[FIELD_PREFIX + str(spec["name"])] for spec in self.specs]

    def applicant_fields(self):
        return [self[name] for name in ("applicant_name", "applicant_phone", "applicant_email", "applicant_id_number", "applicant_address")]

    def clean_applicant_name(self):
        name = clean_text(self.cleaned_data["applicant_name"])
        if len(name) < 2:
            raise forms.ValidationError(_("Enter the applicant's full name."))
        return name

    def clean_applicant_phone(self):
        phone = normalize_mobile(self.cleaned_data["applicant_phone"])
        if not phone:
            raise forms.ValidationError(_("Enter a Vietnamese mobile number of 10 digits, for example 0912 345 678."))
        return phone

    def clean_applicant_id_number(self):
        value = re.sub(r"[\s.]", "", self.cleaned_data.get("applicant_id_number") or "")
        if value and not ID_NUMBER.fullmatch(value):
            raise forms.ValidationError(_("The personal ID number has exactly 12 digits."))
        return value

    def clean_applicant_address(self):
        return clean_text(self.cleaned_data.get("applicant_address"))

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("delivery") == Delivery.POST:
            address = clean_text(cleaned.get("delivery_address"))
            if not address:
                self.add_error("delivery_address", _("Enter the postal address the result should be sent to."))
            cleaned["delivery_address"] = address
        else:
            cleaned["delivery_address"] = ""
        return cleaned

    def applicant(self) -> dict:
        data = self.cleaned_data
        return {
            "name": data["applicant_name"], "phone": data["applicant_phone"], "email": data.get("applicant_email") or "",
            "id_number": data.get("applicant_id_number") or "", "address": data.get("applicant_address") or "",
        }

    def form_data(self) -> dict:
        """The procedure's fields as kept on the dossier (dates as dd/mm/yyyy, as printed)."""
        out = {}
        for spec in self.specs:
            value = self.cleaned_data.get(FIELD_PREFIX + str(spec["name"]))
            if isinstance(value, datetime.date):
                value = value.strftime(STORED_DATE_FORMAT)
            elif isinstance(value, Decimal):
                value = str(value)
            elif isinstance(value, str):
                value = value.strip()
            if value not in (None, ""):
                out[str(spec["name"])] = value
        return out


class LookupForm(forms.Form):
    code = forms.CharField(
        label=gettext_lazy("Dossier code"), max_length=40,
        help_text=gettext_lazy("As printed on the receipt and appointment slip."),
        widget=forms.TextInput(attrs={"autocapitalize": "characters", "autocomplete": "off", "spellcheck": "false"}),
    )
    phone_last4 = forms.CharField(
        label=gettext_lazy("Last four digits of the applicant's phone number"), max_length=4, min_length=4,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "pattern": "[0-9]{4}", "autocomplete": "off", "size": 6}),
    )

    def clean_code(self):
        return re.sub(r"\s+", "", self.cleaned_data["code"]).upper()

    def clean_phone_last4(self):
        value = self.cleaned_data["phone_last4"].strip()
        if not re.fullmatch(r"\d{4}", value):
            raise forms.ValidationError(_("Enter the last four digits of the phone number."))
        return value


class RatingForm(forms.Form):
    score = forms.TypedChoiceField(
        label=gettext_lazy("How satisfied are you with the service?"), coerce=int,
        choices=[(s.value, s.label) for s in sorted(Rating.Score, key=lambda s: -s.value)], widget=forms.RadioSelect,
    )
    comment = forms.CharField(
        label=gettext_lazy("Comment (optional)"), required=False, max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class SupplementForm(forms.Form):
    note = forms.CharField(
        label=gettext_lazy("Note to the desk (optional)"), required=False, max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


def validation_messages(error) -> list[str]:
    """The messages of a ``ValidationError`` (a dict of field → message, or a list)."""
    if hasattr(error, "message_dict"):
        return [message for messages in error.message_dict.values() for message in messages]
    return list(getattr(error, "messages", [str(error)]))

