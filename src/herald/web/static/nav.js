// The main navigation folds behind a "Menu" button at phone width.
// Without this script the links simply wrap, so nothing depends on it.
(function () {
  "use strict";

  function install() {
    var header = document.querySelector(".site-header");
    var nav = header && header.querySelector(".site-nav");
    if (!nav) {
      return;
    }
    nav.id = nav.id || "site-nav";
    var toggle = document.createElement("button");
    toggle.type = "button";
    toggle.className = "nav-toggle button-secondary button-small";
    toggle.setAttribute("aria-controls", nav.id);
    toggle.setAttribute("aria-expanded", "false");
    toggle.textContent = "Menu";
    toggle.addEventListener("click", function () {
      var open = header.classList.toggle("nav-open");
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
    });
    header.insertBefore(toggle, nav);
    header.classList.add("has-nav-toggle");
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", install);
  } else {
    install();
  }
})();
