/* Brug: follow a submission's publication (queued, building, live, failed) without reloading.
   Polls the JSON status endpoint named in data-status-url; no inline script (CSP). */
(function () {
  "use strict";
  var box = document.getElementById("brug-build-status");
  if (!box || !window.fetch) { return; }
  var url = box.getAttribute("data-status-url");
  var delay = 1500;
  var state = document.getElementById("brug-submission-state");
  var reload = box.querySelector(".brug-build-status__reload");
  var startedAs = state ? state.textContent : "";

  function render(status) {
    box.className = "brug-build-status brug-build-status--" + status.phase;
    box.textContent = "";
    var label = document.createElement("p");
    label.className = "brug-build-status__label";
    label.textContent = status.label;
    box.appendChild(label);
    if (status.page_url) {
      var p = document.createElement("p");
      var link = document.createElement("a");
      link.className = "brug-build-status__link";
      link.href = status.page_url;
      link.textContent = "Bekijk de pagina op de site";
      p.appendChild(link);
      box.appendChild(p);
    }
    if (status.message) {
      var pre = document.createElement("pre");
      pre.className = "brug-build-status__message";
      pre.textContent = status.message;
      box.appendChild(pre);
    }
    // The status row above and, when the build failed, the way to the actions (retry, edit).
    if (state) { state.textContent = status.state_label; }
    if (reload && status.state === "mislukt" && status.state_label !== startedAs) {
      reload.hidden = false;
      box.appendChild(reload);
    }
    box.setAttribute("data-done", status.done ? "ja" : "nee");
  }

  function poll() {
    fetch(url, { headers: { "Accept": "application/json" }, credentials: "same-origin", cache: "no-store" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (status) {
        if (status) { render(status); }
        if (!status || !status.done) { window.setTimeout(poll, delay); }
      })
      .catch(function () { window.setTimeout(poll, delay * 4); });
  }

  if (box.getAttribute("data-done") !== "ja") {
    var hint = box.querySelector(".brug-build-status__hint");
    if (hint) { hint.hidden = true; }
    window.setTimeout(poll, delay);
  }
})();
