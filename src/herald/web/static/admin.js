// Administration pages: actions that are hard to undo ask first.
// A form with data-confirm="question" submits only when the person agrees;
// without this script the form simply submits, as a plain POST.
(function () {
  "use strict";

  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form instanceof HTMLFormElement ? form.getAttribute("data-confirm") : null;
    if (question && !window.confirm(question)) {
      event.preventDefault();
    }
  });
})();
