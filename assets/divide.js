/* Styles of the digital-divide map's GeoJSON layers (dash-leaflet resolves {variable: "divide.x"}).
   Colours are computed on the server into feature.properties; nothing here fetches anything. */
window.divide = Object.assign(window.divide || {}, {
  township: function (feature) {
    var p = feature.properties || {};
    return {
      fillColor: p.color || "#9ca3af",
      fillOpacity: 0.82,
      color: p.selected ? "#111827" : "#ffffff",
      weight: p.selected ? 3 : 1.2,
      dashArray: p.schematic ? "5 4" : null
    };
  },
  county: function (feature) {
    var p = feature.properties || {};
    return {
      fillColor: "#cbd5e1",
      fillOpacity: p.focus ? 0 : 0.35,
      color: p.focus ? "#1f2937" : "#94a3b8",
      weight: p.focus ? 2.5 : 1
    };
  }
});
