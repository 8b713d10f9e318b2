"""What the end-to-end test expects, worked out by hand from the stored rows.

Nothing here calls ``evaluation``: the figures are recomputed in plain Python from the
Judgment, Rating and StudyClipLabel rows, with the rules the evaluation app documents
(``evaluation/metrics.py``):

- a label is confirmed when more raters answered present than absent; unsure counts for
  neither side; a tie (or only unsure answers) is not confirmed;
- an added label is shown to the clip's later raters; its votes are those of the raters
  shown it plus its adder's present, and it needs two present answers to be confirmed;
- agreement (Fleiss' kappa, Krippendorff's alpha) is over every shown label, present vs
  absent, with unsure as a missing answer; gold clips are left out of the study figures.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field

from annotator.models import ClipLabel, Judgment, Rating, Study, StudyClip, StudyClipLabel

PRESENT, ABSENT, UNSURE = "present", "absent", "unsure"
#: key presses of a label's number key that leave it in each state: the page cycles
#: not answered -> present -> absent -> unsure, or with modality asked (the default)
#: not answered -> present AV -> present A -> present V -> absent -> unsure
PRESSES = {PRESENT: 1, ABSENT: 2, UNSURE: 3}
PRESSES_WITH_MODALITY = {PRESENT: 1, ABSENT: 4, UNSURE: 5}


def planned_answer(*, rater_index: int, clip_rank: int, position: int, in_original: bool) -> str:
    """The answer a simulated rater types, deterministic and not always in agreement.

    Rater 0 answers truthfully (present when the label is one of the clip's original
    labels). Rater 1 does too, except that it flips its answer where (clip rank + label
    position) is a multiple of 3 and is unsure where it is 1 modulo 4 (when not flipped),
    so the first label of the first clip is always a disagreement.
    """
    truth = PRESENT if in_original else ABSENT
    if rater_index == 0:
        return truth
    key = clip_rank + position
    if key % 3 == 0:
        return ABSENT if truth == PRESENT else PRESENT
    if key % 4 == 1:
        return UNSURE
    return truth


@dataclass
class LabelVotes:
    label: str
    source: str  # proposal | decoy | added
    present: int = 0
    absent: int = 0
    unsure: int = 0
    in_original: bool = False

    @property
    def confirmed(self) -> bool:
        return self.present > self.absent and (self.source != "added" or self.present >= 2)

    @property
    def agreement(self) -> float | None:
        decisive = self.present + self.absent
        return max(self.present, self.absent) / decisive if decisive else None


@dataclass
class ClipExpectation:
    clip_id: str
    youtube_id: str
    start_seconds: float | None
    original_labels: list[str]
    raters: int
    is_gold: bool
    labels: list[LabelVotes] = field(default_factory=list)

    def listed(self, *, include_rejected: bool) -> list[LabelVotes]:
        """The labels the dataset export lists for the clip, in its order (most present
        votes first, then by name)."""
        chosen = [v for v in self.labels if include_rejected or v.confirmed]
        return sorted(chosen, key=lambda v: (-v.present, v.label))


@dataclass
class StudyExpectation:
    clips: dict[str, ClipExpectation]
    n_clips: int  # rated, non-gold clips
    n_raters: int
    n_proposals: int
    confirmed_proposals: int
    n_decoys: int
    confirmed_decoys: int
    fleiss_kappa: float | None
    krippendorff_alpha: float | None
    item_answers: list[dict[int, str]]  # per shown item on sampled clips: rater id -> present/absent

    @property
    def mean_proposals_per_clip(self) -> float:
        return self.n_proposals / self.n_clips

    @property
    def acceptance(self) -> float | None:
        return self.confirmed_proposals / self.n_proposals if self.n_proposals else None

    @property
    def decoy_acceptance(self) -> float | None:
        return self.confirmed_decoys / self.n_decoys if self.n_decoys else None

    @property
    def correct_per_clip(self) -> float:
        return self.confirmed_proposals / self.n_clips

    @property
    def corrected_acceptance(self) -> float | None:
        a, d = self.acceptance, self.decoy_acceptance
        if a is None or d is None or d == 1:
            return None
        return (a - d) / (1 - d)

    def missing_label_rows(self) -> list[tuple]:
        """Labels the raters' majority confirmed that the clip's original labels lack:
        (clip, label, source, present, absent, unsure, agreement, original labels)."""
        rows = [
            (
                clip.clip_id,
                vote.label,
                vote.source,
                vote.present,
                vote.absent,
                vote.unsure,
                vote.agreement,
                ", ".join(clip.original_labels),
            )
            for clip in self.clips.values()
            for vote in clip.labels
            if vote.confirmed and not vote.in_original
        ]
        return sorted(rows, key=lambda row: (row[0], row[1]))

    def human_study_values(self) -> dict[str, float | None]:
        """Measure -> value, as the human-study table states it (percentages x 100)."""

        def percent(value: float | None) -> float | None:
            return None if value is None else 100.0 * value

        return {
            "Clips rated": float(self.n_clips),
            "Raters": float(self.n_raters),
            "Mean proposed labels per clip |P|": self.mean_proposals_per_clip,
            "Proposals confirmed (%)": percent(self.acceptance),
            "Correct labels per clip": self.correct_per_clip,
            "Decoys confirmed (%)": percent(self.decoy_acceptance),
            "Confirmed, corrected for decoys (%)": percent(self.corrected_acceptance),
            "Fleiss' kappa": self.fleiss_kappa,
            "Krippendorff's alpha (nominal)": self.krippendorff_alpha,
        }


def fleiss_kappa_by_hand(items: list[list[str]]) -> float | None:
    """Fleiss' kappa over present/absent answers, items with fewer than two answers left
    out; each item's pairwise agreement weighted equally (Fleiss 1971 when every item has
    the same number of answers)."""
    pairable = [answers for answers in items if len(answers) >= 2]
    if not pairable:
        return None
    agreements = []
    totals: Counter[str] = Counter()
    for answers in pairable:
        counts = Counter(answers)
        n = len(answers)
        agreements.append((sum(c * c for c in counts.values()) - n) / (n * (n - 1)))
        totals.update(counts)
    p_bar = sum(agreements) / len(agreements)
    all_answers = sum(totals.values())
    p_e = sum((count / all_answers) ** 2 for count in totals.values())
    if p_e == 1:
        return None
    return (p_bar - p_e) / (1 - p_e)


def krippendorff_alpha_by_package(items: list[dict[int, str]]) -> float | None:
    """Krippendorff's nominal alpha from the ``krippendorff`` package (an implementation
    independent of the app's): raters x items, unsure and unrated as missing."""
    import krippendorff
    import numpy as np

    raters = sorted({rater for answers in items for rater in answers})
    data = np.full((len(raters), len(items)), np.nan)
    for column, answers in enumerate(items):
        for rater, answer in answers.items():
            data[raters.index(rater), column] = 1.0 if answer == PRESENT else 0.0
    if len(set(data[~np.isnan(data)].tolist())) < 2:
        return None  # a single value: no expected disagreement, alpha undefined
    return float(krippendorff.alpha(reliability_data=data, level_of_measurement="nominal"))


