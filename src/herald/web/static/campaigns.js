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


  // -- Journey: sections, toggles, channel editors -----------------------------
  function initJourney(form) {
    var sectionInput = form.querySelector("[data-section-input]");
    var tabs = function () { return Array.prototype.slice.call(form.querySelectorAll("[data-section-tab]")); };

    function showSection(key) {
      var found = false;
      form.querySelectorAll("[data-section]").forEach(function (section) {
        var isCurrent = section.getAttribute("data-section") === key;
        section.hidden = !isCurrent;
        found = found || isCurrent;
      });
      if (!found) { return; }
      tabs().forEach(function (tab) {
        tab.setAttribute("aria-selected", tab.getAttribute("data-section-tab") === key ? "true" : "false");
      });
      sectionInput.value = key;
      document.body.dispatchEvent(new CustomEvent("journey-section"));
    }

    function goTo(value) {
      // Ask the server to rebuild the form (e.g. start the first fallback).
      var go = document.createElement("input");
      go.type = "hidden";
      go.name = "go";
      go.value = value;
      form.appendChild(go);
      form.submit();
    }

    tabs().forEach(function (tab) {
      tab.addEventListener("click", function (event) {
        event.preventDefault();
        showSection(tab.getAttribute("data-section-tab"));
      });
      // Arrow keys move between the visible tabs, as in any tab list.
      tab.addEventListener("keydown", function (event) {
        if (event.key !== "ArrowRight" && event.key !== "ArrowLeft") { return; }
        var visible = tabs().filter(function (item) { return !item.hidden; });
        var index = visible.indexOf(tab) + (event.key === "ArrowRight" ? 1 : -1);
        var next = visible[(index + visible.length) % visible.length];
        event.preventDefault();
        next.focus();
        showSection(next.getAttribute("data-section-tab"));
      });
    });

    var fallbackToggle = form.querySelector("[data-fallback-toggle]");
    if (fallbackToggle) {
      fallbackToggle.addEventListener("change", function () {
        var fallbackTabs = tabs().filter(function (tab) {
          return tab.getAttribute("data-section-tab").indexOf("fallback-") === 0;
        });
        if (fallbackToggle.checked && fallbackTabs.length === 0) {
          goTo("section:fallback-1");
          return;
        }
        fallbackTabs.forEach(function (tab) { tab.hidden = !fallbackToggle.checked; });
        if (fallbackToggle.checked) {
          showSection("fallback-1");
        } else if (sectionInput.value.indexOf("fallback-") === 0) {
          showSection("primary");
        }
      });
    }

    var followUpToggle = form.querySelector("[data-follow-up-toggle]");
    if (followUpToggle) {
      followUpToggle.addEventListener("change", function () {
        var delay = form.querySelector("[data-follow-up-delay]");
        if (delay) { delay.hidden = !followUpToggle.checked; }
        tabs().forEach(function (tab) {
          if (tab.getAttribute("data-section-tab") === "follow-up") { tab.hidden = !followUpToggle.checked; }
        });
        if (followUpToggle.checked) {
          showSection("follow-up");
        } else if (sectionInput.value === "follow-up") {
          showSection("primary");
        }
      });
    }

    form.querySelectorAll("[data-integration-select]").forEach(function (select) {
      select.addEventListener("change", function () {
        var option = select.options[select.selectedIndex];
        var kind = option ? option.getAttribute("data-kind") : "";
        var section = select.closest("[data-section]");
        section.querySelectorAll(".channel-editor, .channel-editor-empty").forEach(function (editor) {
          editor.hidden = editor.getAttribute("data-kind") !== kind;
        });
      });
    });

    var measureUrl = form.getAttribute("data-measure-url");
    var token = form.querySelector('input[name="csrf_token"]');
    form.querySelectorAll("[data-sms-text]").forEach(function (area) {
      var timer = null;
      var output = document.getElementById(area.getAttribute("aria-describedby"));
      area.addEventListener("input", function () {
        window.clearTimeout(timer);
        timer = window.setTimeout(function () {
          var body = new FormData();
          body.append(area.name, area.value);
          fetch(measureUrl, {
            method: "POST",
            body: body,
            headers: { "X-CSRF-Token": token ? token.value : "" },
            credentials: "same-origin"
          }).then(function (response) {
            return response.ok ? response.text() : null;
          }).then(function (text) {
            if (text !== null && output) { output.textContent = text; }
          });
        }, 250);
      });
    });

    var variables = [];
    try { variables = JSON.parse(form.getAttribute("data-variables") || "[]"); } catch (error) { variables = []; }
    form.querySelectorAll("[data-template]").forEach(function (field) {
      attachVariablePicker(field, variables);
    });
  }

  // -- Typing {{ opens a list of the audience's columns ----------------------------
  var pickerCount = 0;

  function attachVariablePicker(field, variables) {
    if (!variables.length) { return; }
    pickerCount += 1;
    var list = document.createElement("ul");
    list.className = "variable-picker";
    list.id = "variable-picker-" + pickerCount;
    list.setAttribute("role", "listbox");
    list.setAttribute("aria-label", "Columns");
    list.hidden = true;
    field.insertAdjacentElement("afterend", list);
    field.setAttribute("aria-autocomplete", "list");
    field.setAttribute("aria-controls", list.id);
    field.setAttribute("aria-expanded", "false");
    var state = { start: -1, options: [], active: 0 };

    function openQuery() {
      var caret = field.selectionStart;
      var before = field.value.slice(0, caret);
      var open = before.lastIndexOf("{{");
      if (open < 0 || before.indexOf("}}", open) >= 0) { return null; }
      var query = before.slice(open + 2);
      if (!/^[\w.\- ]*$/.test(query)) { return null; }
      return { start: open, query: query.trim().toLowerCase() };
    }

    function close() {
      list.hidden = true;
      field.setAttribute("aria-expanded", "false");
      field.removeAttribute("aria-activedescendant");
      state.start = -1;
    }

    function render() {
      list.innerHTML = "";
      state.options.forEach(function (name, index) {
        var item = document.createElement("li");
        item.id = list.id + "-" + index;
        item.setAttribute("role", "option");
        item.setAttribute("aria-selected", index === state.active ? "true" : "false");
        item.textContent = name;
        item.addEventListener("mousedown", function (event) {
          event.preventDefault();
          insert(name);
        });
        list.appendChild(item);
      });
      // Just below the field (CSSOM, which the CSP allows, unlike style attributes).
      list.style.top = (field.offsetTop + field.offsetHeight) + "px";
      list.style.left = field.offsetLeft + "px";
      list.hidden = false;
      field.setAttribute("aria-expanded", "true");
      field.setAttribute("aria-activedescendant", list.id + "-" + state.active);
    }

    function insert(name) {
      var caret = field.selectionStart;
      var text = "{{" + name + "}}";
      field.value = field.value.slice(0, state.start) + text + field.value.slice(caret);
      var position = state.start + text.length;
      field.setSelectionRange(position, position);
      close();
      field.dispatchEvent(new Event("input", { bubbles: true }));
      field.focus();
    }

    field.addEventListener("input", function () {
      var found = openQuery();
      if (!found) { close(); return; }
      state.start = found.start;
      state.options = variables.filter(function (name) {
        return name.toLowerCase().indexOf(found.query) === 0;
      });
      state.active = 0;
      if (!state.options.length) { close(); return; }
      render();
    });

    field.addEventListener("keydown", function (event) {
      if (list.hidden) { return; }
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        event.preventDefault();
        var step = event.key === "ArrowDown" ? 1 : -1;
        state.active = (state.active + step + state.options.length) % state.options.length;
        render();
      } else if (event.key === "Enter" || event.key === "Tab") {
        event.preventDefault();
        insert(state.options[state.active]);
      } else if (event.key === "Escape") {
        event.preventDefault();
        close();
      }
    });

    field.addEventListener("blur", function () { window.setTimeout(close, 150); });
  }


  // -- Review: the schedule fields matter only when scheduling ----------------------
  function initReview(form) {
    var fields = form.querySelector("[data-schedule-fields]");
    var radios = form.querySelectorAll("[data-when]");
    function sync() {
      var scheduled = form.querySelector('[data-when][value="schedule"]');
      if (fields && scheduled) { fields.hidden = !scheduled.checked; }
    }
    radios.forEach(function (radio) { radio.addEventListener("change", sync); });
    sync();
    var zone = form.querySelector("[data-timezone]");
    if (zone && !zone.value && window.Intl) {
      zone.value = Intl.DateTimeFormat().resolvedOptions().timeZone || "";
    }
  }

  // -- Step indicator: leaving a step with unsaved changes saves them first ------------
  function initStepLinks() {
    var form = document.querySelector("[data-builder-form]");
    if (!form) { return; }
    var dirty = false;
    form.addEventListener("input", function () { dirty = true; });
    form.addEventListener("change", function () { dirty = true; });
    document.querySelectorAll("[data-step-link]").forEach(function (link) {
      link.addEventListener("click", function (event) {
        if (!dirty) { return; }
        event.preventDefault();
        var go = document.createElement("input");
        go.type = "hidden";
        go.name = "go";
        go.value = link.getAttribute("data-step-link");
        form.appendChild(go);
        form.submit();
      });
    });
  }

  // -- Setup: a large file takes a while; say so, and do not send it twice ------------
  function initUploadForms(root) {
    root.querySelectorAll(".upload-form").forEach(function (form) {
      form.addEventListener("submit", function () {
        var button = form.querySelector('button[type="submit"]');
        var status = form.querySelector("[data-upload-status]");
        if (button) { button.disabled = true; }
        if (status) { status.textContent = "Uploading and checking every row…"; }
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    initStepLinks();
    initUploadForms(document);
    initDropZones(document);
    var journeyForm = document.getElementById("journey-form");
    if (journeyForm) { initJourney(journeyForm); }
    var startForm = document.getElementById("start-form");
    if (startForm) { initReview(startForm); }
  });
})();
