"""A delivery between communes whose transaction dies after the files were written writes them
once: the files are named by the message id, and the next run finds and reuses them
(``core.storage.earlier_final``) instead of leaving the first copies behind as final files."""
import os

from django.core.files.storage import default_storage
from django.utils import timezone
from django_tenants.utils import tenant_context

from documents import files
from documents.models import ExchangeJob, IncomingDocument

from .test_exchange import TULE, run, sent  # noqa: F401  (the fixture)


def test_a_delivery_dying_after_its_files_were_written_writes_them_once(sent, tule, yenhoa, monkeypatch):  # noqa: F811
    job = sent["job"]
    real_save = IncomingDocument.save
    failures = []

    def dies_after_the_scan_was_written(self, *args, **kwargs):
        if kwargs.get("update_fields") == ["scan"] and not failures:
            failures.append(self.scan)
            raise ConnectionError("the connection dropped")
        return real_save(self, *args, **kwargs)

    monkeypatch.setattr(IncomingDocument, "save", dies_after_the_scan_was_written)
    assert run(job, TULE, tule) == "retry"
    with tenant_context(yenhoa):
        assert not IncomingDocument.objects.exists()  # rolled back, the file stays
        assert failures and default_storage.exists(failures[0])
        inbox = default_storage.path(default_storage.generate_filename("documents/incoming"))
    with tenant_context(tule):
        ExchangeJob.objects.filter(pk=job.pk).update(run_after=timezone.now())
    assert run(job, TULE, tule) == "succeeded"

    with tenant_context(yenhoa):
        incoming = IncomingDocument.objects.get()
        assert incoming.scan == failures[0]  # the copy written by the dead attempt
        assert default_storage.is_final(incoming.scan)
        with tenant_context(tule):
            issued = files.read(sent["doc"].issued_pdf)
        assert files.read(incoming.scan) == issued
    pdfs = [name for _base, _dirs, names in os.walk(inbox) for name in names if name.endswith(".pdf")]
    assert len(pdfs) == 1, pdfs
