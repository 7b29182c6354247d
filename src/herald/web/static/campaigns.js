// Campaign builder: small progressive enhancements. Every form also works without this file.
(function () {
  "use strict";

  document.documentElement.classList.add("js");

  // -- Setup: drop a CSV onto the drop zone ------------------------------------
  function initDropZones(root) {
    root.querySelectorAll("[data-drop-zone]").forEach(function (zone) {
      var input = zone.querySelector('input[type="file"]');
      if (!input) { return; }
      ["dragenter", "dragover"].forEach(function (name) {
        zone.addEventListener(name, function (event) {
          event.preventDefault();
          zone.classList.add("is-over");
        });
      });
      ["dragleave", "drop"].forEach(function (name) {
        zone.addEventListener(name, function () { zone.classList.remove("is-over"); });
      });
      zone.addEventListener("drop", function (event) {
        event.preventDefault();
        var files = event.dataTransfer && event.dataTransfer.files;
        if (!files || files.length === 0) { return; }
        var transfer = new DataTransfer();
        transfer.items.add(files[0]);
        input.files = transfer.files;
        var form = input.form;
        if (form) { form.requestSubmit(); }
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    initDropZones(document);
  });
})();
