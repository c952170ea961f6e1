"""Forms of the commune radio's pages. Dates are read day first (03/04/2026 is 3 April), times
as HH:MM. The forms only shape the input: every rule (text length, characters the voice cannot
say, audio files, targets, who may do what) is checked by ``broadcasting.services`` and
``broadcasting.audio_services``, whose refusals come back as errors on these forms."""
from __future__ import annotations

from decimal import Decimal

from django import forms
from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _

from broadcasting.models import Category, Cluster, Slot
from documents.forms import DayFirstDateField

TIME_HELP = _("Enter the time as HH:MM, e.g. 05:30.")


class TimeField(forms.TimeField):
    def __init__(self, **kwargs):
        kwargs.setdefault("input_formats", ["%H:%M", "%H:%M:%S", "%Hh%M", "%H giờ %M"])
        kwargs.setdefault("widget", forms.TimeInput(format="%H:%M", attrs={"placeholder": "HH:MM", "inputmode": "numeric"}))
        kwargs.setdefault("error_messages", {"invalid": TIME_HELP})
        super().__init__(**kwargs)


def village_queryset():
    from population.models import Village

    return Village.objects.order_by("name")


def cluster_queryset():
    return Cluster.objects.filter(active=True).select_related("village").order_by("village__name", "name")


class ClusterChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.name} ({obj.village.name})"


def voice_choices() -> list[tuple[str, str]]:
    """The voices of the configured engine; the first entry is the commune's default."""
    try:
        from broadcasting.services import available_voices

        voices = available_voices()
    except Exception:  # the engine is not installed or configured: the default voice only
        voices = []
    return [("", _("Default voice"))] + [(str(key), str(label)) for key, label in voices]


# --- bulletins --------------------------------------------------------------------------------

class BulletinForm(forms.Form):
    """A bulletin: text (read by the synthetic voice) or an uploaded recording, its targets,
    validity and repeats. Nothing airs before a leader approves it."""

    title = forms.CharField(label=_("Title"), max_length=200)
    category = forms.ChoiceField(label=_("Category"), choices=Category.choices, initial=Category.NEWS)
    text = forms.CharField(
        label=_("Text"), required=False, max_length=settings.XASO_TTS_MAX_CHARS,
        widget=forms.Textarea(attrs={"rows": 8, "spellcheck": "false"}),
        help_text=_("Write as for the ear: dates, times, numbers, money and abbreviations are read the way an "
                    "announcer says them. The reading is shown below."),
    )
    upload = forms.FileField(
        label=_("Or a recording"), required=False,
        widget=forms.ClearableFileInput(attrs={"accept": "audio/mpeg,audio/wav,audio/ogg,.mp3,.wav,.ogg"}),
    )
    voice = forms.ChoiceField(label=_("Voice"), required=False)
    priority = forms.IntegerField(
        label=_("Priority"), required=False, min_value=0, max_value=100,
        help_text=_("0–100; left empty, the category's priority. Higher plays first when a slot is short."),
    )
    villages = forms.ModelMultipleChoiceField(
        label=_("Villages"), queryset=None, required=False, widget=forms.CheckboxSelectMultiple,
    )
    clusters = ClusterChoiceField(
        label=_("Loudspeaker clusters"), queryset=None, required=False, widget=forms.CheckboxSelectMultiple,
        help_text=_("Neither villages nor clusters chosen: every cluster of the commune."),
    )
    valid_from = DayFirstDateField(label=_("From"))
    valid_until = DayFirstDateField(label=_("Until"))
    repeats_per_day = forms.IntegerField(label=_("Times a day"), min_value=1, max_value=20, initial=1)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["voice"].choices = voice_choices()
        self.fields["villages"].queryset = village_queryset()
        self.fields["clusters"].queryset = cluster_queryset()
        self.fields["upload"].help_text = _("MP3, WAV or OGG, at most %(size)s and %(minutes)d minutes.") % {
            "size": filesizeformat(settings.XASO_RADIO_UPLOAD_MAX_BYTES),
            "minutes": settings.XASO_RADIO_UPLOAD_MAX_SECONDS // 60,
        }

    def clean_title(self):
        return (self.cleaned_data.get("title") or "").replace("\x00", "").strip()

    def clean_text(self):
        return (self.cleaned_data.get("text") or "").replace("\x00", "").replace("\r\n", "\n").strip()

    def clean(self):
        data = super().clean()
        start, end = data.get("valid_from"), data.get("valid_until")
        if start and end and end < start:
            self.add_error("valid_until", _("The last day comes before the first."))
        return data

    def service_data(self, *, existing_audio: bool = False) -> dict:
        data = self.cleaned_data
        out = {
            "title": data["title"], "category": data["category"], "voice": data.get("voice") or "",
            "priority": data.get("priority"), "village_ids": [v.pk for v in data.get("villages") or []],
            "cluster_ids": [c.pk for c in data.get("clusters") or []], "valid_from": data["valid_from"],
            "valid_until": data["valid_until"], "repeats_per_day": data["repeats_per_day"],
        }
        if data.get("upload"):
            out["upload"] = data["upload"]
        else:
            out["text"] = data.get("text") or ""
        if out["priority"] is None:
            del out["priority"]
        return out


