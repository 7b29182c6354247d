/* Campaign detail: live progress over server-sent events.
 *
 * The page works without this file (a refresh shows current numbers); with
 * it, the live panel is replaced by the server's freshly rendered fragment
 * whenever the progress stream reports a change, and the stream is closed
 * once the campaign is sent or cancelled. Open disclosures (the cancel
 * confirmation, the numbers behind a chart) stay open across updates.
 */
(function () {
  "use strict";

  function openDisclosures(root) {
    return Array.prototype.map.call(root.querySelectorAll("details[open]"), function (d) {
      return d.className;
    });
  }

  function reopen(root, classNames) {
    classNames.forEach(function (name) {
      var selector = "details" + (name ? "." + name.trim().split(/\s+/).join(".") : "");
      var found = root.querySelector(selector);
      if (found) { found.open = true; }
    });
  }

  function follow(live) {
    var source = new EventSource(live.dataset.stream);
    source.addEventListener("progress", function (event) {
      var data = JSON.parse(event.data);
      var open = openDisclosures(live);
      var hadFocus = live.contains(document.activeElement);
      live.innerHTML = data.html;
      reopen(live, open);
      live.dataset.status = data.status;
      if (hadFocus) { live.focus(); }
    });
    source.addEventListener("end", function () {
      source.close();
      live.dataset.final = "true";
    });
  }

  var live = document.getElementById("live-progress");
  if (live && live.dataset.stream && live.dataset.final !== "true" && "EventSource" in window) {
    live.setAttribute("tabindex", "-1");
    follow(live);
  }
})();
