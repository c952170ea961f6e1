from rest_framework.routers import SimpleRouter

from population import api

router = SimpleRouter()
router.register("villages", api.VillageViewSet, basename="population-village")
router.register("households", api.HouseholdViewSet, basename="population-household")
router.register("residents", api.ResidentViewSet, basename="population-resident")

urlpatterns = router.urls
