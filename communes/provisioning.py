"""Provisioning of commune schemas.

A new commune's schema is cloned from a template schema (``settings.TEMPLATE_SCHEMA_NAME``)
that has every tenant migration applied; replaying every migration for each of the ~3,300
communes would take far too long. The plain migrate path remains as the fallback and can be
forced with ``XASO_PROVISION_METHOD=migrate``.

How the clone works
-------------------
The template's catalogue is read once and turned into one SQL script (tables, columns with
types, defaults, identity and generated columns, sequences and their owners, primary key,
unique, check, exclusion and foreign key constraints, indexes including partial and functional
ones, views, materialized views, functions, triggers and comments). The script is generated
with ``search_path`` set to the template schema alone, so PostgreSQL prints every object of
the template unqualified and every object elsewhere qualified (``public.communes_user``). It
is then executed with ``search_path`` set to the new schema alone, so the unqualified names
resolve to the clone's own tables and sequences while references to public tables stay on
public. The script is cached per process and rebuilt when the template changes.

The template only ever receives migrations, so its rows are exactly the rows that data
migrations seeded (and its ``django_migrations``). All of them are copied, as a migrated
schema would have them, and every sequence is set to the template's state.

The script runs in one transaction: a failure leaves no schema behind. Objects that the
generator does not know how to copy (enum or domain types, partitioned or foreign tables,
row level security policies, rules, extensions installed in the template schema, ...) raise
``CloneUnsupported`` and the commune is provisioned by migrations instead.

``migrate_schemas`` migrates the template first (a failing migration then stops before it
touches any commune) through ``get_executor``, installed as ``GET_EXECUTOR_FUNCTION``.
"""
from __future__ import annotations

import functools
import logging
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.management import call_command
from django.db import connection, transaction

logger = logging.getLogger(__name__)

# Key of the PostgreSQL advisory lock that orders template migrations and clones.
TEMPLATE_LOCK_KEY = 7_303_101
SCHEMA_TOKEN = "\x01schema\x01"


class CloneUnsupported(Exception):
    """The template holds an object that the clone cannot copy faithfully."""


def template_schema_name() -> str:
    return getattr(settings, "TEMPLATE_SCHEMA_NAME", "_commune_template")


def provision_method() -> str:
    return getattr(settings, "XASO_PROVISION_METHOD", "clone")


def quote_name(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def quote_literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def schema_exists(name: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", [name])
        return cursor.fetchone() is not None


def drop_schema(name: str) -> None:
    if name == "public":
        raise ValueError("The public schema is never dropped here.")
    with connection.cursor() as cursor:
        cursor.execute(f"DROP SCHEMA IF EXISTS {quote_name(name)} CASCADE")


# ---------------------------------------------------------------------------------------------
# The plain path and the template
# ---------------------------------------------------------------------------------------------

def migrate_schema(schema_name: str, verbosity: int = 0) -> None:
    """The plain path: create the schema and run every tenant migration in it.

    A failure drops the schema again, so no half-migrated schema is left behind.
    """
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE SCHEMA {quote_name(schema_name)}")
    try:
        call_command("migrate_schemas", tenant=True, schema_name=schema_name, interactive=False, verbosity=verbosity)
    except BaseException:
        connection.set_schema_to_public()
        if not connection.needs_rollback:
            drop_schema(schema_name)
        raise
    finally:
        connection.set_schema_to_public()


def _advisory_lock(shared: bool = False) -> None:
    function = "pg_advisory_xact_lock_shared" if shared else "pg_advisory_lock"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {function}(%s)", [TEMPLATE_LOCK_KEY])


def _advisory_unlock() -> None:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [TEMPLATE_LOCK_KEY])
    except Exception:  # the lock went with a closed connection
        pass


def ensure_template_schema(verbosity: int = 0, args: tuple = (), options: dict | None = None) -> None:
    """Create the template schema if needed and bring it up to date with the tenant migrations.

    The template has no Commune row: migrate_schemas is pointed at it by name (``--schema``
    works for any existing schema). The advisory lock keeps two processes from migrating it
    at once and keeps clones from reading it while it changes.
    """
    from django_tenants.migration_executors.base import run_migrations

    name = template_schema_name()
    connection.set_schema_to_public()
    _advisory_lock()
    try:
        with connection.cursor() as cursor:
            cursor.execute(f"CREATE SCHEMA IF NOT EXISTS {quote_name(name)}")
        if options is None:
            call_command("migrate_schemas", tenant=True, schema_name=name, interactive=False, verbosity=verbosity)
        else:
            run_migrations(list(args), {**options, "schema_name": name}, "template", name)
    finally:
        connection.set_schema_to_public()
        _advisory_unlock()
        _template_script.cache_clear()


@functools.lru_cache(maxsize=1)
def _migration_nodes() -> frozenset[tuple[str, str]]:
    """Every migration of the project on disk (the template records all of them)."""
    from django.db.migrations.loader import MigrationLoader

    return frozenset(MigrationLoader(None, ignore_no_migrations=True).graph.nodes)


def template_state() -> tuple | None:
    """A fingerprint of the template and the migrations it lacks; None when it does not exist."""
    name = template_schema_name()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT n.oid, (SELECT count(*) FROM pg_class c WHERE c.relnamespace = n.oid),"
            " (SELECT coalesce(sum(c.oid::int8), 0) FROM pg_class c WHERE c.relnamespace = n.oid),"
            " to_regclass(%s) IS NOT NULL FROM pg_namespace n WHERE n.nspname = %s",
            [f"{quote_name(name)}.django_migrations", name],
        )
        row = cursor.fetchone()
        if row is None:
            return None
        applied: set[tuple[str, str]] = set()
        if row[3]:
            cursor.execute(f"SELECT app, name FROM {quote_name(name)}.django_migrations")
            applied = {tuple(r) for r in cursor.fetchall()}
    missing = _migration_nodes() - applied
    return (row[0], row[1], row[2], len(applied)), frozenset(missing)


