/* The loop view's map (dash-leaflet resolves {variable: "loop.x"}): open cases as circles coloured by
   overdue state, clusters coloured by the share of overdue cases in them, a tooltip and a link to the
   case. Features carry only {id, s} (s = index of the state); the labels come from the map's
   data-labels attribute in the page's language. Nothing here fetches anything. */
window.loop = Object.assign(window.loop || {}, {
  colors: ["#dc2626", "#f97316", "#eab308", "#16a34a"],  // overdue_close, overdue_sign, due_soon, on_track
  labels: function () {
    var el = document.querySelector(".loop-mapinner");
    try { return JSON.parse(el.getAttribute("data-labels")); } catch (e) { return {states: [], "case": "#"}; }
  },
  point: function (feature, latlng) {
    var s = (feature.properties || {}).s;
    var c = window.loop.colors[s] || "#64748b";
    return L.circleMarker(latlng, {radius: 6, color: "#ffffff", weight: 1, fillColor: c, fillOpacity: 0.9});
  },
  bind: function (feature, layer) {
    var p = feature.properties || {};
    if (p.cluster || p.id === undefined) { return; }
    var lab = window.loop.labels();
    var id = parseInt(p.id, 10);
    var state = lab.states[p.s] || "";
    layer.bindTooltip("#" + id + " · " + state);
    var a = document.createElement("a");
    a.href = "/case?id=" + id;
    a.textContent = lab["case"] + " #" + id;
    var div = document.createElement("div");
    div.appendChild(a);
    div.appendChild(document.createTextNode(" · " + state));
    layer.bindPopup(div);
  },
  cluster: function (feature, latlng, index) {
    var leaves = index.getLeaves(feature.properties.cluster_id, Infinity);
    var late = 0;
    for (var i = 0; i < leaves.length; i++) {
      var s = leaves[i].properties.s;
      if (s === 0 || s === 1) { late++; }
    }
    var share = leaves.length ? late / leaves.length : 0;
    var cls = share >= 0.5 ? "loop-cl-bad" : (share > 0 ? "loop-cl-warn" : "loop-cl-ok");
    var icon = L.divIcon({
      html: "<div><span>" + feature.properties.point_count_abbreviated + "</span></div>",
      className: "loop-cluster " + cls,
      iconSize: L.point(40, 40)
    });
    return L.marker(latlng, {icon: icon});
  },
  township: function () {
    return {fillColor: "#cbd5e1", fillOpacity: 0.18, color: "#64748b", weight: 1.2};
  }
});
