"""A study's completed ratings as arrays (``StudyData``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
from django.contrib.auth import get_user_model

from annotator import selectors as annotator_selectors
from evaluation import metrics
from evaluation.selectors.clips import ClipTable, clip_table, taxonomy_categories

if TYPE_CHECKING:
    from annotator.models import Study

ANSWER_CODES = {"present": metrics.PRESENT, "absent": metrics.ABSENT, "unsure": metrics.UNSURE}


@dataclass(frozen=True)
class StudyData:
    """A study's completed ratings as arrays (see ``metrics`` for the letters).

    Clips are the study clips with at least one completed rating. Items are their shown
    labels (proposals and decoys), with every rater's answer; labels raters added are kept
    apart (``added_*``) because only the raters who added one voted on it.
    """

    study: Study
    categories: list[str]
    clips: ClipTable
    is_gold: np.ndarray  # (N,) bool
    completed: np.ndarray  # (N,) completed ratings per clip
    items: metrics.StudyItems  # over all N clips (gold included)
    judgment_rater: np.ndarray  # (J,) rater index
    judgment_item: np.ndarray  # (J,) item index
    judgment_answer: np.ndarray  # (J,) answer code
    added_clip: np.ndarray  # (A,) clip index
    added_label: np.ndarray  # (A,) class index
    added_votes: np.ndarray  # (A,) raters who added it
    rater_pks: list[int]
    rater_names: list[str]
    rating_rater: np.ndarray  # (Q,) rater index of each completed rating
    rating_seconds: np.ndarray  # (Q,) seconds spent (nan when unknown)
    rating_clip: np.ndarray  # (Q,) clip index of each completed rating
    skipped: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def n_raters(self) -> int:
        return len(self.rater_pks)

    def gold_truth(self) -> np.ndarray:
        """(M,) 1 / 0 when an item's clip is gold and the label is / is not original, else -1."""
        on_gold = self.is_gold[self.items.clip]
        original = self.clips.original[self.items.clip, self.items.label]
        return np.where(on_gold, original.astype(np.int64), -1)

    def sample_items(self) -> metrics.StudyItems:
        """Items of the sampled (non-gold) clips only, re-indexed: what the study figures use."""
        keep_clip = ~self.is_gold
        new_index = np.cumsum(keep_clip) - 1
        keep = keep_clip[self.items.clip]
        return metrics.StudyItems(
            counts=self.items.counts[keep],
            clip=new_index[self.items.clip[keep]],
            label=self.items.label[keep],
            is_decoy=self.items.is_decoy[keep],
            n_clips=int(keep_clip.sum()),
        )


def study_data(*, study: Study) -> StudyData:
    """Load a study's completed ratings (skipped ones only counted) into ``StudyData``."""
    categories, category_index = taxonomy_categories(dataset=study.dataset)
    rows = annotator_selectors.study_judgments(study=study)

    clip_position: dict[int, int] = {}
    clip_pk_of: list[int] = []
    gold: list[bool] = []
    rater_position: dict[int, int] = {}
    ratings: dict[tuple[int, int], float] = {}
    item_position: dict[tuple[int, int], int] = {}
    item_clip: list[int] = []
    item_label: list[int] = []
    item_decoy: list[bool] = []
    j_rater: list[int] = []
    j_item: list[int] = []
    j_answer: list[int] = []
    added: dict[tuple[int, int], int] = {}
    skipped: set[tuple[int, int]] = set()

    for row in rows:
        if row["skipped"]:
            skipped.add((row["study_clip_id"], row["rater_id"]))
            continue
        if row.get("category_id") is None:
            continue
        study_clip_pk = row["study_clip_id"]
        clip = clip_position.get(study_clip_pk)
        if clip is None:
            clip = clip_position[study_clip_pk] = len(clip_pk_of)
            clip_pk_of.append(row["clip_id"])
            gold.append(bool(row["is_gold"]))
        rater = rater_position.setdefault(row["rater_id"], len(rater_position))
        seconds = row.get("seconds_spent")
        ratings[(clip, rater)] = float("nan") if seconds is None else float(seconds)
        label = category_index[row["category_id"]]
        if row["added_by_rater"]:
            added[(clip, label)] = added.get((clip, label), 0) + 1
            continue
        item = item_position.get((clip, label))
        if item is None:
            item = item_position[(clip, label)] = len(item_clip)
            item_clip.append(clip)
            item_label.append(label)
            item_decoy.append(bool(row["is_decoy"]))
        j_rater.append(rater)
        j_item.append(item)
        j_answer.append(ANSWER_CODES[row["answer"]])

    n_clips = len(clip_pk_of)
    counts = metrics.answer_counts(
        np.asarray(j_item, dtype=np.int64), np.asarray(j_answer, dtype=np.int64), len(item_clip)
    )
    rating_keys = list(ratings)
    rating_clip = np.asarray([clip for clip, _ in rating_keys], dtype=np.int64)
    rater_pks = list(rater_position)
    names = dict(get_user_model().objects.filter(pk__in=rater_pks).values_list("pk", "username"))
    added_keys = list(added)
    return StudyData(
        study=study,
        categories=categories,
        clips=clip_table(clip_pks=clip_pk_of, num_classes=len(categories), category_index=category_index),
        is_gold=np.asarray(gold, dtype=bool),
        completed=np.bincount(rating_clip, minlength=n_clips),
        items=metrics.StudyItems(
            counts=counts,
            clip=np.asarray(item_clip, dtype=np.int64),
            label=np.asarray(item_label, dtype=np.int64),
            is_decoy=np.asarray(item_decoy, dtype=bool),
            n_clips=n_clips,
        ),
        judgment_rater=np.asarray(j_rater, dtype=np.int64),
        judgment_item=np.asarray(j_item, dtype=np.int64),
        judgment_answer=np.asarray(j_answer, dtype=np.int64),
        added_clip=np.asarray([clip for clip, _ in added_keys], dtype=np.int64),
        added_label=np.asarray([label for _, label in added_keys], dtype=np.int64),
        added_votes=np.asarray([added[key] for key in added_keys], dtype=np.int64),
        rater_pks=rater_pks,
        rater_names=[names.get(pk, str(pk)) for pk in rater_pks],
        rating_rater=np.asarray([rater for _, rater in rating_keys], dtype=np.int64),
        rating_seconds=np.asarray([ratings[key] for key in rating_keys], dtype=np.float64),
        rating_clip=rating_clip,
        skipped=len(skipped),
    )
