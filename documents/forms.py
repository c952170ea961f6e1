"""Forms of the documents pages. Dates are read day first (03/04/2026 is 3 April)."""
from __future__ import annotations

import re

from django import forms
from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.formats import get_format
from django.utils.translation import gettext_lazy as _

from core.uploads import KeepUploadsMixin
from documents import inbox, numbering, services
from documents.models import (
    AuthorityPrefix, Confidentiality, DocumentType, IncomingDocument, IncomingState, NumberingPolicy,
    OutgoingDocument, OutgoingState, SigningAuthority, TZ,
)

DATE_HELP = _("Enter the date as dd/mm/yyyy, e.g. 03/04/2026.")


class DayFirstDateField(forms.DateField):
    def __init__(self, **kwargs):
        kwargs.setdefault("input_formats", get_format("DATE_INPUT_FORMATS", lang="vi", use_l10n=True))
        kwargs.setdefault("widget", forms.DateInput(format="%d/%m/%Y", attrs={"placeholder": "dd/mm/yyyy", "inputmode": "numeric"}))
        kwargs.setdefault("error_messages", {"invalid": DATE_HELP})
        super().__init__(**kwargs)


class DayFirstDateTimeField(forms.DateTimeField):
    def __init__(self, **kwargs):
        kwargs.setdefault("input_formats", get_format("DATETIME_INPUT_FORMATS", lang="vi", use_l10n=True))
        kwargs.setdefault("widget", forms.DateTimeInput(format="%d/%m/%Y %H:%M", attrs={"placeholder": "dd/mm/yyyy hh:mm"}))
        kwargs.setdefault("error_messages", {"invalid": _("Enter the date and time as dd/mm/yyyy hh:mm, e.g. 03/04/2026 08:30.")})
        super().__init__(**kwargs)


class PdfField(forms.FileField):
    """An uploaded PDF; the size is checked here, the content by ``documents.files``."""

    def __init__(self, **kwargs):
        kwargs.setdefault("widget", forms.ClearableFileInput(attrs={"accept": "application/pdf,.pdf"}))
        kwargs.setdefault("help_text", _("PDF, at most %(max)s.") % {"max": filesizeformat(settings.XASO_PDF_MAX_BYTES)})
        super().__init__(**kwargs)

    def clean(self, data, initial=None):
        upload = super().clean(data, initial)
        if upload and upload.size > settings.XASO_PDF_MAX_BYTES:
            raise forms.ValidationError(
                _("The file is too large: at most %(max)s.") % {"max": filesizeformat(settings.XASO_PDF_MAX_BYTES)}
            )
        return upload


def _user_choices(queryset, blank=True):
    choices = [(u.pk, str(u)) for u in queryset]
    return ([("", "—")] if blank else []) + choices


def _parse_box(value: str):
    """'page,x1,y1,x2,y2' (page counted from 1) → layout entry."""
    parts = [p.strip() for p in (value or "").replace(";", ",").split(",") if p.strip()]
    if not parts:
        return None
    if len(parts) != 5:
        raise forms.ValidationError(_("Write the position as page, x1, y1, x2, y2 (points), e.g. 1, 85, 720, 270, 740."))
    try:
        page = int(parts[0])
        x1, y1, x2, y2 = (float(p) for p in parts[1:])
    except ValueError:
        raise forms.ValidationError(_("Write the position as page, x1, y1, x2, y2 (points), e.g. 1, 85, 720, 270, 740."))
    if page < 1 or not (0 <= x1 < x2 <= 2000 and 0 <= y1 < y2 <= 2000):
        raise forms.ValidationError(_("This position is outside the page."))
    return {"page": page - 1, "box": [x1, y1, x2, y2]}


# --- plain labels: the drafting unit's abbreviation, communes by name ----------------------------

# The units of a commune's People's Committee after the 2025 reform, with the abbreviations their
# official letters commonly carry (12/UBND-VP). A commune may use others: the list only suggests.
KNOWN_UNITS = [
    ("VP", _("Office of the People's Council and People's Committee")),
    ("KT", _("Economic Division")),
    ("VHXH", _("Culture and Society Division")),
    ("TTPVHCC", _("Public Administration Service Centre")),
]


def unit_name(code: str) -> str:
    return str(dict(KNOWN_UNITS).get((code or "").strip().upper(), ""))


