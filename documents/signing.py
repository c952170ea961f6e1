"""The one place where documents call the signatures app (``signatures.services`` and
``signatures.pdf``): signature requests, form fields for the number and the date.

The number and date field names are the engine's (``signatures.pdf.fields``). A refusal of the signatures app (``SigningRefused``) comes out as
``SignatureRefused(code, message)``.
"""
from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext as _


LEADER_FIELD = "xaso_leader"
AGENCY_FIELD = "xaso_agency"
ATTACHMENT_FIELD = "xaso_agency_attachment"

LEADER_ON_DONE = "documents.services.on_leader_signed"
AGENCY_ON_DONE = "documents.services.on_agency_signed"
ATTACHMENT_ON_DONE = "documents.services.on_attachment_signed"


class SignatureRefused(Exception):
    """The signature could not be requested (no certificate, wrong PIN, service missing …)."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Box:
    """A rectangle on a page (0-based page index, PDF points from the bottom-left corner)."""

    page: int
    box: tuple[float, float, float, float]

    def to_json(self) -> dict:
        return {"page": self.page, "box": [round(v, 2) for v in self.box]}

    @classmethod
    def from_json(cls, value) -> "Box | None":
        if not isinstance(value, dict) or "box" not in value:
            return None
        x1, y1, x2, y2 = (float(v) for v in value["box"])
        return cls(int(value.get("page", 0)), (x1, y1, x2, y2))


def _field_spec(name: str, box: Box | None):
    from signatures.pdf.pades import SignatureFieldSpec

    return SignatureFieldSpec(name=name, page=box.page if box else 0, box=tuple(box.box) if box else None)


def _request(*, user, kind: str, pin, source_name: str, field_name: str, box: Box | None, lines: list[str],
             purpose: str, subject: str, on_done: str, reason: str, location: str):
    """``signatures.services.request_signature`` with the app's own appearance (the official's
    signature image, the seal, or text), refusals turned into ``SignatureRefused``."""
    from signatures import services

    try:
        certificate = services.certificate_for(user, kind)
        if certificate is None:
            raise SignatureRefused("no_certificate", _("You have no usable certificate for this signature."))
        appearance = services.default_appearance(user, certificate, purpose=purpose, lines=lines)
        return services.request_signature(
            user=user, certificate=certificate, pin=pin, source_name=source_name,
            field=_field_spec(field_name, box), appearance=appearance, purpose=purpose, subject=subject,
            on_done=on_done, reason=reason, location=location,
        )
    except services.SigningRefused as exc:
        raise SignatureRefused(exc.code, str(exc.message or exc)) from exc


def request_leader_signature(doc, user, pin):
    """The leader's personal signature on the draft: the signature image alone, in the blank
    between the title lines and the name that the draft already prints."""
    return _request(
        user=user, kind="personal", pin=pin, source_name=doc.draft_pdf, field_name=LEADER_FIELD,
        box=Box.from_json(doc.layout.get("signature")), lines=[], purpose="leader",
        subject=f"documents.outgoing:{doc.pk}", on_done=LEADER_ON_DONE,
        reason=_("Signed by the person with authority"), location=doc.place_name,
    )


def request_agency_signature(doc, clerk, pin):
    """The agency's signature (the seal) on the numbered file, over the left third of the leader's."""
    return _request(
        user=clerk, kind="agency", pin=pin, source_name=doc.numbered_pdf, field_name=AGENCY_FIELD,
        box=Box.from_json(doc.layout.get("seal")), lines=[], purpose="agency",
        subject=f"documents.outgoing:{doc.pk}", on_done=AGENCY_ON_DONE,
        reason=_("Issued by the agency"), location=doc.place_name,
    )


def request_attachment_signature(attachment, clerk, pin):
    """The agency's signature on an attachment: top right of page 1, text only (the document's
    number/symbol and the signing time, ISO 8601 +07:00)."""
    from signatures.pdf.appearance import attachment_box, attachment_lines

    doc = attachment.document
    width, height = (attachment.page_size or [595.28, 841.89])[:2]
    return _request(
        user=clerk, kind="agency", pin=pin, source_name=attachment.file, field_name=ATTACHMENT_FIELD,
        box=Box(0, attachment_box(width, height)), lines=attachment_lines(doc.number_symbol), purpose="attachment",
        subject=f"documents.attachment:{attachment.pk}", on_done=ATTACHMENT_ON_DONE,
        reason=_("Attachment issued by the agency"), location=doc.place_name,
    )


def check_agency_certificate(clerk) -> None:
    """Refuse before a number is drawn when the clerk holds no agency certificate."""
    from signatures import services

    try:
        certificate = services.certificate_for(clerk, "agency")
    except services.SigningRefused as exc:
        raise SignatureRefused(exc.code, str(exc.message or exc)) from exc
    if certificate is None:
        raise SignatureRefused("no_certificate", _("You hold no key of the agency's certificate."))


def add_text_fields(pdf: bytes, layout: dict) -> bytes:
    """Add the empty number and date fields at the layout's boxes."""
    from signatures.pdf import fields

    specs = []
    for name, key in ((fields.NUMBER_FIELD, "number"), (fields.DATE_FIELD, "date")):
        box = Box.from_json(layout.get(key))
        if box is not None:
            specs.append(fields.TextFieldSpec(name=name, page=box.page, box=tuple(box.box), font_size=13.0, align="center"))
    return fields.add_text_fields(pdf, specs)


def fill_text_fields(pdf: bytes, *, number: str, date: str) -> bytes:
    """Fill the number and date fields (an incremental update that keeps the leader's signature valid)."""
    from signatures.pdf import fields

    return fields.fill_text_fields(pdf, {fields.NUMBER_FIELD: number, fields.DATE_FIELD: date})


def job_subjects(doc) -> list[str]:
    """The subjects of the signing jobs of ``doc``: the document and each of its attachments."""
    return [f"documents.outgoing:{doc.pk}"] + [f"documents.attachment:{pk}" for pk in
                                               doc.attachments.values_list("pk", flat=True)]


def latest_jobs(doc) -> list:
    """The newest signing job of each signature of ``doc`` (its own and its attachments')."""
    from signatures.progress import latest_jobs as latest

    return latest(job_subjects(doc))


def job_of(doc, pk):
    """The signing job ``pk`` if it signs ``doc`` or one of its attachments, else None."""
    from signatures.progress import job_of as find

    return find(pk, job_subjects(doc))


def refusal_advice(code: str) -> str:
    from signatures.progress import refusal_advice as advice

    return advice(code)


def failure_advice() -> str:
    from signatures.progress import failure_advice as advice

    return advice()
