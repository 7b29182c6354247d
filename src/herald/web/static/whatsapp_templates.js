// Journey step: the WhatsApp template picker. The form works without this file
// (a changed choice is applied when the form is saved); this shows the picker of the
// chosen integration and applies a choice at once.
(function () {
  "use strict";

  function sectionOf(element) {
    return element.closest("[data-section]");
  }

  function showPickers(section, integration) {
    section.querySelectorAll("[data-template-picker]").forEach(function (picker) {
      var isCurrent = picker.getAttribute("data-template-picker") === integration;
      picker.hidden = !isCurrent;
      picker.querySelectorAll("[data-template-select]").forEach(function (select) {
        select.disabled = !isCurrent;
      });
    });
  }

  function applyChoice(select) {
    var section = sectionOf(select);
    var parts = select.value.split("|");
    var body = section.querySelector("[data-template-picker]:not([hidden]) [data-template-body]");
    if (parts.length !== 3) {
      if (body) { body.hidden = true; }
      return;
    }
    var key = section.getAttribute("data-section");
    var name = section.querySelector('[name="' + key + '.wa_name"]');
    var language = section.querySelector('[name="' + key + '.wa_language"]');
    if (name) { name.value = parts[0]; }
    if (language) { language.value = parts[1]; }
    // The server sets the parameter rows to the template's placeholders and shows its body.
    var form = select.form;
    var go = document.createElement("input");
    go.type = "hidden";
    go.name = "go";
    go.value = "section:" + key;
    form.appendChild(go);
    form.submit();
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-section]").forEach(function (section) {
      var integration = section.querySelector("[data-integration-select]");
      if (integration) {
        integration.addEventListener("change", function () { showPickers(section, integration.value); });
      }
      section.querySelectorAll("[data-template-select]").forEach(function (select) {
        select.addEventListener("change", function () { applyChoice(select); });
      });
    });
  });
})();
