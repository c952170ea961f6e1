from rest_framework.routers import SimpleRouter

from signatures import api

router = SimpleRouter()
router.register("signatures/certificates", api.CertificateViewSet, basename="signing-certificate")
router.register("signatures/jobs", api.SigningJobViewSet, basename="signing-job")
router.register("signatures/images", api.SignatureImageViewSet, basename="signature-image")

urlpatterns = router.urls
