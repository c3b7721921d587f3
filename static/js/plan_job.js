// A plan upload's background job (templates/tasks/plan.html): poll its status, move the bar, and
// reload the page once the job has ended so the preview or the import's result shows.
(function () {
  "use strict";
  function start() {
    var box = document.getElementById("job");
    if (!box) return;
    var url = box.getAttribute("data-status-url");
    var bar = document.getElementById("job-bar");
    var percent = document.getElementById("job-percent");
    var stage = document.getElementById("job-stage");
    var failures = 0;
    function poll() {
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) {
          if (!response.ok) throw new Error(String(response.status));
          return response.json();
        })
        .then(function (job) {
          failures = 0;
          bar.value = job.progress;
          bar.textContent = job.progress + "%";
          percent.textContent = job.progress + "%";
          stage.textContent = job.message || "";
          if (job.pending) {
            window.setTimeout(poll, 1500);
          } else {
            window.location.reload();
          }
        })
        .catch(function () {
          failures += 1;
          window.setTimeout(poll, Math.min(30000, 1500 * Math.pow(2, failures)));
        });
    }
    window.setTimeout(poll, 1000);
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
