"""The commune radio (đài truyền thanh cơ sở, truyền thanh thông minh; Circular 39/2020/TT-BTTTT).

Tenant models: every commune's schema holds its own loudspeaker clusters, slots, bulletins,
audio and logs. Users are kept as foreign keys without a database constraint (users live in the
public schema; see ``core.history``).

* ``Cluster`` (cụm loa): loudspeakers in a village, with a device token (kept hashed) and the
  last heartbeat; ``Heartbeat`` rows give the uptime reports.
* ``Slot`` and ``SlotException``: the daily broadcast windows and the per-day changes.
* ``Bulletin`` (bản tin): text or uploaded audio, category, voice, targets, validity, repeats,
  approval; ``Pronunciation``: how a word or abbreviation is read (data per commune).
* ``AudioAsset``: a rendered or uploaded MP3, keyed by what it says (normalised text, voice,
  engine) so the same text is never rendered twice; ``SpeechJob`` renders one (durable job).
* ``Playlist`` and ``PlaylistEntry``: what a cluster plays in one slot of one day, with an ETag;
  ``AsRunEntry``: what the cluster reports it played.
* ``Emergency``: a bulletin sent now to all or some clusters (the playlist says to interrupt).
"""
from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.history import tenant_history
from jobs.models import Job
from jobs.registry import register


def _user_fk(verbose_name, **kwargs):
    """A reference to a public user: no database constraint across schemas."""
    return models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=verbose_name, null=True, blank=True,
        on_delete=models.DO_NOTHING, related_name="+", db_constraint=False, **kwargs,
    )


