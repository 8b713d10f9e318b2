"""A study's completed ratings as arrays (``StudyData``)."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
from django.contrib.auth import get_user_model

from annotator import selectors as annotator_selectors
from annotator.selectors import judgments as annotator_judgments
from evaluation import metrics
from evaluation.selectors.clips import ClipTable, clip_table, taxonomy_categories

if TYPE_CHECKING:
    from annotator.models import Study

ANSWER_CODES = {"present": metrics.PRESENT, "absent": metrics.ABSENT, "unsure": metrics.UNSURE}
MODALITY_CODES = {code: index for index, code in enumerate(metrics.MODALITIES)}


@dataclass(frozen=True)
class StudyData:
    """A study's completed ratings as arrays (see ``metrics`` for the letters).

    Clips are the study clips with at least one completed rating. ``labels`` are every label
    judged on them: the shown proposals and decoys, and the labels raters added (shown to
    the clip's later raters), each with the answers of the raters who were shown it or added
    it (an adder's answer is present). ``items`` are the proposals and decoys alone, what the
    paper's acceptance figures count.
    """

    study: Study
    categories: list[str]
    category_pks: list[int]  # category pk by class index
    clips: ClipTable
    is_gold: np.ndarray  # (N,) bool
    completed: np.ndarray  # (N,) completed ratings per clip
    labels: metrics.StudyItems  # over all N clips (gold included), added labels included
    label_source: np.ndarray  # (M,) "proposal" | "decoy" | "added"
    modality_votes: np.ndarray  # (M, 3) present answers per modality, columns metrics.MODALITIES
    label_gold: np.ndarray  # (M,) 1 / 0 known present / absent on a gold clip, else -1
    judgment_rater: np.ndarray  # (J,) rater index
    judgment_item: np.ndarray  # (J,) label index
    judgment_answer: np.ndarray  # (J,) answer code
    judgment_modality: np.ndarray  # (J,) index in metrics.MODALITIES, -1 when not given
    rater_pks: list[int]
    rater_names: list[str]
    rating_rater: np.ndarray  # (Q,) rater index of each completed rating
    rating_seconds: np.ndarray  # (Q,) seconds spent (nan when unknown)
    rating_clip: np.ndarray  # (Q,) clip index of each completed rating
    event_types: list[str] = field(default_factory=list)  # (N,) the model's event type per clip, "" if none
    skipped: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def n_raters(self) -> int:
        return len(self.rater_pks)

    @functools.cached_property
    def items(self) -> metrics.StudyItems:
        """The shown proposals and decoys (labels raters added left out)."""
        keep = self.label_source != "added"
        return metrics.StudyItems(
            counts=self.labels.counts[keep],
            clip=self.labels.clip[keep],
            label=self.labels.label[keep],
            is_decoy=self.labels.is_decoy[keep],
            n_clips=self.labels.n_clips,
        )

    def gold_truth(self) -> np.ndarray:
        """(M,) over ``labels``: 1 / 0 when the label's truth is known on a gold clip, else -1."""
        return self.label_gold

    def sample_items(self) -> metrics.StudyItems:
        """Items of the sampled (non-gold) clips only, re-indexed: what the study figures use."""
        keep_clip = ~self.is_gold
        new_index = np.cumsum(keep_clip) - 1
        items = self.items
        keep = keep_clip[items.clip]
        return metrics.StudyItems(
            counts=items.counts[keep],
            clip=new_index[items.clip[keep]],
            label=items.label[keep],
            is_decoy=items.is_decoy[keep],
            n_clips=int(keep_clip.sum()),
        )


@dataclass
class _Labels:
    """The labels being collected by study_data, one entry per (clip, class)."""

    position: dict[tuple[int, int], int] = field(default_factory=dict)
    clip: list[int] = field(default_factory=list)
    label: list[int] = field(default_factory=list)
    source: list[str] = field(default_factory=list)

    def index(self, clip: int, label: int, source: str) -> int:
        key = (clip, label)
        item = self.position.get(key)
        if item is None:
            item = self.position[key] = len(self.clip)
            self.clip.append(clip)
            self.label.append(label)
            self.source.append(source)
        return item


def study_data(*, study: Study) -> StudyData:
    """Load a study's completed ratings (skipped ones only counted) into ``StudyData``."""
    categories, category_index = taxonomy_categories(dataset=study.dataset)
    rows = annotator_selectors.study_judgments(study=study)
    gold_truth, dataset_has_gold = annotator_selectors.study_gold_truth(study=study)

    clip_position: dict[int, int] = {}
    clip_pk_of: list[int] = []
    gold: list[bool] = []
    rater_position: dict[int, int] = {}
    ratings: dict[tuple[int, int], float] = {}
    labels = _Labels()
    j_rater: list[int] = []
    j_item: list[int] = []
    j_answer: list[int] = []
    j_modality: list[int] = []
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
        j_rater.append(rater)
        j_item.append(labels.index(clip, category_index[row["category_id"]], row["source"]))
        j_answer.append(ANSWER_CODES[row["answer"]])
        modality = row.get("modality") or ""
        j_modality.append(MODALITY_CODES.get(modality, -1) if row["answer"] == "present" else -1)

    n_clips = len(clip_pk_of)
    n_items = len(labels.clip)
    items = np.asarray(j_item, dtype=np.int64)
    answers = np.asarray(j_answer, dtype=np.int64)
    modalities = np.asarray(j_modality, dtype=np.int64)
    counts = metrics.answer_counts(items, answers, n_items)
    given = modalities >= 0
    modality_votes = np.bincount(
        items[given] * len(metrics.MODALITIES) + modalities[given], minlength=n_items * len(metrics.MODALITIES)
    ).reshape(n_items, len(metrics.MODALITIES))
    category_pks = [0] * len(categories)
    for pk, index in category_index.items():
        category_pks[index] = pk
    is_gold = np.asarray(gold, dtype=bool)
    clips = clip_table(clip_pks=clip_pk_of, num_classes=len(categories), category_index=category_index)
    label_clip = np.asarray(labels.clip, dtype=np.int64)
    label_class = np.asarray(labels.label, dtype=np.int64)
    label_gold = _label_gold(
        clip_pks=clips.pks, label_clip=label_clip, label_class=label_class, category_pks=category_pks,
        is_gold=is_gold, truth=gold_truth, original=clips.original if not dataset_has_gold else None,
    )  # fmt: skip
    rating_keys = list(ratings)
    rating_clip = np.asarray([clip for clip, _ in rating_keys], dtype=np.int64)
    rater_pks = list(rater_position)
    names = dict(get_user_model().objects.filter(pk__in=rater_pks).values_list("pk", "username"))
    source = np.asarray(labels.source, dtype=object)
    return StudyData(
        study=study,
        categories=categories,
        category_pks=category_pks,
        clips=clips,
        is_gold=is_gold,
        completed=np.bincount(rating_clip, minlength=n_clips),
        labels=metrics.StudyItems(
            counts=counts, clip=label_clip, label=label_class, is_decoy=source == "decoy", n_clips=n_clips
        ),
        label_source=source,
        modality_votes=modality_votes.astype(np.int64),
        label_gold=label_gold,
        judgment_rater=np.asarray(j_rater, dtype=np.int64),
        judgment_item=items,
        judgment_answer=answers,
        judgment_modality=modalities,
        rater_pks=rater_pks,
        rater_names=[names.get(pk, str(pk)) for pk in rater_pks],
        rating_rater=np.asarray([rater for _, rater in rating_keys], dtype=np.int64),
        rating_seconds=np.asarray([ratings[key] for key in rating_keys], dtype=np.float64),
        rating_clip=rating_clip,
        event_types=_clip_event_types(study=study, clip_pks=clip_pk_of),
        skipped=len(skipped),
    )


def _clip_event_types(*, study: Study, clip_pks: list[int]) -> list[str]:
    found = dict(annotator_judgments.clip_event_type_rows(proposal_set_id=study.proposal_set_id, clip_pks=clip_pks))
    return [found.get(pk, "") for pk in clip_pks]


def _label_gold(*, clip_pks, label_clip, label_class, category_pks, is_gold, truth, original) -> np.ndarray:
    """Known truth per label of a gold clip: its GoldLabel row; for a dataset without gold
    labels, an original label counts as known present and nothing as known absent."""
    out = np.full(len(label_clip), -1, dtype=np.int64)
    for m, (clip, label) in enumerate(zip(label_clip, label_class, strict=True)):
        if not is_gold[clip]:
            continue
        if original is not None:
            out[m] = 1 if original[clip, label] else -1
            continue
        known = truth.get((int(clip_pks[clip]), category_pks[label]))
        if known is not None:
            out[m] = int(known)
    return out
