"""REST API of the residents' registry.

Served on a commune host under ``/api/v1/`` and, for supervising-unit staff, on the national
host under ``/api/v1/communes/{commune_code}/`` (read-only, ID numbers always masked).
"""
from __future__ import annotations

import django_filters
from django import forms
from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import serializers, viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.decorators import action
from rest_framework.validators import UniqueValidator

from core.api import CommuneScopedMixin
from core.phones import mask_phone
from population import selectors, services, validators
from population.reveal import log_id_search, reveal_id
from population.models import AccessLog, Household, Resident, Sex, Village
from population.permissions import READ_ROLES, WRITE_ROLES, sees_full_id_in_export
from population.spreadsheet import XLSX_CONTENT_TYPE

MAX_DB_ID = 2**63 - 1
PHONE_MESSAGE = _("Enter a Vietnamese mobile number of 10 digits, e.g. 0912345678.")


def _normalized_phone(value):
    normalized = validators.normalize_phone(value)
    if normalized is None:
        raise serializers.ValidationError(PHONE_MESSAGE)
    return normalized


# --- serializers ------------------------------------------------------------------------------

class SavedByServiceMixin:
    """Creates and updates go through the app's service (validation, history, one transaction)."""

    def save_with_service(self, instance):  # pragma: no cover - every serializer overrides it
        raise NotImplementedError

    def create(self, validated_data):
        return self.save_with_service(self.Meta.model(**validated_data))

    def update(self, instance, validated_data):
        for key, value in validated_data.items():
            setattr(instance, key, value)
        return self.save_with_service(instance)


class VillageSerializer(SavedByServiceMixin, serializers.ModelSerializer):
    class Meta:
        model = Village
        fields = ["id", "name", "kind", "code"]

    def save_with_service(self, instance):
        return services.save_village(instance)


class HouseholdSerializer(SavedByServiceMixin, serializers.ModelSerializer):
    head = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)
    phone = serializers.CharField(required=False, allow_blank=True, max_length=20, help_text=_("Vietnamese mobile number, e.g. 0912345678."))
    address_code = serializers.CharField(
        required=False, allow_blank=True, allow_null=True, max_length=30,
        validators=[UniqueValidator(Household.objects.all(), message=_("Another household already has this address code."))],
    )

    class Meta:
        model = Household
        fields = ["id", "code", "village", "head", "address", "address_code", "latitude", "longitude", "phone", "note"]

    def validate_phone(self, value):
        return _normalized_phone(value)

    def to_representation(self, instance):
        data = super().to_representation(instance)
        if self.context.get("mask_phones", True):
            data["phone"] = mask_phone(instance.phone)
        return data

    def validate_address_code(self, value):
        return (value or "").strip() or None

    def validate(self, attrs):
        lat = attrs.get("latitude", getattr(self.instance, "latitude", None))
        lon = attrs.get("longitude", getattr(self.instance, "longitude", None))
        if (lat is None) != (lon is None):
            raise serializers.ValidationError({"longitude": [_("Enter both latitude and longitude, or neither.")]})
        return attrs

    def save_with_service(self, instance):
        return services.save_household(instance)


class ResidentSerializer(SavedByServiceMixin, serializers.ModelSerializer):
    personal_id = serializers.CharField(
        required=False, allow_null=True, allow_blank=True, max_length=12,
        help_text=_("12 digits. Masked (first and last three digits) in lists and for supervising units."),
        validators=[UniqueValidator(Resident.objects.all(), message=_("Another resident already has this ID number."))],
    )
    phone = serializers.CharField(required=False, allow_blank=True, max_length=20)
    village = serializers.IntegerField(source="household.village_id", read_only=True)

    class Meta:
        model = Resident
        fields = ["id", "household", "village", "full_name", "birth_date", "sex", "ethnicity", "personal_id", "relation", "phone"]

    def validate_personal_id(self, value):
        return (value or "").strip() or None

    def validate_phone(self, value):
        return _normalized_phone(value)

    def validate(self, attrs):
        def current(name):
            return attrs.get(name, getattr(self.instance, name, None))

        errors: dict[str, list[str]] = {}
        for field, message in validators.check_resident(
            personal_id=current("personal_id"), birth_date=current("birth_date"), sex=current("sex"),
        ):
            errors.setdefault(field, []).append(message)
        if errors:
            raise serializers.ValidationError(errors)
        return attrs

    def to_representation(self, instance):
        data = super().to_representation(instance)
        # The full number only through the logged reveal the view hands over (see
        # population.reveal); masked otherwise.
        reveal = self.context.get("reveal_id")
        data["personal_id"] = (reveal(instance) if reveal else validators.mask_id(instance.personal_id)) or None
        if self.context.get("mask_phones", True):
            data["phone"] = mask_phone(instance.phone)
        return data

    def save_with_service(self, instance):
        return services.save_resident(instance)


# --- filters ----------------------------------------------------------------------------------

class IdFilter(django_filters.NumberFilter):
    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_DB_ID)
        super().__init__(*args, **kwargs)


class YearFilter(django_filters.NumberFilter):
    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", validators.MIN_BIRTH_DATE.year)
        kwargs.setdefault("max_value", 2299)
        super().__init__(*args, **kwargs)


class HouseholdFilter(django_filters.FilterSet):
    village = IdFilter(field_name="village_id", label=_("village id"))
    search = django_filters.CharFilter(method="filter_search", max_length=100, label=_("code, address or head's name"))

    class Meta:
        model = Household
        fields = ["village", "search"]

    def filter_search(self, queryset, name, value):
        return queryset.filter(pk__in=selectors.households(q=value).values("pk"))


