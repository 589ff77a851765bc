// Draws the report's charts with uPlot from the chart specifications embedded in the page.
// Plain browser JavaScript, inlined in report.html: no module loader, no network.
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("report-data").textContent);

  function rising(series) {
    var pairs = [];
    for (var i = 0; i < series.x.length; i++) if (series.x[i] !== null && isFinite(series.x[i])) pairs.push([series.x[i], series.y[i]]);
    pairs.sort(function (a, b) { return a[0] - b[0]; });
    var xs = [], ys = [];
    for (var j = 0; j < pairs.length; j++) {
      if (j > 0 && pairs[j][0] === pairs[j - 1][0]) continue; // uPlot needs x strictly rising
      xs.push(pairs[j][0]);
      ys.push(pairs[j][1]);
    }
    return [xs, ys];
  }

  function overlay(spec) {
    return function (u) {
      var ctx = u.ctx, top = u.bbox.top, height = u.bbox.height;
      var plotLeft = u.bbox.left, plotRight = u.bbox.left + u.bbox.width;
      var clamp = function (x) { return Math.min(plotRight, Math.max(plotLeft, x)); };
      ctx.save();
      if (spec.band) {
        var left = clamp(u.valToPos(spec.band[0], "x", true)), right = clamp(u.valToPos(spec.band[1], "x", true));
        ctx.fillStyle = "rgba(46, 160, 67, 0.10)";
        if (right > left) ctx.fillRect(left, top, right - left, height);
      }
      (spec.marks || []).forEach(function (mark) {
        var x = Math.round(u.valToPos(mark.x, "x", true));
        if (x < plotLeft || x > plotRight) return;
        ctx.strokeStyle = "#6e7781";
        ctx.setLineDash([4, 4]);
        ctx.lineWidth = 1;
        ctx.beginPath();
        ctx.moveTo(x, top);
        ctx.lineTo(x, top + height);
        ctx.stroke();
        ctx.setLineDash([]);
        ctx.fillStyle = "#57606a";
        ctx.font = Math.round(11 * devicePixelRatio) + "px sans-serif";
        ctx.fillText(mark.label, x + 4, top + 12 * devicePixelRatio);
      });
      ctx.restore();
    };
  }

  function draw(spec) {
    var element = document.getElementById(spec.id);
    var tables = spec.series.map(rising);
    var aligned = tables.length === 1 ? tables[0] : uPlot.join(tables);
    var bars = spec.kind === "bars";
    var fewPoints = aligned[0].length <= 40;
    var hasRight = spec.series.some(function (s) { return s.axis === "right"; });
    var axes = [
      { label: spec.xLabel },
      { label: spec.yLabel, scale: "y" },
    ];
    if (hasRight) axes.push({ label: spec.y2Label, scale: "y2", side: 1, grid: { show: false } });
    var scales = { x: spec.logX ? { time: false, distr: 3, range: function (u, min, max) { return [min / 1.15, max * 1.15]; } } : { time: false }, y: { range: function (u, min, max) { return [Math.min(0, min), max > 0 ? max * 1.05 : 1]; } } };
    if (spec.xRange) scales.x.range = function () { return spec.xRange; };
    if (hasRight) scales.y2 = { range: function (u, min, max) { return [Math.min(0, min), max > 0 ? max * 1.05 : 1]; } };
    var series = [{ label: spec.xLabel }].concat(
      spec.series.map(function (s) {
        return {
          label: s.label,
          stroke: s.color,
          width: bars ? 1 : 2,
          dash: s.dash ? [6, 4] : undefined,
          scale: s.axis === "right" ? "y2" : "y",
          spanGaps: true,
          fill: bars ? s.color + "99" : undefined,
          paths: bars ? uPlot.paths.bars({ size: [0.92, Infinity] }) : undefined,
          points: { show: !bars && (fewPoints || spec.kind === "points"), size: 6 },
        };
      })
    );
    var options = {
      title: spec.title,
      width: Math.max(320, element.clientWidth || 560),
      height: spec.height || 260,
      scales: scales,
      axes: axes,
      series: series,
      legend: { show: true },
      hooks: { draw: [overlay(spec)] },
    };
    var chart = new uPlot(options, aligned, element);
    element.setAttribute("data-rendered", "1");
    return chart;
  }

  var charts = [];
  data.charts.forEach(function (spec) {
    try {
      charts.push([spec.id, draw(spec)]);
    } catch (error) {
      console.error("chart " + spec.id + ": " + error);
    }
  });
  window.addEventListener("resize", function () {
    charts.forEach(function (entry) {
      var width = document.getElementById(entry[0]).clientWidth;
      if (width > 0) entry[1].setSize({ width: Math.max(320, width), height: entry[1].height });
    });
  });
})();
