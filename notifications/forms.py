from django import forms
from django.utils.translation import gettext_lazy as _

from notifications.models import Channel, Target
from notifications.services import MAX_EMAIL_LENGTH, village_choices


class ComposeForm(forms.Form):
    channel = forms.ChoiceField(label=_("Channel"), choices=Channel.choices, initial=Channel.SMS)
    target = forms.ChoiceField(label=_("Send to"), choices=Target.choices, initial=Target.LIST)
    recipients = forms.CharField(
        label=_("Phone numbers or e-mail addresses"), required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("One per line, or separated by commas."),
    )
    village = forms.TypedChoiceField(label=_("Village"), required=False, coerce=int, empty_value=None)
    subject = forms.CharField(label=_("Subject (e-mail)"), max_length=200, required=False)
    message = forms.CharField(label=_("Message"), max_length=MAX_EMAIL_LENGTH, widget=forms.Textarea(attrs={"rows": 5}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        villages = village_choices()
        self.fields["village"].choices = [("", _("Choose a village"))] + villages
        if not villages:
            self.fields["target"].choices = [c for c in Target.choices if c[0] != Target.VILLAGE]
