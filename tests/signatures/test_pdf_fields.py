"""Fillable number/date fields: added to the draft, filled after the leader's signature as form
filling (the signature stays valid), drawn in Liberation Serif with the Vietnamese glyphs."""
from __future__ import annotations

import io
import re
import subprocess

import pytest

from signatures.pdf import fields, pades
from signatures.pdf.errors import PdfRejected
from signatures.pdf.fonts import SerifFont

from .samples import (DATE_VALUE, NUMBER_VALUE, PERSONAL_BOX, DemoKey, demo_pki, field_specs, outgoing_flow,
                      personal_appearance, sample_pdf)


def _reader(pdf):
    from pyhanko.pdf_utils.reader import PdfFileReader

    return PdfFileReader(io.BytesIO(pdf))


def _field(pdf, name):
    for full, node, _ref in fields.iter_fields(_reader(pdf).root):
        if full == name:
            return node
    raise AssertionError(name)


def test_added_fields_are_fillable_text_widgets_with_a_serif_form_font():
    pdf = fields.add_text_fields(sample_pdf(2), field_specs())
    reader = _reader(pdf)
    form = reader.root["/AcroForm"]
    dr_font = form["/DR"]["/Font"]["/" + fields.DR_FONT]
    assert dr_font["/Subtype"] == "/Type0"
    assert str(dr_font["/BaseFont"]).endswith("+LiberationSerif")
    descriptor = dr_font["/DescendantFonts"][0]["/FontDescriptor"]
    assert "/FontFile2" in descriptor                     # embedded, so viewers can regenerate
    assert "/NeedAppearances" not in form                # appearances are ours, never regenerated on open
    page = reader.root["/Pages"]["/Kids"][0]
    annots = [a.get_object() for a in page["/Annots"]]
    for name in (fields.NUMBER_FIELD, fields.DATE_FIELD):
        node = _field(pdf, name)
        assert node["/FT"] == "/Tx" and node["/Subtype"] == "/Widget"
        assert int(node.get("/Ff", 0)) & 1 == 0           # not read-only
        assert re.match(rf"/{fields.DR_FONT} 13 Tf", str(node["/DA"]))
        assert any(a.get("/T") == name for a in annots)  # the widget sits on page 1
        assert "/V" not in node
    assert fields.text_field_values(pdf) == {fields.NUMBER_FIELD: "", fields.DATE_FIELD: ""}
    assert pdf.startswith(sample_pdf(2))                 # an update appended to the unsigned draft


def test_adding_fields_refuses_a_signed_file_and_duplicates():
    flow = outgoing_flow()
    with pytest.raises(PdfRejected) as exc:
        fields.add_text_fields(flow.leader, [fields.TextFieldSpec("other", 0, (10, 10, 50, 30))])
    assert exc.value.code == "unsupported"
    with pytest.raises(PdfRejected) as exc:
        fields.add_text_fields(flow.fielded, field_specs())
    assert exc.value.code == "unsupported"
    with pytest.raises(ValueError):
        fields.TextFieldSpec("x", 0, (50, 10, 10, 30))


def test_fill_is_incremental_and_sets_value_and_appearance():
    flow = outgoing_flow()
    assert flow.filled.startswith(flow.leader)           # nothing rewritten
    assert fields.text_field_values(flow.filled) == {fields.NUMBER_FIELD: NUMBER_VALUE, fields.DATE_FIELD: DATE_VALUE}
    node = _field(flow.filled, fields.NUMBER_FIELD)
    assert str(node["/V"]) == NUMBER_VALUE
    stream = node["/AP"]["/N"].get_object()
    content = stream.data
    font = SerifFont.get()
    # the glyphs drawn are Liberation Serif's own for "Đ" etc. (glyph ids, not a WinAnsi code)
    gid_d = font.shape("Đ").glyphs[0][0]
    assert b"<%04x>" % gid_d in content and b"Tf" in content
    used = stream["/Resources"]["/Font"]["/" + fields.DR_FONT]
    assert str(used["/BaseFont"]).endswith("+LiberationSerif")
    to_unicode = used["/ToUnicode"].get_object().data
    assert "Đ".encode("utf-16-be").hex().upper().encode() in to_unicode


