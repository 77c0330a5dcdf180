// Small conveniences, none needed to shop: inline handlers would be refused by the
// Content-Security-Policy, so they are bound here.
(function () {
  "use strict";
  document.querySelectorAll("select[data-autosubmit]").forEach(function (el) {
    el.addEventListener("change", function () { el.form.submit(); });
  });
  document.querySelectorAll("button[data-print]").forEach(function (el) {
    el.addEventListener("click", function () { window.print(); });
  });
})();
