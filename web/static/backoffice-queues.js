// The Back Office queues page: polls its JSON endpoint every 3 s, updates the figures in place
// and draws each queue's depth over the last 15 minutes (no inline script: the CSP forbids it).
(function () {
  "use strict";
  var table = document.querySelector("table.queues");
  if (!table) { return; }
  var endpoint = table.getAttribute("data-endpoint");
  var W = 140, H = 36, MIN_SPAN = 60;

  // x: the samples' own span (at least a minute, at most the 15-minute window) ending now;
  // y: 0 at the bottom, the largest depth shown at the top
  function draw(svg, series, windowSeconds) {
    var line = svg.querySelector("polyline");
    var label = svg.parentNode.querySelector(".span");
    if (!series || series.length === 0) {
      line.setAttribute("points", "");
      if (label) { label.textContent = "no samples"; }
      return;
    }
    var top = 1, span = Math.min(windowSeconds, Math.max(MIN_SPAN, -series[0][0]));
    series.forEach(function (p) { if (p[1] > top) { top = p[1]; } });
    var points = series.map(function (p) {
      var x = W + (p[0] / span) * W;
      var y = H - 2 - (p[1] / top) * (H - 4);
      return x.toFixed(1) + "," + y.toFixed(1);
    });
    if (points.length === 1) { points.unshift("0," + points[0].split(",")[1]); }
    line.setAttribute("points", points.join(" "));
    svg.setAttribute("data-max", String(top));
    if (label) {
      label.textContent = "max " + top + ", last " + Math.round(span / 60) + " min";
    }
  }

  function update(data) {
    data.queues.forEach(function (row) {
      var tr = table.querySelector('tr[data-queue="' + row.queue + '"]');
      if (!tr) { return; }
      tr.querySelectorAll("td[data-field]").forEach(function (td) {
        var value = row[td.getAttribute("data-field")];
        td.textContent = value === null || value === undefined ? "-" : String(value);
      });
      draw(tr.querySelector("svg.depth"), data.series[row.queue], data.window_seconds);
    });
    document.getElementById("source").textContent = data.source;
    document.getElementById("updated").textContent = new Date().toLocaleTimeString();
    table.setAttribute("data-polls", String(Number(table.getAttribute("data-polls") || 0) + 1));
  }

  function poll() {
    fetch(endpoint, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (answer) {
        if (!answer.ok) { throw new Error("HTTP " + answer.status); }
        return answer.json();
      })
      .then(update)
      .catch(function (error) {
        document.getElementById("updated").textContent = "failed (" + error.message + "), retrying";
      });
  }
  poll();
  window.setInterval(poll, 3000);
}());
