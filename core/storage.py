"""File storage under a per-commune prefix; a file marked final is never overwritten.

Every name the storage hands out starts with the prefix of the schema in use
(``communes/<schema>/…``, or ``national/…`` on the public schema), so one commune's files never
mix with another's whatever ``upload_to`` says. A signed or issued file is saved with
``save_final``: the storage then refuses to delete or replace it, and a new version is a new file.
"""
from __future__ import annotations

import logging
import os
import posixpath
from dataclasses import dataclass
from typing import Any, Callable

from django.core.files.storage import FileSystemStorage
from django.db import connection
from django.utils.deconstruct import deconstructible

FINAL_SUFFIX = ".final"

logger = logging.getLogger(__name__)


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
        self.mark_final(saved)
        return saved

    def mark_final(self, name: str) -> None:
        """Make an existing file final (idempotent: a crash may have come between the write and
        the mark)."""
        if not self.is_final(name):
            with open(self.path(name) + FINAL_SUFFIX, "x", encoding="utf-8") as handle:
                handle.write(name)
        os.chmod(self.path(name), 0o444)

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


# --- final files written by jobs ----------------------------------------------------------------
#
# A job that writes a final file and records it in the database has a window: the file is
# written, and the worker dies (or its connection drops) before the record commits. Run again
# blindly, the job would produce the file a second time (render, sign, copy) and leave the first
# behind as a final file nobody can delete. One rule for every such job:
#
# 1. the file's name is derived from what the re-run knows (the job's idempotency key, or the key
#    of what the file holds), never random;
# 2. before producing the file, the job calls ``earlier_final(name, check)``: a file that an
#    interrupted attempt wrote under that name, and that ``check`` accepts (it decodes, carries
#    the signature, has the expected bytes), is recorded as it is, without producing it again;
# 3. otherwise it produces the file and writes it with ``save_final`` under the same name.
#
# Users: signing (``signatures.runner``), text-to-speech and uploaded recordings
# (``broadcasting.speech.jobs``, ``broadcasting.audio_services``), documents delivered between
# communes (``documents.exchange``).


@dataclass(frozen=True)
class EarlierFile:
    """A file an interrupted attempt wrote: its storage name, bytes, and what ``check`` said."""

    name: str
    data: bytes
    checked: Any = True


def final_name(name: str) -> str:
    """The storage name ``save_final(name, …)`` writes to when the name is free (with the
    current commune's prefix)."""
    from django.core.files.storage import default_storage

    return default_storage.generate_filename(name)


def earlier_final(name: str, check: Callable[[bytes], Any] | None = None) -> EarlierFile | None:
    """The file an earlier, interrupted attempt of the same job wrote under ``name``, if sound.

    ``check(data)`` says whether the bytes are what the job would have produced: it returns a
    false value (or raises) to refuse them; a true value is kept in ``EarlierFile.checked`` (the
    measures of an audio file, say). An accepted file is made final if the crash came between its
    write and its final mark. A refused file that is not final (a write cut short) is removed, so
    that the name can be written again; a refused final file stays (it cannot be removed) and
    ``save_final`` then picks another name.
    """
    from django.core.files.storage import default_storage

    full = final_name(name)
    try:
        if not default_storage.exists(full):
            return None
        data = read(full)
    except OSError:
        return None
    try:
        checked = check(data) if check is not None else True
    except Exception:  # noqa: BLE001 - unreadable: produce it again
        logger.warning("The earlier file %s is not sound", full, exc_info=True)
        checked = None
    if not checked:
        final = getattr(default_storage, "is_final", lambda _name: False)(full)
        if not final:
            default_storage.delete(full)
        return None
    if hasattr(default_storage, "mark_final"):
        default_storage.mark_final(full)
    return EarlierFile(name=full, data=data, checked=checked)