def template_is_current() -> bool:
    state = template_state()
    return state is not None and not state[1]


# ---------------------------------------------------------------------------------------------
# The clone
# ---------------------------------------------------------------------------------------------

@dataclass
class CloneScript:
    fingerprint: tuple
    sql: str

    def for_schema(self, schema_name: str) -> str:
        return self.sql.replace(SCHEMA_TOKEN, quote_name(schema_name))


def _fetch(cursor, sql: str, params=None) -> list[tuple]:
    cursor.execute(sql, params or [])
    return cursor.fetchall()


def _check_supported(cursor, nsp: int) -> None:
    problems = []
    for kind, relname in _fetch(
        cursor, "SELECT relkind, relname FROM pg_class WHERE relnamespace = %s AND relkind NOT IN ('r','S','i','v','m')", [nsp]
    ):
        problems.append(f"relation {relname} of kind {kind}")
    for (typname,) in _fetch(
        cursor,
        "SELECT t.typname FROM pg_type t WHERE t.typnamespace = %s AND t.typtype <> 'c'"
        " AND NOT (t.typcategory = 'A' AND EXISTS (SELECT 1 FROM pg_type e WHERE e.oid = t.typelem AND e.typtype = 'c'))",
        [nsp],
    ):
        problems.append(f"type {typname}")
    checks = {
        "row level security policy": "SELECT p.polname FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid WHERE c.relnamespace = %s",
        "rule": "SELECT r.rulename FROM pg_rewrite r JOIN pg_class c ON c.oid = r.ev_class WHERE c.relnamespace = %s AND r.rulename <> '_RETURN'",
        "extended statistics": "SELECT stxname FROM pg_statistic_ext WHERE stxnamespace = %s",
        "extension": "SELECT extname FROM pg_extension WHERE extnamespace = %s",
        "aggregate or window function": "SELECT proname FROM pg_proc WHERE pronamespace = %s AND prokind NOT IN ('f','p')",
        "collation": "SELECT collname FROM pg_collation WHERE collnamespace = %s",
        "operator": "SELECT oprname FROM pg_operator WHERE oprnamespace = %s",
        "inherited table": "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE c.relnamespace = %s",
        "row level security": "SELECT relname FROM pg_class WHERE relnamespace = %s AND (relrowsecurity OR relforcerowsecurity)",
    }
    for label, sql in checks.items():
        problems.extend(f"{label} {name}" for (name,) in _fetch(cursor, sql, [nsp]))
    if problems:
        raise CloneUnsupported("; ".join(problems))


def _sequence_options(row: dict) -> str:
    return (
        f"INCREMENT BY {row['increment']} MINVALUE {row['min']} MAXVALUE {row['max']}"
        f" START WITH {row['start']} CACHE {row['cache']} {'CYCLE' if row['cycle'] else 'NO CYCLE'}"
    )