class Cluster(models.Model):
    """Cụm loa: the loudspeakers of one place, driven by one receiver device."""

    name = models.CharField(_("name"), max_length=100)
    village = models.ForeignKey(
        "population.Village", verbose_name=_("village"), on_delete=models.PROTECT, related_name="clusters",
    )
    latitude = models.DecimalField(_("latitude"), max_digits=9, decimal_places=6, null=True, blank=True,
                                   validators=[MinValueValidator(-90), MaxValueValidator(90)])
    longitude = models.DecimalField(_("longitude"), max_digits=9, decimal_places=6, null=True, blank=True,
                                    validators=[MinValueValidator(-180), MaxValueValidator(180)])
    speakers = models.PositiveSmallIntegerField(_("number of speakers"), default=2,
                                                validators=[MinValueValidator(1), MaxValueValidator(100)])
    active = models.BooleanField(_("active"), default=True)
    token_hash = models.CharField(_("device token (SHA-256)"), max_length=64, blank=True, db_index=True, editable=False)
    token_hint = models.CharField(_("device token (first characters)"), max_length=8, blank=True, editable=False)
    token_issued_at = models.DateTimeField(_("token issued at"), null=True, blank=True, editable=False)
    token_revoked_at = models.DateTimeField(_("token revoked at"), null=True, blank=True, editable=False)
    last_heartbeat_at = models.DateTimeField(_("last heartbeat"), null=True, blank=True)
    last_status = models.JSONField(_("last reported status"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    history = tenant_history(excluded_fields=["last_heartbeat_at", "last_status"])

    class Meta:
        verbose_name = _("loudspeaker cluster")
        verbose_name_plural = _("loudspeaker clusters")
        ordering = ["village__name", "name"]
        constraints = [models.UniqueConstraint(fields=["village", "name"], name="cluster_village_name")]

    def __str__(self) -> str:
        return self.name


class Heartbeat(models.Model):
    """A device's report: alive, and how it is (status, volume, signal, firmware)."""

    cluster = models.ForeignKey(Cluster, verbose_name=_("cluster"), on_delete=models.CASCADE, related_name="heartbeats")
    at = models.DateTimeField(_("received at"), db_index=True)
    status = models.CharField(_("status"), max_length=30, blank=True)
    volume = models.PositiveSmallIntegerField(_("volume (%)"), null=True, blank=True, validators=[MaxValueValidator(100)])
    signal = models.SmallIntegerField(_("signal (dBm)"), null=True, blank=True)
    firmware = models.CharField(_("firmware"), max_length=60, blank=True)

    class Meta:
        verbose_name = _("heartbeat")
        verbose_name_plural = _("heartbeats")
        ordering = ["cluster", "-at"]
        indexes = [models.Index(fields=["cluster", "at"], name="heartbeat_cluster_at")]


class Slot(models.Model):
    """A daily broadcast window (e.g. 05:00–07:30 and 17:00–19:00)."""

    name = models.CharField(_("name"), max_length=60)
    start = models.TimeField(_("starts at"))
    end = models.TimeField(_("ends at"))
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("broadcast slot")
        verbose_name_plural = _("broadcast slots")
        ordering = ["start"]
        constraints = [models.CheckConstraint(condition=Q(end__gt=models.F("start")), name="slot_end_after_start")]

    def __str__(self) -> str:
        return f"{self.name} {self.start:%H:%M}–{self.end:%H:%M}"


class SlotException(models.Model):
    """A change of one day: a slot cancelled or moved, or an extra window (``slot`` empty)."""

    date = models.DateField(_("date"), db_index=True)
    slot = models.ForeignKey(Slot, verbose_name=_("slot"), null=True, blank=True, on_delete=models.CASCADE,
                             related_name="exceptions")
    cancelled = models.BooleanField(_("no broadcast"), default=False)
    start = models.TimeField(_("starts at"), null=True, blank=True)
    end = models.TimeField(_("ends at"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("slot exception")
        verbose_name_plural = _("slot exceptions")
        ordering = ["date", "start"]
        constraints = [
            models.UniqueConstraint(fields=["date", "slot"], condition=Q(slot__isnull=False), name="slotexception_once"),
        ]


class Category(models.TextChoices):
    NEWS = "news", _("News")
    POLICY = "policy", _("Policy and law")
    WEATHER = "weather", _("Weather")
    HEALTH = "health", _("Health")
    EMERGENCY = "emergency", _("Emergency")


# Higher plays first when a slot is short (an editor may raise a bulletin's priority).
CATEGORY_PRIORITY = {
    Category.EMERGENCY: 100, Category.WEATHER: 60, Category.HEALTH: 50, Category.POLICY: 40, Category.NEWS: 30,
}


class BulletinState(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Waiting for approval")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Sent back")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class Bulletin(models.Model):
    """Bản tin: what the loudspeakers say, written once and replayed.

    Targets: the clusters named, plus every cluster of the villages named; neither means every
    cluster of the commune. Nothing airs before a leader approves it.
    """

    title = models.CharField(_("title"), max_length=200)
    category = models.CharField(_("category"), max_length=20, choices=Category.choices, default=Category.NEWS)
    priority = models.PositiveSmallIntegerField(_("priority"), default=30, validators=[MaxValueValidator(100)])
    text = models.TextField(_("text"), blank=True)
    uploaded_audio = models.CharField(_("uploaded audio"), max_length=300, blank=True)
    voice = models.CharField(_("voice"), max_length=60, blank=True)
    villages = models.ManyToManyField("population.Village", verbose_name=_("villages"), blank=True, related_name="+")
    clusters = models.ManyToManyField(Cluster, verbose_name=_("clusters"), blank=True, related_name="bulletins")
    valid_from = models.DateField(_("from"))
    valid_until = models.DateField(_("until"))
    repeats_per_day = models.PositiveSmallIntegerField(_("times a day"), default=1,
                                                       validators=[MinValueValidator(1), MaxValueValidator(20)])
    state = models.CharField(_("state"), max_length=20, choices=BulletinState.choices, default=BulletinState.DRAFT,
                             db_index=True)
    normalized_text = models.TextField(_("text as read"), blank=True, editable=False)
    asset = models.ForeignKey("AudioAsset", verbose_name=_("audio"), null=True, blank=True, on_delete=models.PROTECT,
                              related_name="bulletins")
    created_by = _user_fk(_("written by"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    decided_by = _user_fk(_("approved or sent back by"))
    decided_at = models.DateTimeField(_("approved or sent back at"), null=True, blank=True)
    decision_note = models.TextField(_("note of the decision"), blank=True)
    history = tenant_history()

    class Meta:
        verbose_name = _("bulletin")
        verbose_name_plural = _("bulletins")
        ordering = ["-valid_from", "-priority", "-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(valid_until__gte=models.F("valid_from")), name="bulletin_valid_range"),
        ]

    def __str__(self) -> str:
        return self.title


class Pronunciation(models.Model):
    """How the announcer reads a word or abbreviation (UBND → ủy ban nhân dân)."""

    written = models.CharField(_("written"), max_length=60, unique=True)
    spoken = models.CharField(_("read as"), max_length=200)
    case_sensitive = models.BooleanField(_("case-sensitive"), default=True)
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("pronunciation")
        verbose_name_plural = _("pronunciations")
        ordering = ["written"]

    def __str__(self) -> str:
        return f"{self.written} → {self.spoken}"


class AudioAsset(models.Model):
    """An MP3 (mono, loudness-normalised), keyed by what it says: the SHA-256 of the engine,
    voice and normalised text (or of the uploaded file's bytes)."""

    key = models.CharField(_("key"), max_length=64, unique=True)
    engine = models.CharField(_("engine"), max_length=30, blank=True)
    voice = models.CharField(_("voice"), max_length=60, blank=True)
    text = models.TextField(_("text as read"), blank=True)
    file = models.CharField(_("file"), max_length=300, blank=True)
    duration_seconds = models.DecimalField(_("duration (s)"), max_digits=8, decimal_places=2, null=True, blank=True)
    loudness_lufs = models.DecimalField(_("loudness (LUFS)"), max_digits=5, decimal_places=2, null=True, blank=True)
    size = models.PositiveIntegerField(_("size (bytes)"), default=0)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("audio")
        verbose_name_plural = _("audio")
        ordering = ["-created_at"]

    @property
    def ready(self) -> bool:
        return bool(self.file)


@register
class SpeechJob(Job):
    """Renders one ``AudioAsset`` from text (durable job: the row is the truth)."""

    asset = models.OneToOneField(AudioAsset, verbose_name=_("audio"), on_delete=models.CASCADE, related_name="job")
    requested_by = _user_fk(_("requested by"))

    class Meta(Job.Meta):
        verbose_name = _("speech job")
        verbose_name_plural = _("speech jobs")

    def run(self, ctx):
        from broadcasting.speech.jobs import run_speech_job

        return run_speech_job(self, ctx)


class Playlist(models.Model):
    """What one cluster plays in one slot of one day."""

    cluster = models.ForeignKey(Cluster, verbose_name=_("cluster"), on_delete=models.CASCADE, related_name="playlists")
    date = models.DateField(_("date"))
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    etag = models.CharField(_("ETag"), max_length=64, blank=True)
    built_at = models.DateTimeField(_("built at"))
    overflow = models.JSONField(_("did not fit"), default=list, blank=True)
    missing_audio = models.JSONField(_("waiting for audio"), default=list, blank=True)

    class Meta:
        verbose_name = _("playlist")
        verbose_name_plural = _("playlists")
        ordering = ["cluster", "starts_at"]
        constraints = [models.UniqueConstraint(fields=["cluster", "starts_at"], name="playlist_cluster_start")]


class PlaylistEntry(models.Model):
    playlist = models.ForeignKey(Playlist, verbose_name=_("playlist"), on_delete=models.CASCADE, related_name="entries")
    order = models.PositiveIntegerField(_("order"))
    bulletin = models.ForeignKey(Bulletin, verbose_name=_("bulletin"), on_delete=models.CASCADE, related_name="+")
    asset = models.ForeignKey(AudioAsset, verbose_name=_("audio"), on_delete=models.PROTECT, related_name="+")
    offset_seconds = models.DecimalField(_("starts after (s)"), max_digits=8, decimal_places=2)
    duration_seconds = models.DecimalField(_("duration (s)"), max_digits=8, decimal_places=2)

    class Meta:
        verbose_name = _("playlist entry")
        verbose_name_plural = _("playlist entries")
        ordering = ["playlist", "order"]
        constraints = [models.UniqueConstraint(fields=["playlist", "order"], name="playlistentry_order")]


class Emergency(models.Model):
    """An emergency broadcast: a bulletin sent now, interrupting what plays."""

    bulletin = models.ForeignKey(Bulletin, verbose_name=_("bulletin"), on_delete=models.PROTECT, related_name="emergencies")
    clusters = models.ManyToManyField(Cluster, verbose_name=_("clusters"), related_name="emergencies")
    sent_by = _user_fk(_("sent by"))
    sent_at = models.DateTimeField(_("sent at"), db_index=True)
    until = models.DateTimeField(_("interrupts until"))
    repeats = models.PositiveSmallIntegerField(_("times"), default=1, validators=[MinValueValidator(1), MaxValueValidator(10)])
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)

    class Meta:
        verbose_name = _("emergency broadcast")
        verbose_name_plural = _("emergency broadcasts")
        ordering = ["-sent_at"]


class AsRunEntry(models.Model):
    """What a cluster reports it played, from when to when (the as-run log)."""

    cluster = models.ForeignKey(Cluster, verbose_name=_("cluster"), on_delete=models.CASCADE, related_name="as_run")
    bulletin = models.ForeignKey(Bulletin, verbose_name=_("bulletin"), null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="as_run")
    asset_key = models.CharField(_("audio key"), max_length=64, blank=True)
    started_at = models.DateTimeField(_("started at"), db_index=True)
    ended_at = models.DateTimeField(_("ended at"))
    reported_at = models.DateTimeField(_("reported at"), auto_now_add=True)
    emergency = models.BooleanField(_("emergency"), default=False)

    class Meta:
        verbose_name = _("as-run entry")
        verbose_name_plural = _("as-run log")
        ordering = ["cluster", "-started_at"]
        constraints = [
            models.UniqueConstraint(fields=["cluster", "asset_key", "started_at"], name="asrun_once"),
            models.CheckConstraint(condition=Q(ended_at__gte=models.F("started_at")), name="asrun_end_after_start"),
        ]


class ScheduleVersion(models.Model):
    """The version of what the commune's devices are told: one row, its ``number`` raised in the
    same transaction as every change that may change a device's answer (a bulletin, its audio,
    a slot, a cluster or its token, an emergency broadcast). The durable truth behind the
    devices' answers kept in Redis (``broadcasting.device_cache``)."""

    number = models.BigIntegerField(_("number"), default=0)
    changed_at = models.DateTimeField(_("changed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("version of the schedule")
        verbose_name_plural = _("versions of the schedule")


# Every change that a device's answer depends on raises the version (signals).
from broadcasting import device_cache as _device_cache  # noqa: E402

_device_cache.connect()