class DecisionForm(forms.Form):
    """A leader's approval or sending back (the note is required to send back)."""

    note = forms.CharField(label=_("Note"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))

    def clean_note(self):
        return (self.cleaned_data.get("note") or "").replace("\x00", "").strip()


class PreviewForm(forms.Form):
    """What the editor sends for the "as read" preview and the listen button."""

    text = forms.CharField(required=False, max_length=settings.XASO_TTS_MAX_CHARS)
    voice = forms.CharField(required=False, max_length=60)

    def clean_text(self):
        return (self.cleaned_data.get("text") or "").replace("\x00", "").replace("\r\n", "\n").strip()


class BulletinFilterForm(forms.Form):
    state = forms.CharField(required=False, max_length=20)
    q = forms.CharField(required=False, max_length=100)


# --- emergency --------------------------------------------------------------------------------

class EmergencyForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200, initial=_("Emergency announcement"))
    text = forms.CharField(
        label=_("Text"), max_length=settings.XASO_TTS_MAX_CHARS, widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_("Read by the synthetic voice as soon as the audio is ready; the loudspeakers interrupt "
                    "what they play."),
    )
    voice = forms.ChoiceField(label=_("Voice"), required=False)
    everywhere = forms.BooleanField(label=_("All clusters"), required=False, initial=True)
    clusters = ClusterChoiceField(
        label=_("Only these clusters"), queryset=None, required=False, widget=forms.CheckboxSelectMultiple,
    )
    repeats = forms.IntegerField(label=_("Times"), min_value=1, max_value=10, initial=2)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["voice"].choices = voice_choices()
        self.fields["clusters"].queryset = cluster_queryset()

    def clean_text(self):
        return (self.cleaned_data.get("text") or "").replace("\x00", "").replace("\r\n", "\n").strip()

    def clean(self):
        data = super().clean()
        if not data.get("everywhere") and not data.get("clusters") and "clusters" not in self.errors:
            self.add_error("clusters", _("Choose the clusters, or tick “All clusters”."))
        return data


# --- clusters ---------------------------------------------------------------------------------

