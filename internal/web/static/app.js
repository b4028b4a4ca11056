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

  // <form data-confirm="question">: ask before a destructive post (revoke a token, ...); a
  // submit button's own data-confirm (Revoke beside Keep) asks for that button only.
  document.addEventListener("submit", function (e) {
    var q = e.target.getAttribute && e.target.getAttribute("data-confirm");
    var s = e.submitter;
    if (s && s.getAttribute && s.getAttribute("data-confirm")) { q = s.getAttribute("data-confirm"); }
    if (q && !window.confirm(q)) { e.preventDefault(); }
  });

  // <input type="checkbox" data-check-all="selector">: tick or untick every checkbox the
  // selector matches (the items of a review list).
  document.addEventListener("change", function (e) {
    var sel = e.target.getAttribute && e.target.getAttribute("data-check-all");
    if (!sel) { return; }
    var boxes = document.querySelectorAll(sel);
    for (var i = 0; i < boxes.length; i++) { boxes[i].checked = e.target.checked; }
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

  // <span data-countdown="RFC 3339 time">: the time left, ticking every second between the
  // server's refreshes (htmx polls the card around it every few seconds).
  function pad(n) { return n < 10 ? "0" + n : "" + n; }
  function tick() {
    var els = document.querySelectorAll("[data-countdown]");
    for (var i = 0; i < els.length; i++) {
      var end = Date.parse(els[i].getAttribute("data-countdown"));
      if (isNaN(end)) { continue; }
      var s = Math.round((end - Date.now()) / 1000);
      var t;
      if (s <= 0) { t = "ended"; }
      else if (s >= 3600) { t = Math.floor(s / 3600) + "h " + pad(Math.floor(s / 60) % 60) + "m " + pad(s % 60) + "s"; }
      else if (s >= 60) { t = Math.floor(s / 60) + "m " + pad(s % 60) + "s"; }
      else { t = s + "s"; }
      if (els[i].textContent !== t) { els[i].textContent = t; }
    }
  }
  setInterval(tick, 1000);
})();
