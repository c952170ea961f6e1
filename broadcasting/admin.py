"""The commune admin of the radio: clusters, slots and pronunciations are data the commune
administrator may correct here; bulletins, emergencies, audio and logs are read-only (they change
through the services, with their checks and history). Device tokens are issued and revoked on
the radio pages or the API, never here."""
from django.contrib import admin

from broadcasting.models import (
    AsRunEntry, AudioAsset, Bulletin, Cluster, Emergency, Heartbeat, Playlist, Pronunciation, Slot, SlotException,
    SpeechJob,
)
from core.admin_site import CommuneModelAdmin, commune_admin


class ReadOnlyAdmin(CommuneModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Cluster, site=commune_admin)
class ClusterAdmin(CommuneModelAdmin):
    list_display = ["name", "village", "speakers", "active", "last_heartbeat_at", "token_hint", "token_revoked_at"]
    list_filter = ["active", "village"]
    search_fields = ["name", "village__name"]
    readonly_fields = ["token_hint", "token_issued_at", "token_revoked_at", "last_heartbeat_at", "last_status"]

    def has_add_permission(self, request):
        return False  # a cluster is created with its device token on the radio pages

    def has_delete_permission(self, request, obj=None):
        return False  # retire a cluster with "active"; its logs stay


@admin.register(Slot, site=commune_admin)
class SlotAdmin(CommuneModelAdmin):
    list_display = ["name", "start", "end", "active"]


@admin.register(SlotException, site=commune_admin)
class SlotExceptionAdmin(CommuneModelAdmin):
    list_display = ["date", "slot", "cancelled", "start", "end", "note"]
    list_filter = ["cancelled"]
    date_hierarchy = "date"


@admin.register(Pronunciation, site=commune_admin)
class PronunciationAdmin(CommuneModelAdmin):
    list_display = ["written", "spoken", "case_sensitive", "note"]
    search_fields = ["written", "spoken"]


@admin.register(Bulletin, site=commune_admin)
class BulletinAdmin(ReadOnlyAdmin):
    list_display = ["title", "category", "priority", "state", "valid_from", "valid_until", "repeats_per_day"]
    list_filter = ["state", "category"]
    search_fields = ["title", "text"]
    date_hierarchy = "valid_from"


@admin.register(AudioAsset, site=commune_admin)
class AudioAssetAdmin(ReadOnlyAdmin):
    list_display = ["key", "engine", "voice", "duration_seconds", "loudness_lufs", "size", "created_at"]
    search_fields = ["key", "text"]


@admin.register(SpeechJob, site=commune_admin)
class SpeechJobAdmin(ReadOnlyAdmin):
    list_display = ["pk", "asset", "state", "attempts", "created_at"]
    list_filter = ["state"]


@admin.register(Emergency, site=commune_admin)
class EmergencyAdmin(ReadOnlyAdmin):
    list_display = ["bulletin", "sent_at", "until", "repeats", "cancelled_at"]
    date_hierarchy = "sent_at"


@admin.register(Playlist, site=commune_admin)
class PlaylistAdmin(ReadOnlyAdmin):
    list_display = ["cluster", "starts_at", "ends_at", "built_at", "etag"]
    list_filter = ["date"]


@admin.register(Heartbeat, site=commune_admin)
class HeartbeatAdmin(ReadOnlyAdmin):
    list_display = ["cluster", "at", "status", "volume", "signal", "firmware"]
    list_filter = ["cluster"]
    date_hierarchy = "at"


@admin.register(AsRunEntry, site=commune_admin)
class AsRunEntryAdmin(ReadOnlyAdmin):
    list_display = ["cluster", "bulletin", "started_at", "ended_at", "emergency", "asset_key"]
    list_filter = ["emergency", "cluster"]
    date_hierarchy = "started_at"
