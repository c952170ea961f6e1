"""The radio API of a commune (``/api/v1/radio/…``), the device API included
(``/api/v1/radio/device/…``, the cluster's token)."""
from django.urls import path
from rest_framework.routers import SimpleRouter

from broadcasting import api, device_api

router = SimpleRouter()
router.register("radio/clusters", api.ClusterViewSet, basename="radio-cluster")
router.register("radio/bulletins", api.BulletinViewSet, basename="radio-bulletin")
router.register("radio/emergencies", api.EmergencyViewSet, basename="radio-emergency")
router.register("radio/slots", api.SlotViewSet, basename="radio-slot")
router.register("radio/slot-exceptions", api.SlotExceptionViewSet, basename="radio-slot-exception")
router.register("radio/pronunciations", api.PronunciationViewSet, basename="radio-pronunciation")

urlpatterns = [
    path("radio/schedule/", api.ScheduleView.as_view(), name="radio-schedule"),
    path("radio/playlists/", api.PlaylistView.as_view(), name="radio-playlists"),
    path("radio/reports/", api.ReportView.as_view(), name="radio-reports"),
    path("radio/device/playlist/", device_api.device_playlist, name="radio-device-playlist"),
    path("radio/device/audio/<str:key>.mp3", device_api.DeviceAudioView.as_view(), name="radio-device-audio"),
    path("radio/device/heartbeat/", device_api.DeviceHeartbeatView.as_view(), name="radio-device-heartbeat"),
    path("radio/device/as-run/", device_api.DeviceAsRunView.as_view(), name="radio-device-as-run"),
    *router.urls,
]
