"""Read a schema's catalogue in a form that can be compared between two schemas.

Everything is introspected (no table is named here), so new apps are covered as they come.
Definitions are printed with only ``public`` on the search path, so the schema's own objects
come out qualified with its name; that name is then replaced by ``<schema>``. An object that
points at another schema (say the template) therefore shows up as a difference.
"""
from __future__ import annotations

import json
import re
import uuid

from django.db import connection, transaction


def _normalise(schema: str, text):
    if text is None:
        return None
    return re.sub(rf'(?<![\w"])(?:"{re.escape(schema)}"|{re.escape(schema)})\.', "<schema>.", str(text))


def _rows(sql: str, params) -> list[tuple]:
    connection.set_schema_to_public()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def snapshot(schema: str) -> dict:
    n = lambda value: _normalise(schema, value)  # noqa: E731
    nsp = _rows("SELECT oid FROM pg_namespace WHERE nspname = %s", [schema])[0][0]
    result: dict = {}
    result["relations"] = sorted(_rows(
        "SELECT relname, relkind, relpersistence FROM pg_class WHERE relnamespace = %s AND relkind <> 't'", [nsp]
    ))
    result["columns"] = sorted(
        (table, position, name, coltype, notnull, n(default), identity, generated, collation)
        for table, position, name, coltype, notnull, default, identity, generated, collation in _rows(
            "SELECT c.relname, row_number() OVER (PARTITION BY c.oid ORDER BY a.attnum), a.attname,"
            " format_type(a.atttypid, a.atttypmod), a.attnotnull, pg_get_expr(d.adbin, d.adrelid),"
            " a.attidentity, a.attgenerated, a.attcollation"
            " FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid"
            " LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum"
            " WHERE c.relnamespace = %s AND c.relkind IN ('r', 'v', 'm') AND a.attnum > 0 AND NOT a.attisdropped",
            [nsp],
        )
    )
    result["constraints"] = sorted(
        (table, name, contype, n(definition), "<self>" if ref_nsp == nsp else ref_schema, deferrable, deferred)
        for table, name, contype, definition, ref_nsp, ref_schema, deferrable, deferred in _rows(
            "SELECT c.relname, k.conname, k.contype, pg_get_constraintdef(k.oid), r.relnamespace, rn.nspname,"
            " k.condeferrable, k.condeferred"
            " FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid"
            " LEFT JOIN pg_class r ON r.oid = k.confrelid LEFT JOIN pg_namespace rn ON rn.oid = r.relnamespace"
            " WHERE c.relnamespace = %s",
            [nsp],
        )
    )
    result["indexes"] = sorted(
        (table, name, n(definition))
        for table, name, definition in _rows(
            "SELECT t.relname, c.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i"
            " JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_class t ON t.oid = i.indrelid WHERE c.relnamespace = %s",
            [nsp],
        )
    )
    result["sequences"] = sorted(
        (name, seqtype, start, inc, low, high, cache, cycle, owner, column, deptype,
         "<self>" if owner_nsp == nsp else owner_nsp)
        for name, seqtype, start, inc, low, high, cache, cycle, owner, column, deptype, owner_nsp in _rows(
            "SELECT c.relname, format_type(s.seqtypid, NULL), s.seqstart, s.seqincrement, s.seqmin, s.seqmax,"
            " s.seqcache, s.seqcycle, t.relname, a.attname, d.deptype, t.relnamespace"
            " FROM pg_class c JOIN pg_sequence s ON s.seqrelid = c.oid"
            " LEFT JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = c.oid"
            "  AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')"
            " LEFT JOIN pg_class t ON t.oid = d.refobjid"
            " LEFT JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid"
            " WHERE c.relnamespace = %s",
            [nsp],
        )
    )
    result["serial_sequences"] = sorted(
        (table, column, n(sequence))
        for table, column, sequence in _rows(
            "SELECT c.relname, a.attname, pg_get_serial_sequence(quote_ident(n.nspname) || '.' || quote_ident(c.relname), a.attname)"
            " FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE c.relnamespace = %s AND c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped",
            [nsp],
        )
        if sequence is not None
    )
    result["views"] = sorted(
        (name, n(definition))
        for name, definition in _rows(
            "SELECT relname, pg_get_viewdef(oid) FROM pg_class WHERE relnamespace = %s AND relkind IN ('v', 'm')", [nsp]
        )
    )
    result["triggers"] = sorted(
        (table, name, n(definition))
        for table, name, definition in _rows(
            "SELECT c.relname, t.tgname, pg_get_triggerdef(t.oid) FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid"
            " WHERE c.relnamespace = %s AND NOT t.tgisinternal",
            [nsp],
        )
    )
    result["functions"] = sorted(
        (name, n(definition))
        for name, definition in _rows(
            "SELECT proname, pg_get_functiondef(oid) FROM pg_proc WHERE pronamespace = %s", [nsp]
        )
    )
    result["comments"] = sorted(_rows(
        "SELECT c.relname, d.objsubid, d.description FROM pg_description d JOIN pg_class c ON c.oid = d.objoid"
        " AND d.classoid = 'pg_class'::regclass WHERE c.relnamespace = %s",
        [nsp],
    ))
    result["migrations"] = sorted(_rows(f'SELECT app, name FROM "{schema}".django_migrations', []))
    counts = []
    for (table,) in _rows("SELECT relname FROM pg_class WHERE relnamespace = %s AND relkind = 'r'", [nsp]):
        counts.append((table, _rows(f'SELECT count(*) FROM "{schema}"."{table}"', [])[0][0]))
    result["row_counts"] = sorted(counts)
    return result


