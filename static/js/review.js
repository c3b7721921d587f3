// HQ's review desk: "select all on this page" ticks every row's checkbox (no inline script: the CSP).
document.addEventListener("DOMContentLoaded", function () {
  var all = document.getElementById("select-page");
  if (!all) return;
  all.addEventListener("change", function () {
    document.querySelectorAll('#review-bulk input[name="rows"]').forEach(function (box) {
      box.checked = all.checked;
    });
  });
});
