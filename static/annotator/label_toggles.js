/* The label toggles the rate and qualification pages share: a button per shown label (its
 * number key, its name, the heads that proposed it, the answer given), and the cycle a
 * number key or a click walks: not answered, present (in a study that asks modality:
 * heard and seen, heard only, seen only), absent, unsure. Loaded before the page's script,
 * it defines window.avlabelLabels.
 */
(function () {
  "use strict";

  const MODALITY_TEXT = { AV: "heard and seen", A: "heard only", V: "seen only" };
  const STATE_TEXT = { "": "not answered", present: "present", absent: "absent", unsure: "unsure" };

  // An answer is [state, modality]; modality only for present, only where the study asks it.
  function answerCycle(askModality) {
    return askModality
      ? [["", ""], ["present", "AV"], ["present", "A"], ["present", "V"], ["absent", ""], ["unsure", ""]]
      : [["", ""], ["present", ""], ["absent", ""], ["unsure", ""]];
  }

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

  function cycle(toggle, answers) {
    const state = toggle.dataset.state || "";
    const modality = toggle.dataset.modality || "";
    // An answer outside the cycle (present with no modality given, in a rating reopened) goes
    // on as from "not answered".
    const index = Math.max(0, answers.findIndex(function (a) { return a[0] === state && a[1] === modality; }));
    const next = answers[(index + 1) % answers.length];
    setState(toggle, next[0], next[1]);
  }

  // The labels into `list`, in their fixed order: key 1-9, name (and the heads that proposed
  // it). A click calls onClick(toggle). Returns the toggles.
  function render(list, labels, onClick) {
    list.replaceChildren();
    return labels.map(function (label, index) {
      const item = document.createElement("li");
      const toggle = document.createElement("button");
      toggle.type = "button";
      toggle.className = "label-toggle";
      toggle.dataset.category = String(label.category_id);
      toggle.dataset.state = "";
      toggle.dataset.modality = "";
      toggle.setAttribute("aria-pressed", "false");
      const key = document.createElement("span");
      key.className = "key";
      key.textContent = index < 9 ? String(index + 1) : "";
      const name = document.createElement("span");
      name.className = "name";
      name.textContent = label.name;
      if (label.heads && label.heads.length) {
        const heads = document.createElement("span");
        heads.className = "heads";
        heads.textContent = "proposed by the " + label.heads.join(", ") + " head" + (label.heads.length > 1 ? "s" : "");
        name.appendChild(heads);
      }
      const answer = document.createElement("span");
      answer.className = "answer";
      answer.textContent = STATE_TEXT[""];
      toggle.append(key, name, answer);
      toggle.addEventListener("click", function () { onClick(toggle); toggle.blur(); });
      item.appendChild(toggle);
      list.appendChild(item);
      return toggle;
    });
  }

  window.avlabelLabels = {
    MODALITY_TEXT: MODALITY_TEXT,
    answerCycle: answerCycle,
    answerText: answerText,
    setState: setState,
    cycle: cycle,
    render: render,
  };
})();
