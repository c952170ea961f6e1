"""The outgoing form speaks plainly: the drafting unit is asked as its abbreviation with the unit's
name beside it, and communes are chosen by name (without accents), not by their 5-digit codes."""
import pytest
from django_tenants.utils import tenant_context

from documents.forms import communes_by_name
from documents.models import OutgoingDocument


def test_the_drafting_unit_is_asked_as_an_abbreviation_with_the_units_name(people, client_for, doc_types, authorities):
    client = client_for("tule.localhost", people["specialist"])
    page = client.get("/documents/outgoing/new/").content.decode()
    assert "Tên viết tắt của đơn vị soạn thảo" in page
    assert "12/UBND-VP" in page  # the help text's example
    assert '<option value="VP">Văn phòng HĐND và UBND</option>' in page
    # A form refused for another field shows the name of the unit typed beside its abbreviation.
    page = client.post("/documents/outgoing/new/", {"doc_type": doc_types["cong-van"].pk, "subject": "",
                                                     "drafting_unit": "VP", "urgency": "normal",
                                                     "confidentiality": "none", "copies_count": "1"}).content.decode()
    field = page.split('name="drafting_unit"', 1)[1].split("</p>", 1)[0]
    assert 'value="VP"' in field and "Văn phòng HĐND và UBND</span>" in field


def test_communes_are_chosen_by_name_without_accents(people, client_for, doc_types, authorities, yenhoa, ngaan, tule):
    with tenant_context(tule):
        assert communes_by_name("yen mo; NGA AN (thanh hoa)") == [yenhoa.code, ngaan.code]
        assert communes_by_name("Xã Yên Mô") == [yenhoa.code]
        assert communes_by_name(yenhoa.code) == [yenhoa.code]
    client = client_for("tule.localhost", people["specialist"])
    page = client.get("/documents/outgoing/new/").content.decode()
    assert "5-digit" not in page and "5 chữ số" not in page
    data = {"doc_type": doc_types["cong-van"].pk, "subject": "Đề nghị phối hợp", "recipients_text": "Như trên;",
            "urgency": "normal", "confidentiality": "none", "authority": authorities["chairman"].pk,
            "copies_count": "1", "other_communes": "Yen Mo; Noi Khong Co"}
    refused = client.post("/documents/outgoing/new/", data)
    assert refused.status_code == 400
    assert "Không có xã nào tên “Noi Khong Co” trên hệ thống." in refused.content.decode()
    data["other_communes"] = "Yen Mo"
    assert client.post("/documents/outgoing/new/", data).status_code == 302
    with tenant_context(tule):
        doc = OutgoingDocument.objects.get(subject="Đề nghị phối hợp")
        assert [(r.kind, r.code) for r in doc.electronic_recipients.all()] == [("commune", yenhoa.code)]
    edit = client.get(f"/documents/outgoing/{doc.pk}/edit/").content.decode()
    assert "Yên Mô (" in edit.split('name="other_communes"', 1)[1].split("</textarea>", 1)[0]


@pytest.mark.parametrize("text", ["Nowhere", "Tu Le"])
def test_a_name_that_is_no_other_commune_is_refused(tule, in_tule, text):
    from django import forms

    if text == "Tu Le":  # this commune itself is found by name; the service refuses it as a recipient
        assert communes_by_name(text) == [tule.code]
        return
    with pytest.raises(forms.ValidationError):
        communes_by_name(text)
