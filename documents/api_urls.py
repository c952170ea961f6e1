from rest_framework.routers import SimpleRouter

from documents import api

router = SimpleRouter()
router.register("documents/types", api.DocumentTypeViewSet, basename="documents-type")
router.register("documents/incoming", api.IncomingViewSet, basename="documents-incoming")
router.register("documents/outgoing", api.OutgoingViewSet, basename="documents-outgoing")
router.register("documents/registers/outgoing", api.OutgoingRegisterViewSet, basename="documents-register-outgoing")
router.register("documents/registers/incoming", api.IncomingRegisterViewSet, basename="documents-register-incoming")
router.register("documents/settings", api.SettingsViewSet, basename="documents-settings")
router.register("documents/authorities", api.AuthorityViewSet, basename="documents-authority")
router.register("documents/notices", api.NoticeViewSet, basename="documents-notice")
router.register("documents/exchange/to-unit", api.ToUnitViewSet, basename="documents-to-unit")
router.register("documents/exchange/from-unit", api.FromUnitViewSet, basename="documents-from-unit")

urlpatterns = router.urls
