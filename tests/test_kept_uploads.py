"""A file chosen in a form that is refused for another field is kept: the page says so, and the
form sent again without choosing it again gets the same file."""
import datetime
import re

from django.core.files.storage import default_storage
from django_tenants.utils import tenant_context

from communes.models import Role
from core import uploads
from documents.models import DocumentType, IncomingDocument
from tests.documents.conftest import make_pdf, upload


def _token(page: str, name: str) -> str:
    return re.search(rf'<input type="hidden" name="{name}__kept" value="([^"]+)">', page).group(1)


def test_a_scan_survives_a_refusal_of_another_field(tule, make_user, client_for, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    clerk = make_user("kept_clerk", roles={tule: [Role.CLERK]})
    client = client_for("tule.localhost", clerk)
    with tenant_context(tule):
        doc_type = DocumentType.objects.get(code="cong-van")
    pdf = make_pdf("Công văn quét")
    data = {"arrived_at": "03/04/2026 08:30", "source": "paper", "sender_org": "Công an tỉnh Lào Cai",
            "original_number_symbol": "15/CAT-PV01", "document_date": "31/02/2026", "doc_type": doc_type.pk,
            "subject": "V/v bảo đảm an ninh trật tự", "urgency": "urgent", "confidentiality": "none"}
    refused = client.post("/documents/incoming/new/", {**data, "scan": upload(pdf, "cong-van-15.pdf")})
    page = refused.content.decode()
    assert refused.status_code == 400 and "document_date" in refused.context["form"].errors
    assert "Đã tải lên: <strong>cong-van-15.pdf</strong> (đã giữ lại, không cần chọn lại)" in page
    token = _token(page, "scan")
    # Sent again with the date corrected and no file chosen: the kept scan is the document's.
    saved = client.post("/documents/incoming/new/", {**data, "document_date": "02/04/2026", "scan__kept": token})
    assert saved.status_code == 302, saved.content.decode()[:2000]
    with tenant_context(tule):
        doc = IncomingDocument.objects.get()
        assert doc.document_date == datetime.date(2026, 4, 2)
        with default_storage.open(doc.scan, "rb") as handle:
            assert handle.read() == pdf
        # The kept copy is gone once used, and its token brings nothing back.
        assert uploads.restore(token) is None


def test_a_kept_file_is_checked_again_and_a_forged_token_brings_nothing(tule, yenhoa, settings, tmp_path):
    from django.core import signing

    settings.MEDIA_ROOT = str(tmp_path)
    with tenant_context(yenhoa):
        pdf = make_pdf()
        other = uploads.keep(upload(pdf, "yen-mo.pdf"))
        assert uploads.restore(other).read() == pdf
    with tenant_context(tule):
        assert uploads.restore(other) is None  # another commune's file
        assert uploads.restore("not-a-token") is None
        forged = signing.dumps({"p": "communes/c_04630/kept-uploads/x.bin", "n": "x.pdf"}, salt="another salt")
        assert uploads.restore(forged) is None
        # A kept file is checked by its field as if it had just been uploaded.
        from documents.forms import AttachmentForm

        token = uploads.keep(upload(b"%PDF-1.4 a little file", "nho.pdf"))
        assert AttachmentForm(data={"title": "x", "file__kept": token}, files={}).is_valid()
        assert uploads.restore(token) is None  # used by a valid form: gone
        settings.XASO_PDF_MAX_BYTES = 10
        token = uploads.keep(upload(b"%PDF-1.4 a little file", "nho.pdf"))
        form = AttachmentForm(data={"title": "x", "file__kept": token}, files={})
        assert not form.is_valid() and form.errors["file"] == ["Tệp quá lớn: tối đa 10\xa0byte."], form.errors
    # The stored copy is encrypted at rest.
    stored = [p for p in tmp_path.rglob("*.bin")]
    assert stored and all(b"%PDF" not in p.read_bytes() for p in stored)



def test_kept_files_never_sent_again_are_pruned(tule, settings, tmp_path):
    import os
    import time

    from django.core import signing

    from core.tasks import prune_kept_uploads

    settings.MEDIA_ROOT = str(tmp_path)
    with tenant_context(tule):
        old = uploads.keep(upload(b"%PDF-1.4 old", "cu.pdf"))
        fresh = uploads.keep(upload(b"%PDF-1.4 fresh", "moi.pdf"))
    stored = tmp_path / signing.loads(old, salt=uploads.SALT)["p"]
    hours_ago = time.time() - uploads.MAX_AGE - 60
    os.utime(stored, (hours_ago, hours_ago))
    assert prune_kept_uploads() == 1
    with tenant_context(tule):
        assert uploads.restore(old) is None and uploads.restore(fresh) is not None
