"""Agency identifiers are unique in an installation (they prefix dossier codes, name the commune in
document exchange and are the VietQR purpose), so dossier codes are unique in it too."""
from __future__ import annotations

import importlib

import pytest
from django.apps import apps as global_apps
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction

from communes.models import Commune
from communes.services import create_commune, derived_agency_code


def test_create_commune_derives_a_unique_agency_code_from_the_official_code(db, tule, yenhoa, ngaan):
    for commune in (tule, yenhoa, ngaan):
        assert commune.agency_code == derived_agency_code(commune.code) == f"000.00.X{commune.code}"
        assert len(commune.agency_code) == 13
    assert len({tule.agency_code, yenhoa.agency_code, ngaan.agency_code}) == 3


def test_two_communes_cannot_share_an_agency_code(db, tule, yenhoa):
    with pytest.raises(ValidationError) as error:
        create_commune(code="16264", name="Yên Thọ", domain="yentho-test.localhost", province_code="38",
                       agency_code=tule.agency_code)
    assert "agency" in str(error.value).lower() or error.value.messages
    assert not Commune.objects.filter(code="16264").exists()
    with pytest.raises(IntegrityError), transaction.atomic():
        Commune.objects.filter(pk=yenhoa.pk).update(agency_code=tule.agency_code)
    # Blank is allowed for several (they use the derived code).
    Commune.objects.filter(pk__in=[tule.pk, yenhoa.pk]).update(agency_code="")
    from onestop.services import agency_code

    tule.refresh_from_db()
    yenhoa.refresh_from_db()
    assert agency_code(tule) == derived_agency_code(tule.code) != agency_code(yenhoa)


def test_the_demo_communes_get_distinct_agency_codes(db, ngaan):
    """Before: the demo gave Nga An and Yên Thọ both 000.00.16.H38, and 57 dossier codes existed
    in both communes."""
    from communes import demo

    made = {}
    for spec in demo.DEMO_COMMUNES:
        if spec.slug in ("yentho", "hason"):
            made[spec.slug] = demo._public_part(spec, out=lambda *args: None)
    connection.set_schema_to_public()
    codes = [c.agency_code for c in Commune.objects.all()]
    assert len(codes) == len(set(codes))
    assert made["yentho"].agency_code == derived_agency_code("16264") != ngaan.agency_code


def test_the_migration_resolves_existing_duplicates_deterministically(db, tule, yenhoa, ngaan):
    migration = importlib.import_module("communes.migrations.0005_commune_agency_code_unique")
    with connection.cursor() as cursor:  # the database as it was before the constraint (rolled back after)
        cursor.execute('DROP INDEX IF EXISTS "commune_agency_code_unique"')
        cursor.execute('ALTER TABLE communes_commune DROP CONSTRAINT IF EXISTS "commune_agency_code_unique"')
    Commune.objects.filter(pk__in=[tule.pk, yenhoa.pk, ngaan.pk]).update(agency_code="000.00.16.H38")
    migration.resolve_duplicates(global_apps, None)
    codes = dict(Commune.objects.filter(pk__in=[tule.pk, yenhoa.pk, ngaan.pk]).values_list("code", "agency_code"))
    # The smallest official code keeps the shared identifier; the others get their derived one.
    assert codes == {"04630": "000.00.16.H38", "14701": "000.00.X14701", "16144": "000.00.X16144"}
    migration.resolve_duplicates(global_apps, None)  # running it again changes nothing
    assert dict(Commune.objects.filter(pk__in=[tule.pk, yenhoa.pk, ngaan.pk]).values_list("code", "agency_code")) == codes


def test_a_dossier_code_format_without_the_agency_is_refused_by_the_system_check(settings):
    from onestop.checks import dossier_code_format

    assert dossier_code_format() == []
    settings.XASO_DOSSIER_CODE_FORMAT = "{date:%y%m%d}-{seq:04d}"
    [error] = dossier_code_format()
    assert error.id == "onestop.E001" and "{agency}" in error.msg
    settings.XASO_DOSSIER_CODE_FORMAT = "{agency}-{date:%y%m%d}"
    assert [e.id for e in dossier_code_format()] == ["onestop.E001"]
    settings.XASO_DOSSIER_CODE_FORMAT = "{agency}-{seq:04d}-{nonsense}"
    assert [e.id for e in dossier_code_format()] == ["onestop.E001"]