def _replace_qualified(definition: str, template: str, keyword: str) -> str:
    """Point a definition that PostgreSQL always qualifies (``ON tmpl.t``) at the clone."""
    for prefix in (f"{keyword} {quote_name(template)}.", f"{keyword} {template}."):
        if prefix in definition:
            return definition.replace(prefix, f"{keyword} {SCHEMA_TOKEN}.", 1)
    return definition


def build_clone_script() -> CloneScript:
    """Read the template's catalogue and write the SQL that recreates it in another schema."""
    template = template_schema_name()
    q_template = quote_name(template)
    statements: list[str] = []
    connection.set_schema_to_public()
    with transaction.atomic():
        state = template_state()
        if state is None:
            raise CloneUnsupported(f"template schema {template} does not exist")
        cursor = connection.cursor()
        # Only the template on the path: its objects print unqualified, all others qualified.
        # (No other cursor may be opened below: django-tenants would set the path again.)
        cursor.execute("SELECT set_config('search_path', %s, true)", [q_template])
        nsp = state[0][0]
        _check_supported(cursor, nsp)
        tables = _fetch(
            cursor,
            "SELECT oid, relname, relpersistence, array_to_string(reloptions, ', ') FROM pg_class"
            " WHERE relnamespace = %s AND relkind = 'r' ORDER BY oid",
            [nsp],
        )
        table_names = {oid: name for oid, name, _, _ in tables}
        sequences = [
            dict(zip(("oid", "name", "type", "start", "increment", "min", "max", "cache", "cycle", "deptype", "table", "column"), row))
            for row in _fetch(
                cursor,
                "SELECT c.oid, c.relname, format_type(s.seqtypid, NULL), s.seqstart, s.seqincrement, s.seqmin, s.seqmax,"
                " s.seqcache, s.seqcycle, d.deptype, d.refobjid, a.attname"
                " FROM pg_class c JOIN pg_sequence s ON s.seqrelid = c.oid"
                " LEFT JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = c.oid"
                "  AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')"
                " LEFT JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid"
                " WHERE c.relnamespace = %s AND c.relkind = 'S' ORDER BY c.oid",
                [nsp],
            )
        ]
        identity = {(s["table"], s["column"]): s for s in sequences if s["deptype"] == "i"}
        columns: dict[int, list[tuple]] = {}
        for row in _fetch(
            cursor,
            "SELECT a.attrelid, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,"
            " pg_get_expr(d.adbin, d.adrelid), a.attidentity, a.attgenerated,"
            " CASE WHEN a.attcollation <> t.typcollation THEN quote_ident(cn.nspname) || '.' || quote_ident(co.collname) END"
            " FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_type t ON t.oid = a.atttypid"
            " LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum"
            " LEFT JOIN pg_collation co ON co.oid = a.attcollation LEFT JOIN pg_namespace cn ON cn.oid = co.collnamespace"
            " WHERE c.relnamespace = %s AND c.relkind IN ('r', 'v', 'm') AND a.attnum > 0 AND NOT a.attisdropped"
            " ORDER BY a.attrelid, a.attnum",
            [nsp],
        ):
            columns.setdefault(row[0], []).append(row[1:])

        statements.append(f"CREATE SCHEMA {SCHEMA_TOKEN}")
        statements.append(f"SELECT set_config('search_path', '{SCHEMA_TOKEN}', true)")
        statements.append("SET LOCAL check_function_bodies = off")
        # Sequences that are not identity sequences (serial columns, standalone sequences).
        for seq in sequences:
            if seq["deptype"] != "i":
                statements.append(f"CREATE SEQUENCE {SCHEMA_TOKEN}.{quote_name(seq['name'])} AS {seq['type']} {_sequence_options(seq)}")
        # Tables.
        for oid, name, persistence, reloptions in tables:
            parts = []
            for attname, coltype, notnull, default, attidentity, attgenerated, collation in columns.get(oid, []):
                column = f"{quote_name(attname)} {coltype}"
                if collation:
                    column += f" COLLATE {collation}"
                if attgenerated == "s":
                    column += f" GENERATED ALWAYS AS ({default}) STORED"
                elif default is not None:
                    column += f" DEFAULT {default}"
                if notnull:
                    column += " NOT NULL"
                if attidentity:
                    seq = identity[(oid, attname)]
                    kind = "ALWAYS" if attidentity == "a" else "BY DEFAULT"
                    column += (
                        f" GENERATED {kind} AS IDENTITY (SEQUENCE NAME {SCHEMA_TOKEN}.{quote_name(seq['name'])}"
                        f" {_sequence_options(seq)})"
                    )
                parts.append(column)
            unlogged = "UNLOGGED " if persistence == "u" else ""
            with_options = f" WITH ({reloptions})" if reloptions else ""
            statements.append(
                f"CREATE {unlogged}TABLE {SCHEMA_TOKEN}.{quote_name(name)} ({', '.join(parts)}){with_options}"
            )
        # Owners of serial sequences.
        for seq in sequences:
            if seq["deptype"] == "a" and seq["table"] in table_names:
                statements.append(
                    f"ALTER SEQUENCE {SCHEMA_TOKEN}.{quote_name(seq['name'])} OWNED BY"
                    f" {SCHEMA_TOKEN}.{quote_name(table_names[seq['table']])}.{quote_name(seq['column'])}"
                )
        # Rows (migration-seeded data and django_migrations), copied before the constraints.
        for oid, name, _, _ in tables:
            cols = [c for c in columns.get(oid, []) if c[5] != "s"]
            col_list = ", ".join(quote_name(c[0]) for c in cols)
            overriding = " OVERRIDING SYSTEM VALUE" if any(c[4] == "a" for c in cols) else ""
            statements.append(
                f"INSERT INTO {SCHEMA_TOKEN}.{quote_name(name)} ({col_list}){overriding}"
                f" SELECT {col_list} FROM {q_template}.{quote_name(name)}"
            )
        for seq in sequences:
            target = quote_literal(f"{SCHEMA_TOKEN}.{quote_name(seq['name'])}")
            statements.append(
                f"SELECT setval({target}::regclass, last_value, is_called) FROM {q_template}.{quote_name(seq['name'])}"
            )
        constraints = _fetch(
            cursor,
            "SELECT conrelid, conname, contype, pg_get_constraintdef(oid) FROM pg_constraint"
            " WHERE connamespace = %s AND conrelid <> 0 AND contype IN ('p', 'u', 'c', 'x', 'f')"
            " ORDER BY contype = 'f', conrelid, oid",
            [nsp],
        )
        foreign_keys = []
        for conrelid, conname, contype, definition in constraints:
            if conrelid not in table_names:
                raise CloneUnsupported(f"constraint {conname} on a relation that is not a table")
            statement = (
                f"ALTER TABLE {SCHEMA_TOKEN}.{quote_name(table_names[conrelid])}"
                f" ADD CONSTRAINT {quote_name(conname)} {definition}"
            )
            (foreign_keys if contype == "f" else statements).append(statement)
        # Functions, then views and materialized views (in creation order).
        for oid, definition in _fetch(
            cursor, "SELECT oid, pg_get_functiondef(oid) FROM pg_proc WHERE pronamespace = %s ORDER BY oid", [nsp]
        ):
            for keyword in ("FUNCTION", "PROCEDURE"):
                definition = _replace_qualified(definition, template, keyword)
            if template in definition:
                raise CloneUnsupported(f"function {oid} names the template schema in its body")
            statements.append(definition)
        for oid, name, relkind, reloptions, definition in _fetch(
            cursor,
            "SELECT oid, relname, relkind, array_to_string(reloptions, ', '), pg_get_viewdef(oid) FROM pg_class"
            " WHERE relnamespace = %s AND relkind IN ('v', 'm') ORDER BY oid",
            [nsp],
        ):
            with_options = f" WITH ({reloptions})" if reloptions else ""
            body = definition.strip().rstrip(";")
            if relkind == "v":
                statements.append(f"CREATE VIEW {SCHEMA_TOKEN}.{quote_name(name)}{with_options} AS {body}")
            else:
                statements.append(f"CREATE MATERIALIZED VIEW {SCHEMA_TOKEN}.{quote_name(name)}{with_options} AS {body} WITH DATA")
        # Indexes that do not belong to a constraint (plain, partial, functional, unique).
        for (definition,) in _fetch(
            cursor,
            "SELECT pg_get_indexdef(i.indexrelid) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid"
            " WHERE c.relnamespace = %s AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid"
            "  AND k.conrelid = i.indrelid AND k.contype IN ('p', 'u', 'x')) ORDER BY i.indexrelid",
            [nsp],
        ):
            statements.append(_replace_qualified(definition, template, "ON"))
        statements.extend(foreign_keys)
        # Triggers written by hand (not the internal ones that enforce foreign keys).
        for (definition,) in _fetch(
            cursor,
            "SELECT pg_get_triggerdef(t.oid) FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid"
            " WHERE c.relnamespace = %s AND NOT t.tgisinternal ORDER BY t.oid",
            [nsp],
        ):
            statements.append(_replace_qualified(definition, template, "ON"))
        # Comments on tables, views and columns (db_comment).
        for relname, attname, comment in _fetch(
            cursor,
            "SELECT c.relname, a.attname, d.description FROM pg_description d JOIN pg_class c ON c.oid = d.objoid"
            " AND d.classoid = 'pg_class'::regclass LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = d.objsubid"
            " WHERE c.relnamespace = %s AND (d.objsubid = 0 OR a.attnum IS NOT NULL)",
            [nsp],
        ):
            target = f"{SCHEMA_TOKEN}.{quote_name(relname)}"
            if attname:
                statements.append(f"COMMENT ON COLUMN {target}.{quote_name(attname)} IS {quote_literal(comment)}")
            else:
                statements.append(f"COMMENT ON TABLE {target} IS {quote_literal(comment)}")
        cursor.close()
    connection.set_schema_to_public()
    return CloneScript(fingerprint=state[0], sql=";\n".join(statements) + ";")


