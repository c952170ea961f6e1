"""A throwaway tenant app for the provisioning tests.

It is installed only when XASO_TEST_PROBE_APP=1 (see config/settings.py), in a separate
process, so that a test can apply "new" migrations to existing communes and clone a template
that holds a wide range of PostgreSQL objects (identity, serial and generated columns,
foreign keys to tenant and public tables, partial unique and functional indexes, check
constraints, a view, a function and a trigger, rows seeded by a data migration).
"""