def canonical_checks(schema: str, snap: dict) -> dict:
    """CHECK constraints as PostgreSQL prints them after parsing their printed form once more.

    Printing and re-parsing an expression is not always a fixed point (``ARRAY[...]::text[]``
    comes back as an array of casts), so a schema restored from printed DDL -- by pg_dump or by
    the clone -- can print a CHECK differently from the migrated one while meaning the same.
    One more round trip, inside a transaction that is rolled back, makes both forms equal.
    """
    constraints = []
    connection.set_schema_to_public()
    with transaction.atomic():
        with connection.cursor() as cursor:
            for row in snap["constraints"]:
                table, name, contype, definition = row[:4]
                if contype == "c":
                    cursor.execute(
                        f'ALTER TABLE "{schema}"."{table}" ADD CONSTRAINT xaso_roundtrip '
                        + definition.replace("<schema>.", f'"{schema}".') + " NOT VALID"
                    )
                    cursor.execute(
                        "SELECT pg_get_constraintdef(k.oid) FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid"
                        " JOIN pg_namespace n ON n.oid = c.relnamespace"
                        " WHERE n.nspname = %s AND c.relname = %s AND k.conname = 'xaso_roundtrip'",
                        [schema, table],
                    )
                    definition = _normalise(schema, cursor.fetchone()[0]).replace(" NOT VALID", "")
                    cursor.execute(f'ALTER TABLE "{schema}"."{table}" DROP CONSTRAINT xaso_roundtrip')
                constraints.append((table, name, contype, definition, *row[4:]))
            # A partial index's predicate makes the same round trip (``IN (…)`` of a
            # UniqueConstraint's condition prints as an array of casts once restored).
            indexes = []
            for table, name, definition in snap["indexes"]:
                if " WHERE " in definition:
                    cursor.execute(definition.replace(f"INDEX {name} ON", "INDEX xaso_roundtrip_idx ON", 1)
                                   .replace("<schema>.", f'"{schema}".'))
                    cursor.execute("SELECT pg_get_indexdef(c.oid) FROM pg_class c JOIN pg_namespace n"
                                   " ON n.oid = c.relnamespace WHERE n.nspname = %s AND c.relname = 'xaso_roundtrip_idx'",
                                   [schema])
                    definition = _normalise(schema, cursor.fetchone()[0]).replace(
                        "INDEX xaso_roundtrip_idx ON", f"INDEX {name} ON", 1)
                    cursor.execute(f'DROP INDEX "{schema}".xaso_roundtrip_idx')
                indexes.append((table, name, definition))
        transaction.set_rollback(True)
    return {**snap, "constraints": sorted(constraints), "indexes": sorted(indexes)}


