"""Where the commune's OCOP products come from: the product map's GeoJSON, the list of products by
village that the map page shows without tiles or JavaScript, and the small locator drawn on a
trace page (the commune's villages as dots, the origin marked; an inline SVG, no tiles).

Positions are the villages' (``population.Village.latitude/longitude``, WGS 84): a producer is
placed at its village, never at its address. Only what the catalogue lists is shown (published
products with an approved version, of approved producers), with the producer's public name and
nothing else about it.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings

from core.links import commune_base_url
from ecommerce import selectors

LOCATOR_WIDTH = 300
LOCATOR_HEIGHT = 170
LOCATOR_PADDING = 18


# --- the product map ---------------------------------------------------------------------------

def tile_url() -> str:
    """The tile URL template of the map page (``XASO_MAP_TILE_URL``)."""
    return str(getattr(settings, "XASO_MAP_TILE_URL", "") or "").strip()


def tile_attribution() -> str:
    return str(getattr(settings, "XASO_MAP_TILE_ATTRIBUTION", "") or "").strip()


def tile_origin() -> str:
    """``https://tile.openstreetmap.org`` of the tile template (``{s}`` subdomains as a wildcard),
    what the map page's Content-Security-Policy lets images come from; '' without tiles."""
    from urllib.parse import urlsplit

    template = tile_url()
    if not template:
        return ""
    parts = urlsplit(template.replace("{s}", "tile"))
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return ""
    host = parts.netloc
    if "{s}." in template:
        host = "*." + host.split(".", 1)[1]
    return f"{parts.scheme}://{host}"


def _float(value: Decimal | None) -> float | None:
    return None if value is None else round(float(value), 6)


@dataclass
class MapProduct:
    name: str
    slug: str
    price: int
    unit: str
    stars: int
    group: str
    path: str | None


@dataclass
class MapProducer:
    name: str
    kind: str
    slug: str
    products: list[MapProduct] = field(default_factory=list)


@dataclass
class MapVillage:
    name: str
    latitude: float | None
    longitude: float | None
    producers: list[MapProducer] = field(default_factory=list)

    @property
    def placed(self) -> bool:
        return self.latitude is not None and self.longitude is not None

    @property
    def product_count(self) -> int:
        return sum(len(producer.products) for producer in self.producers)


def villages_with_products() -> list[MapVillage]:
    """The villages that have listed products, each with its producers and their products (by
    village name, then producer and product names): what the map shows, in one query."""
    from core.text import vi_sort_key
    from ecommerce.trace import product_path

    products = (selectors.with_stars(selectors.listed_products())
                .order_by("producer__village__name", "producer__name", "live_version__name", "pk"))
    villages: dict[int, MapVillage] = {}
    producers: dict[int, MapProducer] = {}
    for product in products:
        producer, village, version = product.producer, product.producer.village, product.live_version
        if village.pk not in villages:
            villages[village.pk] = MapVillage(village.name, _float(village.latitude), _float(village.longitude))
        if producer.pk not in producers:
            producers[producer.pk] = MapProducer(producer.name, producer.get_kind_display(), producer.slug)
            villages[village.pk].producers.append(producers[producer.pk])
        producers[producer.pk].products.append(MapProduct(
            name=version.name, slug=product.slug, price=version.price, unit=version.unit, stars=product.stars_today,
            group=version.group.name, path=product_path(product)))
    return sorted(villages.values(), key=lambda v: vi_sort_key(v.name))


def feature_collection(villages: list[MapVillage] | None = None) -> dict:
    """The GeoJSON (RFC 7946) FeatureCollection of the map: one Point feature per producer with
    listed products, at its village ([longitude, latitude]); producers of villages without a
    position are left out (the page lists them)."""
    villages = villages_with_products() if villages is None else villages
    base = commune_base_url()
    features = []
    for village in villages:
        if not village.placed:
            continue
        for producer in village.producers:
            features.append({
                "type": "Feature",
                "id": producer.slug,
                "geometry": {"type": "Point", "coordinates": [village.longitude, village.latitude]},
                "properties": {
                    "producer": producer.name,
                    "producer_kind": producer.kind,
                    "village": village.name,
                    "products": [{
                        "name": product.name, "sku": product.slug, "price": product.price, "currency": "VND",
                        "unit": product.unit, "ocop_stars": product.stars, "group": product.group,
                        "url": f"{base}{product.path}" if product.path else None,
                    } for product in producer.products],
                },
            })
    return {"type": "FeatureCollection", "features": features}


# --- the locator of a trace page ---------------------------------------------------------------

@dataclass
class LocatorPoint:
    x: float
    y: float
    name: str
    origin: bool


@dataclass
class Locator:
    """The commune's villages drawn in a small box (equirectangular, north up), the origin marked."""

    width: int
    height: int
    points: list[LocatorPoint]
    origin: LocatorPoint

    @property
    def label_anchor(self) -> str:
        return "end" if self.origin.x > self.width * 0.6 else "start"

    @property
    def label_x(self) -> float:
        return self.origin.x - 9 if self.label_anchor == "end" else self.origin.x + 9


def locator(village) -> Locator | None:
    """Where ``village`` lies among the commune's villages, or None when it has no position."""
    from population.models import Village

    if village is None or village.latitude is None or village.longitude is None:
        return None
    rows = list(Village.objects.filter(latitude__isnull=False, longitude__isnull=False)
                .values_list("pk", "name", "latitude", "longitude"))
    if not any(pk == village.pk for pk, *_rest in rows):
        rows.append((village.pk, village.name, village.latitude, village.longitude))
    lats = [float(lat) for _pk, _name, lat, _lon in rows]
    lons = [float(lon) for _pk, _name, _lat, lon in rows]
    scale_x = math.cos(math.radians(sum(lats) / len(lats)))
    span_x = (max(lons) - min(lons)) * scale_x
    span_y = max(lats) - min(lats)
    inner_w, inner_h = LOCATOR_WIDTH - 2 * LOCATOR_PADDING, LOCATOR_HEIGHT - 2 * LOCATOR_PADDING
    unit = min(inner_w / span_x if span_x else math.inf, inner_h / span_y if span_y else math.inf)
    if unit == math.inf:
        unit = 0.0
    offset_x = LOCATOR_PADDING + (inner_w - span_x * unit) / 2
    offset_y = LOCATOR_PADDING + (inner_h - span_y * unit) / 2
    points, origin = [], None
    for pk, name, lat, lon in rows:
        point = LocatorPoint(
            x=round(offset_x + (float(lon) - min(lons)) * scale_x * unit, 1),
            y=round(offset_y + (max(lats) - float(lat)) * unit, 1),
            name=name, origin=pk == village.pk)
        if point.origin:
            origin = point
        else:
            points.append(point)
    return Locator(LOCATOR_WIDTH, LOCATOR_HEIGHT, points, origin)
