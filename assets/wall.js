/* Wall-screen playlist: rotates pages with a dwell time each, pauses on Space/P or a click on the
   status bar, skips ahead on the right arrow, and lets a page whose alert is red take over the rotation. */
window.dash_clientside = Object.assign({}, window.dash_clientside, {
  wall: {
    tick: function (n, nEvents, nClicks, event, store, alerts, pathname, search, lang) {
      var nu = window.dash_clientside.no_update;
      if (!store || !store.items || !store.items.length) { return [nu, "", nu, nu]; }
      var trig = (window.dash_clientside.callback_context.triggered || []).map(function (t) { return t.prop_id; });
      var s = Object.assign({}, store);
      var items = s.items;
      if (trig.indexOf("app-keys.n_keydowns") >= 0) {
        var key = event && event.key;
        if (key === " " || key === "p" || key === "P") { s.paused = !s.paused; }
        else if (key === "ArrowRight") { s.remaining = 0; s.skip = true; }
        else { return [nu, nu, nu, nu]; }
      }
      if (trig.indexOf("app-wall-status.n_clicks") >= 0) { s.paused = !s.paused; }
      var target = null;
      if (!s.started) {
        s.started = true;
        var here = items.findIndex(function (it) { return it.path === pathname; });
        if (here >= 0) { s.index = here; } else { s.index = 0; target = items[0].path; }
        s.remaining = items[s.index].dwell;
      }
      var red = [];
      items.forEach(function (it, i) { if (alerts && alerts[it.path] === "red") { red.push(i); } });
      // a takeover narrows the rotation to the red pages; when every page is red nothing is narrowed,
      // so the bar says nothing of a takeover (the pages themselves show their alerts)
      s.takeover = red.length > 0 && red.length < items.length;
      if (s.takeover && red.indexOf(s.index) < 0) {
        s.index = red[0]; s.remaining = items[s.index].dwell; target = items[s.index].path;
      } else if ((!s.paused && trig.indexOf("app-wall-interval.n_intervals") >= 0) || s.skip) {
        s.remaining -= s.skip ? s.remaining : 1;
        s.skip = false;
        if (s.remaining <= 0) {
          var pool = s.takeover ? red : items.map(function (_, i) { return i; });
          var pos = pool.indexOf(s.index);
          s.index = pool[(pos + 1) % pool.length];
          s.remaining = items[s.index].dwell;
          target = items[s.index].path;
        }
      }
      var zh = lang !== "en";
      var parts = [
        (s.paused ? "⏸ " : "▶ ") + (s.index + 1) + "/" + items.length + " · " + items[s.index].label,
        s.paused ? (zh ? "已暂停 · 空格键继续 (Paused)" : "Paused · Space to resume (已暂停)")
                 : (zh ? "下一页 " : "next in ") + s.remaining + "s",
      ];
      if (s.takeover) { parts.unshift(zh ? "⚠ 告警接管 Alert takeover" : "⚠ Alert takeover 告警接管"); }
      var go = target !== null && target !== pathname;
      return [s, parts.join("   "), go ? target : nu, go ? search : nu];
    }
  }
});
