/* What the rate page's panels show: the rater's last ratings in the study (H), as a listbox
 * the arrows walk, and the answers on a gold clip that disagreed with its truth. rater.js
 * opens and closes them and owns the keys; loaded after label_toggles.js, before rater.js,
 * this defines window.avlabelPanels.
 */
(function () {
  "use strict";

  const labels = window.avlabelLabels;

  function timeAgo(iso) {
    const seconds = Math.max(0, (Date.now() - Date.parse(iso)) / 1000);
    if (seconds < 60) return "just now";
    const minutes = Math.round(seconds / 60);
    if (minutes < 60) return minutes + " min ago";
    const hours = Math.round(minutes / 60);
    return hours < 24 ? hours + " h ago" : new Date(iso).toLocaleString();
  }

  function pastAnswerText(label) {
    if (label.added_by_rater) return "added" + (label.modality ? ", " + labels.MODALITY_TEXT[label.modality] : "");
    return labels.answerText(label.answer, label.modality);
  }

  // The last ratings as options of `list` (a listbox), one selected; a click on one calls
  // onPick(item). `note` says how many there are.
  function PastRatings(list, note, onPick) {
    this.list = list;
    this.note = note;
    this.onPick = onPick;
    this.items = [];
    this.index = 0;
  }

  PastRatings.prototype.clear = function (text) {
    this.items = [];
    this.list.replaceChildren();
    this.list.removeAttribute("aria-activedescendant");
    this.note.textContent = text;
  };

  PastRatings.prototype.render = function (items) {
    const self = this;
    this.items = items;
    this.list.replaceChildren();
    this.note.textContent = items.length
      ? items.length + " recent rating" + (items.length > 1 ? "s" : "") + ", newest first."
      : "You have not rated a clip in this study yet.";
    items.forEach(function (item, index) {
      const option = document.createElement("li");
      option.id = "past-" + index;
      option.setAttribute("role", "option");
      option.dataset.rating = String(item.id);
      if (!item.revisable) option.setAttribute("aria-disabled", "true");
      let when = (index + 1) + ". Rated " + timeAgo(item.submitted_at);
      if (item.revised_at) when += ", changed " + timeAgo(item.revised_at);
      if (!item.revisable) when += " \u2014 " + item.refusal;
      const whenText = document.createElement("span");
      whenText.className = "when";
      whenText.textContent = when;
      const what = document.createElement("span");
      what.className = "what";
      what.textContent = item.skipped
        ? "Skipped"
        : item.labels.map(function (label) { return label.name + ": " + pastAnswerText(label); }).join(" \u00b7 ");
      option.append(whenText, what);
      option.addEventListener("click", function () { self.select(index); self.onPick(self.selected()); });
      self.list.appendChild(option);
    });
    this.select(0);
  };

  // Select the option at `index`, wrapping around; "end" for the last.
  PastRatings.prototype.select = function (index) {
    if (!this.items.length) return;
    this.index = ((index === "end" ? this.items.length - 1 : index) + this.items.length) % this.items.length;
    const chosen = this.index;
    Array.from(this.list.children).forEach(function (option, i) {
      option.setAttribute("aria-selected", String(i === chosen));
    });
    const option = this.list.children[chosen];
    this.list.setAttribute("aria-activedescendant", option.id);
    option.scrollIntoView({ block: "nearest" });
  };

  PastRatings.prototype.move = function (step) { this.select(this.index + step); };

  PastRatings.prototype.selected = function () { return this.items[this.index]; };

  function feedbackText(item) {
    const said = "you said " + labels.answerText(item.answer, item.modality);
    if (item.kind === "modality") return ": " + said + "; it is " + labels.MODALITY_TEXT[item.truth_modality] + ".";
    const truth = item.truth === "present"
      ? "present" + (item.truth_modality ? ", " + labels.MODALITY_TEXT[item.truth_modality] : "")
      : "absent";
    return ": " + said + "; it is " + truth + ".";
  }

  // The answers that disagreed with a gold clip's truth, one entry of `list` each.
  function feedbackRender(list, items) {
    list.replaceChildren();
    items.forEach(function (item) {
      const entry = document.createElement("li");
      const name = document.createElement("strong");
      name.textContent = item.name;
      entry.append(name, document.createTextNode(feedbackText(item)));
      list.appendChild(entry);
    });
  }

  window.avlabelPanels = { timeAgo: timeAgo, PastRatings: PastRatings, feedbackRender: feedbackRender };
})();
