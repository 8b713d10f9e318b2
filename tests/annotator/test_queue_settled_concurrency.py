"""The settled queue under real concurrency on PostgreSQL: 32 raters in threads, each on its
own connection, rating a study served until settled (at least 3 raters, at most 12 a clip)
as fast as they can, with a seeded mix of right, wrong and unsure answers, added labels,
skips and repeated submits. The helpers come from the fixed-overlap version of this test."""

import random
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime

import pytest
from django.db.models import Count, Q

from annotator import selectors, services
from annotator.models import ClipLabel, Judgment, Rating, Reservation, Study, StudyClip, StudyClipLabel
from tests.annotator.test_queue_concurrency import Monitor, run_threads
from tests.builders import build_world

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

RATERS = 32
MIN_RATERS = 3
MAX_RATERS = 12
CLIPS_PER_CLASS = (8, 8, 8, 8, 8)  # 40 clips: a run of about 30 s on 2 cores
MODALITY_CHOICES = ("A", "V", "AV")
RUN_SECONDS = 180


@dataclass(frozen=True)
class Behaviour:
    """How often a rater strays from the truth, per clip or per shown label."""

    skip: float = 0.05
    submit_twice: float = 0.1
    add_label: float = 0.2
    wrong: float = 0.08
    unsure: float = 0.07
    omit_modality: float = 0.2


@dataclass(frozen=True)
class Sent:
    """One submit the service acknowledged, as the rater's thread sent it: category id ->
    (answer, modality, added by the rater)."""

    rating_id: int
    rater_id: int
    study_clip_id: int
    reserved_at: datetime
    skipped: bool
    judgments: dict[int, tuple[str, str, bool]]


class Rater:
    """One rater's answers: a clip's original label is present and heard and seen, every other
    label absent; mostly right, sometimes wrong, unsure, adding a label or skipping (seeded)."""

    def __init__(self, *, seed: int, truth: dict[int, int], addable: dict[int, list[int]]) -> None:
        self.rng = random.Random(seed)
        self.truth = truth  # study clip id -> the category that is present
        self.addable = addable  # study clip id -> categories its study did not propose or decoy
        self.behaviour = Behaviour()

    def answer(self, *, study_clip_id: int, shown: list[int]) -> tuple[dict, list[int], dict, bool]:
        """(answers, added category ids, modalities, skipped) for the labels `shown`."""
        if self.rng.random() < self.behaviour.skip:
            return {}, [], {}, True
        answers: dict[int, str] = {}
        modalities: dict[int, str] = {}
        for category_pk in shown:
            answers[category_pk] = self._one_answer(present=category_pk == self.truth[study_clip_id])
            if answers[category_pk] == "present":
                self._maybe_modality(modalities, category_pk, right=category_pk == self.truth[study_clip_id])
        added: list[int] = []
        candidates = [pk for pk in self.addable[study_clip_id] if pk not in shown]
        if candidates and self.rng.random() < self.behaviour.add_label:
            added.append(self.rng.choice(candidates))
            self._maybe_modality(modalities, added[0], right=False)
        return answers, added, modalities, False

    def _one_answer(self, *, present: bool) -> str:
        draw = self.rng.random()
        if draw < self.behaviour.unsure:
            return "unsure"
        if draw < self.behaviour.unsure + self.behaviour.wrong:
            return "absent" if present else "present"
        return "present" if present else "absent"

    def _maybe_modality(self, modalities: dict[int, str], category_pk: int, *, right: bool) -> None:
        if self.rng.random() >= self.behaviour.omit_modality:
            modalities[category_pk] = "AV" if right else self.rng.choice(MODALITY_CHOICES)


def clips_still_open_to(*, study: Study, rater) -> int:
    """Clips neither settled nor at the maximum that the rater has not rated or skipped: the
    queue may still serve them (once a reservation of another rater is submitted or skipped)."""
    return (
        StudyClip.objects.filter(study=study, settled=False)
        .exclude(ratings__rater=rater)
        .annotate(completed=Count("ratings", filter=Q(ratings__skipped=False)))
        .filter(completed__lt=MAX_RATERS)
        .count()
    )


