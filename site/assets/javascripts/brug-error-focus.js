/* Brug: after a refused form, focus moves to the error summary at the top, so keyboard and
   screen-reader users start at the list of what to fix (each item links to its field).
   A link in the summary scrolls to the whole field, so its label and hint show above the
   input instead of behind the sticky header (brug.css gives both a scroll margin), and puts
   the cursor in it. No inline script (CSP). */
(function () {
  "use strict";
  var summary = document.getElementById("fouten");
  if (!summary) { return; }
  summary.focus();
  summary.addEventListener("click", function (event) {
    var link = event.target.closest("a[href^='#']");
    var field = link && document.getElementById(decodeURIComponent(link.hash.slice(1)));
    if (!field) { return; }
    event.preventDefault();
    (field.closest(".brug-field") || field).scrollIntoView();
    field.focus({ preventScroll: true });
  });
})();
