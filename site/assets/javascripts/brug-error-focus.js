/* Brug: after a refused form, focus moves to the error summary at the top, so keyboard and
   screen-reader users start at the list of what to fix (each item links to its field).
   No inline script (CSP). */
(function () {
  "use strict";
  var summary = document.getElementById("fouten");
  if (summary) { summary.focus(); }
})();
