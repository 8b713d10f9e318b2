/* The rater page: player, spectrogram strip, label toggles, add-a-label, submit.
 *
 * Everything works from the keyboard; keys are handled at the window level, except while
 * the add-a-label box has focus (Esc leaves it). The page config comes from the
 * #rater-config JSON script written by the view. Reserving a clip is a POST: the start
 * page (no clip held) sends its form at once.
 *
 * The next clip is ready before the rater asks: while they work on a clip the page asks the
 * queue for the one held ahead (POST next with ahead_of), preloads its video, spectrogram
 * and heatmap out of sight, and on submit switches to it in place at once (no page load),
 * the answers saved meanwhile, pushing a history entry per clip. A reload shows the clip being rated; Back leaves the queue for the
 * page before it, as it did when each clip was a page. The clip held ahead is released
 * when the rater leaves (or logs out). Without one (nothing left, the server said no,
 * `?prefetch=0`), the page sends its hidden #next-form as before.
 *
 * In a study that asks modality, a label's number key cycles present (heard and seen),
 * present (heard only), present (seen only), absent, unsure, not answered; an added label
 * is present by definition and its number (after the shown labels') cycles the three.
 *
 * H opens the rater's last ratings in the study (the history API); arrows and Enter choose
 * one, whose clip and labels load in place of the clip being rated with the rater's answers
 * on them: the same keys change them, Enter saves the change (a new version, through the
 * revise API), Esc goes back to the clip being rated as it was left (its video, answers,
 * added labels and clock kept aside meanwhile; the clip held ahead is untouched). In a study
 * that gives feedback on gold clips, the page waits for a submit's answer and, where it names
 * answers that disagreed with the truth, shows them until the rater dismisses them (Enter or
 * Esc), then moves on.
 */