class UnitAbbreviationInput(forms.TextInput):
    """A short text box for a unit's abbreviation, with the known units to pick from and the
    name of the unit typed shown beside it."""

    def __init__(self, attrs=None):
        super().__init__({"maxlength": "20", "autocomplete": "off", "size": "10", "class": "short", **(attrs or {})})

    def render(self, name, value, attrs=None, renderer=None):
        from django.utils.html import format_html, format_html_join

        attrs = dict(attrs or {})
        list_id = f"{attrs.get('id') or 'id_' + name}-units"
        attrs["list"] = list_id
        attrs["aria-describedby"] = f"{list_id}-name"
        box = super().render(name, value, attrs, renderer)
        options = format_html_join("", '<option value="{}">{}</option>', ((code, label) for code, label in KNOWN_UNITS))
        return format_html('{}<datalist id="{}">{}</datalist> <span class="muted" id="{}-name">{}</span>',
                           box, list_id, options, list_id, unit_name(value))


def _province_units(commune) -> list[int]:
    """The supervising units of the commune's province (the province and the units below it)."""
    from communes.models import SupervisingUnit

    unit = commune.supervising_unit if commune is not None else None
    if unit is None:
        return []
    while unit.parent_id:
        unit = SupervisingUnit.objects.get(pk=unit.parent_id)
    return [unit.pk, *unit.descendant_ids()]


def province_commune_choices() -> list[tuple[str, str]]:
    """The other communes of this commune's province on the installation, by name."""
    from communes.models import Commune
    from communes.permissions import current_commune
    from core.text import vi_sort_key

    here = current_commune()
    if here is None:
        return []
    communes = Commune.objects.filter(supervising_unit_id__in=_province_units(here)).exclude(pk=here.pk)
    return sorted(((c.code, str(c)) for c in communes), key=lambda pair: vi_sort_key(pair[1]))


def communes_by_name(text: str) -> list[str]:
    """'Yên Mô; nga an (Thanh Hoá)' → the communes' codes. Names are compared without accents; a
    province in brackets tells apart two communes of the same name; a 5-digit code is accepted too."""
    from communes.models import Commune
    from core.text import fold

    codes, errors = [], []
    for entry in [part.strip() for part in re.split(r"[;\n]+", text or "") if part.strip()]:
        if re.fullmatch(r"[0-9]{5}", entry):
            codes.append(entry)
            continue
        match = re.fullmatch(r"(.*?)\s*\((.*)\)", entry)
        name, province = (match.group(1), match.group(2)) if match else (entry, "")
        wanted = fold(re.sub(r"^(xa|phuong|dac khu)\s+", "", fold(name)))
        found = [c for c in Commune.objects.select_related("supervising_unit") if fold(c.name) == wanted]
        if province:
            found = [c for c in found if c.supervising_unit and fold(province) in fold(_province_name(c))]
        if len(found) == 1:
            codes.append(found[0].code)
        elif not found:
            errors.append(_("No commune named “%(name)s” on this installation.") % {"name": entry[:60]})
        else:
            errors.append(_("Several communes are named “%(name)s”: add the province in brackets, e.g. %(example)s.") % {
                "name": entry[:60], "example": f"{found[0].name} ({_province_name(found[0])})"})
    if errors:
        raise forms.ValidationError(errors)
    return list(dict.fromkeys(codes))


def _province_name(commune) -> str:
    unit = commune.supervising_unit
    while unit is not None and unit.parent_id:
        unit = unit.parent
    return unit.name if unit is not None else ""


def commune_names(codes) -> str:
    from communes.models import Commune

    by_code = {c.code: c for c in Commune.objects.filter(code__in=list(codes)).select_related("supervising_unit")}
    return "; ".join(f"{by_code[code].name} ({_province_name(by_code[code])})" if code in by_code else code
                     for code in codes)


