/* The rater page: player, spectrogram strip, label toggles, add-a-label, submit.
 *
 * Everything works from the keyboard; keys are handled at the window level, except while
 * the add-a-label box has focus (Esc leaves it). The page config comes from the
 * #rater-config JSON script written by the view. Reserving a clip is a POST: after a
 * submit (or when the server says the reservation lapsed) the page sends its hidden
 * #next-form, and the start page (no clip held) sends its form at once.
 *
 * In a study that asks modality, a label's number key cycles present (heard and seen),
 * present (heard only), present (seen only), absent, unsure, not answered; an added label
 * is present by definition and its number (after the shown labels') cycles the three.
 */
(function () {
  "use strict";

  const start = document.getElementById("rate-start");
  if (start) {
    start.submit();
    return;
  }

  const config = JSON.parse(document.getElementById("rater-config").textContent);
  // An answer is [state, modality]; modality only for present, only where the study asks it.
  const MODALITIES = ["AV", "A", "V"];
  const MODALITY_TEXT = { AV: "heard and seen", A: "heard only", V: "seen only" };
  const ANSWERS = config.ask_modality
    ? [["", ""], ["present", "AV"], ["present", "A"], ["present", "V"], ["absent", ""], ["unsure", ""]]
    : [["", ""], ["present", ""], ["absent", ""], ["unsure", ""]];
  const STATE_TEXT = { "": "not answered", present: "present", absent: "absent", unsure: "unsure" };
  const SPEEDS = [0.5, 0.75, 1, 1.25, 1.5, 1.75, 2];
  const startedAt = performance.now();

  const video = document.getElementById("clip-video");
  const canvas = document.getElementById("strip");
  const stripNote = document.getElementById("strip-note");
  const playButton = document.getElementById("btn-play");
  const loopButton = document.getElementById("btn-loop");
  const speedText = document.getElementById("speed");
  const clock = document.getElementById("clock");
  const toggles = Array.from(document.querySelectorAll("#labels .label-toggle"));
  const addInput = document.getElementById("add-label");
  const optionList = document.getElementById("add-label-options");
  const chips = document.getElementById("added");
  const notice = document.getElementById("notice");
  const nextForm = document.getElementById("next-form");
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

  video.addEventListener("play", updatePlayButton);
  video.addEventListener("pause", updatePlayButton);
  video.addEventListener("error", function () { showNotice("This clip's video cannot be played here."); });
  playButton.addEventListener("click", togglePlay);
  document.getElementById("btn-replay").addEventListener("click", replay);
  loopButton.addEventListener("click", toggleLoop);
  document.getElementById("btn-slower").addEventListener("click", function () { changeSpeed(-1); });
  document.getElementById("btn-faster").addEventListener("click", function () { changeSpeed(1); });
  video.play().catch(function () { /* autoplay refused: Space starts it */ });

  /* ---------------- spectrogram strip ---------------- */

  const strip = { image: null, duration: 0, onsets: [], instants: (config.evidence && config.evidence.instant_seconds) || [] };

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
  video.addEventListener("loadedmetadata", drawStrip);
  window.addEventListener("resize", resizeCanvas);

  fetch(config.spectrogram_url, { credentials: "same-origin" })
    .then(function (response) {
      if (!response.ok) throw new Error("HTTP " + response.status);
      return response.json();
    })
    .then(function (doc) {
      strip.duration = doc.duration;
      strip.onsets = doc.onsets || [];
      strip.columnsPerSecond = doc.columns_per_second;
      if (doc.has_audio && doc.n_columns > 0) {
        strip.image = buildImage(doc);
        stripNote.hidden = true;
      } else {
        stripNote.textContent = "This clip has no sound track.";
      }
      canvas.dataset.ready = "true";
      drawStrip();
    })
    .catch(function () { stripNote.textContent = "The sound picture could not be made for this clip."; });

  resizeCanvas();
  window.requestAnimationFrame(animate);

  /* ---------------- label toggles ---------------- */

  function answerText(state, modality) {
    return modality ? STATE_TEXT[state] + ", " + MODALITY_TEXT[modality] : STATE_TEXT[state];
  }

  function setState(toggle, state, modality) {
    toggle.dataset.state = state;
    toggle.dataset.modality = modality;
    toggle.setAttribute("aria-pressed", String(state !== ""));
    toggle.querySelector(".answer").textContent = answerText(state, modality);
    toggle.classList.remove("missing");
  }

  function cycle(toggle) {
    const state = toggle.dataset.state || "";
    const modality = toggle.dataset.modality || "";
    const index = ANSWERS.findIndex(function (a) { return a[0] === state && a[1] === modality; });
    const next = ANSWERS[(index + 1) % ANSWERS.length];
    setState(toggle, next[0], next[1]);
    hideNotice();
  }

  toggles.forEach(function (toggle) {
    toggle.addEventListener("click", function () { cycle(toggle); toggle.blur(); });
  });

  /* ---------------- add a label ---------------- */

  const shownIds = new Set(toggles.map(function (t) { return Number(t.dataset.category); }));
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
        button.textContent = (key ? key + " " : "") + MODALITY_TEXT[modality];
        button.addEventListener("click", function () { cycleChip(id); button.blur(); });
        chip.appendChild(button);
      }
      const remove = document.createElement("button");
      remove.type = "button";
      remove.setAttribute("aria-label", "Remove " + name);
      remove.textContent = "\u00d7";
      remove.addEventListener("click", function () { added.delete(id); renderChips(); });
      chip.appendChild(remove);
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
    fetch(config.submit_url, {
      method: "POST",
      body: JSON.stringify(body),
      credentials: "same-origin",
      headers: {
        "Content-Type": "application/json",
        "Accept": "application/json",
        "X-CSRFToken": nextForm.querySelector("[name=csrfmiddlewaretoken]").value,
      },
    })
      .then(function (response) {
        return response.json().catch(function () { return { message: "The server answered " + response.status + "." }; })
          .then(function (data) { return { ok: response.ok, status: response.status, data: data }; });
      })
      .then(function (result) {
        if (result.ok) { nextForm.submit(); return; }
        if (result.status === 409) {
          // Nothing to retry here (the reservation lapsed, or the study closed): say so, go on.
          showNotice((result.data.message || "This clip can no longer be rated.") + " Moving on\u2026");
          window.setTimeout(function () { nextForm.submit(); }, CONFLICT_NOTICE_MS);
          return;
        }
        submitting = false;
        showNotice(result.data.message || "Could not save this rating.");
      })
      .catch(function () {
        submitting = false;
        showNotice("Could not reach the server: your answers are still here, press Enter to try again.");
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
    a: function () { addInput.focus(); },
    s: function () { post(true); },
    Enter: function () { post(false); },
  };

  window.addEventListener("keydown", function (event) {
    if (event.target === addInput || event.ctrlKey || event.metaKey || event.altKey) return;
    const key = event.key.length === 1 ? event.key.toLowerCase() : event.key;
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

  // Space on a focused button would click it on key-up: the key is ours.
  window.addEventListener("keyup", function (event) {
    if (event.key === " " && event.target !== addInput) event.preventDefault();
  }, true);
})();