@functools.lru_cache(maxsize=1)
def _template_script_for(fingerprint: tuple) -> CloneScript:
    return build_clone_script()


def _template_script() -> CloneScript:
    state = template_state()
    if state is None:
        raise CloneUnsupported("template schema does not exist")
    script = _template_script_for(state[0])
    if script.fingerprint != state[0]:  # the template changed while the script was built
        _template_script_for.cache_clear()
        script = _template_script_for(state[0])
    return script


_template_script.cache_clear = _template_script_for.cache_clear  # type: ignore[attr-defined]


def clone_schema(schema_name: str) -> float:
    """Create ``schema_name`` as a copy of the template in one transaction. Returns seconds."""
    started = time.perf_counter()
    connection.set_schema_to_public()
    script = _template_script()
    with transaction.atomic():
        _advisory_lock(shared=True)
        with connection.cursor() as cursor:
            cursor.execute(script.for_schema(schema_name))
    # The script changed search_path for this transaction: make the next cursor set it again.
    connection.set_schema_to_public()
    return time.perf_counter() - started


# ---------------------------------------------------------------------------------------------
# Entry points
# ---------------------------------------------------------------------------------------------

def provision_schema(commune, verbosity: int = 0) -> str:
    """Create the commune's schema. Returns the path taken: 'clone', 'migrate' or 'exists'.

    With the clone method (the default), a missing or outdated template is first brought up to
    date; if the clone still cannot run, the commune is migrated instead.
    """
    schema_name = commune.schema_name
    if schema_exists(schema_name):
        return "exists"
    if provision_method() == "clone":
        try:
            if not template_is_current():
                ensure_template_schema(verbosity=verbosity)
            clone_schema(schema_name)
            return "clone"
        except Exception:
            logger.warning("Cloning the template into %s failed; running migrations instead.", schema_name, exc_info=True)
            connection.set_schema_to_public()
            if connection.needs_rollback:
                raise
    migrate_schema(schema_name, verbosity=verbosity)
    return "migrate"


_executor_classes: dict[type, type] = {}


def get_executor(codename=None):
    """``GET_EXECUTOR_FUNCTION``: django-tenants' executor that migrates the template first.

    When migrate_schemas runs for every tenant (no ``--schema``), the template is migrated
    before any commune, in this process; the communes then follow with the chosen executor
    (standard or multiprocessing).
    """
    from django_tenants.migration_executors import get_executor as base_get_executor

    base = base_get_executor(codename)
    if base not in _executor_classes:

        class TemplateFirstExecutor(base):
            def run_migrations(self, tenants=None):
                every_tenant = not self.options.get("schema_name") and not (
                    isinstance(tenants, list) and self.PUBLIC_SCHEMA_NAME in tenants
                )
                if every_tenant:
                    ensure_template_schema(
                        verbosity=int(self.options.get("verbosity", 1)), args=self.args, options=self.options
                    )
                return super().run_migrations(tenants=tenants)

        TemplateFirstExecutor.__name__ = f"TemplateFirst{base.__name__}"
        _executor_classes[base] = TemplateFirstExecutor
    return _executor_classes[base]
