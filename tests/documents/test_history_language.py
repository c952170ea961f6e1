"""The history of a document reads in the reader's language: the reasons are stored as English
keys and translated when the page is drawn, so rows written before a translation existed read
translated too."""
import re

from django.utils import translation
from django_tenants.utils import tenant_context

from documents.history import REASONS
from documents.models import OutgoingDocument

SERVICES = __import__("pathlib").Path(__file__).resolve().parents[2] / "documents"


def _history_cells(html: str) -> list[str]:
    table = html.split('<h2>Lịch sử</h2>', 1)[1]
    return [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<tr><td>[^<]*</td><td>(.*?)</td>", table)]


def test_the_history_of_an_issued_document_is_in_vietnamese(issued_factory, people, client_for, tule):
    doc = issued_factory()
    with tenant_context(tule):
        stored = list(OutgoingDocument.history.filter(id=doc.pk).values_list("history_change_reason", flat=True))
        # A row written by an older version of the portal, in English, as rows are stored.
        OutgoingDocument.history.filter(id=doc.pk, history_change_reason="approved").update(
            history_change_reason="approved")
    assert "signed by the leader" in stored and "approved" in stored
    assert any(reason.startswith("numbered ") for reason in stored)
    page = client_for("tule.localhost", people["chairman"]).get(f"/documents/outgoing/{doc.pk}/")
    assert page.status_code == 200
    cells = _history_cells(page.content.decode())
    assert "lãnh đạo đã ký" in cells and "đã duyệt" in cells and "trình duyệt" in cells
    assert any(cell.startswith("cấp số ") and cell.endswith(doc.number_symbol) for cell in cells), cells
    assert not [cell for cell in cells if cell in stored], cells


def test_english_readers_get_the_english_reasons():
    with translation.override("en"):
        assert REASONS.label("signed by the leader") == "signed by the leader"
        assert REASONS.label("numbered 02/TB-UBND") == "numbered 02/TB-UBND"
    with translation.override("vi"):
        assert REASONS.label("numbered 02/TB-UBND") == "cấp số 02/TB-UBND"
        assert REASONS.label("") == ""


def test_every_reason_the_services_write_has_a_label():
    """A new reason written in documents/ without its label would show in English."""
    written = set()
    for path in SERVICES.glob("*.py"):
        text = path.read_text(encoding="utf-8")
        written |= set(re.findall(r'_save\([^()]*?,\s*[^()]*?,\s*"([^"]+)"', text))
        written |= set(re.findall(r'"([^"]+)" if creating else "([^"]+)"', text) and
                       [w for pair in re.findall(r'"([^"]+)" if creating else "([^"]+)"', text) for w in pair])
        written |= set(re.findall(r'_change_reason = "([^"]+)"', text))
        written |= {f"{m} X" for m in re.findall(r'_save\([^()]*?,\s*[^()]*?,\s*f"([^"{]+) \{', text)}
    assert len(written) > 20, written
    assert not [reason for reason in written if reason not in REASONS], sorted(written)
