"""Forms of the producers' and the economy officer's pages of the OCOP marketplace.

The forms only shape the input (a phone's keyboard, choices, lengths); every rule is checked by
``ecommerce.services`` (and ``ecommerce.photos``), whose refusals come back as errors on these
forms through ``show_refusal``, with what was typed kept. Prices are typed as a producer writes
them ("120.000" or "120000"); dates day first (03/04/2026 is 3 April).
"""
from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat
from django.utils.formats import get_format
from django.utils.translation import gettext_lazy as _

from core.uploads import KeepUploadsMixin
from ecommerce.models import ProducerKind, ProductGroup, ProductSubGroup

# Banks of the NAPAS VietQR list that producers of the communes use most (their 6-digit BIN);
# a producer whose bank is missing asks the economy officer, who may type any BIN in the API.
BANKS = (
    ("970405", "Agribank"),
    ("970436", "Vietcombank"),
    ("970415", "VietinBank"),
    ("970418", "BIDV"),
    ("970449", "LPBank (Lộc Phát)"),
    ("970422", "MB"),
    ("970407", "Techcombank"),
    ("970416", "ACB"),
    ("970432", "VPBank"),
    ("970403", "Sacombank"),
    ("970423", "TPBank"),
    ("970443", "SHB"),
    ("970437", "HDBank"),
    ("970441", "VIB"),
    ("970448", "OCB"),
    ("970440", "SeABank"),
    ("970426", "MSB"),
    ("970431", "Eximbank"),
    ("970428", "Nam A Bank"),
    ("970446", "Co-opBank"),
)
DATE_HELP = _("Enter a date as dd/mm/yyyy, e.g. 03/04/2026.")


def month_choices():
    from django.utils.translation import gettext

    return [(m, gettext("Month %(number)d") % {"number": m}) for m in range(1, 13)]


def bank_name(bin_code: str) -> str:
    return dict(BANKS).get(bin_code, bin_code)


def show_refusal(form, exc: ValidationError, field_for=None) -> None:
    """A service's refusal shown on the form: each message on its field, or at the top."""
    if hasattr(exc, "error_dict"):
        for key, errors in exc.message_dict.items():
            field = field_for(key) if field_for else key
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


class DayFirstDateField(forms.DateField):
    def __init__(self, **kwargs):
        kwargs.setdefault("input_formats", get_format("DATE_INPUT_FORMATS", lang="vi", use_l10n=True))
        kwargs.setdefault("widget", forms.DateInput(format="%d/%m/%Y", attrs={
            "placeholder": "dd/mm/yyyy", "inputmode": "numeric", "autocomplete": "off"}))
        kwargs.setdefault("error_messages", {"invalid": DATE_HELP})
        super().__init__(**kwargs)


class MoneyField(forms.CharField):
    """An amount in đồng as typed ("120.000", "120 000"): the service reads and checks it."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 20)
        kwargs.setdefault("widget", forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}))
        super().__init__(**kwargs)


class WholeNumberField(forms.CharField):
    """A count as typed: the service reads and checks it (its message names the range)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 12)
        kwargs.setdefault("widget", forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off",
                                                           "class": "short"}))
        super().__init__(**kwargs)


# --- producers ---------------------------------------------------------------------------------

