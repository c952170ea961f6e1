"""Template tags and filters of the signatures app.

``{% certificate_warnings %}`` lists the signing certificates of the current user (all of the
commune's, for its administrator) that expired or expire within XASO_CERT_EXPIRY_WARNING_DAYS;
the officials' home shows it.
"""
import base64

from django import template

register = template.Library()


@register.inclusion_tag("signatures/_expiry_warnings.html", takes_context=True)
def certificate_warnings(context):
    from signatures import permissions, selectors

    request = context.get("request")
    user = getattr(request, "user", None)
    commune = getattr(request, "commune", None)
    if user is None or not user.is_authenticated or commune is None or not permissions.can_use_module(user, commune):
        return {"expiring": []}
    try:
        expiring = list(selectors.expiring_certificates(user, commune)[:10])
    except Exception:  # noqa: BLE001 - a page must not break over a warning (e.g. schema not migrated)
        expiring = []
    return {"expiring": expiring}


@register.filter
def image_base64(image) -> str:
    """The stored PNG of a SignatureImage, base64-encoded for a data: URL."""
    try:
        return base64.b64encode(image.read()).decode("ascii")
    except (OSError, AttributeError):
        return ""


from django.utils.translation import gettext_lazy as _  # noqa: E402

SIGNED_OBJECTS = {
    "documents.outgoing": (_("Outgoing document"), "documents:outgoing-detail"),
    "documents.attachment": (_("Attachment of a document"), None),
    "onestop.dossier": (_("Dossier"), "onestop:dossier"),
}


@register.simple_tag
def signed_object(subject: str) -> str:
    """``{% signed_object job.subject %}``: what a job signed ("documents.outgoing:5"), in words,
    with a link to it where it has a page; the key as it is when it names nothing known."""
    from django.urls import NoReverseMatch, reverse
    from django.utils.html import format_html

    kind, _sep, pk = (subject or "").partition(":")
    if kind not in SIGNED_OBJECTS or not pk.isdigit():
        return subject or "–"
    label, url_name = SIGNED_OBJECTS[kind]
    text = f"{label} #{pk}"
    if url_name:
        try:
            return format_html('<a href="{}">{}</a>', reverse(url_name, args=[int(pk)]), text)
        except NoReverseMatch:
            pass
    return text