class OutgoingForm(KeepUploadsMixin, forms.ModelForm):
    reply_due = DayFirstDateField(label=_("reply requested by"), required=False)
    recipient_units = forms.MultipleChoiceField(
        label=_("Send electronically to the supervising unit"), required=False, widget=forms.CheckboxSelectMultiple,
    )
    recipient_communes = forms.MultipleChoiceField(
        label=_("Send electronically to communes of the province"), required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    other_communes = forms.CharField(
        label=_("Send electronically to other communes"), required=False, max_length=600,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Their names, separated by semicolons, e.g. Yên Mô; Nga An. Accents may be left out. When "
                    "two communes share a name, add the province in brackets: Tân Lập (Phú Thọ)."),
    )
    upload = PdfField(label=_("Upload the draft as PDF instead"), required=False)
    number_box = forms.CharField(label=_("Position of the number (uploaded PDF)"), required=False, max_length=80)
    date_box = forms.CharField(label=_("Position of the date (uploaded PDF)"), required=False, max_length=80)
    signature_box = forms.CharField(label=_("Position of the signature (uploaded PDF)"), required=False, max_length=80)

    class Meta:
        model = OutgoingDocument
        fields = [
            "doc_type", "subject", "body", "recipients_text", "drafting_unit", "urgency", "confidentiality",
            "authority", "reply_due", "copies_count", "archive_holder", "note",
        ]
        widgets = {
            "body": forms.Textarea(attrs={"rows": 14}),
            "recipients_text": forms.Textarea(attrs={"rows": 4}),
            "subject": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["doc_type"].queryset = DocumentType.objects.filter(active=True).order_by("kind", "name")
        today = numbering.local_today()
        self.fields["authority"].queryset = SigningAuthority.objects.filter(
            valid_from__lte=today).exclude(valid_until__lt=today).select_related("user")
        self.fields["authority"].label = _("Signer")
        self.fields["recipient_units"].choices = services.unit_choices()
        self.fields["recipient_communes"].choices = province_commune_choices()
        if not self.fields["recipient_communes"].choices:
            del self.fields["recipient_communes"]
        unit = self.fields["drafting_unit"]
        unit.label = _("Abbreviation of the drafting unit")
        unit.help_text = _("Only for an official letter (công văn): the short name of the unit that drafted it, at "
                           "the end of the symbol, e.g. VP for the Office of the People's Council and People's "
                           "Committee gives 12/UBND-VP. Leave it empty for the default unit.")
        unit.widget = UnitAbbreviationInput()
        if self.instance.pk:
            lines = list(self.instance.electronic_recipients.all())
            in_province = {code for code, _name in province_commune_choices()}
            communes = [r.code for r in lines if r.kind == "commune"]
            self.initial["recipient_units"] = [r.code for r in lines if r.kind == "unit"]
            self.initial["recipient_communes"] = [code for code in communes if code in in_province]
            self.initial["other_communes"] = commune_names([code for code in communes if code not in in_province])

    UPLOAD_FIELDS = ("upload", "number_box", "date_box", "signature_box")

    def main_fields(self):
        return [field for field in self if field.name not in self.UPLOAD_FIELDS]

    def upload_fields(self):
        return [self[name] for name in self.UPLOAD_FIELDS]

    def clean_other_communes(self):
        return communes_by_name(self.cleaned_data.get("other_communes") or "")

    def _layout(self):
        layout = {}
        for key, name in (("number", "number_box"), ("date", "date_box"), ("signature", "signature_box")):
            try:
                box = _parse_box(self.cleaned_data.get(name, ""))
            except forms.ValidationError as exc:
                self.add_error(name, exc)
                continue
            if box:
                layout[key] = box
        return layout

    def clean(self):
        cleaned = super().clean()
        cleaned["layout"] = self._layout()
        cleaned["electronic_recipients"] = (
            [{"kind": "unit", "code": code} for code in cleaned.get("recipient_units") or []]
            + [{"kind": "commune", "code": code}
               for code in dict.fromkeys([*(cleaned.get("recipient_communes") or []), *(cleaned.get("other_communes") or [])])]
        )
        return cleaned


class AttachmentForm(KeepUploadsMixin, forms.Form):
    title = forms.CharField(label=_("Title"), max_length=300, required=False)
    file = PdfField(label=_("File"))


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=500, widget=forms.Textarea(attrs={"rows": 2}))


class NoteForm(forms.Form):
    note = forms.CharField(label=_("Note"), max_length=5000, required=False, widget=forms.Textarea(attrs={"rows": 2}))


class PinForm(forms.Form):
    pin = forms.CharField(
        label=_("PIN"), max_length=64, required=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "off", "inputmode": "numeric"}),
        help_text=_("The PIN of your key (not needed for a remote signature confirmed on your phone)."),
    )


class DispatchForm(forms.Form):
    day = DayFirstDateField(label=_("Date of sending"), required=False)
    note = forms.CharField(label=_("Note"), max_length=500, required=False)


class FileForm(forms.Form):
    retention_years = forms.IntegerField(
        label=_("Retention (years)"), min_value=0, max_value=100, help_text=_("0 for permanent retention."),
    )
    archive_code = forms.CharField(label=_("File code"), max_length=60, required=False)


