/* The qualification page: one gold clip at a time, answered by keyboard as on the rate page
 * (number keys cycle a label's answer, Space plays, R replays, Enter submits), posted to the
 * qualification API. With the study's feedback on, the answers that disagreed with the truth
 * show before the next clip (Enter goes on). The page reloads for each clip: the server says
 * which is due, and the result once the last is answered.
 */
(function () {
  "use strict";

  const config = JSON.parse(document.getElementById("qualify-config").textContent);
  const startRating = document.getElementById("start-rating") || document.getElementById("back-home");
  if (!config.clip) {
    if (startRating) startRating.focus();
    return;
  }

  // The label toggles and their answers: label_toggles.js.
  const labelToggles = window.avlabelLabels;
  const ANSWERS = labelToggles.answerCycle(config.ask_modality);
  const video = document.getElementById("clip-video");
  const list = document.getElementById("labels");
  const notice = document.getElementById("notice");
  const feedback = document.getElementById("feedback");
  const startedAt = performance.now();
  let sending = false;
  let finished = false;

  function cycle(toggle) {
    labelToggles.cycle(toggle, ANSWERS);
    notice.hidden = true;
  }

  const toggles = labelToggles.render(list, config.clip.labels, cycle);

  function show(element, text) {
    element.textContent = text;
    element.hidden = false;
  }

  function submit() {
    if (finished) { window.location.reload(); return; }
    if (sending) return;
    const missing = toggles.filter(function (t) { return !t.dataset.state; });
    if (missing.length) {
      missing.forEach(function (t) { t.classList.add("missing"); });
      show(notice, "Answer every label first (" + missing.length + " left).");
      return;
    }
    const answers = {};
    const modalities = {};
    toggles.forEach(function (t) {
      answers[t.dataset.category] = t.dataset.state;
      if (t.dataset.modality) modalities[t.dataset.category] = t.dataset.modality;
    });
    sending = true;
    fetch(config.answer_url, {
      method: "POST",
      credentials: "same-origin",
      headers: {
        "Content-Type": "application/json",
        "Accept": "application/json",
        "X-CSRFToken": document.querySelector("[name=csrfmiddlewaretoken]").value,
      },
      body: JSON.stringify({
        position: config.clip.position,
        answers: answers,
        modalities: modalities,
        seconds_spent: Math.round((performance.now() - startedAt) / 100) / 10,
      }),
    }).then(function (response) {
      return response.json().then(function (body) { return { ok: response.ok, body: body }; });
    }).then(function (result) {
      sending = false;
      if (!result.ok) { show(notice, result.body.message || "The answers could not be saved."); return; }
      finished = true;
      if (!result.body.feedback.length) { window.location.reload(); return; }
      const lines = result.body.feedback.map(function (item) {
        return item.name + ": you said " + item.answer + ", the truth is " + item.truth + ".";
      });
      show(feedback, lines.join(" ") + " Press Enter to go on.");
      document.getElementById("btn-submit").textContent = "Next";
    }).catch(function () {
      sending = false;
      show(notice, "The answers could not be sent; check the connection and press Enter again.");
    });
  }

  function togglePlay() { if (video.paused) video.play().catch(function () {}); else video.pause(); }
  function replay() { video.currentTime = 0; video.play().catch(function () {}); }

  document.getElementById("btn-submit").addEventListener("click", submit);
  document.getElementById("btn-play").addEventListener("click", togglePlay);
  document.getElementById("btn-replay").addEventListener("click", replay);

  window.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    const key = event.key.length === 1 ? event.key.toLowerCase() : event.key;
    let action = null;
    if (key === "Enter") action = submit;
    else if (key === " ") action = togglePlay;
    else if (key === "r") action = replay;
    else if (/^[1-9]$/.test(key) && toggles[Number(key) - 1]) {
      action = function () { cycle(toggles[Number(key) - 1]); };
    }
    if (!action) return;
    event.preventDefault();
    if (!event.repeat) action();
  }, true);
  document.getElementById("qualify").focus();
})();