def test_fill_keeps_the_leaders_signature_valid_as_form_filling():
    from pyhanko.sign.diff_analysis import ModificationLevel
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext
    from asn1crypto import x509

    flow = outgoing_flow()
    reader = _reader(flow.filled)
    (embedded,) = reader.embedded_signatures
    context = ValidationContext(trust_roots=[x509.Certificate.load(demo_pki().ca.cert_der)], allow_fetching=False)
    status = validate_pdf_signature(embedded, context)
    assert status.intact and status.valid and status.trusted
    assert status.modification_level == ModificationLevel.FORM_FILLING
    assert status.docmdp_ok


def test_pdftotext_extracts_the_filled_values():
    flow = outgoing_flow()
    text = subprocess.run(["pdftotext", "-f", "1", "-l", "1", "-layout", "-", "-"], input=flow.filled,
                          capture_output=True, check=True).stdout.decode()
    assert NUMBER_VALUE in text
    assert DATE_VALUE in text


def test_fill_reuses_the_form_font_and_refills_again():
    flow = outgoing_flow()
    node = _field(flow.filled, fields.NUMBER_FIELD)
    ap_font = node["/AP"]["/N"].get_object()["/Resources"]["/Font"].raw_get("/" + fields.DR_FONT)
    dr_font = _reader(flow.filled).root["/AcroForm"]["/DR"]["/Font"].raw_get("/" + fields.DR_FONT)
    assert ap_font.reference == dr_font.reference          # no new font for values in the repertoire
    again = fields.fill_text_fields(flow.filled, {fields.NUMBER_FIELD: "06/QĐ-UBND"})
    assert fields.text_field_values(again)[fields.NUMBER_FIELD] == "06/QĐ-UBND"
    assert fields.text_field_values(again)[fields.DATE_FIELD] == DATE_VALUE
    assert len(again) - len(flow.filled) < 4000             # small update: value + appearance only


def test_fill_refuses_unknown_fields_and_unrenderable_text():
    flow = outgoing_flow()
    with pytest.raises(PdfRejected) as exc:
        fields.fill_text_fields(flow.fielded, {"nope": "1"})
    assert exc.value.code == "unsupported"
    with pytest.raises(PdfRejected) as exc:
        fields.fill_text_fields(flow.fielded, {fields.NUMBER_FIELD: "05/QĐ-UBND ☃"})
    assert exc.value.code == "unsupported"


def test_fill_with_a_value_outside_the_form_font_embeds_a_fresh_subset():
    pdf = fields.add_text_fields(sample_pdf(1), field_specs())
    filled = fields.fill_text_fields(pdf, {fields.NUMBER_FIELD: "Ω 05/QĐ"})   # Ω: not in the repertoire
    node = _field(filled, fields.NUMBER_FIELD)
    ap_font = node["/AP"]["/N"].get_object()["/Resources"]["/Font"].raw_get("/" + fields.DR_FONT)
    dr_font = _reader(filled).root["/AcroForm"]["/DR"]["/Font"].raw_get("/" + fields.DR_FONT)
    assert ap_font.reference != dr_font.reference
    assert fields.text_field_values(filled)[fields.NUMBER_FIELD] == "Ω 05/QĐ"


def test_the_serif_font_covers_vietnamese():
    from signatures.pdf import fonts

    assert fonts.covers(fonts.serif_path()) and fonts.covers(fonts.serif_path(bold=True))
    assert not SerifFont.get().missing("Số: 05/QĐ-UBND Tú Lệ, ngày 03 tháng 04 năm 2026 ỦY BAN NHÂN DÂN Hường")


def test_signing_then_adding_fields_is_refused_but_signing_a_fielded_draft_works():
    flow = outgoing_flow()
    assert pades.signature_fields(flow.leader) == {"leader": True}
    signed = pades.sign(flow.fielded, key=DemoKey(demo_pki().personal),
                        field=pades.SignatureFieldSpec("leader", -1, PERSONAL_BOX), appearance=personal_appearance())
    assert fields.text_field_values(signed) == {fields.NUMBER_FIELD: "", fields.DATE_FIELD: ""}
