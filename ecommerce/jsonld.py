"""schema.org ``Product`` data of a listed product (JSON-LD), for search engines to show the
product with its price and availability.

``product(...)`` builds the object from the live version: name, description, images (absolute
addresses of the stored photos), ``sku`` (the product's address in links), ``gtin14`` when the
product has a barcode number, the producer as ``brand`` and ``manufacturer`` (with its village
and commune), the OCOP group as ``category``, the valid certificate's stars as ``award``, and an
``Offer`` (price in VND per unit, availability, the page's address). Addresses come from the
commune's configured address, never from the request.

``script_text(data)`` is the JSON to put between ``<script type="application/ld+json">`` and
``</script>``: ``<``, ``>`` and ``&`` are written as ``\\u003c``, ``\\u003e`` and ``\\u0026``
(as Django's ``json_script`` does), so that no text of a product (a name holding
``</script>``, say) can end the script element; the JSON reads back the same.
"""
from __future__ import annotations

import json

from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from ecommerce import publishing

SCHEMA_IMAGE_WIDTH = 1280
_ESCAPES = {ord("<"): "\\u003c", ord(">"): "\\u003e", ord("&"): "\\u0026"}


def product(product, *, certificate=None, stars=None, photos=(), base: str | None = None) -> dict:
    """The schema.org Product of a listed ``product`` (live version, producer and village loaded)."""
    from ecommerce.models import ProducerKind

    base = publishing.base_url() if base is None else base
    version = product.live_version
    producer = product.producer
    village = producer.village
    commune = publishing.current_commune()
    url = f"{base}{publishing.product_path(product.slug)}"
    in_stock = publishing.stock_state(product.stock, version.min_order) == "in_stock"
    images = []
    for photo in photos:
        image = publishing.photo_url(photo, "jpeg", SCHEMA_IMAGE_WIDTH, base=base)
        if image:
            images.append(image)
    address = {"@type": "PostalAddress", "addressCountry": "VN"}
    if village is not None:
        address["addressLocality"] = village.name
    if commune is not None:
        address["addressRegion"] = commune.name_in_sentence
    maker = {
        "@type": "Organization" if producer.kind != ProducerKind.HOUSEHOLD_BUSINESS else "LocalBusiness",
        "name": producer.name, "address": address,
    }
    data = {
        "@context": "https://schema.org",
        "@type": "Product",
        "name": version.name,
        "description": version.description,
        "sku": product.slug,
        "url": url,
        "brand": {"@type": "Brand", "name": producer.name},
        "manufacturer": maker,
        "category": " > ".join(filter(None, [version.group.name if version.group else "",
                                              version.subgroup.name if version.subgroup else ""])),
        "offers": {
            "@type": "Offer",
            "price": str(int(version.price)),
            "priceCurrency": "VND",
            "availability": "https://schema.org/InStock" if in_stock else "https://schema.org/OutOfStock",
            "url": url,
            "eligibleQuantity": {"@type": "QuantitativeValue", "minValue": int(version.min_order),
                                 "unitText": version.unit},
            "seller": {"@type": maker["@type"], "name": producer.name},
        },
    }
    if images:
        data["image"] = images
    if product.gtin:
        data["gtin14"] = product.gtin.zfill(14)
    if stars is not None and stars.stars and certificate is not None:
        data["award"] = _("OCOP product, %(stars)d stars (certificate %(number)s, %(authority)s)") % {
            "stars": stars.stars, "number": certificate.number, "authority": certificate.issuing_authority}
    return data


def script_text(data: dict) -> SafeString:
    """``data`` as JSON safe inside a script element (see the module's text)."""
    return mark_safe(json.dumps(data, ensure_ascii=False, separators=(",", ":")).translate(_ESCAPES))
