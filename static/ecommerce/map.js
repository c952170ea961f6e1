/* The product map (ecommerce/map_views.py): Leaflet and Leaflet.markercluster, vendored, loaded
   over the list of products by village once the page is there: at once on a wide screen, on a tap
   of "Show the map" on a phone or when the browser asks to save data. The markers come from the
   page's JSON data block (no inline script: the Content-Security-Policy forbids it). Popups are
   built with text nodes, never with HTML from the data. */
(function () {
  "use strict";

  var box = document.getElementById("map-box");
  var dataBlock = document.getElementById("map-data");
  if (!box || !dataBlock) {
    return;
  }
  var data = JSON.parse(dataBlock.textContent);
  if (!data.geojson || !data.geojson.features || !data.geojson.features.length) {
    return;
  }
  var button = document.getElementById("map-show");
  var holder = document.getElementById("product-map");
  var started = false;
  box.classList.add("on");

  function stylesheet(href) {
    var link = document.createElement("link");
    link.rel = "stylesheet";
    link.href = href;
    document.head.appendChild(link);
  }

  function script(src, done) {
    var tag = document.createElement("script");
    tag.src = src;
    tag.onload = done;
    tag.onerror = failed;
    document.head.appendChild(tag);
  }

  function failed() {
    holder.hidden = true;
    var note = document.createElement("p");
    note.className = "notice";
    note.textContent = box.getAttribute("data-failed");
    box.appendChild(note);
  }

  function element(tag, text, parent) {
    var node = document.createElement(tag);
    if (text) {
      node.textContent = text;
    }
    if (parent) {
      parent.appendChild(node);
    }
    return node;
  }

  function money(amount) {
    return String(amount).replace(/\B(?=(\d{3})+(?!\d))/g, ".") + " đ";
  }

  function popup(feature) {
    var props = feature.properties;
    var root = element("div");
    root.className = "map-popup";
    element("strong", props.producer, root);
    element("div", props.village, root);
    var list = element("ul", "", root);
    props.products.forEach(function (product) {
      var item = element("li", "", list);
      if (product.url) {
        var link = element("a", product.name, item);
        link.href = product.url;
      } else {
        element("span", product.name, item);
      }
      item.appendChild(document.createTextNode(" – " + money(product.price) + " / " + product.unit +
        (product.ocop_stars ? " " + "★★★★★".slice(0, product.ocop_stars) : "")));
    });
    return root;
  }

  function draw() {
    var L = window.L;
    var icon = L.icon({
      iconUrl: box.getAttribute("data-icon"), iconRetinaUrl: box.getAttribute("data-icon-2x"),
      shadowUrl: box.getAttribute("data-shadow"), iconSize: [25, 41], iconAnchor: [12, 41],
      popupAnchor: [1, -34], shadowSize: [41, 41]
    });
    var map = L.map(holder, {scrollWheelZoom: false});
    if (data.tiles) {
      L.tileLayer(data.tiles, {maxZoom: 18, attribution: data.attribution || ""}).addTo(map);
    }
    var cluster = L.markerClusterGroup({showCoverageOnHover: false, maxClusterRadius: 60});
    L.geoJSON(data.geojson, {
      pointToLayer: function (feature, latlng) {
        return L.marker(latlng, {icon: icon, title: feature.properties.producer, alt: feature.properties.producer});
      },
      onEachFeature: function (feature, layer) {
        layer.bindPopup(popup(feature));
      }
    }).eachLayer(function (layer) {
      cluster.addLayer(layer);
    });
    map.addLayer(cluster);
    map.fitBounds(cluster.getBounds(), {padding: [30, 30], maxZoom: 14});
    box.setAttribute("data-ready", "1");
    window.xasoProductMap = map;
  }

  function start() {
    if (started) {
      return;
    }
    started = true;
    button.hidden = true;
    holder.hidden = false;
    stylesheet(box.getAttribute("data-leaflet-css"));
    stylesheet(box.getAttribute("data-cluster-css"));
    stylesheet(box.getAttribute("data-cluster-theme"));
    script(box.getAttribute("data-leaflet"), function () {
      script(box.getAttribute("data-cluster"), draw);
    });
  }

  button.addEventListener("click", start);
  var saveData = navigator.connection && navigator.connection.saveData;
  if (!saveData && window.matchMedia && window.matchMedia("(min-width: 720px)").matches) {
    start();
  }
}());
