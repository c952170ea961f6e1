"""Fixtures of the one-stop tests: officials of Tú Lệ (one per role), the loaded catalogue,
files under a temporary directory, and helpers to read generated PDFs."""
from __future__ import annotations

import io
import subprocess

import pytest

from communes.models import Role
from tests.documents.conftest import flat, make_pdf  # noqa: F401  (used by the one-stop tests)

TULE_SCHEMA = "c_04630"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    """Files of each test under a temporary directory."""
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture
def people(tule, make_user):
    """One official per role in Tú Lệ, with Vietnamese names, plus a second specialist and a
    citizen (no role)."""
    names = {
        Role.CHAIRMAN: "Lò Văn Thành", Role.VICE_CHAIRMAN: "Nguyễn Thị Hoa", Role.CLERK: "Hà Thị Dung",
        Role.SPECIALIST: "Trần Văn Lâm", Role.ONESTOP_OFFICER: "Lường Thị Thu", Role.COMMUNE_ADMIN: "Vũ Thị Mai",
    }
    out = {}
    for role in Role:
        out[role.value] = make_user(f"os_{role.value}", roles={tule: [role]}, full_name=names.get(role, str(role.label)))
    out["specialist2"] = make_user("os_specialist2", roles={tule: [Role.SPECIALIST]}, full_name="Đinh Văn Khánh")
    out["citizen"] = make_user("os_citizen", full_name="Hoàng Văn Nam", phone="0912345678", email="nam@example.vn")
    return out


@pytest.fixture
def in_tule(tule, in_commune):
    """Run the test body in Tú Lệ's schema."""
    with in_commune(tule):
        yield tule


@pytest.fixture
def procedures(in_tule):
    """The current catalogue of Tú Lệ, by code (HT-01, CT-01 …)."""
    from onestop.models import Procedure

    return {p.code: p for p in Procedure.objects.filter(is_current=True)}


def make_png() -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 200, 200)).save(buffer, "PNG")
    return buffer.getvalue()


def make_jpeg() -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), (120, 10, 10)).save(buffer, "JPEG")
    return buffer.getvalue()


def upload(data: bytes, name: str = "giay-to.pdf", content_type: str = "application/pdf"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, data, content_type=content_type)


def pdftotext(data: bytes) -> str:
    result = subprocess.run(["pdftotext", "-layout", "-enc", "UTF-8", "-", "-"], input=data, capture_output=True, check=True)
    return result.stdout.decode("utf-8")

