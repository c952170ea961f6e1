"""The composed draft in the Decree 30 layout, read back with pdftotext; the field boxes."""
import unicodedata

import pytest

from documents import numbering, rendering, services

from .conftest import flat, make_pdf, pdftotext, upload

SUBJECT = "Về việc ban hành Kế hoạch phòng, chống thiên tai và tìm kiếm cứu nạn năm 2026 trên địa bàn xã Tú Lệ"


def test_composed_draft_shows_the_decree_30_layout(draft_factory, people):
    doc = draft_factory(
        "quyet-dinh", subject=SUBJECT, urgency="urgent",
        body="Căn cứ Luật Phòng, chống thiên tai ngày 19 tháng 6 năm 2013;\n" * 40 + "Điều 3. Quyết định có hiệu lực.",
        recipients_text="Như Điều 3;\nUBND tỉnh Lào Cai;",
    )
    rendered = rendering.render_draft(services.draft_content(doc))
    text = pdftotext(rendered.pdf)
    assert unicodedata.is_normalized("NFC", text)
    single = flat(text)
    for expected in ["ỦY BAN NHÂN DÂN", "XÃ TÚ LỆ", "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc",
                     "QUYẾT ĐỊNH", SUBJECT, "TM. ỦY BAN NHÂN DÂN", "CHỦ TỊCH", "Lò Văn Thành", "Nơi nhận:",
                     "- Như Điều 3;", "- UBND tỉnh Lào Cai;", "- Lưu: VT.", "KHẨN", "Điều 3. Quyết định có hiệu lực."]:
        assert expected in single, expected
    # The number and the date are fields, not text: the draft leaves them empty.
    assert "Số:" not in text and "ngày" not in text.split("Căn cứ")[0]
    assert rendered.pages == 2
    layout = rendered.layout
    assert set(layout) == {"number", "date", "signature", "seal"}
    assert layout["number"]["page"] == layout["date"]["page"] == 0
    assert layout["signature"]["page"] == 1 == layout["seal"]["page"]
    x1, y1, x2, y2 = layout["number"]["box"]
    assert x1 == pytest.approx(30 * 72 / 25.4, abs=0.1)  # the left margin: 30 mm
    assert y2 < 841.89 - 20 * 72 / 25.4  # under the top margin: 20 mm
    sx1, sy1, sx2, sy2 = layout["signature"]["box"]
    assert sx1 > 595.28 / 2 and sy2 - sy1 > 50  # right half, room for the image
    kx1, ky1, kx2, ky2 = layout["seal"]["box"]
    assert kx2 == pytest.approx(sx1 + (sx2 - sx1) / 3, abs=0.1)  # covers the left third of the signature


def test_official_letter_has_the_subject_under_the_number_and_no_title(draft_factory, people, authorities):
    doc = draft_factory("cong-van", subject="đôn đốc thu thuế sử dụng đất phi nông nghiệp", drafting_unit="TC",
                        authority=authorities["vice"])
    text = flat(pdftotext(rendering.render_draft(services.draft_content(doc)).pdf))
    assert "V/v đôn đốc thu thuế sử dụng đất phi nông nghiệp" in text
    assert "CÔNG VĂN" not in text
    assert "TM. ỦY BAN NHÂN DÂN KT. CHỦ TỊCH PHÓ CHỦ TỊCH Nguyễn Thị Hoa" in text
    assert "Lưu: VT, TC." in text


def test_text_is_made_nfc_and_markup_is_not_interpreted(draft_factory):
    decomposed = unicodedata.normalize("NFD", "Về việc khen thưởng <b>tập thể</b> & cá nhân")
    doc = draft_factory(subject=decomposed, body="Điều 1. <font size=40>Không</font> & <br/> hết.")
    assert doc.subject == unicodedata.normalize("NFC", decomposed)
    text = flat(pdftotext(rendering.render_draft(services.draft_content(doc)).pdf))
    assert "Về việc khen thưởng <b>tập thể</b> & cá nhân" in text
    assert "<font size=40>Không</font> & <br/> hết." in text


def test_submitted_draft_is_frozen_with_number_and_date_fields(draft_factory, people):
    fields = pytest.importorskip("signatures.pdf.fields")
    from documents import files

    doc = services.submit(draft_factory(), user=people["specialist"])
    assert doc.draft_pdf and doc.layout["number"]["page"] == 0
    pdf = files.read(doc.draft_pdf)
    assert set(fields.text_field_values(pdf)) >= {fields.NUMBER_FIELD, fields.DATE_FIELD}
    assert "Lò Văn Thành" in pdftotext(pdf)
    filled = fields.fill_text_fields(pdf, {
        fields.NUMBER_FIELD: numbering.number_line("05/QĐ-UBND"),
        fields.DATE_FIELD: "Tú Lệ, ngày 05 tháng 3 năm 2026",
    })
    assert fields.text_field_values(filled)[fields.NUMBER_FIELD] == "Số: 05/QĐ-UBND"
    assert "Số: 05/QĐ-UBND" in pdftotext(filled)


def test_uploaded_draft_gets_default_boxes_and_fields(draft_factory, people):
    fields = pytest.importorskip("signatures.pdf.fields")
    from documents import files

    doc = draft_factory()
    doc = services.save_draft(doc, user=people["specialist"], upload=upload(make_pdf(pages=2)))
    assert doc.draft_source == "uploaded"
    assert doc.layout["number"]["page"] == 0 and doc.layout["signature"]["page"] == 1
    assert set(fields.text_field_values(files.read(doc.draft_pdf))) >= {fields.NUMBER_FIELD, fields.DATE_FIELD}


def test_uploaded_draft_with_boxes_chosen_by_the_clerk(draft_factory, people):
    doc = draft_factory(author=people["clerk"])
    layout = {"number": {"page": 0, "box": [90, 700, 280, 720]}, "signature": {"page": 0, "box": [350, 150, 520, 230]}}
    doc = services.save_draft(doc, user=people["clerk"], upload=upload(make_pdf()), layout=layout)
    assert doc.layout["number"] == {"page": 0, "box": [90, 700, 280, 720]}
    assert doc.layout["seal"]["box"][2] == pytest.approx(350 + 170 / 3, abs=0.01)
    assert "date" in doc.layout
