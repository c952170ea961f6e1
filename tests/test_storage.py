import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection

from core.storage import FinalFileError


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)  # the storage re-reads its location on setting_changed
    return tmp_path


def test_files_go_under_the_commune_prefix(media, tule, yenhoa, in_commune):
    with in_commune(tule):
        name_tule = default_storage.save("uploads/scan.pdf", ContentFile(b"%PDF-1.4 tule"))
    with in_commune(yenhoa):
        name_yenhoa = default_storage.save("uploads/scan.pdf", ContentFile(b"%PDF-1.4 yenhoa"))
    assert name_tule.startswith("communes/c_04630/uploads/")
    assert name_yenhoa.startswith("communes/c_14701/uploads/")
    assert (media / name_tule).read_bytes() == b"%PDF-1.4 tule"
    connection.set_schema_to_public()
    assert default_storage.save("report.txt", ContentFile(b"x")).startswith("national/")


def test_a_final_file_is_never_overwritten_or_deleted(media, tule, in_commune):
    with in_commune(tule):
        name = default_storage.save_final("signed/decision.pdf", ContentFile(b"signed v1"))
        assert default_storage.is_final(name)
        with pytest.raises(FinalFileError):
            default_storage.delete(name)
        with pytest.raises(FinalFileError):
            default_storage._save(name, ContentFile(b"tampered"))
        second = default_storage.save(name, ContentFile(b"signed v2"))
        assert second != name
        assert default_storage.open(name).read() == b"signed v1"
        assert default_storage.open(second).read() == b"signed v2"
        # An ordinary file can be replaced by deleting it first.
        draft = default_storage.save("drafts/d.pdf", ContentFile(b"draft"))
        default_storage.delete(draft)
        assert not default_storage.exists(draft)
