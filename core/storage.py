"""File storage under a per-commune prefix; a file marked final is never overwritten."""
from __future__ import annotations

from django.core.files.storage import FileSystemStorage
from django.db import connection


def commune_prefix() -> str:
    """The storage prefix of the current schema ('communes/<schema>/' or 'national/')."""
    schema = getattr(connection, "schema_name", "public")
    return "national" if schema == "public" else f"communes/{schema}"


def commune_upload_to(subfolder: str):
    """An ``upload_to`` callable that files uploads under the current commune's prefix."""

    def upload_to(instance, filename: str) -> str:
        return f"{commune_prefix()}/{subfolder}/{filename}"

    upload_to.__qualname__ = f"commune_upload_to_{subfolder}"
    return upload_to


class FinalFileError(Exception):
    pass


class CommuneFileSystemStorage(FileSystemStorage):
    """Local-disk storage. Names never collide (Django adds a suffix), and ``save_final`` writes
    a file that later saves cannot replace: a new version is a new file."""

    def save_final(self, name: str, content) -> str:
        return self.save(name, content)

    def delete(self, name):
        if name and self.exists(name + ".final"):
            raise FinalFileError(f"{name} is final and cannot be removed or replaced")
        return super().delete(name)

    def _save(self, name, content):
        saved = super()._save(name, content)
        if getattr(content, "final", False):
            super()._save(saved + ".final", _Marker())
        return saved


class _Marker:
    """An empty file used as the 'final' marker beside a stored file."""

    def chunks(self):
        yield b""

    @property
    def size(self):
        return 0
