"""File storage under a per-commune prefix; a file marked final is never overwritten.

Every name the storage hands out starts with the prefix of the schema in use
(``communes/<schema>/…``, or ``national/…`` on the public schema), so one commune's files never
mix with another's whatever ``upload_to`` says. A signed or issued file is saved with
``save_final``: the storage then refuses to delete or replace it, and a new version is a new file.
"""
from __future__ import annotations

import os
import posixpath

from django.core.files.storage import FileSystemStorage
from django.db import connection
from django.utils.deconstruct import deconstructible

FINAL_SUFFIX = ".final"


def commune_prefix() -> str:
    """The storage prefix of the current schema."""
    schema = getattr(connection, "schema_name", "public")
    return "national" if schema == "public" else f"communes/{schema}"


class FinalFileError(Exception):
    """Raised when code tries to delete or replace a file marked final."""


@deconstructible
class CommuneFileSystemStorage(FileSystemStorage):
    """Local-disk storage with the per-commune prefix and final files."""

    def generate_filename(self, filename: str) -> str:
        filename = super().generate_filename(filename)
        prefix = commune_prefix()
        if filename.startswith(prefix + "/"):
            return filename
        return posixpath.join(prefix, filename.lstrip("/"))

    def save(self, name, content, max_length=None):
        if name is None:
            name = content.name
        return super().save(self.generate_filename(name), content, max_length=max_length)

    def save_final(self, name: str, content, max_length=None) -> str:
        """Save a file that can never be deleted or replaced afterwards."""
        saved = self.save(name, content, max_length=max_length)
        marker = self.path(saved) + FINAL_SUFFIX
        with open(marker, "x", encoding="utf-8") as handle:
            handle.write(saved)
        os.chmod(self.path(saved), 0o444)
        return saved

    def is_final(self, name: str) -> bool:
        return os.path.exists(self.path(name) + FINAL_SUFFIX)

    def delete(self, name):
        if name and self.is_final(name):
            raise FinalFileError(f"{name} is final: it cannot be deleted or replaced")
        return super().delete(name)

    def get_available_name(self, name, max_length=None):
        # Never hand out the name of an existing file (FileSystemStorage adds a suffix), and never
        # a name whose final marker exists.
        name = super().get_available_name(name, max_length=max_length)
        while self.is_final(name):
            name = super().get_available_name(name + "_", max_length=max_length)
        return name

    def _save(self, name, content):
        if self.is_final(name):
            raise FinalFileError(f"{name} is final: it cannot be replaced")
        return super()._save(name, content)


# --- the apps' file helpers (names are storage names, under the current commune's prefix) -------

def save_final(name: str, data: bytes) -> str:
    """Write a file that is never replaced; returns its storage name. On a backend without final
    files (an S3-compatible one, say) a plain save."""
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    if hasattr(default_storage, "save_final"):
        return default_storage.save_final(name, ContentFile(data))
    return default_storage.save(name, ContentFile(data))


def open_file(name: str):
    from django.core.files.storage import default_storage

    return default_storage.open(name, "rb")


def read(name: str) -> bytes:
    with open_file(name) as handle:
        return handle.read()


def exists(name: str) -> bool:
    from django.core.files.storage import default_storage

    return bool(name) and default_storage.exists(name)
