"""The marketplace's tables hold their rules themselves: stock never below zero, stars derived
from the score, a certificate's end 36 months after its issue, identifiers with check digits,
village coordinates both or neither."""
from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from ecommerce import validators
from ecommerce.models import (
    Certificate, Producer, ProducerKind, Product, ProductGroup, ProductSubGroup, ProductVersion, add_months,
    stars_for_score,
)
from population.models import Village


@pytest.fixture
def village(tule, in_commune):
    with in_commune(tule):
        yield Village.objects.create(name="Bản Kiểm Thử")


def _product(village):
    producer = Producer.objects.create(
        kind=ProducerKind.COOPERATIVE, name="HTX Chè Tú Lệ", slug="htx-che", representative="Lò Văn Pản",
        phone="0912345678", address="Bản Lướt", village=village)
    product = Product.objects.create(producer=producer, slug="che-shan", stock=5)
    return producer, product


def test_the_product_groups_are_loaded_as_data(tule, in_commune):
    with in_commune(tule):
        assert list(ProductGroup.objects.values_list("code", flat=True)) == ["1", "2", "3", "4", "5", "6"]
        assert ProductSubGroup.objects.filter(group__code="1").count() >= 5
        assert ProductSubGroup.objects.get(code="1.5").name == "Chè và sản phẩm từ chè"


def test_stock_cannot_go_below_zero_in_the_database(village):
    _producer, product = _product(village)
    with pytest.raises(IntegrityError), transaction.atomic():
        Product.objects.filter(pk=product.pk).update(stock=-1)
    product.refresh_from_db()
    assert product.stock == 5


def test_a_version_has_a_positive_price_and_a_minimum_order_of_one(village):
    _producer, product = _product(village)
    group = ProductGroup.objects.get(code="1")
    for bad in ({"price": 0}, {"min_order": 0}):
        fields = {"product": product, "number": 1, "name": "Chè", "group": group, "price": 100_000, "unit": "kg",
                  "description": "Chè shan tuyết.", **bad}
        with pytest.raises(IntegrityError), transaction.atomic():
            ProductVersion.objects.create(**fields)
    version = ProductVersion.objects.create(product=product, number=1, name="  Chè  Shan tuyết ", group=group,
                                            price=120_000, unit="kg", description="Chè búp khô.")
    assert version.name == "Chè Shan tuyết" and version.search_text.startswith("che shan tuyet")
    # One version in writing at a time.
    with pytest.raises(IntegrityError), transaction.atomic():
        ProductVersion.objects.create(product=product, number=2, name="Chè", group=group, price=1, unit="kg",
                                      description="x")


@pytest.mark.parametrize("score, stars", [(0, 0), (49, 0), (50, 3), (69, 3), (70, 4), (89, 4), (90, 5), (100, 5)])
def test_stars_come_from_the_score(village, score, stars):
    _producer, product = _product(village)
    certificate = Certificate.objects.create(product=product, number=f"OCOP-{score}", score=score,
                                             issuing_authority="UBND tỉnh Lào Cai", issued_on=datetime.date(2025, 3, 31))
    certificate.refresh_from_db()
    assert certificate.stars == stars == stars_for_score(score) == certificate.score_stars
    assert certificate.expires_on == datetime.date(2028, 3, 31)


def test_a_certificate_shows_no_star_once_expired(village):
    _producer, product = _product(village)
    certificate = Certificate.objects.create(product=product, number="123/QĐ-UBND", score=75,
                                             issuing_authority="UBND tỉnh Lào Cai", issued_on=datetime.date(2023, 5, 31))
    assert certificate.expires_on == datetime.date(2026, 5, 31)
    assert certificate.stars_now(on=datetime.date(2026, 5, 30)).stars == 4
    expired = certificate.stars_now(on=datetime.date(2026, 5, 31))
    assert expired.stars == 0 and expired.expired and "31/05/2026" in expired.reason
    assert certificate.stars_now(on=datetime.date(2023, 5, 30)).stars == 0
    with pytest.raises(IntegrityError), transaction.atomic():
        Certificate.objects.create(product=product, number="x", score=101, issuing_authority="UBND",
                                   issued_on=timezone.localdate())


def test_add_months_keeps_the_day_or_takes_the_month_end():
    assert add_months(datetime.date(2024, 2, 29), 36) == datetime.date(2027, 2, 28)
    assert add_months(datetime.date(2025, 1, 31), 1) == datetime.date(2025, 2, 28)
    assert add_months(datetime.date(2025, 11, 15), 3) == datetime.date(2026, 2, 15)


def test_tax_codes_and_gtins_are_checked():
    for good in ("0300588569", "0100109106", "0101248141-001", "001085012345", ""):
        validators.validate_tax_code(good)
    for bad in ("0300588568", "030058856", "0101248141-1", "abc"):
        with pytest.raises(ValidationError):
            validators.validate_tax_code(bad)
    assert validators.normalize_gtin("893 4563 12345 1") == "08934563123451"
    assert validators.normalize_gtin("4006381333931") == "04006381333931"
    for bad in ("8934563123453", "12345", "89345631234A1"):
        with pytest.raises(ValidationError):
            validators.normalize_gtin(bad)
    with pytest.raises(ValidationError):
        validators.validate_months([0, 13])
    with pytest.raises(ValidationError):
        validators.validate_months([3, 3])


def test_a_village_has_both_coordinates_or_neither(village):
    village.latitude, village.longitude = "21.7952", "104.3135"
    village.full_clean()
    village.save()
    with pytest.raises(IntegrityError), transaction.atomic():
        Village.objects.filter(pk=village.pk).update(longitude=None)
    with pytest.raises(IntegrityError), transaction.atomic():
        Village.objects.filter(pk=village.pk).update(latitude=95)
    village.longitude = None
    with pytest.raises(ValidationError):
        village.full_clean()