class CoordinateField(forms.DecimalField):
    """Decimal degrees, with a point or a comma (21.801234 or 21,801234), rounded to 6 places."""

    def __init__(self, *, limit: int, placeholder: str, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("widget", forms.TextInput(attrs={"inputmode": "decimal", "placeholder": placeholder}))
        kwargs.setdefault("error_messages", {
            "invalid": _("Enter a number from -%(limit)s to %(limit)s.") % {"limit": limit}})
        super().__init__(min_value=-limit, max_value=limit, **kwargs)

    def to_python(self, value):
        if isinstance(value, str):
            value = value.strip().replace(",", ".")
        value = super().to_python(value)
        if value is None or not value.is_finite() or abs(value) > 1000:
            return value  # the validators refuse it
        return value.quantize(Decimal("0.000001"))


class ClusterForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    village = forms.ModelChoiceField(label=_("Village"), queryset=None)
    latitude = CoordinateField(label=_("Latitude"), limit=90, placeholder="21.801234",
                               help_text=_("Decimal degrees, e.g. 21.801234 (from a phone's map)."))
    longitude = CoordinateField(label=_("Longitude"), limit=180, placeholder="104.310512")
    speakers = forms.IntegerField(label=_("Number of speakers"), min_value=1, max_value=100, initial=2)
    active = forms.BooleanField(label=_("In use"), required=False, initial=True)

    def __init__(self, *args, cluster=None, **kwargs):
        if cluster is not None:
            kwargs.setdefault("initial", {
                "name": cluster.name, "village": cluster.village_id, "latitude": cluster.latitude,
                "longitude": cluster.longitude, "speakers": cluster.speakers, "active": cluster.active})
        super().__init__(*args, **kwargs)
        self.fields["village"].queryset = village_queryset()

    def clean_name(self):
        return (self.cleaned_data.get("name") or "").replace("\x00", "").strip()

    def service_data(self) -> dict:
        data = self.cleaned_data
        return {"name": data["name"], "village_id": data["village"].pk, "latitude": data.get("latitude"),
                "longitude": data.get("longitude"), "speakers": data["speakers"], "active": data["active"]}


# --- slots ------------------------------------------------------------------------------------

class SlotForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=60)
    start = TimeField(label=_("Starts at"))
    end = TimeField(label=_("Ends at"))
    active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    def clean(self):
        data = super().clean()
        if data.get("start") and data.get("end") and data["end"] <= data["start"]:
            self.add_error("end", _("The slot must end after it starts."))
        return data


class SlotExceptionForm(forms.Form):
    KINDS = [("cancel", _("No broadcast in the slot that day")), ("move", _("The slot at other hours that day")),
             ("extra", _("An extra window that day"))]

    date = DayFirstDateField(label=_("Date"))
    kind = forms.ChoiceField(label=_("Change"), choices=KINDS, initial="cancel", widget=forms.RadioSelect)
    slot = forms.ModelChoiceField(label=_("Slot"), queryset=Slot.objects.none(), required=False,
                                  help_text=_("For “no broadcast” and “other hours”."))
    start = TimeField(label=_("Starts at"), required=False)
    end = TimeField(label=_("Ends at"), required=False)
    note = forms.CharField(label=_("Note"), max_length=200, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["slot"].queryset = Slot.objects.order_by("start")

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        kind = data.get("kind")
        if kind in ("cancel", "move") and not data.get("slot"):
            self.add_error("slot", _("Choose the slot."))
        if kind in ("move", "extra"):
            start, end = data.get("start"), data.get("end")
            if not start or not end:
                self.add_error("start" if not start else "end", _("Give the hours of the window."))
            elif end <= start:
                self.add_error("end", _("The window must end after it starts."))
        return data

    def service_data(self) -> dict:
        data = self.cleaned_data
        return {"date": data["date"], "kind": data["kind"], "slot_id": data["slot"].pk if data.get("slot") else None,
                "start": data.get("start"), "end": data.get("end"), "note": data.get("note") or ""}


# --- pronunciations ---------------------------------------------------------------------------

class PronunciationForm(forms.Form):
    written = forms.CharField(label=_("Written"), max_length=60)
    spoken = forms.CharField(label=_("Read as"), max_length=200)
    case_sensitive = forms.BooleanField(label=_("Only with these capitals"), required=False, initial=True,
                                        help_text=_("Ticked: “UBND” is read so, “ubnd” is not."))
    note = forms.CharField(label=_("Note"), max_length=200, required=False)


class PronunciationSearchForm(forms.Form):
    q = forms.CharField(required=False, max_length=60)


# --- calendar and reports ---------------------------------------------------------------------

class WeekForm(forms.Form):
    day = DayFirstDateField(label=_("Week of"), required=False)
