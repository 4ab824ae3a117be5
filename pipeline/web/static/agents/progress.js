/* Live progress of an import: polls the job's JSON state, reloads the page when it ends. */
(function () {
  "use strict";
  var box = document.getElementById("progress");
  if (!box) { return; }
  var url = box.getAttribute("data-url");
  function show(id, value) {
    var el = document.getElementById(id);
    if (el) { el.textContent = String(value); }
  }
  function update(data) {
    show("n-converted", data.converted);
    show("n-archived", data.archived);
    show("job-state", data.label);
    document.getElementById("bar-converted").value = data.converted;
    document.getElementById("bar-archived").value = data.archived;
    document.getElementById("queue").hidden = !data.position;
  }
  function tick() {
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) {
        if (!response.ok) { throw new Error(String(response.status)); }
        return response.json();
      })
      .then(function (data) {
        update(data);
        if (data.finished) { window.location.reload(); } else { window.setTimeout(tick, 1000); }
      })
      .catch(function () { window.setTimeout(tick, 3000); });
  }
  window.setTimeout(tick, 500);
}());
