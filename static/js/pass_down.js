// 分解下发: "add a row" copies the last row of shares, empty, and counts it in the formset's TOTAL_FORMS.
// Without JavaScript the form still has its empty rows (no inline script: the CSP).
document.addEventListener("DOMContentLoaded", function () {
  var button = document.getElementById("add-share-row");
  var rows = document.getElementById("share-rows");
  var total = document.querySelector('#pass-down-form input[name="share-TOTAL_FORMS"]');
  var most = document.querySelector('#pass-down-form input[name="share-MAX_NUM_FORMS"]');
  if (!button || !rows || !total) return;
  button.hidden = false;
  button.addEventListener("click", function () {
    var n = parseInt(total.value, 10);
    if (most && n >= parseInt(most.value, 10)) return;
    var last = rows.querySelector("tr.share-row:last-of-type");
    var row = last.cloneNode(true);
    row.querySelectorAll(".errorlist").forEach(function (e) { e.remove(); });
    row.querySelectorAll("input").forEach(function (input) {
      input.name = input.name.replace(/^share-\d+-/, "share-" + n + "-");
      input.id = input.id.replace(/^id_share-\d+-/, "id_share-" + n + "-");
      if (input.type !== "date") input.value = "";
      else input.value = input.defaultValue;
    });
    rows.appendChild(row);
    total.value = n + 1;
  });
});
