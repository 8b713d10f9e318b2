/* The study page's controls: each button with data-control-url posts (its data-body as
 * JSON, after data-confirm if it asks) to the same API clients use, then reloads the page,
 * which shows the new standing and the action in the audit trail. */
(function () {
  "use strict";

  const notice = document.getElementById("control-notice");
  const csrf = document.querySelector("[name=csrfmiddlewaretoken]").value;

  document.querySelectorAll("[data-control-url]").forEach(function (button) {
    button.addEventListener("click", function () {
      if (button.dataset.confirm && !window.confirm(button.dataset.confirm)) return;
      button.disabled = true;
      fetch(button.dataset.controlUrl, {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRFToken": csrf },
        body: button.dataset.body || "{}",
      }).then(function (response) {
        if (response.ok) { window.location.reload(); return; }
        return response.json().then(function (body) {
          button.disabled = false;
          notice.textContent = body.message || "That did not work.";
          notice.hidden = false;
        });
      }).catch(function () {
        button.disabled = false;
        notice.textContent = "The request could not be sent; check the connection.";
        notice.hidden = false;
      });
    });
  });
})();
