/* The adjudication page: a researcher's contested labels, one selected at a time, its clip
 * playing, its votes and each rater's answer beside it; the decision is saved through the
 * REST endpoints API clients use (session auth + CSRF), so validation lives once.
 *
 * Keyboard first, like the rate page: keys are handled at the window level except while the
 * note has focus (Enter saves from it, Esc leaves it). J / K or the arrows move through the
 * list (past either end of a page onto the next or previous one), P / A decide present or
 * absent, H / S / B say where a present label is (heard only, seen only, both; pressing the
 * same key again leaves it to the raters' majority), Enter saves and moves on, X clears.
 *
 * The first page comes with the page (#adjudicate-config); after each save or clear the
 * list is updated at once and the page of labels is fetched again in the background, so it
 * matches the server (in the "to decide" list, a decided label leaves and the next slides in).
 */
(function () {
  "use strict";

  const config = JSON.parse(document.getElementById("adjudicate-config").textContent);
  const MODALITY_TEXT = { A: "heard only", V: "seen only", AV: "heard and seen", "": "" };
  const ANSWER_TEXT = { present: "present", absent: "absent", unsure: "unsure" };

  const root = document.getElementById("adjudicate");
  const list = document.getElementById("adj-list");
  const empty = document.getElementById("adj-empty");
  const countText = document.getElementById("adj-count");
  const pageInfo = document.getElementById("page-info");
  const title = document.getElementById("adj-title");
  const detail = document.getElementById("adj-detail");
  const video = document.getElementById("adj-video");
  const playButton = document.getElementById("btn-play");
  const loopButton = document.getElementById("btn-loop");
  const votesBox = document.getElementById("adj-votes");
  const raterRows = document.getElementById("adj-raters");
  const presentButton = document.getElementById("btn-present");
  const absentButton = document.getElementById("btn-absent");
  const modalityButtons = Array.from(document.querySelectorAll(".adj-decision .modality"));
  const note = document.getElementById("adj-note");
  const notice = document.getElementById("notice");
  const statusLine = document.getElementById("adj-status");
  const csrf = document.querySelector("#csrf-form [name=csrfmiddlewaretoken]").value;

  let items = config.labels;
  let count = config.count;
  let page = 1;
  let hasNext = config.has_next;
  let selected = items.length ? 0 : -1;
  let draft = { decision: "", modality: "", note: "" };
  let busy = false;
  let shownClip = null; // the study clip whose video is loaded
  let refreshing = 0; // the latest background refresh: an older answer is dropped

  function key(item) { return item.study_clip_id + ":" + item.category_id; }
  function sortKey(item) { return [item.position, item.category_id]; }
  function after(a, b) { return a[0] > b[0] || (a[0] === b[0] && a[1] > b[1]); }

  /* ---------------- notices ---------------- */

  function showNotice(text) {
    notice.textContent = text;
    notice.hidden = !text;
  }

  function say(text) { statusLine.textContent = text; }

  /* ---------------- list ---------------- */

  function votesText(item) {
    const v = item.votes;
    let text = v.present + " present \u00b7 " + v.absent + " absent";
    if (v.unsure) text += " \u00b7 " + v.unsure + " unsure";
    return text;
  }

  function modalityVotesText(item) {
    const m = item.modality_votes;
    const parts = ["A", "V", "AV"].filter(function (code) { return m[code]; }).map(function (code) {
      return m[code] + " " + MODALITY_TEXT[code];
    });
    return parts.join(" \u00b7 ");
  }

  function decisionText(adjudication) {
    if (!adjudication) return "";
    const where = adjudication.modality ? " (" + MODALITY_TEXT[adjudication.modality] + ")" : "";
    return "decided " + adjudication.decision + where;
  }

  function renderList() {
    list.textContent = "";
    items.forEach(function (item, index) {
      const option = document.createElement("li");
      option.id = "adj-option-" + index;
      option.setAttribute("role", "option");
      option.setAttribute("aria-selected", String(index === selected));
      option.dataset.key = key(item);
      if (item.adjudication) option.dataset.decision = item.adjudication.decision;
      const head = document.createElement("span");
      head.className = "adj-label";
      head.textContent = item.category_name;
      const clip = document.createElement("span");
      clip.className = "muted adj-clip";
      clip.textContent = "#" + (item.position + 1) + " " + item.clip_name + (item.source === "proposal" ? "" : " \u00b7 " + item.source);
      const votes = document.createElement("span");
      votes.className = "num adj-count";
      votes.textContent = votesText(item);
      option.append(head, clip, votes);
      const decided = decisionText(item.adjudication);
      if (decided) {
        const badge = document.createElement("span");
        badge.className = "adj-badge";
        badge.textContent = decided;
        option.append(badge);
      }
      option.addEventListener("click", function () { select(index); });
      list.append(option);
    });
    empty.hidden = items.length > 0;
    detail.hidden = items.length === 0;
    countText.textContent = String(count);
    const pages = Math.max(1, Math.ceil(count / config.page_size));
    pageInfo.textContent = "page " + page + " of " + pages;
    document.getElementById("btn-prev-page").disabled = page <= 1;
    document.getElementById("btn-next-page").disabled = !hasNext;
    if (selected >= 0) {
      list.setAttribute("aria-activedescendant", "adj-option-" + selected);
      const option = document.getElementById("adj-option-" + selected);
      if (option) option.scrollIntoView({ block: "nearest" });
    } else {
      list.removeAttribute("aria-activedescendant");
    }
  }

  /* ---------------- the selected label ---------------- */

  function current() { return selected >= 0 ? items[selected] : null; }

  function select(index) {
    selected = items.length ? Math.max(0, Math.min(items.length - 1, index)) : -1;
    const item = current();
    const decided = item && item.adjudication;
    draft = decided
      ? { decision: decided.decision, modality: decided.modality, note: decided.note }
      : { decision: "", modality: "", note: "" };
    note.value = draft.note;
    showNotice("");
    renderList();
    renderDetail(item);
  }

  // The clip on show changes only when the selected label is another clip's.
  function renderDetail(item) {
    if (!item) {
      shownClip = null;
      video.removeAttribute("src");
      video.load();
      title.textContent = "";
      return;
    }
    title.textContent = item.category_name + " \u2014 clip #" + (item.position + 1) + " " + item.clip_name;
    if (item.study_clip_id !== shownClip) {
      shownClip = item.study_clip_id;
      video.src = item.media_url;
      video.play().catch(function () { /* autoplay refused: Space starts it */ });
    }
    votesBox.textContent = "";
    const line = document.createElement("p");
    line.className = "num";
    line.textContent = votesText(item);
    const modality = modalityVotesText(item);
    if (modality) line.textContent += " \u2014 where: " + modality;
    const facts = document.createElement("p");
    facts.className = "muted";
    facts.textContent = "Label source: " + item.source + (item.is_gold ? " \u00b7 gold clip" : "") +
      (item.contested ? "" : " \u00b7 no longer contested") +
      (item.adjudication ? " \u00b7 " + decisionText(item.adjudication) + " by " + item.adjudication.decided_by : "");
    votesBox.append(line, facts);
    raterRows.textContent = "";
    item.raters.forEach(function (rater) {
      const row = document.createElement("tr");
      const seconds = rater.seconds_spent === null ? "\u2013" : rater.seconds_spent.toFixed(1);
      const answer = ANSWER_TEXT[rater.answer] + (rater.added_by_rater ? " (added it)" : "");
      [rater.username, answer, MODALITY_TEXT[rater.modality] || "", seconds].forEach(function (text, column) {
        const cell = document.createElement("td");
        cell.textContent = text;
        if (column === 3) cell.className = "num";
        row.append(cell);
      });
      row.dataset.answer = rater.answer;
      raterRows.append(row);
    });
    renderDraft();
  }

  function renderDraft() {
    presentButton.setAttribute("aria-pressed", String(draft.decision === "present"));
    absentButton.setAttribute("aria-pressed", String(draft.decision === "absent"));
    modalityButtons.forEach(function (button) {
      button.setAttribute("aria-pressed", String(draft.decision === "present" && draft.modality === button.dataset.modality));
      button.disabled = draft.decision === "absent";
    });
    const item = current();
    const saved = item && item.adjudication;
    const same = saved && saved.decision === draft.decision && saved.modality === draft.modality && saved.note === note.value;
    say(!draft.decision ? "Press P or A to decide." : same ? "Saved." : "Not saved yet: Enter saves.");
  }

  function decide(decision) {
    if (!current()) return;
    draft.decision = decision;
    if (decision !== "present") draft.modality = "";
    renderDraft();
  }

  function where(modality) {
    if (!current()) return;
    draft.modality = draft.decision === "present" && draft.modality === modality ? "" : modality;
    draft.decision = "present";
    renderDraft();
  }

  /* ---------------- the API ---------------- */

  function send(method, url, body) {
    return fetch(url, {
      method: method,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRFToken": csrf },
    })
      .then(function (response) {
        if (response.status === 204) return { ok: true, status: 204, data: null };
        return response.json()
          .catch(function () { return { message: "The server answered " + response.status + "." }; })
          .then(function (data) { return { ok: response.ok, status: response.status, data: data }; });
      })
      .catch(function () { return { ok: false, status: 0, data: { message: "Could not reach the server; try again." } }; });
  }

  function listUrl(number) {
    return config.contested_url + "?state=" + encodeURIComponent(config.state) + "&page=" + number;
  }

  // Fetch page `number` and show it; `focus` picks the label to select in it (its key, or
  // "first" / "last"); a label no longer listed gives way to the one after it.
  function load(number, focus, fallback) {
    const ticket = ++refreshing;
    return send("GET", listUrl(number)).then(function (result) {
      if (ticket !== refreshing) return;
      if (result.status === 404 && number > 1) { load(number - 1, "last"); return; }
      if (!result.ok) { showNotice(result.data.message || "Could not load the labels."); return; }
      const before = current();
      items = result.data.results;
      count = result.data.count;
      hasNext = Boolean(result.data.next);
      page = number;
      let index = -1;
      if (focus === "first") index = 0;
      else if (focus === "last") index = items.length - 1;
      else {
        index = items.findIndex(function (item) { return key(item) === focus; });
        if (index < 0 && fallback) index = items.findIndex(function (item) { return after(sortKey(item), fallback); });
        if (index < 0) index = items.length - 1;
      }
      const keep = before && items[index] && key(items[index]) === key(before);
      selected = items.length ? Math.max(index, 0) : -1;
      if (keep) { renderList(); renderDetail(current()); } else { select(selected); }
    });
  }

  function save() {
    const item = current();
    if (!item || busy) return;
    if (!draft.decision) { showNotice("Press P (present) or A (absent) first."); return; }
    busy = true;
    draft.note = note.value;
    const body = {
      study_clip: item.study_clip_id,
      category: item.category_id,
      decision: draft.decision,
      modality: draft.decision === "present" ? draft.modality : "",
      note: draft.note,
    };
    say("Saving\u2026");
    send("POST", config.adjudicate_url, body).then(function (result) {
      busy = false;
      if (!result.ok) {
        showNotice(result.data.message || "Could not save the decision.");
        renderDraft();
        return;
      }
      item.adjudication = result.data;
      showNotice("");
      moveOnFrom(item, config.state === "open");
    });
  }

  function clear() {
    const item = current();
    if (!item || busy) return;
    if (!item.adjudication) { showNotice("This label has no decision to clear."); return; }
    busy = true;
    const url = config.clear_url_pattern.replace("{study_clip}", item.study_clip_id).replace("{category}", item.category_id);
    send("DELETE", url).then(function (result) {
      busy = false;
      if (!result.ok) { showNotice(result.data.message || "Could not clear the decision."); return; }
      item.adjudication = null;
      showNotice("");
      // A cleared label leaves the "decided" list, and "all" when it is not contested.
      moveOnFrom(item, config.state === "adjudicated" || (config.state === "all" && !item.contested));
    });
  }

  // After a save or clear: the label leaves this list (`leaves`) or stays updated; the next
  // one is selected at once, then the page is fetched again to match the server.
  function moveOnFrom(item, leaves) {
    const index = items.indexOf(item);
    const following = items[index + 1];
    if (leaves) {
      items.splice(index, 1);
      count = Math.max(0, count - 1);
      select(index);
    } else if (following) {
      select(index + 1);
    } else {
      select(index);
    }
    say(leaves || following ? "Saved; next label." : "Saved.");
    const now = current();
    load(page, now ? key(now) : "first", now ? sortKey(now) : sortKey(item));
  }

  function move(step) {
    if (!items.length) return;
    const index = selected + step;
    if (index >= items.length && hasNext) { load(page + 1, "first"); return; }
    if (index < 0 && page > 1) { load(page - 1, "last"); return; }
    select(index);
  }

  /* ---------------- player ---------------- */

  function togglePlay() {
    if (video.paused || video.ended) video.play().catch(function () { showNotice("Press Space or Play to start the clip."); });
    else video.pause();
  }

  function replay() {
    video.currentTime = 0;
    video.play().catch(function () {});
  }

  function toggleLoop() {
    video.loop = !video.loop;
    loopButton.setAttribute("aria-pressed", String(video.loop));
  }

  function updatePlayButton() { playButton.firstChild.textContent = video.paused ? "Play " : "Pause "; }

  video.addEventListener("play", updatePlayButton);
  video.addEventListener("pause", updatePlayButton);
  video.addEventListener("error", function () { if (video.getAttribute("src")) showNotice("This clip's video cannot be played here."); });

  /* ---------------- controls and keys ---------------- */

  playButton.addEventListener("click", togglePlay);
  document.getElementById("btn-replay").addEventListener("click", replay);
  loopButton.addEventListener("click", toggleLoop);
  presentButton.addEventListener("click", function () { decide("present"); });
  absentButton.addEventListener("click", function () { decide("absent"); });
  modalityButtons.forEach(function (button) {
    button.addEventListener("click", function () { where(button.dataset.modality); });
  });
  document.getElementById("btn-save").addEventListener("click", save);
  document.getElementById("btn-clear").addEventListener("click", clear);
  document.getElementById("btn-prev-page").addEventListener("click", function () { if (page > 1) load(page - 1, "first"); });
  document.getElementById("btn-next-page").addEventListener("click", function () { if (hasNext) load(page + 1, "first"); });
  note.addEventListener("input", renderDraft);
  note.addEventListener("keydown", function (event) {
    if (event.key === "Enter") { event.preventDefault(); save(); root.focus({ preventScroll: true }); }
    else if (event.key === "Escape") { event.preventDefault(); root.focus({ preventScroll: true }); }
  });

  const KEYS = {
    j: function () { move(1); },
    ArrowDown: function () { move(1); },
    k: function () { move(-1); },
    ArrowUp: function () { move(-1); },
    PageDown: function () { if (hasNext) load(page + 1, "first"); },
    PageUp: function () { if (page > 1) load(page - 1, "first"); },
    p: function () { decide("present"); },
    a: function () { decide("absent"); },
    h: function () { where("A"); },
    s: function () { where("V"); },
    b: function () { where("AV"); },
    n: function () { if (current()) note.focus(); },
    Enter: save,
    x: clear,
    Delete: clear,
    " ": togglePlay,
    r: replay,
    l: toggleLoop,
  };

  window.addEventListener("keydown", function (event) {
    if (event.target === note || event.ctrlKey || event.metaKey || event.altKey) return;
    const name = event.key.length === 1 ? event.key.toLowerCase() : event.key;
    const action = KEYS[name];
    if (!action) return;
    event.preventDefault();
    if (!event.repeat || name === "j" || name === "k" || name === "ArrowDown" || name === "ArrowUp") action();
  }, true);

  // Space on a focused button would click it on key-up: the key is ours.
  window.addEventListener("keyup", function (event) {
    if (event.key === " " && event.target !== note) event.preventDefault();
  }, true);

  select(selected);
  root.focus({ preventScroll: true });
})();
