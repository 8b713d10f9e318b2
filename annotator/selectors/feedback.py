"""Feedback to raters on gold clips (the study option `gold_feedback`): once a rater has
answered a gold clip, which of their answers disagreed with its known truth, so they learn
the taxonomy. Nothing here is shown in a study without the option, nor for a clip that is
not gold: a blind study never tells a rater which clips are gold.

A disagreement is an answer that contradicts a gold label: present where the label is known
absent, absent where it is known present, or (in a study that asks modality) present with a
modality other than the known one. "Unsure" makes no claim, so it disagrees with nothing;
labels the rater did not answer are not mentioned (their truth stays unknown to the rater).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from annotator.models import GoldLabel, Judgment, Study, StudyClip


@dataclass(frozen=True)
class GoldTruth:
    """What a gold label says: present or absent, and for present the modality when known."""

    present: bool
    modality: str  # A, V, AV, or "" when not known


@dataclass(frozen=True)
class RatedAnswer:
    """One of a rater's answers, as feedback reads it."""

    category_id: int
    name: str
    answer: str
    modality: str
    added_by_rater: bool


def gold_truths(*, clip_ids: Iterable[int]) -> dict[int, dict[int, GoldTruth]]:
    """Clip pk -> category id -> its gold truth, for these clips (clips without gold left out)."""
    truths: dict[int, dict[int, GoldTruth]] = {}
    rows = GoldLabel.objects.filter(clip_id__in=list(clip_ids)).values_list(
        "clip_id", "category_id", "present", "modality"
    )
    for clip_pk, category_pk, present, modality in rows:
        truths.setdefault(clip_pk, {})[category_pk] = GoldTruth(bool(present), modality or "")
    return truths


def gold_disagreements(
    *, answers: Iterable[RatedAnswer], truth: Mapping[int, GoldTruth], ask_modality: bool
) -> list[dict]:
    """The answers that disagree with the truth (rules: the module's docstring), in the
    order given: {category_id, name, answer, modality, truth, truth_modality, kind}, where
    truth is present / absent and kind says what disagreed (answer or modality)."""
    out = []
    for rated in answers:
        known = truth.get(rated.category_id)
        if known is None or rated.answer == Judgment.Answer.UNSURE:
            continue
        said_present = rated.answer == Judgment.Answer.PRESENT
        if said_present != known.present:
            kind = "answer"
        elif said_present and ask_modality and rated.modality and known.modality and rated.modality != known.modality:
            kind = "modality"
        else:
            continue
        out.append(
            {
                "category_id": rated.category_id,
                "name": rated.name,
                "answer": rated.answer,
                "modality": rated.modality,
                "truth": Judgment.Answer.PRESENT if known.present else Judgment.Answer.ABSENT,
                "truth_modality": known.modality if known.present else "",
                "kind": kind,
            }
        )
    return out


def feedback_applies(*, study: Study, study_clip: StudyClip) -> bool:
    """Whether a rating of this clip gets feedback at all: a gold clip of a study with the option."""
    return bool(study.gold_feedback and study_clip.is_gold)


def rating_feedback(*, rating_id: int, skipped: bool, study: Study, study_clip: StudyClip) -> list[dict]:
    """The rater's disagreements with the gold truth on their rating of `study_clip`
    (gold_disagreements' rows); empty, without a query, when feedback does not apply (no
    option, not a gold clip) or the clip was skipped. What the submit and revise APIs add
    to their answers."""
    if skipped or not feedback_applies(study=study, study_clip=study_clip):
        return []
    truth = gold_truths(clip_ids=[study_clip.clip_id]).get(study_clip.clip_id, {})
    if not truth:
        return []
    rows = (
        Judgment.objects.filter(rating_id=rating_id, category_id__in=list(truth))
        .order_by("pk")
        .values_list("category_id", "category__name", "answer", "modality", "added_by_rater")
    )
    return gold_disagreements(answers=[RatedAnswer(*row) for row in rows], truth=truth, ask_modality=study.ask_modality)
