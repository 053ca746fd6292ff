/* Similar public reports while a citizen files (the filing page, /lapor).
 *
 * Without this script the page works the same through its "Check for similar reports"
 * button and plain form posts. With it: when the title, the category or the kecamatan change
 * (and the description, when the citizen leaves it), the list is asked from /lapor/serupa a
 * moment after the typing stops and put into the aria-live region #similar-reports.
 * "Support this report" is sent in the background, so that nothing typed is lost; the
 * answer goes into #support-status and the list is asked again (with the new count).
 */
(function () {
  "use strict";

  var form = document.querySelector("form.report-form");
  var region = document.getElementById("similar-reports");
  var status = document.getElementById("support-status");
  var supportForm = document.getElementById("support-form");
  if (!form || !region || !status || !supportForm || !window.fetch || !window.URLSearchParams) {
    return;
  }

  var fields = form.elements;
  var title = fields.namedItem("title");
  var body = fields.namedItem("body");
  var category = fields.namedItem("category");
  var district = fields.namedItem("district");
  if (!title || !body || !category || !district) {
    return;
  }

  var WAIT_MS = 400;
  var MIN_TITLE = 5;
  var BODY_SENT = 500; // characters: enough to compare, and a short address
  var timer = null;
  var lastQuery = null;
  var pending = null;

  function query() {
    var params = new URLSearchParams();
    params.set("title", title.value.trim());
    params.set("body", body.value.trim().slice(0, BODY_SENT));
    params.set("category_id", category.value);
    params.set("district_id", district.value);
    return params.toString();
  }

  function ready() {
    return title.value.trim().length >= MIN_TITLE && category.value && district.value;
  }

  function refresh(force) {
    var current = query();
    if (!force && current === lastQuery) {
      return Promise.resolve();
    }
    lastQuery = current;
    if (pending) {
      pending.abort();
      pending = null;
    }
    if (!ready()) {
      region.innerHTML = "";
      return Promise.resolve();
    }
    pending = new AbortController();
    return fetch(region.getAttribute("data-url") + "?" + current, {
      credentials: "same-origin",
      headers: { "X-Requested-With": "fetch" },
      signal: pending.signal
    }).then(function (response) {
      return response.ok ? response.text() : null;
    }).then(function (html) {
      if (html !== null) {
        region.innerHTML = html;
      }
    }).catch(function () {
      /* aborted by newer typing, or offline: the check button still works */
    });
  }

  function soon() {
    window.clearTimeout(timer);
    timer = window.setTimeout(function () { refresh(false); }, WAIT_MS);
  }

  title.addEventListener("input", soon);
  category.addEventListener("change", soon);
  district.addEventListener("change", soon);
  body.addEventListener("change", soon);

  function sendSupport(button) {
    var number = button.closest("[data-number]").getAttribute("data-number");
    button.disabled = true;
    fetch(button.formAction, {
      method: "POST",
      body: new FormData(supportForm),
      credentials: "same-origin",
      headers: { "X-Requested-With": "fetch" }
    }).then(function (response) {
      if (response.status !== 200 && response.status !== 422) {
        throw new Error("not answered here");
      }
      return response.text();
    }).then(function (html) {
      status.innerHTML = html;
      return refresh(true);
    }).then(function () {
      var item = document.getElementById("similar-" + number);
      if (item) {
        item.focus();
      }
    }).catch(function () {
      /* Too many attempts, an expired session, offline: let the page say it. */
      supportForm.action = button.formAction;
      supportForm.submit();
    });
  }

  region.addEventListener("click", function (event) {
    var button = event.target.closest("button[data-support]");
    if (!button) {
      return;
    }
    event.preventDefault();
    sendSupport(button);
  });

  // Back on the page with everything filled in (after an error): show the list at once.
  if (ready() && !region.querySelector(".similar-list")) {
    refresh(false);
  }
}());
