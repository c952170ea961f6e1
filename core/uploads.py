"""Uploaded files survive a refused form.

When a form with files is refused because of another field, the browser forgets the files: the
official or citizen would have to choose them again. A form with ``KeepUploadsMixin`` keeps every
file that passed its own checks in the storage (encrypted, under the commune's prefix, for a few
hours) and sends back a signed token in a hidden field beside the file input, which says
"uploaded: name.pdf (kept)". Sent again without a new file, the form takes the kept file from the
token and checks it as if it had just been uploaded. A new file chosen in the input wins.
"""
from __future__ import annotations

import logging
import os
import uuid

from django.core import signing
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _

logger = logging.getLogger(__name__)

SALT = "xaso.kept-upload"
MAX_AGE = 6 * 3600  # seconds a kept file can be sent again
FOLDER = "kept-uploads"
SUFFIX = "__kept"  # the hidden field beside the file input: "<name>__kept"


def _prefix() -> str:
    from core.storage import commune_prefix

    return f"{commune_prefix()}/{FOLDER}/"


def keep(upload) -> str:
    """Store an uploaded file (encrypted) and give the token that brings it back."""
    from core import secrets

    upload.seek(0)
    content = upload.read()
    upload.seek(0)
    stored = default_storage.save(f"{FOLDER}/{uuid.uuid4().hex}.bin",
                                  ContentFile(secrets.encrypt(content, context=SALT)))
    name = os.path.basename(upload.name or "file")[-150:]
    return signing.dumps({"p": stored, "n": name, "t": getattr(upload, "content_type", "") or ""}, salt=SALT)


def restore(token: str):
    """The kept file of ``token`` as an uploaded file, or None (forged, expired, another
    commune's, or gone)."""
    from core import secrets

    try:
        data = signing.loads(token, salt=SALT, max_age=MAX_AGE)
        path = data["p"]
        if not path.startswith(_prefix()) or ".." in path:
            return None
        with default_storage.open(path, "rb") as handle:
            content = secrets.decrypt(handle.read(), context=SALT)
    except (signing.BadSignature, KeyError, TypeError, ValueError, OSError):
        return None
    except Exception:  # a broken key or file: the form simply asks for the file again
        logger.warning("kept upload could not be read", exc_info=True)
        return None
    return SimpleUploadedFile(data["n"], content, content_type=data.get("t") or "application/octet-stream")


def discard(token: str) -> None:
    try:
        path = signing.loads(token, salt=SALT, max_age=MAX_AGE)["p"]
        if path.startswith(_prefix()):
            default_storage.delete(path)
    except Exception:  # noqa: BLE001  (a file already gone is what we want)
        pass


class KeptFileWidget:
    """Mixed into a file input by ``KeepUploadsMixin``: reads a kept file back from its token
    and shows the files it keeps."""

    def _kept_state(self):
        if not hasattr(self, "_kept_restored"):
            self._kept_restored = {}  # token -> uploaded file
            self.kept = []  # [(token, file name)] shown beside the input
        return self._kept_restored

    def value_from_datadict(self, data, files, name):
        restored = self._kept_state()
        value = super().value_from_datadict(data, files, name)
        if value not in (None, "", [], ()) and value is not False:
            return value
        tokens = data.getlist(name + SUFFIX) if hasattr(data, "getlist") else [data.get(name + SUFFIX)]
        uploads = []
        for token in [t for t in tokens if t][:20]:
            if token not in restored:
                upload = restore(token)
                if upload is None:
                    continue
                restored[token] = upload
            uploads.append(restored[token])
        if not uploads:
            return value
        return uploads if getattr(self, "allow_multiple_selected", False) else uploads[0]

    def use_required_attribute(self, initial):
        return super().use_required_attribute(initial) and not getattr(self, "kept", None)

    def render(self, name, value, attrs=None, renderer=None):
        html = super().render(name, value, attrs, renderer)
        kept = getattr(self, "kept", None)
        if not kept:
            return html
        hidden = format_html_join("", '<input type="hidden" name="{}" value="{}">', ((name + SUFFIX, t) for t, _n in kept))
        names = format_html_join(", ", "<strong>{}</strong>", ((n,) for _t, n in kept))
        note = format_html('<small class="kept-upload">{} {} {}</small>', _("Uploaded:"), names,
                           _("(kept: no need to choose it again)"))
        return format_html("{}{}{}", html, hidden, note)