class ProducerForm(forms.Form):
    """Register or edit a producer (cơ sở sản xuất, HTX, hộ kinh doanh, doanh nghiệp)."""

    kind = forms.ChoiceField(label=_("Kind of producer"), choices=ProducerKind.choices, widget=forms.RadioSelect)
    name = forms.CharField(label=_("Name of the producer"), max_length=200,
                           help_text=_("As on the business registration, e.g. Hợp tác xã Nông nghiệp Tú Lệ."))
    representative = forms.CharField(label=_("Representative"), max_length=200,
                                     widget=forms.TextInput(attrs={"autocomplete": "name"}))
    phone = forms.CharField(label=_("Phone"), max_length=20, widget=forms.TextInput(attrs={
        "inputmode": "tel", "autocomplete": "tel"}),
        help_text=_("The commune and the buyers call this number."))
    email = forms.CharField(label=_("E-mail (optional)"), max_length=254, required=False,
                            widget=forms.EmailInput(attrs={"autocomplete": "email"}))
    village = forms.TypedChoiceField(label=_("Village"), coerce=int, choices=())
    address = forms.CharField(label=_("Address"), max_length=300)
    tax_code = forms.CharField(label=_("Tax code (optional)"), max_length=20, required=False,
                               widget=forms.TextInput(attrs={"inputmode": "numeric"}),
                               help_text=_("10 digits (a branch adds a dash and 3 digits); household businesses may give the owner's 12-digit ID number."))
    description = forms.CharField(label=_("Introduction (optional)"), required=False, max_length=5000,
                                  widget=forms.Textarea(attrs={"rows": 4}))
    bank_bin = forms.ChoiceField(label=_("Bank (for payment by VietQR)"), required=False)
    bank_account = forms.CharField(label=_("Account number"), max_length=30, required=False,
                                   widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}))
    bank_account_name = forms.CharField(label=_("Account holder, as the bank shows it"), max_length=200,
                                        required=False)

    def __init__(self, *args, current_bin: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        from population.models import Village

        self.fields["village"].choices = [("", "—")] + [(v.pk, v.name) for v in Village.objects.order_by("name")]
        banks = list(BANKS)
        if current_bin and current_bin not in dict(banks):
            banks.append((current_bin, current_bin))
        self.fields["bank_bin"].choices = [("", _("No account for VietQR yet"))] + banks

    def values(self) -> dict:
        return {name: self.cleaned_data.get(name, "") for name in self.fields}


# --- products ----------------------------------------------------------------------------------

def group_choices():
    return [("", "—")] + [(g.pk, f"{g.code}. {g.name}") for g in ProductGroup.objects.filter(active=True)]


def subgroup_choices():
    """The sub-groups under their group (an <optgroup> each)."""
    choices: list = [("", _("— none —"))]
    groups: dict = {}
    for sub in ProductSubGroup.objects.filter(active=True, group__active=True).select_related("group"):
        groups.setdefault(f"{sub.group.code}. {sub.group.name}", []).append((sub.pk, f"{sub.code} {sub.name}"))
    choices += list(groups.items())
    return choices


class ProductForm(forms.Form):
    """A product's content (a version) and, for a new product, its stock and barcode."""

    name = forms.CharField(label=_("Product name"), max_length=200)
    group = forms.TypedChoiceField(label=_("OCOP product group"), coerce=int, choices=())
    subgroup = forms.TypedChoiceField(label=_("Sub-group"), coerce=int, choices=(), required=False,
                                      empty_value=None)
    price = MoneyField(label=_("Price (đồng)"), help_text=_("For one unit, e.g. 120.000."))
    unit = forms.CharField(label=_("Unit"), max_length=50,
                           help_text=_("What one item of the price is, e.g. kg, hộp 500 g, chai 500 ml."))
    min_order = WholeNumberField(label=_("Minimum order"), initial="1", required=False)
    season_months = forms.TypedMultipleChoiceField(
        label=_("Months of the season"), choices=(), coerce=int, required=False,
        widget=forms.CheckboxSelectMultiple, help_text=_("The months the product is offered; none means all year."))
    description = forms.CharField(label=_("Description (Vietnamese)"), max_length=5000,
                                  widget=forms.Textarea(attrs={"rows": 6}))
    description_en = forms.CharField(label=_("Description (English, optional)"), max_length=5000, required=False,
                                     widget=forms.Textarea(attrs={"rows": 3, "lang": "en"}))
    CONTENT = ("name", "group", "subgroup", "price", "unit", "min_order", "season_months", "description",
               "description_en")

    def __init__(self, *args, new: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["group"].choices = group_choices()
        self.fields["subgroup"].choices = subgroup_choices()
        self.fields["season_months"].choices = month_choices()
        if new:
            self.fields["stock"] = WholeNumberField(label=_("Stock"), initial="0", required=False,
                                                    help_text=_("How many units you can sell now."))
            self.fields["gtin"] = forms.CharField(
                label=_("Barcode number (GTIN, optional)"), max_length=20, required=False,
                widget=forms.TextInput(attrs={"inputmode": "numeric"}),
                help_text=_("The product's barcode number, if it has one (8, 12, 13 or 14 digits)."))

    def content(self) -> dict:
        data = {name: self.cleaned_data.get(name) for name in self.CONTENT}
        data["min_order"] = data["min_order"] or 1
        data["season_months"] = list(data["season_months"] or [])
        data["subgroup"] = data["subgroup"] or None
        return data


class StockForm(forms.Form):
    stock = WholeNumberField(label=_("Stock"))


class PhotoForm(KeepUploadsMixin, forms.Form):
    photo = forms.FileField(label=_("Photo"), widget=forms.ClearableFileInput(attrs={
        "accept": "image/jpeg,image/png,image/webp,.jpg,.jpeg,.png,.webp"}))
    alt_text = forms.CharField(label=_("What the photo shows (for screen readers, optional)"), max_length=200,
                               required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from ecommerce import photos

        self.fields["photo"].help_text = _("JPEG, PNG or WebP, at most %(max)s.") % {
            "max": filesizeformat(photos.max_bytes())}


class PhotoTextForm(forms.Form):
    alt_text = forms.CharField(label=_("What the photo shows"), max_length=200, required=False)


class PhotoMoveForm(forms.Form):
    position = forms.IntegerField(min_value=0, max_value=1000, widget=forms.HiddenInput)


class CertificateForm(forms.Form):
    """An OCOP certificate as printed: its number, the council's score, who issued it, when."""

    number = forms.CharField(label=_("Certificate number"), max_length=60, help_text=_("E.g. 412/QĐ-UBND."))
    score = WholeNumberField(label=_("Score (points out of 100)"),
                             help_text=_("3 stars for 50–69 points, 4 stars for 70–89, 5 stars for 90–100."))
    issuing_authority = forms.CharField(label=_("Issued by"), max_length=200,
                                        help_text=_("E.g. Ủy ban nhân dân tỉnh Lào Cai."))
    issued_on = DayFirstDateField(label=_("Date of issue"))
    expires_on = DayFirstDateField(label=_("Valid until (optional)"), required=False,
                                   help_text=_("Leave it empty: 36 months after the date of issue."))


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3}),
                             help_text=_("The producer reads it: say what to change."))


class HideForm(forms.Form):
    reason = forms.CharField(label=_("Reason (optional)"), max_length=2000, required=False)
