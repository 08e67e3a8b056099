/* The loop view's map (dash-leaflet resolves {variable: "loop.x"}): open cases as circles coloured by
   overdue state, clusters coloured by the share of overdue cases in them. Nothing here fetches anything. */
window.loop = Object.assign(window.loop || {}, {
  colors: {overdue_close: "#dc2626", overdue_sign: "#f97316", due_soon: "#eab308", on_track: "#16a34a"},
  point: function (feature, latlng) {
    var s = (feature.properties || {}).state;
    var c = window.loop.colors[s] || "#64748b";
    return L.circleMarker(latlng, {radius: 6, color: "#ffffff", weight: 1, fillColor: c, fillOpacity: 0.9});
  },
  cluster: function (feature, latlng, index) {
    var leaves = index.getLeaves(feature.properties.cluster_id, Infinity);
    var late = 0;
    for (var i = 0; i < leaves.length; i++) {
      var s = leaves[i].properties.state;
      if (s === "overdue_close" || s === "overdue_sign") { late++; }
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