class ResidentFilter(django_filters.FilterSet):
    village = IdFilter(field_name="household__village_id", label=_("village id"))
    household = IdFilter(field_name="household_id", label=_("household id"))
    sex = django_filters.ChoiceFilter(choices=Sex.choices)
    birth_year_min = YearFilter(field_name="birth_date", lookup_expr="year__gte", label=_("born in or after this year"))
    birth_year_max = YearFilter(field_name="birth_date", lookup_expr="year__lte", label=_("born in or before this year"))
    search = django_filters.CharFilter(
        method="filter_search", max_length=100,
        label=_("name without accents is fine ('nguyen van an'), household code, or a 12-digit ID number"),
    )

    class Meta:
        model = Resident
        fields = ["village", "household", "sex", "birth_year_min", "birth_year_max", "search"]

    def filter_search(self, queryset, name, value):
        view = (getattr(self.request, "parser_context", None) or {}).get("view")
        if getattr(view, "national_scope", False):
            # Supervising units see masked numbers: a search by number would unmask them.
            if selectors.looks_like_number(value):
                raise ValidationError({"search": [_(
                    "Supervising units cannot search by personal ID or phone number; search by name.")]})
            return selectors.search_residents(queryset, value, by_id=False)
        return selectors.search_residents(queryset, value)


# --- views ------------------------------------------------------------------------------------

class RegistryViewSet(CommuneScopedMixin, viewsets.ModelViewSet):
    read_roles = READ_ROLES
    write_roles = WRITE_ROLES
    lookup_value_regex = r"[0-9]{1,18}"

    def get_serializer_context(self):
        context = super().get_serializer_context()
        # Phone numbers are for the commune's officials; supervising units see them masked.
        context["mask_phones"] = bool(self.national_scope)
        return context


@extend_schema_view(
    list=extend_schema(summary=_("Villages of the commune")),
    destroy=extend_schema(summary=_("Remove a village without households")),
)
class VillageViewSet(RegistryViewSet):
    queryset = Village.objects.all()
    serializer_class = VillageSerializer
    ordering_fields = ["name", "code"]
    ordering = ["name"]

    def perform_destroy(self, instance):
        services.delete_village(instance)


@extend_schema_view(
    list=extend_schema(summary=_("Households of the commune")),
    destroy=extend_schema(summary=_("Remove a household without residents")),
)
class HouseholdViewSet(RegistryViewSet):
    queryset = Household.objects.all()
    serializer_class = HouseholdSerializer
    filterset_class = HouseholdFilter
    ordering_fields = ["code", "created_at"]
    ordering = ["code"]

    def get_queryset(self):
        return Household.objects.select_related("village").order_by("code")

    def perform_destroy(self, instance):
        services.delete_household(instance)


@extend_schema_view(
    list=extend_schema(summary=_("Residents of the commune (ID numbers masked)")),
    retrieve=extend_schema(summary=_("One resident (the full ID number for commune officials; the read is logged)")),
)
class ResidentViewSet(RegistryViewSet):
    queryset = Resident.objects.all()
    serializer_class = ResidentSerializer
    filterset_class = ResidentFilter
    ordering_fields = ["search_name", "birth_date", "created_at"]
    ordering = ["search_name", "birth_date", "id"]

    def get_queryset(self):
        return Resident.objects.select_related("household", "household__village")

    def get_serializer_context(self):
        context = super().get_serializer_context()
        # Lists and supervising units never see full ID numbers; one resident's answer to a
        # commune official (read or write) carries it, and the reveal is logged.
        if not self.national_scope and self.action != "list":
            request = self.request
            context["reveal_id"] = lambda resident: reveal_id(
                resident, request.user, purpose=f"API {self.action}", channel="api")
        return context

    def retrieve(self, request, *args, **kwargs):
        response = super().retrieve(request, *args, **kwargs)
        services.log_access(
            request.user, action=AccessLog.Action.VIEW, channel="api", object_type="resident",
            object_id=kwargs.get(self.lookup_field, ""),
            description=gettext("supervising unit") if self.national_scope else "",
        )
        return response

    def list(self, request, *args, **kwargs):
        response = super().list(request, *args, **kwargs)
        term = request.query_params.get("search", "").replace("\x00", "").strip()
        if term:
            services.log_access(
                request.user, action=AccessLog.Action.SEARCH, channel="api", object_type="resident",
                description=gettext("search “%(q)s”") % {"q": term[:100]},
            )
            if not self.national_scope:
                log_id_search(self.filter_queryset(self.get_queryset())[:2], term, request.user, channel="api")
        return response

    def perform_destroy(self, instance):
        services.delete_resident(instance)

    @extend_schema(
        summary=_("Export residents to Excel (logged)"),
        filters=True,
        responses={(200, XLSX_CONTENT_TYPE): OpenApiResponse(OpenApiTypes.BINARY, description=_("The .xlsx file"))},
    )
    @action(detail=False, methods=["get"], url_path="export", pagination_class=None)
    def export(self, request, *args, **kwargs):
        queryset = self.filter_queryset(self.get_queryset())
        params = "&".join(f"{k}={v}" for k, v in request.query_params.items() if k != "format")[:500]
        data = services.export_residents(
            queryset, user=request.user, channel="api", parameters=params,
            mask_ids=not sees_full_id_in_export(request.user, getattr(request, "commune", None), national_scope=self.national_scope),
            mask_phones=bool(self.national_scope),
        )
        response = HttpResponse(data, content_type=XLSX_CONTENT_TYPE)
        response["Content-Disposition"] = f'attachment; filename="nhan-khau-{timezone.localdate():%Y%m%d}.xlsx"'
        return response