def test_32_raters_on_a_settled_queue_lose_nothing_and_settle_every_clip(postgres_db):
    # Given a study served until settled, over 40 clips that show their label, one wrong
    # proposal and a decoy, and 32 raters
    world = build_world(clips_per_class=CLIPS_PER_CLASS, raters=RATERS)
    study = services.study_create(
        name="settled under load",
        dataset=world.dataset,
        proposal_set=world.proposal_set,
        owner=world.owner,
        raters=world.raters,
        sample_size=len(world.clips),
        seed=11,
        raters_per_clip=MAX_RATERS,
        serving="settled",
        min_raters=MIN_RATERS,
        ask_modality=True,
        decoys_per_clip=1,
    )
    original = dict(ClipLabel.objects.filter(clip__in=world.clips).values_list("clip_id", "category_id"))
    truth = {pk: original[clip_pk] for pk, clip_pk in study.study_clips.values_list("pk", "clip_id")}
    proposed: dict[int, set[int]] = defaultdict(set)
    for study_clip_pk, category_pk in StudyClipLabel.objects.filter(study_clip__study=study).values_list(
        "study_clip_id", "category_id"
    ):
        proposed[study_clip_pk].add(category_pk)
    taxonomy = [category.pk for category in world.categories]
    addable = {pk: [c for c in taxonomy if c not in proposed[pk]] for pk in truth}
    sent: list[Sent] = []
    repeats: list[tuple[int, int]] = []
    payload_flags: list[object] = []
    # A rater that failed holds its reservation to the end: the others stop waiting for it.
    failed = threading.Event()

    def rater_loop(rater, seed):
        script = Rater(seed=seed, truth=truth, addable=addable)

        def loop():
            try:
                rate_until_empty()
            except BaseException:
                failed.set()
                raise

        def rate_until_empty():
            own_study = Study.objects.get(pk=study.pk)
            deadline = time.monotonic() + RUN_SECONDS
            while True:
                study_clip = services.clip_next_for_rater(study=own_study, rater=rater)
                if study_clip is None:
                    if failed.is_set() or clips_still_open_to(study=own_study, rater=rater) == 0:
                        return
                    assert time.monotonic() < deadline, "the settled study never emptied its queue"
                    time.sleep(0.05)
                    continue
                reserved_at = Reservation.objects.get(study_clip=study_clip, rater=rater).created_at
                payload = selectors.study_clip_payload(study_clip=study_clip)
                payload_flags.append(payload.get("ask_modality"))
                shown = [label["category_id"] for label in payload["labels"]]
                answers, added, modalities, skipped = script.answer(study_clip_id=study_clip.pk, shown=shown)
                submit = dict(
                    study_clip=study_clip,
                    rater=rater,
                    answers=answers,
                    added_category_ids=added,
                    modalities=modalities,
                    seconds_spent=1.5,
                    skipped=skipped,
                )
                rating = services.rating_submit(**submit)
                judgments = {pk: (answer, modalities.get(pk, ""), False) for pk, answer in answers.items()}
                judgments |= {pk: ("present", modalities.get(pk, ""), True) for pk in added}
                sent.append(Sent(rating.pk, rater.pk, study_clip.pk, reserved_at, skipped, judgments))
                if script.rng.random() < script.behaviour.submit_twice:
                    repeats.append((rating.pk, services.rating_submit(**submit).pk))

        return loop

    # When they all rate as fast as they can until the queue is empty for everyone
    monitor = Monitor(study.pk)
    monitor.start()
    errors = run_threads([rater_loop(rater, seed) for seed, rater in enumerate(world.raters)])
    monitor.stop.set()
    monitor.join(timeout=60)

    # Then nothing failed and no clip was ever served beyond the maximum
    assert errors == []
    assert monitor.samples > 0 and monitor.highest <= MAX_RATERS
    assert payload_flags and set(payload_flags) == {True}
    completed = Counter(
        Rating.objects.filter(study_clip__study=study, skipped=False).values_list("study_clip_id", flat=True)
    )
    assert max(completed.values()) <= MAX_RATERS
    assert not Reservation.objects.exists()
    assert_every_acknowledged_submit_is_stored(sent=sent, repeats=repeats)
    assert_every_clip_settled_or_full(study=study, completed=completed)
    assert_added_labels_shown_to_later_raters(sent=sent, proposed=proposed)