def differences(left: dict, right: dict) -> dict:
    """What differs between two snapshots, section by section (empty when they are equal)."""
    diff = {}
    for key in left.keys() | right.keys():
        a, b = set(left.get(key, [])), set(right.get(key, []))
        if a != b:
            diff[key] = {"only_left": sorted(a - b, key=str), "only_right": sorted(b - a, key=str)}
    return diff


# ---------------------------------------------------------------------------------------------
# One row in every table
# ---------------------------------------------------------------------------------------------

DUMMIES = {
    "smallint": "1", "integer": "1", "bigint": "1", "numeric": "1", "real": "1", "double precision": "1",
    "boolean": "true", "date": "'2026-01-01'", "time without time zone": "'12:00'",
    "timestamp with time zone": "now()", "timestamp without time zone": "now()",
    "uuid": "gen_random_uuid()", "jsonb": "'{}'", "json": "'{}'", "bytea": "'\\x00'",
    "interval": "'1 day'", "inet": "'127.0.0.1'", "cidr": "'10.0.0.0/8'",
}


# Values for columns whose CHECK constraints tie them to other columns, which the catalogue alone
# cannot satisfy (a literal named in the constraint is the one value that needs the other
# column; sums and ranges need related values).
HINTS = {
    ("ecommerce_producer", "status"): "'pending'",
    ("ecommerce_product", "status"): "'draft'",
    ("ecommerce_certificate", "issued_on"): "'2026-01-01'",
    ("ecommerce_certificate", "expires_on"): "'2029-01-01'",
    ("ecommerce_order", "state"): "'placed'",
    ("ecommerce_order", "subtotal"): "1",
    ("ecommerce_order", "shipping_fee"): "0",
    ("ecommerce_order", "total"): "1",
    ("ecommerce_order", "stock_reserved"): "false",
    ("ecommerce_productversion", "state"): "'draft'",
    ("education_schoolyear", "ends_on"): "'2027-05-31'",
    ("education_semester", "ends_on"): "'2027-01-16'",
}


