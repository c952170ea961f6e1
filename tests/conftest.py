"""Test fixtures on the real services: PostgreSQL (one database per xdist worker, real schemas)
and Redis.

Communes are provisioned once per test session (the schemas persist in the test database);
each test then runs in a transaction that is rolled back.
"""
from __future__ import annotations

import os

import pytest
from django.db import connection
from django.test import Client

from django.conf import settings

from tests.browser import browser  # noqa: F401  (Chromium for the browser tests, one per test process)
from tests.celery_worker import (  # noqa: F401  (fixtures of the durable-job tests, registered once)
    celery_broker, celery_worker, gateway, gateway_server, live_db, tule_live, worker, worker_env,
)

# Tests never touch the developer's data: the test database is test_<name>[_gwN].
# Static files are served from the finders (no collectstatic manifest is needed).
# Password hashing is slow by design; tests only need it to work.
settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
settings.STORAGES = {**settings.STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}

TEST_COMMUNES = {
    # key: (code, name, province code, host)
    "tule": ("04630", "Tú Lệ", "15", "tule.localhost"),
    "yenhoa": ("14701", "Yên Mô", "37", "yenhoa.localhost"),
    "ngaan": ("16144", "Nga An", "38", "ngaan.localhost"),
}


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """After the test database exists: the official list and three communes in three provinces."""
    from communes.models import Commune
    from communes.services import create_commune, load_administrative_units

    with django_db_blocker.unblock():
        load_administrative_units(with_legacy=False)
        for code, name, province, host in TEST_COMMUNES.values():
            if not Commune.objects.filter(code=code).exists():
                create_commune(code=code, name=name, domain=host, province_code=province)
        connection.set_schema_to_public()
    yield


@pytest.fixture
def communes(db):
    from communes.models import Commune

    return {key: Commune.objects.get(code=spec[0]) for key, spec in TEST_COMMUNES.items()}


@pytest.fixture
def tule(communes):
    return communes["tule"]


@pytest.fixture
def yenhoa(communes):
    return communes["yenhoa"]


@pytest.fixture
def ngaan(communes):
    return communes["ngaan"]


@pytest.fixture(autouse=True)
def _public_schema_after_test():
    yield
    connection.set_schema_to_public()


@pytest.fixture
def make_user(db):
    """make_user("name", roles={commune: [role, …]}, units=[unit, …])"""
    from communes.models import Membership, UnitStaff, User

    def factory(username: str, roles: dict | None = None, units=(), password: str = "Mat-khau-2026!", **fields):
        user = User.objects.create_user(username=username, password=password, **fields)
        for commune, role_list in (roles or {}).items():
            for role in role_list:
                Membership.objects.create(user=user, commune=commune, role=role)
        for unit in units:
            UnitStaff.objects.create(user=user, unit=unit)
        return user

    return factory


def host_client(host: str, user=None, *, second_factor: bool | None = None) -> Client:
    """A client on ``host``, logged in as ``user`` as the one login page leaves it: a user who
    needs the second factor (communes.second_factor) has a session confirmed by the code of a
    confirmed authenticator app. ``second_factor=True`` confirms it for anyone; ``False`` gives
    the session of a password alone (what the root middleware refuses)."""
    client = Client(HTTP_HOST=host)
    if user is not None:
        log_in(client, user, second_factor=second_factor)
    return client


def log_in(client, user, *, second_factor: bool | None = None) -> None:
    """``client.force_login(user)``, then (see ``host_client``) the second factor's mark."""
    client.force_login(user)
    from communes.second_factor import requires_second_factor

    user.__dict__.pop("_second_factor_cache", None)
    if second_factor or (second_factor is None and requires_second_factor(user)):
        from communes.models import TotpDevice
        from communes.second_factor import mark_verified, start_enrolment
        from django.utils import timezone

        device = start_enrolment(user)
        if not device.confirmed:
            TotpDevice.objects.filter(pk=device.pk).update(confirmed=True, confirmed_at=timezone.now())
            device.confirmed = True
        session = client.session
        mark_verified(session, user, device)
        session.save()


@pytest.fixture
def client_for():
    return host_client


@pytest.fixture
def in_commune():
    """Context manager: run ORM code inside a commune's schema."""
    from django_tenants.utils import tenant_context

    return tenant_context


@pytest.fixture(autouse=True)
def _shared_cache_per_test(settings):
    """Each test counts its throttles in Redis under a key prefix of its own."""
    import copy
    import uuid

    caches = copy.deepcopy(settings.CACHES)
    caches["shared"]["KEY_PREFIX"] = f"test-{uuid.uuid4().hex[:12]}"
    settings.CACHES = caches
    # Throttle counts are committed in PostgreSQL (live servers, browsers, threads): each test
    # counts under a namespace of its own, so no count outlives the test that made it.
    settings.XASO_THROTTLE_NAMESPACE = f"test-{uuid.uuid4().hex[:12]}"
