"""A citizen's application refused for a field keeps the files already chosen: the page says so,
and the application sent again without choosing them again carries them."""
import re

from onestop.models import Dossier, DossierState
from tests.onestop.conftest import make_png, upload
from tests.onestop.test_officer_pages import procedure  # noqa: F401  (fixture)
from tests.onestop.test_public_pages import browse, citizen, needed, post_data, web  # noqa: F401  (fixtures)


def test_files_survive_a_refused_field(procedures, web, citizen, settings, tmp_path):  # noqa: F811
    settings.MEDIA_ROOT = str(tmp_path)
    birth = procedures["HT-01"]
    [paper] = needed(birth)
    data = post_data(birth, citizen)
    data["applicant_name"] = ""  # refused: the name is required
    refused = web.post("/services/HT-01/apply/", {**data, f"doc_{paper.pk}": upload(make_png(), "giay-chung-sinh.png", "image/png")})
    page = refused.content.decode()
    assert refused.status_code == 200 and not Dossier.objects.filter(citizen_id=citizen.pk).exists()
    assert "Các tệp bạn đã chọn được giữ lại." in page
    assert "Đã tải lên: <strong>giay-chung-sinh.png</strong>" in page
    tokens = re.findall(rf'<input type="hidden" name="doc_{paper.pk}__kept" value="([^"]+)">', page)
    assert len(tokens) == 1
    data["applicant_name"] = citizen.full_name
    sent = web.post("/services/HT-01/apply/", {**data, f"doc_{paper.pk}__kept": tokens[0]})
    assert sent.status_code == 302, sent.content.decode()[:2000]
    dossier = Dossier.objects.get(citizen_id=citizen.pk)
    assert dossier.state == DossierState.SUBMITTED
    assert list(dossier.documents.values_list("requirement_id", flat=True)) == [paper.pk]


def test_the_counters_scans_survive_a_refusal(procedure, people, client_for, tule, settings, tmp_path):  # noqa: F811
    from django_tenants.utils import tenant_context

    from onestop.models import DossierDocument
    from tests.onestop.conftest import make_pdf
    from tests.onestop.test_officer_pages import PROCEDURE_CODE, intake_data

    settings.MEDIA_ROOT = str(tmp_path)
    officer = client_for("tule.localhost", people["onestop_officer"])
    first, missing = procedure.docs[0], procedure.docs[1]
    data = intake_data(procedure, skip={missing.pk})
    pdf = make_pdf("Tờ khai")
    refused = officer.post(f"/onestop/intake/{PROCEDURE_CODE}/", {**data, f"scan_{first.pk}": upload(pdf, "to-khai.pdf")})
    page = refused.content.decode()
    assert refused.status_code == 400 and missing.name in page
    assert "Đã tải lên: <strong>to-khai.pdf</strong>" in page
    [token] = re.findall(rf'<input type="hidden" name="scan_{first.pk}__kept" value="([^"]+)">', page)
    data[f"doc_{missing.pk}"] = "on"
    received = officer.post(f"/onestop/intake/{PROCEDURE_CODE}/", {**data, f"scan_{first.pk}__kept": token})
    assert received.status_code == 302, received.content.decode()[:2000]
    with tenant_context(tule):
        document = DossierDocument.objects.exclude(file="").get(requirement_id=first.pk)
        from django.core.files.storage import default_storage

        with default_storage.open(document.file.name if hasattr(document.file, "name") else document.file) as handle:
            assert handle.read() == pdf