class RowFactory:
    """Inserts one row into any table from the catalogue alone: NOT NULL columns without a
    default get a value of their type (a literal named in a CHECK constraint on the column
    where there is one), foreign keys get a row of the referenced table (an existing row for a
    public table, else one made the same way). A table that cannot be filled raises."""

    def __init__(self):
        self.rows: dict[tuple[str, str], dict] = {}
        self.cursor = connection.cursor()

    def fetch(self, sql, params=()):
        self.cursor.execute(sql, params)
        return self.cursor.fetchall()

    def columns(self, schema, table):
        return self.fetch(
            "SELECT a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull, a.atthasdef OR a.attidentity <> ''"
            " OR a.attgenerated <> '', a.attgenerated <> '', t.typcategory"
            " FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace"
            " JOIN pg_type t ON t.oid = a.atttypid"
            " WHERE n.nspname = %s AND c.relname = %s AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum",
            [schema, table],
        )

    def foreign_keys(self, schema, table):
        return self.fetch(
            "SELECT (SELECT array_agg(a.attname ORDER BY x.i) FROM unnest(k.conkey) WITH ORDINALITY x(n, i)"
            "  JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = x.n),"
            " rn.nspname, r.relname,"
            " (SELECT array_agg(a.attname ORDER BY x.i) FROM unnest(k.confkey) WITH ORDINALITY x(n, i)"
            "  JOIN pg_attribute a ON a.attrelid = k.confrelid AND a.attnum = x.n)"
            " FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace"
            " JOIN pg_class r ON r.oid = k.confrelid JOIN pg_namespace rn ON rn.oid = r.relnamespace"
            " WHERE k.contype = 'f' AND n.nspname = %s AND c.relname = %s",
            [schema, table],
        )

    def check_literal(self, schema, table, column):
        for (definition,) in self.fetch(
            "SELECT pg_get_constraintdef(k.oid) FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid"
            " JOIN pg_namespace n ON n.oid = c.relnamespace WHERE k.contype = 'c' AND n.nspname = %s AND c.relname = %s",
            [schema, table],
        ):
            if re.search(rf"\b{re.escape(column)}\b", definition):
                literal = re.search(r"'((?:[^']|'')*)'::", definition)
                if literal:
                    return "'" + literal.group(1) + "'"
        return None

    def value(self, schema, table, column, coltype, category, position: int = 0):
        if (table, column) in HINTS:
            return HINTS[(table, column)]
        literal = self.check_literal(schema, table, column)
        if literal:
            return literal
        base = coltype.split("(")[0]
        if base == "time without time zone":
            # Later columns get later times: a CHECK such as "end > start" holds.
            return f"'12:{min(position, 59):02d}'"
        if base in DUMMIES:
            return DUMMIES[base]
        if category == "S" or base in ("text", "character varying", "character"):
            length = re.search(r"\((\d+)\)", coltype)
            token = uuid.uuid4().hex[: int(length.group(1)) if length else 12]
            return f"'{token}'"
        if category == "A":
            return "'{}'"
        raise LookupError(f"{schema}.{table}.{column}: no dummy value for type {coltype}")

    def row(self, schema, table, stack=()):
        key = (schema, table)
        if key in self.rows:
            return self.rows[key]
        if schema == "public":
            existing = self.fetch(f'SELECT to_jsonb(t) FROM "public"."{table}" t LIMIT 1')
            if existing:
                self.rows[key] = self.decode(existing[0][0])
                return self.rows[key]
        if key in stack:
            raise LookupError(f"{schema}.{table}: required foreign key cycle")
        foreign = {}
        for columns, ref_schema, ref_table, ref_columns in self.foreign_keys(schema, table):
            foreign[tuple(columns)] = (ref_schema, ref_table, ref_columns)
        errors = []
        for fill_nullable in (False, True):
            values = {}
            for position, (column, coltype, notnull, has_default, generated, category) in enumerate(
                    self.columns(schema, table)):
                if generated or has_default or column in values:
                    continue
                if not notnull and not fill_nullable:
                    continue
                fk = next(((cols, ref) for cols, ref in foreign.items() if column in cols), None)
                if fk:
                    cols, (ref_schema, ref_table, ref_columns) = fk
                    if (ref_schema, ref_table) == key:
                        if notnull:
                            raise LookupError(f"{schema}.{table}: required self reference")
                        continue
                    parent = self.row(ref_schema, ref_table, stack + (key,))
                    for own, ref in zip(cols, ref_columns):
                        values[own] = self.literal(parent[ref])
                    continue
                values[column] = self.value(schema, table, column, coltype, category, position)
            names = ", ".join(f'"{c}"' for c in values)
            sql = (
                f'INSERT INTO "{schema}"."{table}" ({names}) VALUES ({", ".join(values.values())}) RETURNING to_jsonb("{table}")'
                if values else f'INSERT INTO "{schema}"."{table}" DEFAULT VALUES RETURNING to_jsonb("{table}")'
            )
            try:
                with transaction.atomic():
                    self.cursor.execute(sql)
                    self.rows[key] = self.decode(self.cursor.fetchone()[0])
                    return self.rows[key]
            except Exception as exc:  # try again with every column filled
                errors.append(f"{sql}: {exc}")
        raise LookupError(f"{schema}.{table} cannot be filled generically: {' | '.join(errors)}")

    @staticmethod
    def decode(value):
        return json.loads(value) if isinstance(value, str) else value

    @staticmethod
    def literal(value):
        if value is None:
            return "NULL"
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, (int, float)):
            return str(value)
        return "'" + str(value).replace("'", "''") + "'"


def insert_everywhere(schema: str) -> dict[str, dict]:
    """Insert one row into every table of ``schema`` inside a transaction that is rolled back.

    Returns the inserted rows by table; raises LookupError naming a table that cannot be filled.
    """
    connection.set_schema(schema)
    inserted = {}
    with transaction.atomic():
        factory = RowFactory()
        tables = [t for (t,) in factory.fetch(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname = %s AND c.relkind = 'r' ORDER BY c.relname", [schema]
        )]
        for table in tables:
            inserted[table] = factory.row(schema, table)
        transaction.set_rollback(True)
    connection.set_schema_to_public()
    return inserted
