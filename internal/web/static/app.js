// Gatehouse's page behaviour that htmx does not cover. The Content-Security-Policy forbids
// inline scripts and event handlers, so every hook is a data- attribute handled here.
(function () {
  "use strict";

  // <form data-autosubmit>: submit when a select or date changes (filters, "as of").
  document.addEventListener("change", function (e) {
    var form = e.target.closest && e.target.closest("form[data-autosubmit]");
    if (form && (e.target.tagName === "SELECT" || e.target.type === "date" || e.target.type === "checkbox")) {
      if (form.requestSubmit) { form.requestSubmit(); } else { form.submit(); }
    }
  });

  // <form data-confirm="question">: ask before a destructive post (revoke a token, ...).
  document.addEventListener("submit", function (e) {
    var q = e.target.getAttribute && e.target.getAttribute("data-confirm");
    if (q && !window.confirm(q)) { e.preventDefault(); }
  });

  // <button data-copy="#id">: copy an element's text (a token shown once).
  document.addEventListener("click", function (e) {
    var b = e.target.closest && e.target.closest("[data-copy]");
    if (!b) { return; }
    var el = document.querySelector(b.getAttribute("data-copy"));
    if (el && navigator.clipboard) {
      navigator.clipboard.writeText(el.textContent.trim()).then(function () {
        var old = b.textContent; b.textContent = "Copied"; setTimeout(function () { b.textContent = old; }, 1500);
      });
    }
  });
})();