class IncomingForm(KeepUploadsMixin, forms.ModelForm):
    arrived_at = DayFirstDateTimeField(label=_("arrived at"))
    document_date = DayFirstDateField(label=_("document date"), required=False)
    sender_due_date = DayFirstDateField(label=_("reply requested by"), required=False)
    scan = PdfField(label=_("Scanned PDF"), required=False)

    class Meta:
        model = IncomingDocument
        fields = [
            "arrived_at", "source", "sender_org", "original_number_symbol", "document_date", "doc_type", "subject",
            "urgency", "confidentiality", "sender_due_date", "note",
        ]
        widgets = {"subject": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["doc_type"].queryset = DocumentType.objects.filter(active=True).order_by("kind", "name")
        if not self.instance.pk:
            self.initial.setdefault("arrived_at", timezone.now().astimezone(TZ).replace(second=0, microsecond=0))

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("confidentiality") not in (None, Confidentiality.NONE) and cleaned.get("scan"):
            self.add_error("scan", _("A secret document cannot have files in the portal."))
        return cleaned


class PresentForm(forms.Form):
    leader = forms.TypedChoiceField(label=_("Present to"), coerce=int)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["leader"].choices = _user_choices(services.leaders())


class AssignForm(forms.Form):
    lead_handler = forms.TypedChoiceField(label=_("Lead handler"), coerce=int)
    co_handlers = forms.TypedMultipleChoiceField(label=_("Co-handlers"), coerce=int, required=False)
    working_days = forms.IntegerField(
        label=_("Handling time (working days)"), min_value=0, max_value=365, required=False,
        help_text=_("Counted in working days from now; or give a deadline date."),
    )
    deadline = DayFirstDateField(label=_("or deadline"), required=False)
    instruction = forms.CharField(label=_("Instruction"), max_length=5000, required=False,
                                  widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        officials = list(services.officials())
        self.fields["lead_handler"].choices = _user_choices(officials)
        self.fields["co_handlers"].choices = _user_choices(officials, blank=False)
        self.fields["co_handlers"].widget.attrs["size"] = 4


class ForwardForm(forms.Form):
    to_user = forms.TypedChoiceField(label=_("Forward to"), coerce=int)
    text = forms.CharField(label=_("Note"), max_length=5000, required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to_user"].choices = _user_choices(services.officials())


class TextForm(forms.Form):
    text = forms.CharField(label=_("Note"), max_length=5000, widget=forms.Textarea(attrs={"rows": 3}))


class CompleteForm(forms.Form):
    note = forms.CharField(label=_("Result"), max_length=5000, widget=forms.Textarea(attrs={"rows": 3}))


class PolicyForm(forms.ModelForm):
    class Meta:
        model = NumberingPolicy
        fields = [
            "mode", "agency_symbol", "default_unit_code", "secret_mark", "parent_agency_line", "agency_name",
            "place_name", "due_soon_days", "default_handling_days",
        ]
        widgets = {"agency_name": forms.Textarea(attrs={"rows": 2}), "default_unit_code": UnitAbbreviationInput()}
        labels = {"default_unit_code": _("Abbreviation of the default drafting unit")}


class AuthorityForm(forms.ModelForm):
    user = forms.TypedChoiceField(label=_("Signer"), coerce=int)
    valid_from = DayFirstDateField(label=_("valid from"))
    valid_until = DayFirstDateField(label=_("valid until"), required=False)
    prefix = forms.ChoiceField(label=_("authority prefix"), choices=AuthorityPrefix.choices, required=False)

    class Meta:
        model = SigningAuthority
        fields = ["prefix", "title", "principal_title", "collective", "document_types", "valid_from", "valid_until"]
        widgets = {"document_types": forms.CheckboxSelectMultiple}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].choices = _user_choices(services.leaders())
        self.fields["document_types"].queryset = DocumentType.objects.filter(active=True).order_by("kind", "name")
        self.initial.setdefault("valid_from", numbering.local_today())


class IncomingFilterForm(forms.Form):
    VIEWS = [("", _("All")), ("overdue", _("Overdue")), ("due_soon", _("Due soon")), ("to_register", _("To register"))] + [
        (key, label) for key, label in inbox.INCOMING_VIEWS if key not in ("overdue", "due_soon", "to_register")]

    q = forms.CharField(required=False, max_length=100)
    sender = forms.CharField(required=False, max_length=100)
    state = forms.ChoiceField(required=False, choices=[("", _("All states"))] + list(IncomingState.choices))
    view = forms.ChoiceField(required=False, choices=VIEWS)
    date_from = DayFirstDateField(required=False)
    date_to = DayFirstDateField(required=False)


class OutgoingFilterForm(forms.Form):
    q = forms.CharField(required=False, max_length=100)
    state = forms.ChoiceField(required=False, choices=[("", _("All states"))] + list(OutgoingState.choices))
    view = forms.ChoiceField(required=False, choices=[("", _("All"))] + inbox.OUTGOING_VIEWS)
    date_from = DayFirstDateField(required=False)
    date_to = DayFirstDateField(required=False)


class RegisterForm(forms.Form):
    date_from = DayFirstDateField(label=_("From"), required=False)
    date_to = DayFirstDateField(label=_("To"), required=False)
    q = forms.CharField(label=_("Search"), required=False, max_length=100)
    secret = forms.BooleanField(label=_("Register of secret documents"), required=False)

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", _("The end date is before the start date."))
        return cleaned

