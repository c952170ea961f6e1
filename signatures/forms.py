from django import forms
from django.utils.translation import gettext_lazy as _

from communes.models import Membership
from communes.permissions import current_commune
from core.uploads import KeepUploadsMixin
from signatures import permissions
from signatures.models import CertificateKind, ImageKind


def official_choices(roles) -> list[tuple[int, str]]:
    commune = current_commune()
    if commune is None:
        return []
    memberships = (
        Membership.objects.filter(commune=commune, is_active=True, user__is_active=True, role__in=[str(r) for r in roles])
        .select_related("user").order_by("user__full_name", "user__username")
    )
    seen: dict[int, str] = {}
    for m in memberships:
        label = f"{m.user.full_name or m.user.username} ({m.user.username}) – {m.get_role_display()}"
        seen.setdefault(m.user_id, label)
    return list(seen.items())


class PinMixin(forms.Form):
    pin = forms.CharField(label=_("PIN"), widget=forms.PasswordInput(attrs={"autocomplete": "new-password", "inputmode": "numeric"}),
                          help_text=_("6 to 12 digits. It opens the key at every signature; it is stored nowhere."))
    pin_confirm = forms.CharField(label=_("PIN again"), widget=forms.PasswordInput(attrs={"autocomplete": "new-password", "inputmode": "numeric"}))

    def clean(self):
        data = super().clean()
        if data.get("pin") and data.get("pin_confirm") is not None and data.get("pin") != data.get("pin_confirm"):
            self.add_error("pin_confirm", _("The two PINs are not the same."))
        return data


class OwnImportForm(KeepUploadsMixin, PinMixin):
    """An official imports their own personal certificate."""

    file = forms.FileField(label=_("Certificate file (.p12 or .pfx)"))
    passphrase = forms.CharField(label=_("Passphrase of the file"), required=False,
                                 widget=forms.PasswordInput(attrs={"autocomplete": "off"}))


class ImportForm(OwnImportForm):
    """The administrator imports a personal or the agency certificate."""

    kind = forms.ChoiceField(label=_("Kind"), choices=CertificateKind.choices)
    holder = forms.TypedChoiceField(label=_("Holder of the key"), coerce=int,
                                    help_text=_("The owner (personal) or a clerk (agency). The holder types the PIN."))
    field_order = ["kind", "holder", "file", "passphrase", "pin", "pin_confirm"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["holder"].choices = official_choices(permissions.SIGNER_ROLES)


class RemoteForm(forms.Form):
    """A credential of a remote signing service."""

    kind = forms.ChoiceField(label=_("Kind"), choices=CertificateKind.choices)
    holder = forms.TypedChoiceField(label=_("Owner or clerk"), coerce=int)
    service_url = forms.URLField(label=_("Signing service address"), max_length=300)
    credential_id = forms.CharField(label=_("Credential id"), max_length=200)
    token_setting = forms.CharField(
        label=_("Setting holding the service's token"), max_length=80, required=False,
        help_text=_("Name of the environment setting, e.g. XASO_CSC_TOKEN (the token itself is never stored)."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["holder"].choices = official_choices(permissions.SIGNER_ROLES)


class GrantForm(PinMixin):
    user = forms.TypedChoiceField(label=_("Clerk"), coerce=int)
    unlocking_user = forms.TypedChoiceField(label=_("Holder whose PIN opens the key"), coerce=int, required=False,
                                            empty_value=None)
    unlocking_pin = forms.CharField(label=_("That holder's PIN"), required=False,
                                    widget=forms.PasswordInput(attrs={"autocomplete": "off", "inputmode": "numeric"}))
    field_order = ["user", "pin", "pin_confirm", "unlocking_user", "unlocking_pin"]

    def __init__(self, *args, holders=(), needs_pin=True, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].choices = official_choices(permissions.AGENCY_SIGNER_ROLES)
        self.fields["unlocking_user"].choices = [("", "—")] + [
            (g.user_id, str(g.holder or g.user_id)) for g in holders
        ]
        if not needs_pin:
            for name in ("pin", "pin_confirm", "unlocking_user", "unlocking_pin"):
                del self.fields[name]


class ChangePinForm(forms.Form):
    old_pin = forms.CharField(label=_("Current PIN"), widget=forms.PasswordInput(attrs={"autocomplete": "off", "inputmode": "numeric"}))
    new_pin = forms.CharField(label=_("New PIN"), widget=forms.PasswordInput(attrs={"autocomplete": "new-password", "inputmode": "numeric"}))
    new_pin_confirm = forms.CharField(label=_("New PIN again"),
                                      widget=forms.PasswordInput(attrs={"autocomplete": "new-password", "inputmode": "numeric"}))

    def clean(self):
        data = super().clean()
        if data.get("new_pin") and data.get("new_pin") != data.get("new_pin_confirm"):
            self.add_error("new_pin_confirm", _("The two PINs are not the same."))
        return data


class ImageForm(KeepUploadsMixin, forms.Form):
    file = forms.FileField(label=_("Image (transparent PNG, at most 1 MB)"))


class SealForm(ImageForm):
    kind = forms.CharField(widget=forms.HiddenInput, initial=ImageKind.SEAL, required=False)


class SignUploadForm(KeepUploadsMixin, forms.Form):
    """Sign a PDF of one's own (a report, a letter) with an invisible signature."""

    file = forms.FileField(label=_("PDF file"))
    certificate = forms.TypedChoiceField(label=_("Certificate"), coerce=int)
    pin = forms.CharField(label=_("PIN"), required=False,
                          widget=forms.PasswordInput(attrs={"autocomplete": "off", "inputmode": "numeric"}))
    reason = forms.CharField(label=_("Reason"), max_length=200, required=False)

    def __init__(self, *args, certificates=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["certificate"].choices = [(c.pk, str(c)) for c in certificates]
