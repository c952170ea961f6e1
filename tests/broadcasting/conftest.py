"""Fixtures of the radio tests: officials of Tú Lệ (one per role), villages, files under a
temporary directory, and the eSpeak NG binary the speech tests need."""
from __future__ import annotations

import shutil

import pytest

from communes.models import Role


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture
def people(tule, make_user):
    names = {Role.CHAIRMAN: "Lò Văn Thành", Role.VICE_CHAIRMAN: "Nguyễn Thị Hoa", Role.RADIO_OPERATOR: "Hà Văn Dũng",
             Role.COMMUNE_ADMIN: "Vũ Thị Mai"}
    return {role.value: make_user(f"rd_{role.value}", roles={tule: [role]}, full_name=names.get(role, str(role.label)))
            for role in Role}


@pytest.fixture
def in_tule(tule, in_commune):
    with in_commune(tule):
        yield tule


@pytest.fixture
def villages(in_tule):
    from population.models import Village

    return [Village.objects.get_or_create(name=name)[0] for name in ("Bản Lướt", "Bản Phạ", "Khau Thán")]


@pytest.fixture(scope="session")
def espeak():
    path = shutil.which("espeak-ng")
    if path is None:
        pytest.fail("eSpeak NG is missing: sudo apt-get install espeak-ng (bin/test installs it)")
    return path
