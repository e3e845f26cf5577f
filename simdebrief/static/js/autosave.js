// Saves a form in the background while someone types, so a closed browser loses nothing.
// The server refuses a save based on an older version; then autosaving stops and the
// person presses Save to see both texts side by side.
(function () {
  "use strict";
  document.querySelectorAll("form[data-autosave]").forEach(function (form) {
    var seconds = parseInt(form.getAttribute("data-autosave-seconds"), 10) || 15;
    var status = document.getElementById(form.getAttribute("data-autosave-status"));
    var version = form.querySelector("input[name=version]");
    var dirty = false;
    var busy = false;
    var stopped = false;
    function say(text) { if (status) { status.textContent = text; } }
    form.addEventListener("input", function () {
      dirty = true;
      say(form.getAttribute("data-msg-unsaved"));
    });
    form.addEventListener("submit", function () { dirty = false; stopped = true; });
    window.setInterval(function () {
      if (!dirty || busy || stopped) { return; }
      busy = true;
      dirty = false;
      window.fetch(form.action, {
        method: "POST",
        body: new FormData(form),
        credentials: "same-origin",
        headers: { "X-Autosave": "1", "Accept": "application/json" }
      }).then(function (response) {
        return response.json().then(function (data) {
          if (response.ok) {
            version.value = data.version;
          } else {
            stopped = response.status === 409;
            dirty = true;
          }
          say(data.message);
        });
      }).catch(function () {
        dirty = true;
        say(form.getAttribute("data-msg-offline"));
      }).then(function () { busy = false; });
    }, seconds * 1000);
    window.addEventListener("beforeunload", function (event) {
      if (dirty) { event.preventDefault(); event.returnValue = ""; }
    });
  });
})();
