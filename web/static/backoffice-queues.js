// The Back Office queues page: polls its JSON endpoint every 3 s, updates the figures in place
// and draws each queue's depth over the last 15 minutes (no inline script: the CSP forbids it).
(function () {
  "use strict";
  var table = document.querySelector("table.queues");
  if (!table) { return; }
  var endpoint = table.getAttribute("data-endpoint");
  var W = 180, H = 40;

  function draw(svg, series, windowSeconds) {
    var line = svg.querySelector("polyline");
    if (!series || series.length === 0) { line.setAttribute("points", ""); return; }
    var top = 1;
    series.forEach(function (p) { if (p[1] > top) { top = p[1]; } });
    var points = series.map(function (p) {
      var x = W + (p[0] / windowSeconds) * W;
      var y = H - 2 - (p[1] / top) * (H - 4);
      return x.toFixed(1) + "," + y.toFixed(1);
    });
    if (points.length === 1) { points.unshift("0," + points[0].split(",")[1]); }
    line.setAttribute("points", points.join(" "));
    svg.setAttribute("data-max", String(top));
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
