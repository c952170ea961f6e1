"""Provisioning by cloning the template schema, compared with provisioning by migrations.

These tests create and drop their own communes (DDL is committed, so cleanup is explicit)
and never touch the session's communes except through migrate_schemas, whose probe
migrations are unapplied again at the end.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection
from django.test import override_settings

from communes import provisioning
from tests.provisioning.catalogue import canonical_checks, differences, insert_everywhere, snapshot

pytestmark = [pytest.mark.xdist_group("provisioning"), pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
# Real codes from communes/fixtures/communes.csv that tests/conftest.py does not use.
CLONED = ("00004", "p1.test")
MIGRATED = ("00008", "p2.test")
PROBE_CLONED = ("00025", "p3.test")
PROBE_MIGRATED = ("00070", "p4.test")


def remove_commune(code: str) -> None:
    from communes.models import Commune, Domain

    connection.set_schema_to_public()
    provisioning.drop_schema(f"c_{code}")
    Domain.objects.filter(tenant__code=code).delete()
    Commune.objects.filter(code=code).delete()
    Commune.history.filter(code=code).delete()


def sequence_states(schema: str) -> dict:
    connection.set_schema_to_public()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname = %s AND c.relkind = 'S'", [schema]
        )
        names = [name for (name,) in cursor.fetchall()]
        states = {}
        for name in names:
            cursor.execute(f'SELECT last_value, is_called FROM "{schema}"."{name}"')
            states[name] = cursor.fetchone()
    return states


def manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    """Run manage.py against the test database in a fresh process (settings read anew)."""
    settings_dict = connection.settings_dict
    url = (
        f"postgres://{settings_dict['USER'] or 'postgres'}@{settings_dict['HOST'] or '127.0.0.1'}:"
        f"{settings_dict['PORT'] or 5432}/{settings_dict['NAME']}"
    )
    completed = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
        env={**os.environ, "DATABASE_URL": url, "DATABASE_CONN_MAX_AGE": "0", **env},
    )
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    return completed


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """Committed DDL, made outside the tests' transactions and dropped at the end.

    Two communes of province 01 (one cloned, one migrated) are made and read; then
    migrate_schemas applies the probe app's migrations to every schema (template first);
    then, with the probe app in the template, one more commune is cloned and one migrated.
    """
    from communes.services import create_commune

    with django_db_blocker.unblock():
        assert connection.settings_dict["NAME"].startswith("test_"), "never on a real database"
        codes = [code for code, _ in (CLONED, MIGRATED, PROBE_CLONED, PROBE_MIGRATED)]
        for code in codes:
            remove_commune(code)
        world = {}
        try:
            cloned, _ = create_commune(code=CLONED[0], name="Ba Đình", domain=CLONED[1], province_code="01")
            with override_settings(XASO_PROVISION_METHOD="migrate"):
                migrated, _ = create_commune(code=MIGRATED[0], name="Ngọc Hà", domain=MIGRATED[1], province_code="01")
            connection.set_schema_to_public()
            world.update(cloned=cloned, migrated=migrated, template_current=provisioning.template_is_current())
            world["before"] = {
                schema: canonical_checks(schema, snapshot(schema)) for schema in (cloned.schema_name, migrated.schema_name)
            }
            template = provisioning.template_schema_name()
            sequences_before = sequence_states(template)
            world["rows"] = insert_everywhere(cloned.schema_name)
            world["template_sequences_kept"] = sequence_states(template) == sequences_before
            world["migrate_out"] = manage("migrate_schemas", "--noinput", "--skip-checks", XASO_TEST_PROBE_APP="1").stdout
            world["probe_clone_out"] = manage(
                "create_commune", "--skip-checks", "--code", PROBE_CLONED[0], "--domain", PROBE_CLONED[1],
                XASO_TEST_PROBE_APP="1",
            ).stdout
            world["probe_migrate_out"] = manage(
                "create_commune", "--skip-checks", "--code", PROBE_MIGRATED[0], "--domain", PROBE_MIGRATED[1],
                XASO_TEST_PROBE_APP="1", XASO_PROVISION_METHOD="migrate",
            ).stdout
            connection.set_schema_to_public()
            yield world
        finally:
            connection.set_schema_to_public()
            for code in codes:
                remove_commune(code)
            manage("migrate_schemas", "probe_app", "zero", "--noinput", "--skip-checks", XASO_TEST_PROBE_APP="1")
            connection.set_schema_to_public()


def assert_same_catalogue(cloned_schema: str, migrated_schema: str) -> dict:
    left = canonical_checks(cloned_schema, snapshot(cloned_schema))
    right = canonical_checks(migrated_schema, snapshot(migrated_schema))
    assert differences(left, right) == {}
    check_points_home(left)
    return left


def check_points_home(left: dict) -> None:
    # Everything the clone's objects point at is its own or public, never the template.
    for row in left["constraints"]:
        assert row[4] in (None, "<self>", "public"), row
        assert provisioning.template_schema_name() not in row[3], row
    for row in left["sequences"]:
        assert row[-1] in ("<self>", None), row
    for table, column, sequence in left["serial_sequences"]:
        assert sequence.startswith("<schema>."), (table, column, sequence)
    for row in left["columns"]:
        assert provisioning.template_schema_name() not in str(row[5]), row


def test_paths_taken(world, db):
    assert world["cloned"].provisioning_path == "clone"
    assert world["migrated"].provisioning_path == "migrate"
    assert world["template_current"]
    assert ", clone)" in world["probe_clone_out"]
    assert ", migrate)" in world["probe_migrate_out"]


def test_clone_has_the_catalogue_of_a_migrated_schema(world, db):
    cloned, migrated = world["cloned"].schema_name, world["migrated"].schema_name
    left, right = world["before"][cloned], world["before"][migrated]
    assert differences(left, right) == {}
    check_points_home(left)
    assert ("communes", "0001_initial") in left["migrations"]
    assert len(left["migrations"]) == len(provisioning._migration_nodes())
    tables = {name for name, kind, _ in left["relations"] if kind == "r"}
    assert "django_migrations" in tables
    keyed = {row[0] for row in left["constraints"] if row[2] == "p"}
    assert tables <= keyed  # every table came with its primary key


def test_every_table_of_the_clone_takes_a_row(world, db):
    cloned = world["cloned"].schema_name
    tables = {name for name, kind, _ in world["before"][cloned]["relations"] if kind == "r"}
    assert set(world["rows"]) == tables
    assert world["template_sequences_kept"]  # the clone's inserts drew on its own sequences


def test_migrate_schemas_brings_template_and_cloned_communes_up_to_date(world, db):
    template = provisioning.template_schema_name()
    assert f"[template:{template}]" in world["migrate_out"]  # the template goes first
    assert world["migrate_out"].index(f"[template:{template}]") < world["migrate_out"].index(world["cloned"].schema_name)
    for schema in (template, world["cloned"].schema_name, world["migrated"].schema_name):
        snap = snapshot(schema)
        assert {("probe_app", "0001_initial"), ("probe_app", "0002_probeitem_note")} <= set(snap["migrations"])
        columns = {(row[0], row[2]) for row in snap["columns"]}
        assert ("probe_app_probeitem", "note") in columns
        assert ("probe_app_probecategory", 2) in snap["row_counts"]  # seeded by the data migration
    assert_same_catalogue(world["cloned"].schema_name, world["migrated"].schema_name)


def test_clone_of_a_template_with_every_kind_of_object(world, db):
    cloned, migrated = f"c_{PROBE_CLONED[0]}", f"c_{PROBE_MIGRATED[0]}"
    snap = assert_same_catalogue(cloned, migrated)
    kinds = {kind for _, kind, _ in snap["relations"]}
    assert {"r", "S", "i", "v"} <= kinds
    assert snap["triggers"] and snap["functions"] and snap["comments"]
    assert any(row[7] == "s" for row in snap["columns"])  # a generated column
    assert any(row[10] == "a" for row in snap["sequences"])  # a serial column's sequence
    assert any(row[10] == "i" for row in snap["sequences"])  # an identity column's sequence
    assert any(row[10] is None for row in snap["sequences"])  # a sequence of its own

    template = provisioning.template_schema_name()
    before = sequence_states(template)
    rows = insert_everywhere(cloned)
    assert set(rows) == {name for name, kind, _ in snap["relations"] if kind == "r"}
    assert rows["probe_app_probecategory"]["id"] == 3  # after the two seeded rows
    assert rows["probe_app_probeitem"]["data"] == {"ticket": 100}  # the trigger used the clone's sequence
    assert rows["probe_app_probeitem"]["total"] == 10
    assert sequence_states(template) == before


def test_missing_template_is_rebuilt_then_cloned(db):
    from communes.models import Commune

    provisioning.drop_schema(provisioning.template_schema_name())
    assert not provisioning.template_is_current()
    commune = Commune(code="00091", name="Test", schema_name="c_00091")
    assert provisioning.provision_schema(commune) == "clone"
    assert provisioning.template_is_current()
    assert provisioning.schema_exists("c_00091")
    assert provisioning.provision_schema(commune) == "exists"


def test_failed_clone_leaves_no_schema_and_falls_back_to_migrations(db):
    from communes.models import Commune

    template = provisioning.template_schema_name()
    with connection.cursor() as cursor:  # a CHECK that fails once the clone is half made
        cursor.execute(
            "CREATE FUNCTION public.xaso_only_in_template(int) RETURNS boolean LANGUAGE plpgsql AS $$"
            " BEGIN IF current_schema() = 'c_00092' THEN RAISE EXCEPTION 'not the template'; END IF; RETURN true; END $$"
        )
        cursor.execute(f'CREATE TABLE "{template}".zz_fragile (id int PRIMARY KEY CHECK (public.xaso_only_in_template(id)))')
        cursor.execute(f'INSERT INTO "{template}".zz_fragile VALUES (1)')
    with pytest.raises(Exception, match="not the template"):
        provisioning.clone_schema("c_00092")
    assert not provisioning.schema_exists("c_00092")
    commune = Commune(code="00092", name="Test", schema_name="c_00092")
    assert provisioning.provision_schema(commune) == "migrate"
    assert ("communes", "0001_initial") in snapshot("c_00092")["migrations"]
    assert "zz_fragile" not in {name for name, _, _ in snapshot("c_00092")["relations"]}


def test_unsupported_template_objects_are_refused(db):
    template = provisioning.template_schema_name()
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TYPE \"{template}\".zz_mood AS ENUM ('ok')")
    with pytest.raises(provisioning.CloneUnsupported, match="zz_mood"):
        provisioning.build_clone_script()