def study_expectation(*, study: Study) -> StudyExpectation:
    study_clips = {sc.pk: sc for sc in StudyClip.objects.filter(study=study).select_related("clip")}
    shown = {
        (row.study_clip_id, row.category_id): row
        for row in StudyClipLabel.objects.filter(study_clip__study=study).select_related("category")
    }
    ratings = list(Rating.objects.filter(study_clip__study=study, skipped=False))
    completed = Counter(rating.study_clip_id for rating in ratings)
    judgments = list(Judgment.objects.filter(rating__in=ratings).select_related("rating", "category"))

    original: dict[int, dict[int, str]] = defaultdict(dict)  # clip pk -> category index -> name
    for row in ClipLabel.objects.filter(clip__study_clips__study=study).select_related("category"):
        original[row.clip_id][row.category.index] = row.category.name

    votes: dict[tuple[int, int], LabelVotes] = {}
    answers_by_item: dict[tuple[int, int], dict[int, str]] = defaultdict(dict)
    for judgment in judgments:
        sc = study_clips[judgment.rating.study_clip_id]
        key = (sc.pk, judgment.category_id)
        if key not in votes:
            source = shown[key].source if key in shown else "added"
            votes[key] = LabelVotes(
                label=judgment.category.name,
                source=source,
                in_original=judgment.category.index in original[sc.clip_id],
            )
        vote = votes[key]
        setattr(vote, judgment.answer, getattr(vote, judgment.answer) + 1)
        if judgment.answer != UNSURE:
            answers_by_item[key][judgment.rating.rater_id] = judgment.answer

    clips: dict[str, ClipExpectation] = {}
    for sc_pk in completed:
        sc = study_clips[sc_pk]
        clips[sc.clip.clip_id] = ClipExpectation(
            clip_id=sc.clip.clip_id,
            youtube_id=sc.clip.youtube_id,
            start_seconds=sc.clip.start_seconds,
            original_labels=[name for _, name in sorted(original[sc.clip_id].items())],
            raters=completed[sc_pk],
            is_gold=sc.is_gold,
            labels=[vote for (pk, _), vote in votes.items() if pk == sc_pk],
        )

    sampled = {sc_pk for sc_pk in completed if not study_clips[sc_pk].is_gold}
    shown_sampled = [(key, row) for key, row in shown.items() if key[0] in sampled and row.source != "added"]
    proposals = [key for key, row in shown_sampled if not row.is_decoy]
    decoys = [key for key, row in shown_sampled if row.is_decoy]
    items = [answers_by_item[key] for key, _ in shown_sampled]
    return StudyExpectation(
        clips=clips,
        n_clips=len(sampled),
        n_raters=len({rating.rater_id for rating in ratings}),
        n_proposals=len(proposals),
        confirmed_proposals=sum(votes[key].confirmed for key in proposals),
        n_decoys=len(decoys),
        confirmed_decoys=sum(votes[key].confirmed for key in decoys),
        fleiss_kappa=fleiss_kappa_by_hand([list(answers.values()) for answers in items]),
        krippendorff_alpha=krippendorff_alpha_by_package(items),
        item_answers=items,
    )
