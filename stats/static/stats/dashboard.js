/* The admin dashboard's charts (templates/admin/tunee_index.html): one Chart.js chart per <canvas data-chart>,
   from the JSON the page carries in #stats-chart-data. No other source of data, no network. Chart.js 4.6.1 (MIT,
   vendor/chart.js-LICENSE.md) is vendored from the npm package: dist/chart.umd.min.js and its source map. */
(function () {
  "use strict";

  var PALETTE = ["#417690", "#e08e0b", "#4caf50", "#c0392b", "#8e44ad", "#16a085", "#7f8c8d", "#d35400"];

  function draw() {
    var source = document.getElementById("stats-chart-data");
    if (!source || typeof window.Chart === "undefined") {
      return;
    }
    var data = JSON.parse(source.textContent);
    window.tuneeCharts = {};
    data.charts.forEach(function (spec) {
      var canvas = document.querySelector('canvas[data-chart="' + spec.id + '"]');
      if (!canvas) {
        return;
      }
      var percent = spec.unit === "%";
      var datasets = spec.datasets.map(function (set, i) {
        var color = PALETTE[i % PALETTE.length];
        return {
          label: set.label,
          data: set.data,
          backgroundColor: color,
          borderColor: color,
          spanGaps: true,
          tension: 0.2,
        };
      });
      window.tuneeCharts[spec.id] = new window.Chart(canvas, {
        type: spec.type,
        data: { labels: data.labels, datasets: datasets },
        options: {
          animation: false,
          responsive: true,
          maintainAspectRatio: false,
          interaction: { mode: "index", intersect: false },
          scales: {
            x: { stacked: spec.stacked },
            y: {
              stacked: spec.stacked,
              beginAtZero: true,
              suggestedMax: percent ? 100 : undefined,
              ticks: {
                precision: percent || spec.unit === "¥" ? undefined : 0,
                callback: function (value) {
                  return percent ? value + " %" : spec.unit === "¥" ? "¥" + value : value;
                },
              },
            },
          },
          plugins: { legend: { position: "bottom" } },
        },
      });
    });
    document.documentElement.dataset.chartsDrawn = String(Object.keys(window.tuneeCharts).length);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
