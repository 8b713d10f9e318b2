"""bench/consensus.py's simulated raters: known behaviour, applied to the labels a clip shows
them, knowing the clip's truth (the bench is privileged; the app never tells them), and their
turns at a study's queue through the real services (Django, imported when they rate)."""

from __future__ import annotations

import random
import sys
import time
from collections import Counter
from dataclasses import dataclass

from consensus_truth import MODALITIES, TruthClip

UNSURE = 0.05  # every judgment is "unsure" with this probability first
ADD_MISSING = 0.3  # chance of adding each true label the clip does not show


@dataclass(frozen=True)
class RaterProfile:
    kind: str
    present_if_true: float  # p(present) on a true shown label
    present_if_false: float  # p(present) on a false shown label
    modality_right: float | None  # p(true modality) of a true label; None: uniform over MODALITIES


CAREFUL = RaterProfile("careful", 0.9, 0.1, 0.9)
LENIENT = RaterProfile("lenient", 0.9, 0.6, 0.8)
RANDOM = RaterProfile("random", 0.5, 0.5, None)
POOL = (CAREFUL,) * 9 + (LENIENT,) * 2 + (RANDOM,)


def rater_names() -> list[str]:
    """A username per POOL entry, in POOL order: careful1..careful9, lenient1, lenient2, random1."""
    seen: Counter = Counter()
    names = []
    for profile in POOL:
        seen[profile.kind] += 1
        names.append(f"{profile.kind}{seen[profile.kind]}")
    return names


@dataclass(frozen=True)
class RaterAnswer:
    answers: dict[int, str]  # category id -> "present" | "absent" | "unsure"
    added: list[int]  # category ids
    modalities: dict[int, str]  # category id -> "A" | "V" | "AV", for present and added labels


def _modality(profile: RaterProfile, true_modality: str | None, rng: random.Random) -> str:
    """The modality a rater gives; `true_modality` None: the label is false (a guess)."""
    if true_modality is None or profile.modality_right is None:
        return rng.choice(MODALITIES)
    if rng.random() < profile.modality_right:
        return true_modality
    return rng.choice([modality for modality in MODALITIES if modality != true_modality])


def rater_answer(
    *,
    profile: RaterProfile,
    shown: list[dict],
    truth: dict[str, str],
    category_ids: dict[str, int],
    ask_modality: bool,
    rng: random.Random,
) -> RaterAnswer:
    """One rating: a judgment per shown label (payload labels, {category_id, name, ...}),
    the true labels not shown added with p ADD_MISSING, modalities when the study asks."""
    answers: dict[int, str] = {}
    modalities: dict[int, str] = {}
    for label in shown:
        true_modality = truth.get(label["name"])
        if rng.random() < UNSURE:
            answers[label["category_id"]] = "unsure"
            continue
        p_present = profile.present_if_true if true_modality else profile.present_if_false
        present = rng.random() < p_present
        answers[label["category_id"]] = "present" if present else "absent"
        if present and ask_modality:
            modalities[label["category_id"]] = _modality(profile, true_modality, rng)
    shown_names = {label["name"] for label in shown}
    added = []
    for name, true_modality in truth.items():
        if name in shown_names or rng.random() >= ADD_MISSING:
            continue
        added.append(category_ids[name])
        if ask_modality:
            modalities[category_ids[name]] = _modality(profile, true_modality, rng)
    return RaterAnswer(answers=answers, added=added, modalities=modalities)


def study_rate(*, study, raters, truth_by_clip: dict[str, TruthClip], category_ids: dict[str, int], seed: int) -> int:
    """Raters take turns (a seeded random one of those not done) until the queue gives each of
    them None; raters[i] behaves as POOL[i]. Returns the number of ratings submitted."""
    from annotator import selectors, services

    rng = random.Random(seed)
    active = list(range(len(raters)))
    submitted = 0
    started = time.monotonic()
    while active:
        index = rng.choice(active)
        rater = raters[index]
        study_clip = services.clip_next_for_rater(study=study, rater=rater)
        if study_clip is None:
            active.remove(index)
            continue
        payload = selectors.study_clip_payload(study_clip=study_clip)
        answer = rater_answer(
            profile=POOL[index],
            shown=payload["labels"],
            truth=truth_by_clip[study_clip.clip.clip_id].truth,
            category_ids=category_ids,
            ask_modality=payload["ask_modality"],
            rng=rng,
        )
        services.rating_submit(
            study_clip=study_clip,
            rater=rater,
            answers=answer.answers,
            added_category_ids=answer.added,
            modalities=answer.modalities,
            seconds_spent=round(rng.uniform(5, 20), 1),
        )
        submitted += 1
        if submitted % 1000 == 0:
            elapsed = time.monotonic() - started
            rate = submitted / elapsed
            print(f"  {study.name}: {submitted} ratings, {rate:.1f}/s, {len(active)} raters active", file=sys.stderr)
    return submitted