def assert_every_acknowledged_submit_is_stored(*, sent: list[Sent], repeats: list[tuple[int, int]]) -> None:
    """One rating per rater and clip, each with exactly the judgments its thread sent."""
    pairs = Counter((one.rater_id, one.study_clip_id) for one in sent)
    assert max(pairs.values()) == 1, "a rater was served a clip twice"
    assert repeats and all(first == again for first, again in repeats)
    stored_pairs = Counter(Rating.objects.values_list("rater_id", "study_clip_id"))
    assert stored_pairs == pairs, "the stored ratings are not the acknowledged ones"
    stored: dict[int, dict[int, tuple[str, str, bool]]] = defaultdict(dict)
    for rating_pk, category_pk, answer, modality, added in Judgment.objects.values_list(
        "rating_id", "category_id", "answer", "modality", "added_by_rater"
    ):
        stored[rating_pk][category_pk] = (answer, modality, added)
    skipped = dict(Rating.objects.values_list("pk", "skipped"))
    for one in sent:
        assert skipped[one.rating_id] == one.skipped
        assert stored.get(one.rating_id, {}) == one.judgments, f"rating {one.rating_id} lost or changed judgments"
    assert sum(len(one.judgments) for one in sent) == Judgment.objects.count()
    assert any(one.skipped for one in sent), "the mix never skipped"


def assert_every_clip_settled_or_full(*, study: Study, completed: Counter) -> None:
    """A clip leaves the queue settled (with at least min_raters ratings) or at the maximum."""
    clips = dict(StudyClip.objects.filter(study=study).values_list("pk", "settled"))
    unfinished = [pk for pk, settled in clips.items() if not settled and completed[pk] != MAX_RATERS]
    assert unfinished == [], f"clips neither settled nor full: {[(pk, completed[pk]) for pk in unfinished]}"
    too_early = [pk for pk, settled in clips.items() if settled and completed[pk] < MIN_RATERS]
    assert too_early == [], f"clips settled below {MIN_RATERS} ratings: {too_early}"
    assert any(settled and completed[pk] < MAX_RATERS for pk, settled in clips.items()), "no clip settled early"


def assert_added_labels_shown_to_later_raters(*, sent: list[Sent], proposed: dict[int, set[int]]) -> None:
    """Each added label is an 'added' label of its clip, and every rater reserved after it was
    added (the last time, when several raters added it) while it was shown answered it."""
    adders: dict[tuple[int, int], list[Sent]] = defaultdict(list)
    for one in sent:
        for category_pk, (_, _, added) in one.judgments.items():
            if added:
                adders[one.study_clip_id, category_pk].append(one)
    assert adders, "no rater added a label"
    labels = {
        (row.study_clip_id, row.category_id): row
        for row in StudyClipLabel.objects.filter(study_clip_id__in={clip_pk for clip_pk, _ in adders})
    }
    submitted_at = dict(Rating.objects.values_list("pk", "submitted_at"))
    answered_later = 0
    for (clip_pk, category_pk), ratings in adders.items():
        label = labels.get((clip_pk, category_pk))
        assert label is not None, f"added category {category_pk} is no label of clip {clip_pk}"
        assert category_pk not in proposed[clip_pk] and label.source == StudyClipLabel.Source.ADDED
        assert label.added_by_id in {one.rater_id for one in ratings}
        # Re-adding shows a hidden label again and forgets when it was hidden, so only the
        # stretch after the last add is known. An adding rating is inserted under the clip's
        # lock, so a reservation stamped later was made after it committed; a reservation's
        # stamp precedes its lock, so only a label still shown at the rater's submit was
        # certainly on their page.
        shown_from = max([label.created_at, *(submitted_at[one.rating_id] for one in ratings)])
        for one in sent:
            shown = (
                one.study_clip_id == clip_pk
                and not one.skipped
                and one.reserved_at > shown_from
                and (label.hidden_at is None or label.hidden_at > submitted_at[one.rating_id])
            )
            if shown:
                assert category_pk in one.judgments, (
                    f"rater {one.rater_id} reserved clip {clip_pk} after category {category_pk} was added"
                    " and did not answer it"
                )
                answered_later += 1
    assert answered_later > 0, "no later rater was shown an added label"
