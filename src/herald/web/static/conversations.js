/* Conversations: small comforts on top of plain forms.
 *
 * The thread opens scrolled to its latest message, and Ctrl+Enter (or
 * Cmd+Enter) sends the reply. Everything works without this file.
 */
(function () {
  "use strict";

  var thread = document.getElementById("thread");
  if (thread && thread.lastElementChild) {
    thread.lastElementChild.scrollIntoView({ block: "nearest" });
  }

  var reply = document.getElementById("reply-text");
  if (reply && reply.form) {
    reply.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
        event.preventDefault();
        if (reply.form.requestSubmit) { reply.form.requestSubmit(); } else { reply.form.submit(); }
      }
    });
  }
})();