_KEPT_CLASSES: dict[type, type] = {}


def _kept_class(widget_class: type) -> type:
    if widget_class not in _KEPT_CLASSES:
        _KEPT_CLASSES[widget_class] = type(f"Kept{widget_class.__name__}", (KeptFileWidget, widget_class), {})
    return _KEPT_CLASSES[widget_class]


class KeepUploadsMixin:
    """A form whose files survive its refusal (see the module's text). Put it first among the
    bases: ``class ImportForm(KeepUploadsMixin, forms.Form)``."""

    def _kept_widgets(self) -> None:
        """Give the file fields their keeping widget; again when asked, since a form may add
        fields after its own ``__init__`` called this mixin's (one per paper of a procedure)."""
        from django import forms

        for field in self.fields.values():
            if isinstance(field, forms.FileField) and not isinstance(field.widget, KeptFileWidget):
                field.widget.__class__ = _kept_class(field.widget.__class__)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._kept_widgets()

    def __getitem__(self, name):
        self._kept_widgets()
        return super().__getitem__(name)

    def full_clean(self):
        self._kept_widgets()
        super().full_clean()
        if self.is_bound and self.files is not None:
            self._keep_files()

    def add_error(self, field, error):
        """A refusal added after the checks (a service's, by the view) keeps the files too."""
        super().add_error(field, error)
        if self.is_bound and self.files is not None and getattr(self, "_kept_ready", False):
            self._keep_files()

    def _keep_files(self):
        self._kept_ready = True
        refused = bool(self._errors)
        for name, field in self.fields.items():
            widget = field.widget
            if not isinstance(widget, KeptFileWidget):
                continue
            restored = widget._kept_state()
            tokens = getattr(widget, "_kept_tokens", None)
            if tokens is None:
                tokens = widget._kept_tokens = {id(upload): token for token, upload in restored.items()}
            if not refused:
                for token in list(restored):  # the files are in memory now, the form goes on
                    discard(token)
                    restored.pop(token)
                tokens.clear()
                widget.kept = []
                continue
            if name in self._errors:  # the file itself was refused: choose another one
                widget.kept = []
                continue
            value = self.cleaned_data.get(name)
            uploads = [u for u in (value if isinstance(value, (list, tuple)) else [value]) if u]
            kept = []
            for upload in uploads:
                if not hasattr(upload, "read"):
                    continue
                token = tokens.get(id(upload))
                if token is None:
                    try:
                        token = tokens[id(upload)] = keep(upload)
                    except Exception:  # noqa: BLE001  (the form still answers; the file is asked again)
                        logger.warning("an upload could not be kept", exc_info=True)
                        continue
                kept.append((token, os.path.basename(upload.name or "")))
            widget.kept = kept


def prune(max_age: int = MAX_AGE) -> int:
    """Delete the kept files older than ``max_age`` seconds, of every commune: a form refused and
    never sent again leaves its files behind. Returns how many were deleted."""
    import datetime

    from django.utils import timezone

    limit = timezone.now() - datetime.timedelta(seconds=max_age)
    folders = [f"national/{FOLDER}"]
    try:
        communes, _files = default_storage.listdir("communes")
    except (FileNotFoundError, NotImplementedError, OSError):
        communes = []
    folders += [f"communes/{schema}/{FOLDER}" for schema in communes]
    deleted = 0
    for folder in folders:
        try:
            _dirs, names = default_storage.listdir(folder)
        except (FileNotFoundError, OSError):
            continue
        for name in names:
            path = f"{folder}/{name}"
            try:
                if default_storage.get_modified_time(path) < limit:
                    default_storage.delete(path)
                    deleted += 1
            except (FileNotFoundError, OSError):
                continue
    return deleted
