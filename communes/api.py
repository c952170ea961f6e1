"""National-host API for supervising-unit staff: the communes under their unit."""
from django.utils.translation import gettext as _
from rest_framework import exceptions, generics, serializers
from rest_framework.permissions import IsAuthenticated

from communes.models import Commune


class CommuneSerializer(serializers.ModelSerializer):
    supervising_unit = serializers.SlugRelatedField(slug_field="code", read_only=True)
    host = serializers.CharField(source="primary_host", read_only=True, allow_null=True)

    class Meta:
        model = Commune
        fields = ["code", "name", "kind", "supervising_unit", "agency_code", "address", "phone", "email", "host"]


class CommuneListView(generics.ListAPIView):
    """The communes the caller supervises."""

    serializer_class = CommuneSerializer
    permission_classes = [IsAuthenticated]
    filterset_fields = ["kind"]
    ordering_fields = ["code", "name"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no user
            return Commune.objects.none()
        return (
            self.request.user.supervised_communes()
            .select_related("supervising_unit").prefetch_related("domains").order_by("code")
        )


class CommuneDetailView(generics.RetrieveAPIView):
    serializer_class = CommuneSerializer
    permission_classes = [IsAuthenticated]
    lookup_field = "code"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Commune.objects.none()
        return self.request.user.supervised_communes().select_related("supervising_unit").prefetch_related("domains")

    def get_object(self):
        obj = self.get_queryset().filter(code=self.kwargs["code"]).first()
        if obj is None:
            raise exceptions.NotFound(_("No commune with this code."))
        return obj