(function () {
  "use strict";

  const start = document.getElementById("rate-start");
  if (start) {
    start.submit();
    return;
  }

  const configScript = document.getElementById("rater-config");
  let config = JSON.parse(configScript.textContent);
  // The label toggles and their answers: label_toggles.js.
  const labelToggles = window.avlabelLabels;
  const MODALITIES = ["AV", "A", "V"];
  const MODALITY_TEXT = labelToggles.MODALITY_TEXT;
  const ANSWERS = labelToggles.answerCycle(config.ask_modality);
  const setState = labelToggles.setState;
  const SPEEDS = [0.5, 0.75, 1, 1.25, 1.5, 1.75, 2];
  let startedAt = performance.now();

  const rater = document.getElementById("rater");
  let video = document.getElementById("clip-video");
  const canvas = document.getElementById("strip");
  const stripNote = document.getElementById("strip-note");
  const playButton = document.getElementById("btn-play");
  const loopButton = document.getElementById("btn-loop");
  const speedText = document.getElementById("speed");
  const clock = document.getElementById("clock");
  const labelList = document.getElementById("labels");
  const eventType = document.getElementById("event-type");
  const heatmap = document.getElementById("heatmap");
  const prefetchHolder = document.getElementById("prefetch");
  let toggles = [];
  const addInput = document.getElementById("add-label");
  const optionList = document.getElementById("add-label-options");
  const chips = document.getElementById("added");
  const notice = document.getElementById("notice");
  const nextForm = document.getElementById("next-form");
  const submitButton = document.getElementById("btn-submit");
  const skipButton = document.getElementById("btn-skip");
  const historyButton = document.getElementById("btn-history");
  const historyPanel = document.getElementById("history-panel");
  const historyList = document.getElementById("history-list");
  const historyNote = document.getElementById("history-note");
  const revisionBanner = document.getElementById("revision-banner");
  const statusLine = document.getElementById("status-line");
  const feedbackPanel = document.getElementById("feedback-panel");
  const feedbackList = document.getElementById("feedback-list");
  const feedbackContinue = document.getElementById("feedback-continue");
  // How long a 409 (lapsed reservation, closed study) stays on screen before the page moves on.
  const CONFLICT_NOTICE_MS = 2500;

  let submitting = false;

  /* ---------------- player ---------------- */

  function togglePlay() {
    if (video.paused || video.ended) {
      video.play().catch(function () { showNotice("Press Space or Play to start the clip."); });
    } else {
      video.pause();
    }
  }

  function replay() {
    video.currentTime = 0;
    video.play().catch(function () {});
  }

  function toggleLoop() {
    video.loop = !video.loop;
    loopButton.setAttribute("aria-pressed", String(video.loop));
  }

  function changeSpeed(step) {
    let index = SPEEDS.indexOf(video.playbackRate);
    if (index < 0) index = SPEEDS.indexOf(1);
    index = Math.min(SPEEDS.length - 1, Math.max(0, index + step));
    video.playbackRate = SPEEDS[index];
    speedText.textContent = SPEEDS[index] + "\u00d7";
  }

  function updatePlayButton() {
    playButton.firstChild.textContent = video.paused ? "Play " : "Pause ";
  }

  function videoFailed() { showNotice("This clip's video cannot be played here."); }

  // The listeners of the video on show; a preloaded one gets them when it is swapped in.
  function attachVideo(element) {
    element.addEventListener("play", updatePlayButton);
    element.addEventListener("pause", updatePlayButton);
    element.addEventListener("error", videoFailed);
    element.addEventListener("loadedmetadata", drawStrip);
    if (element.error) videoFailed();
  }

  attachVideo(video);
  playButton.addEventListener("click", togglePlay);
  document.getElementById("btn-replay").addEventListener("click", replay);
  loopButton.addEventListener("click", toggleLoop);
  document.getElementById("btn-slower").addEventListener("click", function () { changeSpeed(-1); });
  document.getElementById("btn-faster").addEventListener("click", function () { changeSpeed(1); });
  video.play().catch(function () { /* autoplay refused: Space starts it */ });

  /* ---------------- spectrogram strip ---------------- */

  const strip = { image: null, duration: 0, onsets: [], instants: [], columnsPerSecond: 10 };

  // A dark-to-bright colour map (black, indigo, magenta, orange, pale yellow).
  const STOPS = [[0, 0, 4], [59, 15, 112], [140, 41, 129], [222, 73, 104], [254, 159, 109], [252, 253, 191]];
  function colour(value) {
    const position = (value / 255) * (STOPS.length - 1);
    const low = Math.floor(position);
    const high = Math.min(STOPS.length - 1, low + 1);
    const t = position - low;
    return STOPS[low].map(function (c, i) { return Math.round(c + (STOPS[high][i] - c) * t); });
  }

  function buildImage(doc) {
    const bytes = Uint8Array.from(atob(doc.data), function (ch) { return ch.charCodeAt(0); });
    const width = doc.n_columns;
    const height = doc.n_mels;
    const off = document.createElement("canvas");
    off.width = width;
    off.height = height;
    const context = off.getContext("2d");
    const pixels = context.createImageData(width, height);
    for (let x = 0; x < width; x++) {
      for (let band = 0; band < height; band++) {
        const rgb = colour(bytes[x * height + band]);
        const offset = ((height - 1 - band) * width + x) * 4; // low frequencies at the bottom
        pixels.data[offset] = rgb[0];
        pixels.data[offset + 1] = rgb[1];
        pixels.data[offset + 2] = rgb[2];
        pixels.data[offset + 3] = 255;
      }
    }
    context.putImageData(pixels, 0, 0);
    return off;
  }

  function timeline() {
    return (isFinite(video.duration) && video.duration > 0) ? video.duration : (strip.duration || 10);
  }

  function resizeCanvas() {
    const ratio = window.devicePixelRatio || 1;
    canvas.width = Math.max(1, Math.round(canvas.clientWidth * ratio));
    canvas.height = Math.max(1, Math.round(canvas.clientHeight * ratio));
    drawStrip();
  }

  function drawTicks(context, times, colourName, top, length) {
    const width = canvas.width;
    const total = timeline();
    context.fillStyle = colourName;
    const tickWidth = Math.max(2, Math.round(width / 400));
    times.forEach(function (t) {
      const x = Math.round((t / total) * width);
      context.fillRect(x - tickWidth / 2, top, tickWidth, length);
    });
  }

  function drawStrip() {
    const context = canvas.getContext("2d");
    const width = canvas.width;
    const height = canvas.height;
    const total = timeline();
    context.fillStyle = "#111";
    context.fillRect(0, 0, width, height);
    if (strip.image) {
      context.imageSmoothingEnabled = true;
      const columnsSeconds = strip.image.width / strip.columnsPerSecond;
      context.drawImage(strip.image, 0, 0, Math.round((columnsSeconds / total) * width), height);
    }
    // one faint tick per second
    context.fillStyle = "rgba(255,255,255,0.25)";
    for (let s = 1; s < total; s++) context.fillRect(Math.round((s / total) * width), height - 6, 1, 6);
    const tickLength = Math.round(height * 0.22);
    drawTicks(context, strip.onsets, "#ffd166", 0, tickLength);
    drawTicks(context, strip.instants, "#c4a5ff", height - tickLength, tickLength);
    const x = Math.round((video.currentTime / total) * width);
    context.fillStyle = "#fff";
    context.fillRect(x - 1, 0, Math.max(2, Math.round(width / 500)), height);
  }

  let lastDrawnTime = -1;
  function animate() {
    if (video.currentTime !== lastDrawnTime) {
      lastDrawnTime = video.currentTime;
      clock.textContent = video.currentTime.toFixed(1) + " s / " + timeline().toFixed(1) + " s";
      drawStrip();
    }
    window.requestAnimationFrame(animate);
  }

  canvas.addEventListener("click", function (event) {
    const box = canvas.getBoundingClientRect();
    video.currentTime = Math.max(0, Math.min(1, (event.clientX - box.left) / box.width)) * timeline();
  });
  window.addEventListener("resize", resizeCanvas);

  // A clip's strip, fetched and turned into an image: {doc, image} (image null without sound).
  function stripLoad(url) {
    return fetch(url, { credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.json();
      })
      .then(function (doc) {
        return { doc: doc, image: doc.has_audio && doc.n_columns > 0 ? buildImage(doc) : null };
      });
  }

  // Show a clip's strip once loaded; `forClip` guards against a late answer for another clip.
  function stripShow(loading, forClip) {
    strip.image = null;
    strip.duration = 0;
    strip.onsets = [];
    strip.instants = (config.evidence && config.evidence.instant_seconds) || [];
    canvas.dataset.ready = "false";
    stripNote.textContent = "Loading the sound\u2026";
    stripNote.hidden = false;
    drawStrip();
    loading
      .then(function (loaded) {
        if (config.study_clip_id !== forClip) return;
        strip.duration = loaded.doc.duration;
        strip.onsets = loaded.doc.onsets || [];
        strip.columnsPerSecond = loaded.doc.columns_per_second;
        strip.image = loaded.image;
        if (loaded.image) stripNote.hidden = true;
        else stripNote.textContent = "This clip has no sound track.";
        canvas.dataset.ready = "true";
        drawStrip();
      })
      .catch(function () {
        if (config.study_clip_id === forClip) stripNote.textContent = "The sound picture could not be made for this clip.";
      });
  }

  resizeCanvas();
  window.requestAnimationFrame(animate);

  /* ---------------- label toggles ---------------- */

  function cycle(toggle) {
    labelToggles.cycle(toggle, ANSWERS);
    hideNotice();
  }

  // The clip's labels, in their fixed order (key 1-9, name, the heads that proposed it).
  function labelsRender() {
    toggles = labelToggles.render(labelList, config.labels, cycle);
    shownIds = new Set(toggles.map(function (t) { return Number(t.dataset.category); }));
  }

  // The model's evidence beside the strip: its event type and heatmap, where the study shows them.
  function evidenceRender() {
    const evidence = config.evidence;
    eventType.hidden = !(evidence && evidence.event_type);
    eventType.querySelector("strong").textContent = (evidence && evidence.event_type) || "";
    const image = heatmap.querySelector("img");
    if (evidence && evidence.heatmap_url) {
      image.src = evidence.heatmap_url;
      heatmap.hidden = false;
    } else {
      image.removeAttribute("src");
      heatmap.hidden = true;
    }
  }

  /* ---------------- add a label ---------------- */

  let shownIds = new Set();
  const added = new Map(); // category id -> {name, modality}
  let options = [];
  let highlighted = -1;
  let querySerial = 0;
  let queryTimer = null;

  // The number key of the added label at `index` (0-based): after the shown labels', up to 9.
  function chipKey(index) {
    const key = toggles.length + index + 1;
    return key <= 9 ? String(key) : "";
  }

  function cycleChip(id) {
    const label = added.get(id);
    label.modality = MODALITIES[(MODALITIES.indexOf(label.modality) + 1) % MODALITIES.length];
    renderChips();
  }

  function renderChips() {
    chips.replaceChildren();
    Array.from(added.entries()).forEach(function (entry, index) {
      const id = entry[0];
      const name = entry[1].name;
      const chip = document.createElement("span");
      chip.className = "chip";
      chip.dataset.category = String(id);
      chip.textContent = name;
      if (config.ask_modality) {
        const modality = entry[1].modality;
        chip.dataset.modality = modality;
        const button = document.createElement("button");
        button.type = "button";
        button.className = "modality";
        const key = chipKey(index);
        button.title = "Heard, seen or both" + (key ? " (" + key + ")" : "");
        button.textContent = (key ? key + " " : "") + (MODALITY_TEXT[modality] || "where: not said");
        button.addEventListener("click", function () { cycleChip(id); button.blur(); });
        chip.appendChild(button);
      }
      if (mode !== "revise") { // a revision keeps the labels the rater added
        const remove = document.createElement("button");
        remove.type = "button";
        remove.setAttribute("aria-label", "Remove " + name);
        remove.textContent = "\u00d7";
        remove.addEventListener("click", function () { added.delete(id); renderChips(); });
        chip.appendChild(remove);
      }
      chips.appendChild(chip);
    });
  }

  function renderOptions() {
    optionList.replaceChildren();
    if (!addInput.value.trim()) {
      optionList.hidden = true;
      addInput.setAttribute("aria-expanded", "false");
      return;
    }
    if (options.length === 0) {
      const empty = document.createElement("li");
      empty.className = "empty";
      empty.textContent = "No matching label";
      optionList.appendChild(empty);
    }
    options.forEach(function (option, index) {
      const item = document.createElement("li");
      item.id = "add-option-" + index;
      item.setAttribute("role", "option");
      item.setAttribute("aria-selected", String(index === highlighted));
      item.dataset.category = String(option.id);
      item.textContent = option.name;
      item.addEventListener("mousedown", function (event) { event.preventDefault(); pick(index); });
      optionList.appendChild(item);
    });
    optionList.hidden = false;
    addInput.setAttribute("aria-expanded", "true");
    if (highlighted >= 0) addInput.setAttribute("aria-activedescendant", "add-option-" + highlighted);
    else addInput.removeAttribute("aria-activedescendant");
  }

  let optionsQuery = "";

  function search() {
    const query = addInput.value.trim();
    const serial = ++querySerial;
    if (!query) { options = []; optionsQuery = ""; highlighted = -1; renderOptions(); return Promise.resolve(); }
    return fetch(config.categories_url + "?q=" + encodeURIComponent(query), { credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.json() : { results: [] }; })
      .then(function (data) {
        if (serial !== querySerial) return; // an older answer arriving late
        options = data.results.filter(function (o) { return !shownIds.has(o.id) && !added.has(o.id); });
        optionsQuery = query;
        highlighted = options.length ? 0 : -1;
        renderOptions();
      });
  }

  function pick(index) {
    const option = options[index];
    if (!option) return;
    added.set(option.id, { name: option.name, modality: MODALITIES[0] });
    renderChips();
    addInput.value = "";
    optionsQuery = "";
    options = [];
    highlighted = -1;
    renderOptions();
    addInput.focus();
  }

  function leaveInput() {
    addInput.value = "";
    optionsQuery = "";
    options = [];
    highlighted = -1;
    renderOptions();
    addInput.blur();
  }

  addInput.addEventListener("input", function () {
    window.clearTimeout(queryTimer);
    queryTimer = window.setTimeout(search, 120);
  });
  addInput.addEventListener("blur", function () { optionList.hidden = true; });
  addInput.addEventListener("keydown", function (event) {
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      if (options.length) {
        const step = event.key === "ArrowDown" ? 1 : -1;
        highlighted = (highlighted + step + options.length) % options.length;
        renderOptions();
      }
    } else if (event.key === "Enter") {
      event.preventDefault();
      if (!addInput.value.trim()) { leaveInput(); return; }
      window.clearTimeout(queryTimer);
      if (optionsQuery !== addInput.value.trim()) {
        // typed faster than the suggestions came: add the best match once it is known
        search().then(function () { if (options.length) pick(0); });
        return;
      }
      if (options.length) pick(highlighted >= 0 ? highlighted : 0);
    } else if (event.key === "Escape") {
      event.preventDefault();
      leaveInput();
    } else if (event.key === "Backspace" && !addInput.value && added.size) {
      const last = Array.from(added.keys()).pop();
      added.delete(last);
      renderChips();
    }
    event.stopPropagation();
  });

  /* ---------------- submit and skip ---------------- */

  function showNotice(text) { notice.textContent = text; notice.hidden = false; }
  function hideNotice() { notice.hidden = true; }

  function post(skipped) {
    if (mode === "revise") { if (!skipped) revisionSave(); return; }
    if (submitting) return;
    const answers = {};
    const modalities = {};
    const missing = [];
    toggles.forEach(function (toggle) {
      if (toggle.dataset.state) answers[toggle.dataset.category] = toggle.dataset.state;
      else missing.push(toggle);
      if (toggle.dataset.modality) modalities[toggle.dataset.category] = toggle.dataset.modality;
      if (!skipped && !toggle.dataset.state) toggle.classList.add("missing");
    });
    if (!skipped && missing.length) {
      const numbers = missing.map(function (t) { return toggles.indexOf(t) + 1; }).join(", ");
      showNotice("Answer every label first (not answered: " + numbers + "), or press S to skip the clip.");
      return;
    }
    submitting = true;
    // The same endpoint API clients use (session auth + CSRF), so validation lives once.
    const body = {
      answers: skipped ? {} : answers,
      added: skipped ? [] : Array.from(added.keys()).map(Number),
      seconds_spent: Number(((performance.now() - startedAt) / 1000).toFixed(2)),
      skipped: skipped,
    };
    if (config.ask_modality && !skipped) {
      added.forEach(function (label, id) { modalities[id] = label.modality; });
      body.modalities = modalities;
    }
    if (aheadReady && !config.gold_feedback) {
      // The clip held ahead is loaded: show it now and save these answers meanwhile. (With
      // feedback on gold clips the page waits for the answer: it may name answers to show.)
      const saved = saveInBackground(config.submit_url, body, 0);
      show(aheadReady, saved);
      return;
    }
    submitSend(config.submit_url, body, false)
      .then(function (result) {
        if (result.ok) {
          const feedback = result.data.feedback || [];
          if (feedback.length) feedbackShow(feedback, moveOn);
          else moveOn();
          return;
        }
        if (result.status === 409) {
          // Nothing to retry here (the reservation lapsed, or the study closed): say so, go on.
          showNotice((result.data.message || "This clip can no longer be rated.") + " Moving on\u2026");
          window.setTimeout(leaveForNext, CONFLICT_NOTICE_MS);
          return;
        }
        submitting = false;
        showNotice(result.status
          ? result.data.message || "Could not save this rating."
          : "Could not reach the server: your answers are still here, press Enter to try again.");
      });
  }

  // {ok, status, data}; status 0 when the server could not be reached.
  function submitSend(url, body, keepalive) {
    return apiPost(url, body, keepalive)
      .then(function (response) {
        return response.json().catch(function () { return { message: "The server answered " + response.status + "." }; })
          .then(function (data) { return { ok: response.ok, status: response.status, data: data }; });
      })
      .catch(function () { return { ok: false, status: 0, data: {} }; });
  }

  // The answers of a clip the page moved on from: sent again (submit is idempotent) while the
  // server cannot be reached or fails, a few times. Unsaved in the end, the clip is still
  // held for the rater, and older than the one on show: the queue serves it to them again
  // next (as the clip held ahead). Kept alive: leaving the page does not cancel it.
  const SAVE_RETRIES_MS = [1000, 2000, 4000];
  let saving = 0;
  rater.dataset.saving = "0";

  function saveInBackground(url, body, attempt) {
    saving += 1;
    rater.dataset.saving = String(saving);
    return submitSend(url, body, true).then(function (result) {
      saving -= 1;
      rater.dataset.saving = String(saving);
      if (result.ok) return;
      const retry = result.status === 0 || result.status >= 500;
      if (retry && attempt < SAVE_RETRIES_MS.length) {
        return new Promise(function (resolve) { window.setTimeout(resolve, SAVE_RETRIES_MS[attempt]); })
          .then(function () { return saveInBackground(url, body, attempt + 1); });
      }
      if (result.status === 409) {
        showNotice("Your answers for the previous clip were not stored: " + (result.data.message || "it can no longer be rated."));
      } else {
        showNotice("Your answers for the previous clip could not be saved; it comes back after this one.");
      }
    });
  }

  function csrfToken() { return nextForm.querySelector("[name=csrfmiddlewaretoken]").value; }

  function apiPost(url, body, keepalive) {
    return fetch(url, {
      method: "POST",
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "same-origin",
      keepalive: Boolean(keepalive),
      headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRFToken": csrfToken() },
    });
  }

  function clipUrl(pattern, id) { return pattern.replace("{id}", String(id)); }

  /* ---------------- the clip held ahead ---------------- */

  // What rater_page_config (annotator/views.py) makes of a clip payload, for a preloaded clip.
  function clipConfig(payload) {
    const evidence = payload.evidence;
    return Object.assign({}, config, {
      study_clip_id: payload.study_clip_id,
      media_url: payload.media_url,
      spectrogram_url: payload.spectrogram_url,
      submit_url: clipUrl(config.submit_url_pattern, payload.study_clip_id),
      labels: payload.labels.slice().sort(function (a, b) { return a.position - b.position; }).map(function (label) {
        return { category_id: label.category_id, name: label.name, heads: label.heads || [] };
      }),
      ask_modality: payload.ask_modality,
      evidence: evidence ? {
        instant_seconds: evidence.instant_seconds || [],
        onset_seconds: evidence.onset_seconds || [],
        event_type: evidence.event_type || "",
        heatmap_url: evidence.heatmap_url || "",
      } : null,
    });
  }

  let ahead = null; // Promise of {config, video, strip} for the clip held ahead, or of null
  let aheadReady = null; // the same once loaded: a submit then shows it at once
  let aheadId = null; // its study clip id once the server named it: released if unused
  let leaving = false; // the page is going to the next clip by itself: keep what it holds

  function preload(next) {
    const element = document.createElement("video");
    element.preload = "auto";
    element.playsInline = true;
    element.tabIndex = -1;
    element.src = next.media_url;
    prefetchHolder.appendChild(element);
    const stripLoading = stripLoad(next.spectrogram_url);
    stripLoading.catch(function () { /* shown as "could not be made" once it is the clip */ });
    if (next.evidence && next.evidence.heatmap_url) new Image().src = next.evidence.heatmap_url;
    return { config: next, video: element, strip: stripLoading };
  }

  // Ask for the clip held ahead of the one on show, once `after` settles: the answers of the
  // clip before must be stored first, or the queue would answer that clip, still held.
  function requestAhead(after) {
    aheadId = null;
    aheadReady = null;
    // "asking", then "ready" or "none": what the page holds ahead (tests and benches wait on it).
    rater.dataset.ahead = config.prefetch ? "asking" : "none";
    if (!config.prefetch) { ahead = Promise.resolve(null); return; }
    const forClip = config.study_clip_id;
    ahead = (after || Promise.resolve())
      .then(function () { return queueClipId() === forClip ? apiPost(config.next_api_url, { ahead_of: forClip }) : null; })
      .then(function (response) {
        // 204: nothing beyond this clip; 409: this clip lapsed. Either way the form decides.
        return response && response.status === 200 ? response.json() : null;
      })
      .then(function (payload) {
        if (!payload || queueClipId() !== forClip) return null;
        aheadId = payload.study_clip_id;
        const next = preload(clipConfig(payload));
        if (queueClipId() === forClip) aheadReady = next;
        return next;
      })
      .catch(function () { return null; });
    ahead.then(function (next) {
      if (queueClipId() === forClip) rater.dataset.ahead = next ? "ready" : "none";
    });
  }

  function releaseAhead(keepalive) {
    if (aheadId === null) return Promise.resolve();
    const id = aheadId;
    aheadId = null;
    return apiPost(clipUrl(config.release_url_pattern, id), undefined, keepalive).catch(function () {});
  }

  // After a submit: the clip held ahead when there is one, else the next clip by the form.
  function moveOn() {
    ahead.then(function (next) {
      if (next) show(next, null);
      else leaveForNext();
    });
  }

  function leaveForNext() {
    leaving = true; // the server serves the clip held ahead first: not released
    nextForm.submit();
  }

  function show(next, saved) {
    const previous = video;
    previous.pause();
    next.video.id = "clip-video";
    previous.replaceWith(next.video);
    previous.removeAttribute("src");
    previous.load(); // frees its decoder and buffer
    video = next.video;
    config = next.config;
    configScript.textContent = JSON.stringify(config);
    clipStart(next.strip, saved);
    progressStep();
    historyIndex += 1;
    history.pushState({ raterIndex: historyIndex }, "", clipPageUrl());
    video.loop = false;
    loopButton.setAttribute("aria-pressed", "false");
    video.playbackRate = 1;
    speedText.textContent = "1\u00d7";
    updatePlayButton();
    attachVideo(video);
    video.play().catch(function () { /* Space starts it */ });
    // The focus may have been on a control of the clip before (a label, a chip): keys are
    // the window's again, and the new clip starts at the top of its card.
    if (document.activeElement && document.activeElement !== document.body) document.activeElement.blur();
    rater.focus({ preventScroll: true });
  }

  // Everything of the clip in `config` on screen, its answers blank, and the one after it asked for.
  function clipStart(stripLoading, saved) {
    rater.dataset.studyClip = String(config.study_clip_id);
    labelsRender();
    evidenceRender();
    added.clear();
    renderChips();
    leaveInput();
    hideNotice();
    announce("");
    stripShow(stripLoading, config.study_clip_id);
    startedAt = performance.now();
    submitting = false;
    requestAhead(saved);
  }

  function progressStep() {
    const bar = document.querySelector(".progress-line .progress");
    const text = document.getElementById("progress-text");
    if (!bar || !text) return;
    const total = Number(bar.getAttribute("aria-valuemax"));
    const done = Math.min(total, Number(bar.getAttribute("aria-valuenow")) + 1);
    bar.setAttribute("aria-valuenow", String(done));
    bar.firstElementChild.style.width = (total ? (100 * done) / total : 0).toFixed(1) + "%";
    text.textContent = done + " of " + total + " done";
  }

  /* ---------------- the rater's last ratings: revising one ---------------- */

  let mode = "rate"; // "rate": the clip the queue serves; "revise": one of the rater's last ratings
  let panel = null; // "history" or "feedback" while that panel is open over the page
  let queueState = null; // while revising: everything of the clip being rated, to go back to
  let revising = null; // the rating being revised, as the rating API answered it
  const panels = window.avlabelPanels; // rater_panels.js
  const pastRatings = new panels.PastRatings(historyList, historyNote, historyChoose);
  const timeAgo = panels.timeAgo;
  let feedbackThen = null;
  const REVISE_ONLY_ANSWERS =
    "Changing an earlier rating changes its answers only (no skipping, no new labels): Enter saves, Esc goes back.";

  // The clip the queue serves (the one being rated), whichever clip is on show.
  function queueClipId() { return queueState ? queueState.config.study_clip_id : config.study_clip_id; }

  function announce(text) { statusLine.textContent = text; }

  function getJson(url) {
    return fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) {
        return response.json().catch(function () { return {}; })
          .then(function (data) { return { ok: response.ok, status: response.status, data: data }; });
      })
      .catch(function () { return { ok: false, status: 0, data: {} }; });
  }

  function historyOpen() {
    if (!config.history_url || panel || (submitting && mode === "rate")) return;
    panel = "history";
    historyPanel.hidden = false;
    historyButton.setAttribute("aria-expanded", "true");
    pastRatings.clear("Loading your last ratings\u2026");
    historyList.focus({ preventScroll: true });
    getJson(config.history_url).then(function (result) {
      if (panel !== "history") return;
      if (!result.ok) {
        historyNote.textContent = result.status
          ? result.data.message || "Your last ratings could not be loaded."
          : "Could not reach the server; press Esc and try again.";
        return;
      }
      pastRatings.render(result.data);
    });
  }

  function historyClose() {
    if (panel !== "history") return;
    panel = null;
    historyPanel.hidden = true;
    historyButton.setAttribute("aria-expanded", "false");
    rater.focus({ preventScroll: true });
  }

  function historyChoose() {
    const item = pastRatings.selected();
    if (!item) return;
    if (!item.revisable) { historyNote.textContent = item.refusal; return; }
    historyNote.textContent = "Opening\u2026";
    getJson(clipUrl(config.rating_url_pattern, item.id)).then(function (result) {
      if (panel !== "history") return;
      if (!result.ok || !result.data.revisable) {
        historyNote.textContent = result.ok
          ? result.data.refusal
          : result.data.message || "This rating could not be opened.";
        return;
      }
      historyClose();
      revisionOpen(result.data);
    });
  }

  // Put `next` on show in place of the video on show: the queue's clip's is kept aside
  // (`keep`), a rating's reopened is let go.
  function videoSwap(next, keep) {
    const previous = video;
    previous.pause();
    next.id = "clip-video";
    previous.replaceWith(next);
    if (!keep) {
      previous.removeAttribute("src");
      previous.load();
    }
    video = next;
  }

  function playerReset(loop, rate) {
    video.loop = loop;
    loopButton.setAttribute("aria-pressed", String(loop));
    video.playbackRate = rate;
    speedText.textContent = rate + "\u00d7";
    updatePlayButton();
  }

  // One of the rater's ratings (the rating API's answer), on show with their answers on it.
  function revisionOpen(detail) {
    const fromQueue = mode === "rate";
    if (fromQueue) {
      queueState = {
        config: config,
        video: video,
        loop: video.loop,
        rate: video.playbackRate,
        labelNodes: Array.from(labelList.childNodes),
        toggles: toggles,
        shownIds: shownIds,
        added: Array.from(added.entries()).map(function (entry) { return [entry[0], Object.assign({}, entry[1])]; }),
        strip: Object.assign({}, strip),
        stripReady: canvas.dataset.ready,
        stripNote: stripNote.textContent,
        stripNoteHidden: stripNote.hidden,
        elapsed: performance.now() - startedAt,
        notice: notice.hidden ? null : notice.textContent,
      };
    }
    mode = "revise";
    revising = detail;
    const element = document.createElement("video");
    element.preload = "auto";
    element.playsInline = true;
    element.tabIndex = -1;
    element.src = detail.media_url;
    videoSwap(element, fromQueue);
    attachVideo(video);
    playerReset(false, 1);
    config = Object.assign(clipConfig(detail), { revise_url: clipUrl(config.revise_url_pattern, detail.id) });
    labelsRender();
    const answered = new Map(detail.labels.map(function (label) { return [label.category_id, label]; }));
    toggles.forEach(function (toggle) {
      const label = answered.get(Number(toggle.dataset.category));
      setState(toggle, label.answer, label.modality || "");
    });
    added.clear();
    detail.added.forEach(function (label) { added.set(label.category_id, { name: label.name, modality: label.modality }); });
    renderChips();
    evidenceRender();
    stripShow(stripLoad(detail.spectrogram_url), detail.study_clip_id);
    let changed = "";
    if (detail.version > 1) changed = ", changed " + (detail.version - 1) + (detail.version === 2 ? " time" : " times");
    revisionBanner.textContent = "Changing your answers for a clip you rated " + timeAgo(detail.submitted_at) + changed +
      ". Enter saves the change; Esc goes back to the clip you were rating.";
    revisionBanner.hidden = false;
    submitButton.firstChild.textContent = "Save changes ";
    skipButton.hidden = true;
    addInput.disabled = true;
    hideNotice();
    announce("");
    rater.dataset.mode = "revise";
    rater.dataset.revising = String(detail.id);
    startedAt = performance.now();
    submitting = false;
    video.play().catch(function () { /* Space starts it */ });
    rater.focus({ preventScroll: true });
  }

  // Back to the clip being rated, as it was left.
  function revisionLeave() {
    if (mode !== "revise") return;
    const state = queueState;
    mode = "rate";
    queueState = null;
    revising = null;
    videoSwap(state.video, false);
    playerReset(state.loop, state.rate);
    config = state.config;
    labelList.replaceChildren.apply(labelList, state.labelNodes);
    toggles = state.toggles;
    shownIds = state.shownIds;
    added.clear();
    state.added.forEach(function (entry) { added.set(entry[0], entry[1]); });
    renderChips();
    evidenceRender();
    if (state.stripReady === "true") {
      Object.assign(strip, state.strip);
      canvas.dataset.ready = "true";
      stripNote.textContent = state.stripNote;
      stripNote.hidden = state.stripNoteHidden;
      drawStrip();
    } else {
      stripShow(stripLoad(config.spectrogram_url), config.study_clip_id); // it had not loaded yet
    }
    startedAt = performance.now() - state.elapsed;
    revisionBanner.hidden = true;
    submitButton.firstChild.textContent = "Submit ";
    skipButton.hidden = false;
    addInput.disabled = false;
    if (state.notice) showNotice(state.notice);
    else hideNotice();
    rater.dataset.mode = "rate";
    delete rater.dataset.revising;
    submitting = false;
    rater.focus({ preventScroll: true });
  }

  function revisionSave() {
    if (submitting) return;
    const answers = {};
    const modalities = {};
    const missing = [];
    toggles.forEach(function (toggle, index) {
      if (toggle.dataset.state) answers[toggle.dataset.category] = toggle.dataset.state;
      else { missing.push(index + 1); toggle.classList.add("missing"); }
      if (toggle.dataset.modality) modalities[toggle.dataset.category] = toggle.dataset.modality;
    });
    if (missing.length) {
      showNotice("Answer every label before saving (not answered: " + missing.join(", ") + "), or press Esc to leave it as it was.");
      return;
    }
    const body = {
      answers: answers,
      seconds_spent: Number(((performance.now() - startedAt) / 1000).toFixed(2)),
      version: revising.version,
    };
    if (config.ask_modality) {
      added.forEach(function (label, id) { if (label.modality) modalities[id] = label.modality; });
      body.modalities = modalities;
    }
    submitting = true;
    const opened = revising;
    submitSend(config.revise_url, body, false).then(function (result) {
      if (revising !== opened) return;
      submitting = false;
      if (!result.ok) {
        showNotice(result.status
          ? result.data.message || "Could not save this change."
          : "Could not reach the server: your changes are still here, press Enter to try again.");
        return;
      }
      const saved = result.data.version !== opened.version
        ? "Your change is saved (version " + result.data.version + " of that rating)."
        : "Nothing to save: those were already your answers.";
      const back = function () { revisionLeave(); announce(saved); };
      if (result.data.feedback && result.data.feedback.length) feedbackShow(result.data.feedback, back);
      else back();
    });
  }

  /* ---------------- feedback after a gold clip ---------------- */

  // The answers that disagreed with a gold clip's truth, until the rater dismisses them; then `then`.
  function feedbackShow(items, then) {
    panel = "feedback";
    feedbackThen = then;
    panels.feedbackRender(feedbackList, items);
    feedbackPanel.hidden = false;
    rater.dataset.feedback = String(items.length);
    feedbackContinue.focus({ preventScroll: true });
  }

  function feedbackDismiss() {
    if (panel !== "feedback") return;
    panel = null;
    feedbackPanel.hidden = true;
    delete rater.dataset.feedback;
    const then = feedbackThen;
    feedbackThen = null;
    rater.focus({ preventScroll: true });
    if (then) then();
  }

  feedbackContinue.addEventListener("click", feedbackDismiss);
  historyButton.addEventListener("click", function () { if (panel === "history") historyClose(); else historyOpen(); });

  // Keys while a panel is open: the panel's own, nothing of the clip's.
  function panelKey(event) {
    const key = event.key;
    if (key === "Tab") return;
    if (panel === "feedback") {
      event.preventDefault();
      if ((key === "Enter" || key === "Escape") && !event.repeat) feedbackDismiss();
      return;
    }
    if (key === "ArrowDown" || key === "ArrowUp") pastRatings.move(key === "ArrowDown" ? 1 : -1);
    else if (key === "Home" || key === "End") pastRatings.select(key === "Home" ? 0 : "end");
    else if (key === "Enter") { if (!event.repeat) historyChoose(); }
    else if (key === "Escape" || key.toLowerCase() === "h") historyClose();
    else return;
    event.preventDefault();
  }

  /* ---------------- history, leaving the page ---------------- */

  // One entry per clip, each naming its clip; they all show the clip being rated on reload.
  let historyIndex = history.state && typeof history.state.raterIndex === "number" ? history.state.raterIndex : 0;
  function clipPageUrl() { return config.next_url + "?clip=" + config.study_clip_id; }

  window.addEventListener("popstate", function (event) {
    const index = event.state && event.state.raterIndex;
    if (typeof index !== "number") return;
    // Back over clips already submitted leaves the queue for the page before it (as when
    // each clip was a page); forward to an entry of ours shows the clip being rated.
    if (index < historyIndex) history.go(-(index + 1));
    else window.location.reload();
  });

  window.addEventListener("pagehide", function () { if (!leaving) releaseAhead(true); });
  // Back from another page may restore this one from the cache with its clip held ahead
  // released: load it again, fresh from the queue.
  window.addEventListener("pageshow", function (event) { if (event.persisted) window.location.reload(); });
  const logout = document.querySelector("form.logout");
  if (logout) {
    logout.addEventListener("submit", function (event) {
      // Released before the session ends (after, the request would no longer be the rater's).
      if (aheadId === null) return;
      event.preventDefault();
      leaving = true;
      releaseAhead(true).then(function () { logout.submit(); });
    });
  }

  document.getElementById("btn-submit").addEventListener("click", function () { post(false); });
  document.getElementById("btn-skip").addEventListener("click", function () { post(true); });

  /* ---------------- keyboard ---------------- */

  const KEYS = {
    " ": togglePlay,
    r: replay,
    l: toggleLoop,
    "[": function () { changeSpeed(-1); },
    "-": function () { changeSpeed(-1); },
    "]": function () { changeSpeed(1); },
    "+": function () { changeSpeed(1); },
    "=": function () { changeSpeed(1); },
    a: function () { if (mode === "revise") showNotice(REVISE_ONLY_ANSWERS); else addInput.focus(); },
    s: function () { if (mode === "revise") showNotice(REVISE_ONLY_ANSWERS); else post(true); },
    h: historyOpen,
    Enter: function () { post(false); },
    Escape: function () { if (mode === "revise" && !submitting) revisionLeave(); },
  };

  window.addEventListener("keydown", function (event) {
    if (event.target === addInput || event.ctrlKey || event.metaKey || event.altKey) return;
    if (panel) { panelKey(event); return; }
    const key = event.key.length === 1 ? event.key.toLowerCase() : event.key;
    if (key === "Escape" && mode !== "revise") return; // the browser's, unless leaving a revision
    let action = KEYS[key];
    if (!action && /^[1-9]$/.test(key)) {
      const index = Number(key) - 1;
      const chipIds = Array.from(added.keys());
      if (toggles[index]) action = function () { cycle(toggles[index]); };
      else if (config.ask_modality && chipIds[index - toggles.length] !== undefined) {
        action = function () { cycleChip(chipIds[index - toggles.length]); };
      }
    }
    if (!action) return;
    event.preventDefault();
    if (!event.repeat || key === "[" || key === "]" || key === "-" || key === "+" || key === "=") action();
  }, true);

  if (config.prefetch) history.replaceState({ raterIndex: historyIndex }, "", clipPageUrl());
  clipStart(stripLoad(config.spectrogram_url));

  // Space on a focused button would click it on key-up: the key is ours.
  window.addEventListener("keyup", function (event) {
    if (event.key === " " && event.target !== addInput) event.preventDefault();
  }, true);
})();
