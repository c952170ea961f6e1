"""The public product map of the commune (``/ban-do/`` on a commune host).

The page is first of all a list: the villages that have listed products, each with its
producers and their products (name, price, stars, a link to the product page). It is complete
without JavaScript and without tiles. The map is added over it by ``static/ecommerce/map.js``:
Leaflet and Leaflet.markercluster (vendored under ``static/vendor/leaflet/``) loaded once the
page is there, at once on a wide screen and on a tap of "Show the map" on a phone (its ~60 KB
compressed are not spent on a slow line unless asked), the producers' markers clustered at
low zoom. The markers come from the same GeoJSON as the API's ``/api/v1/ocop/map/``, written
into the page as a JSON data block (no second request, and no inline script: the
Content-Security-Policy forbids them).

Tiles come from ``XASO_MAP_TILE_URL`` (OpenStreetMap's by default; empty: no tiles, the markers
on a blank background) with ``XASO_MAP_TILE_ATTRIBUTION`` shown on the map. The project's
policy allows images from the portal itself only: this page alone widens ``img-src`` to the
tile host, with django-csp's ``csp_update``.
"""
from __future__ import annotations

from functools import wraps

from csp.decorators import csp_update
from django.shortcuts import render
from django.views.decorators.http import require_safe

from ecommerce import geo


def allow_tiles(view):
    """The tile host in this page's ``img-src`` (read from the settings at each request)."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        origin = geo.tile_origin()
        if not origin:
            return view(request, *args, **kwargs)
        return csp_update({"img-src": [origin]})(view)(request, *args, **kwargs)

    return wrapped


@require_safe
@allow_tiles
def product_map(request):
    villages = geo.villages_with_products()
    collection = geo.feature_collection(villages)
    return render(request, "ecommerce/map/map.html", {
        "villages": villages,
        "placed": [v for v in villages if v.placed],
        "unplaced": [v for v in villages if not v.placed],
        "map_data": {"geojson": collection, "tiles": geo.tile_url(), "attribution": geo.tile_attribution()},
        "product_count": sum(v.product_count for v in villages),
        "producer_count": sum(len(v.producers) for v in villages),
    })
