/* Study creation form: list only the chosen dataset's proposal sets. */
(function () {
  "use strict";
  const dataset = document.getElementById("id_dataset");
  const proposalSet = document.getElementById("id_proposal_set");
  if (!dataset || !proposalSet) return;

  function filter() {
    const chosen = dataset.value;
    Array.from(proposalSet.options).forEach(function (option) {
      if (!option.value) return; // the empty choice
      const matches = !chosen || option.dataset.dataset === chosen;
      option.hidden = !matches;
      option.disabled = !matches;
    });
    const current = proposalSet.selectedOptions[0];
    if (current && current.disabled) proposalSet.value = "";
    const open = Array.from(proposalSet.options).filter(function (o) { return o.value && !o.disabled; });
    if (chosen && !proposalSet.value && open.length === 1) proposalSet.value = open[0].value;
  }

  dataset.addEventListener("change", filter);
  filter();
})();
