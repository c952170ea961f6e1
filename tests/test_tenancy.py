"""Tenancy rules that keep communes apart and their schemas movable."""
from django.db import connection

from communes.models import Role, User


def test_no_commune_table_references_another_schema(db, tule):
    """A commune's schema can move to another database server on its own (schema sharding)."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT c.conname, c.conrelid::regclass::text, c.confrelid::regclass::text
            FROM pg_constraint c
            JOIN pg_namespace own ON own.oid = c.connamespace
            JOIN pg_class target ON target.oid = c.confrelid
            WHERE own.nspname = %s AND c.contype = 'f' AND target.relnamespace <> own.oid
            """,
            [tule.schema_name],
        )
        assert cursor.fetchall() == []


def test_a_user_with_history_in_a_commune_can_be_removed(db, tule, make_user, client_for, in_commune):
    from population.models import Village

    official = make_user("leaving", roles={tule: [Role.SPECIALIST, Role.COMMUNE_ADMIN]})
    client = client_for("tule.localhost", official)
    response = client.post("/admin/population/village/add/", {"name": "Bản Mới", "kind": "ban", "code": ""})
    assert response.status_code == 302, response.content.decode()[:2000]
    with in_commune(tule):
        record = Village.history.get(name="Bản Mới")
        assert record.history_user_id == official.pk
    root = make_user("root", is_staff=True, is_superuser=True)
    response = client_for("localhost", root).post(f"/admin/communes/user/{official.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not User.objects.filter(pk=official.pk).exists()
    with in_commune(tule):
        assert Village.history.get(name="Bản Mới").history_user_id == official.pk  # the trail stays
