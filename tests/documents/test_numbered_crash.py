"""Issuing a document whose number was drawn and whose numbered file was written, then the
request died before the file was recorded: the retry records that file, not a second one
(``core.storage.earlier_final``)."""
import datetime
import os

import pytest
from django.core.files.storage import default_storage

from documents import files, services
from documents.models import OutgoingDocument

from .conftest import pdftotext

State = OutgoingDocument.State


def test_a_numbered_file_written_before_a_crash_is_recorded_once(draft_factory, people, fake_signing, monkeypatch):
    doc = services.approve(services.submit(draft_factory(), user=people["specialist"]), user=people["chairman"])
    services.sign_as_leader(doc, people["chairman"], "1")
    real_save = services._save

    def dies_recording_the_file(target, user, reason, update_fields=None):
        if reason == "number and date filled in":
            raise ConnectionError("the connection dropped")
        return real_save(target, user, reason, update_fields)

    monkeypatch.setattr(services, "_save", dies_recording_the_file)
    with pytest.raises(ConnectionError):
        services.issue(doc, people["clerk"], "1234", on=datetime.date(2026, 6, 1))
    doc.refresh_from_db()
    assert doc.state == State.NUMBERED and doc.number_symbol == "01/QĐ-UBND" and not doc.numbered_pdf
    folder = default_storage.path(default_storage.generate_filename(f"documents/outgoing/{doc.pk}"))
    written = sorted(name for name in os.listdir(folder) if name.startswith("numbered") and name.endswith(".pdf"))
    assert written == ["numbered.pdf"]

    monkeypatch.setattr(services, "_save", real_save)
    doc = services.apply_agency_signature(doc, people["clerk"], "1234")
    assert doc.state == State.ISSUED and doc.numbered_pdf.endswith(f"documents/outgoing/{doc.pk}/numbered.pdf")
    assert sorted(name for name in os.listdir(folder) if name.startswith("numbered") and name.endswith(".pdf")) == ["numbered.pdf"]
    assert default_storage.is_final(doc.numbered_pdf)
    assert "01/QĐ-UBND" in pdftotext(files.read(doc.numbered_pdf))
