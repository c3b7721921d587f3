/* Charts on the HQ boards: every element [data-chart="ID"] is drawn by ECharts (static/vendor/echarts/)
   from the option in <script type="application/json" id="ID"> (Django's json_script, built in Python
   by boards/charts.py: plain JSON, no functions). Runs on DOMContentLoaded and after each htmx swap
   (htmx:afterSettle); redraws on window resize and around printing. No inline script, no eval: works
   under a Content-Security-Policy without 'unsafe-inline' / 'unsafe-eval'.
   Text uses the page's own font stack (system CJK faces, no web fonts); ECharts' built-in texts
   follow the page's language (<html lang>), not the browser's. */
(function () {
  "use strict";

  var charts = [];
  var drawn = new WeakMap(); // element → the option text it was last drawn from
  var pending = 0;

  function locale() {
    var lang = (document.documentElement.lang || "").toLowerCase();
    return lang.indexOf("zh") === 0 || lang === "" ? "ZH" : "EN";
  }

  function draw(el) {
    var id = el.getAttribute("data-chart");
    var source = id && document.getElementById(id);
    if (!source) {
      console.warn("charts.js: no option element #" + id);
      return;
    }
    var text = source.textContent;
    if (drawn.get(el) === text && window.echarts.getInstanceByDom(el)) return; // unchanged by the swap
    var option;
    try {
      option = JSON.parse(text);
    } catch (err) {
      console.warn("charts.js: option #" + id + " is not JSON", err);
      return;
    }
    drawn.set(el, text);
    var font = window.getComputedStyle(el).fontFamily;
    if (font) option.textStyle = Object.assign({ fontFamily: font }, option.textStyle || {});
    var chart = window.echarts.getInstanceByDom(el);
    if (!chart) {
      chart = window.echarts.init(el, null, { renderer: "canvas", locale: locale() });
      charts.push(chart);
    }
    chart.setOption(option, { notMerge: true });
  }

  function prune() { // charts whose element an htmx swap took out of the page
    charts = charts.filter(function (chart) {
      if (chart.isDisposed()) return false;
      if (document.documentElement.contains(chart.getDom())) return true;
      chart.dispose();
      return false;
    });
  }

  // The whole page each time: a swap may bring a new chart, or new data for a chart left in place.
  function render() {
    if (!window.echarts) {
      console.warn("charts.js: echarts.min.js is not loaded");
      return;
    }
    prune();
    Array.prototype.forEach.call(document.querySelectorAll("[data-chart]"), draw);
  }

  function resize() {
    if (pending) return;
    pending = window.requestAnimationFrame(function () {
      pending = 0;
      prune();
      charts.forEach(function (chart) { chart.resize(); });
    });
  }

  function resizeNow() { // print: the page is laid out again before the browser paints it
    prune();
    charts.forEach(function (chart) { chart.resize(); });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", render);
  } else {
    render();
  }
  document.addEventListener("htmx:afterSettle", render);
  window.addEventListener("resize", resize);
  window.addEventListener("beforeprint", resizeNow);
  window.addEventListener("afterprint", resizeNow);
})();
