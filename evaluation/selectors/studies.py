"""A study's completed ratings as arrays (``StudyData``)."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
from django.contrib.auth import get_user_model

from annotator import selectors as annotator_selectors
from annotator.selectors import judgments as annotator_judgments
from annotator.selectors.snapshots import read_snapshot
from evaluation import metrics
from evaluation.selectors.adjudications import label_decisions
from evaluation.selectors.clips import ClipTable, category_ranks, clip_table, taxonomy_categories

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
    label_decision: np.ndarray  # (M,) the researcher's decision: metrics.DECIDED_PRESENT / _ABSENT / NOT_DECIDED
    label_decision_modality: np.ndarray  # (M,) a present decision's modality, index in metrics.MODALITIES, else -1
    judgment_rater: np.ndarray  # (J,) rater index
    judgment_item: np.ndarray  # (J,) label index
    judgment_answer: np.ndarray  # (J,) answer code, int8
    judgment_modality: np.ndarray  # (J,) index in metrics.MODALITIES, -1 when not given, int8
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
        return self.labels.subset(self.label_source != "added")

    def gold_truth(self) -> np.ndarray:
        """(M,) over ``labels``: 1 / 0 when the label's truth is known on a gold clip, else -1."""
        return self.label_gold

    def sample_items(self) -> metrics.StudyItems:
        """Items of the sampled (non-gold) clips only, re-indexed: what the study figures use."""
        keep_clip = ~self.is_gold
        new_index = np.cumsum(keep_clip) - 1
        items = self.items
        keep = keep_clip[items.clip]
        return items.subset(keep, clip=new_index[items.clip[keep]], n_clips=int(keep_clip.sum()))


def study_data(*, study: Study) -> StudyData:
    """Load a study's completed ratings (skipped ones only counted) into ``StudyData``.

    Everything is worked out on columns (``annotator_judgments.study_judgment_arrays``), in
    the order of the rows ``study_judgments`` lists: by clip position, rater, category.
    Clips, raters, labels and ratings are numbered by first appearance in that order.
    Every read is of one snapshot of the database (raters may be submitting meanwhile)."""
    with read_snapshot() as snapshot:
        return _study_data(study=study, snapshot=snapshot)


def _study_data(*, study: Study, snapshot: str | None) -> StudyData:
    categories, category_index = taxonomy_categories(dataset=study.dataset)
    arrays = annotator_judgments.study_judgment_arrays(study=study, snapshot=snapshot)
    gold_truth, dataset_has_gold = annotator_selectors.study_gold_truth(study=study)

    # Ratings first (Q rows), then their judgments (J, ~3Q) sorted by one composite key.
    # Judgment-level intermediates are int32 and dropped once used: J is ~7M at 200k clips.
    clip_study_clip, clip_pk_all, clip_is_gold = arrays.clip_study_clip, arrays.clip_pk, arrays.clip_is_gold
    rating_clip_row = np.searchsorted(clip_study_clip, arrays.rating_study_clip)
    rating_position = arrays.clip_position[rating_clip_row]
    rater_pks_sorted, rating_rater_rank = np.unique(arrays.rating_rater, return_inverse=True)
    rating_seconds_all, skipped = arrays.rating_seconds, int(arrays.rating_skipped.sum())
    known_pks, category_rank, class_of_rank = category_ranks(arrays.judgment_category, category_index)
    rating_row = np.searchsorted(arrays.rating_pk, arrays.judgment_rating).astype(np.int32)
    labels_shown = (arrays.label_study_clip, arrays.label_category, arrays.label_source)
    width = max(len(class_of_rank), 1)
    key = (rating_position * max(len(rater_pks_sorted), 1) + rating_rater_rank)[rating_row]
    key *= width
    key += category_rank
    order = np.argsort(key)  # (position, rater, category pk) identify a judgment: no ties
    del key
    rating_row, category_rank = rating_row[order], category_rank[order]
    answer_code, modality_code = arrays.judgment_answer[order], arrays.judgment_modality[order]
    added = arrays.judgment_added[order]
    del order, arrays

    # One rating per (clip, rater): its judgments are contiguous in this order.
    rating_first = np.flatnonzero(np.r_[True, rating_row[1:] != rating_row[:-1]]) if len(rating_row) else rating_row
    per_rating = np.diff(np.r_[rating_first, len(rating_row)])
    ratings = rating_row[rating_first]  # rating rows in order
    positions = rating_position[ratings]
    new_clip = np.r_[True, positions[1:] != positions[:-1]] if len(ratings) else np.zeros(0, dtype=bool)
    rating_clip = np.cumsum(new_clip, dtype=np.int64) - 1  # clips numbered by position: their first appearance
    clip_rows = rating_clip_row[ratings[new_clip]]
    clip_pk_of = clip_pk_all[clip_rows].tolist()
    rater_first, rating_rater = _first_appearance(rating_rater_rank[ratings])
    rater_pk_order = rater_pks_sorted[rating_rater_rank[ratings][rater_first]]
    clip = np.repeat(rating_clip.astype(np.int32), per_rating)
    class_index = class_of_rank[category_rank].astype(np.int32)
    label_key = clip.astype(np.int64 if len(clip_pk_of) * width >= 2**31 else np.int32) * width + class_index
    label_first, item = _first_appearance(label_key)
    del label_key
    label_clip = clip[label_first].astype(np.int64)
    label_class = class_index[label_first].astype(np.int64)
    del clip, class_index
    source = np.asarray(annotator_judgments.SOURCES, dtype=object)[
        _shown_source(labels_shown, study_clip=clip_study_clip[rating_clip_row[rating_row[label_first]]],
                      category=known_pks[category_rank[label_first]], added=added[label_first])
    ]  # fmt: skip
    del category_rank, added

    # Codes as int8: a study's ~7M answers are kept in StudyData (int64 cost 100 MB more).
    answer_codes = np.asarray([ANSWER_CODES[answer] for answer in annotator_judgments.ANSWERS], dtype=np.int8)
    answers = answer_codes[answer_code]
    modality_codes = np.asarray(
        [MODALITY_CODES.get(code, -1) for code in annotator_judgments.MODALITIES] + [-1], dtype=np.int8
    )  # code -1 (none given) reads the last entry
    modalities = np.where(answers == metrics.PRESENT, modality_codes[modality_code], -1)
    rater = np.repeat(rating_rater, per_rating)
    del answer_code, modality_code, rating_row

    n_clips = len(clip_pk_of)
    n_items = len(label_first)
    counts = metrics.answer_counts(item, answers, n_items)
    given = modalities >= 0
    modality_votes = np.bincount(
        item[given] * len(metrics.MODALITIES) + modalities[given], minlength=n_items * len(metrics.MODALITIES)
    ).reshape(n_items, len(metrics.MODALITIES))
    category_pks = [0] * len(categories)
    for pk, index in category_index.items():
        category_pks[index] = pk
    label_decision, label_decision_modality = label_decisions(
        study=study,
        label_study_clip=clip_study_clip[clip_rows][label_clip],
        label_category=np.asarray(category_pks, dtype=np.int64)[label_class],
    )
    is_gold = clip_is_gold[clip_rows]
    clips = clip_table(clip_pks=clip_pk_of, num_classes=len(categories), category_index=category_index)
    label_gold = _label_gold(
        clip_pks=clips.pks, label_clip=label_clip, label_class=label_class, category_pks=category_pks,
        is_gold=is_gold, truth=gold_truth, original=clips.original if not dataset_has_gold else None,
    )  # fmt: skip
    rater_pks = [int(pk) for pk in rater_pk_order]
    names = dict(get_user_model().objects.filter(pk__in=rater_pks).values_list("pk", "username"))
    return StudyData(
        study=study,
        categories=categories,
        category_pks=category_pks,
        clips=clips,
        is_gold=is_gold,
        completed=np.bincount(rating_clip, minlength=n_clips),
        labels=metrics.StudyItems(
            counts=counts,
            clip=label_clip,
            label=label_class,
            is_decoy=source == "decoy",
            n_clips=n_clips,
            decision=label_decision,
        ),
        label_source=source,
        modality_votes=modality_votes.astype(np.int64),
        label_gold=label_gold,
        label_decision=label_decision,
        label_decision_modality=label_decision_modality,
        judgment_rater=rater,
        judgment_item=item,
        judgment_answer=answers,
        judgment_modality=modalities,
        rater_pks=rater_pks,
        rater_names=[names.get(pk, str(pk)) for pk in rater_pks],
        rating_rater=rating_rater,
        rating_seconds=rating_seconds_all[ratings].astype(np.float64),
        rating_clip=rating_clip,
        event_types=_clip_event_types(study=study, clip_pks=clip_pk_of),
        skipped=skipped,
    )


def _first_appearance(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Number the distinct keys by where each first appears: (position of each distinct
    key's first row, in that order; each row's number)."""
    _, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
    rank = np.argsort(first, kind="stable")
    number = np.empty(len(first), dtype=np.int64)
    number[rank] = np.arange(len(first))
    return first[rank], number[inverse.reshape(-1)]


def _shown_source(shown, *, study_clip: np.ndarray, category: np.ndarray, added: np.ndarray) -> np.ndarray:
    """Code in annotator's SOURCES of each (study clip, category): its shown label's source
    (`shown`: the shown labels' study clip, category and source columns). A label added
    before labels were kept per clip has no row: added when the rater added it, else a
    proposal."""
    label_study_clip, label_category, label_source = shown
    fallback = np.where(
        added, annotator_judgments.SOURCES.index("added"), annotator_judgments.SOURCES.index("proposal")
    )
    if not len(label_study_clip) or not len(study_clip):
        return fallback.astype(np.int64)
    width = int(max(label_category.max(), category.max())) + 1
    keys = label_study_clip * width + label_category
    order = np.argsort(keys, kind="stable")
    keys = keys[order]
    wanted = study_clip * width + category
    found = np.searchsorted(keys, wanted).clip(max=len(keys) - 1)
    hit = keys[found] == wanted
    return np.where(hit, label_source[order][found], fallback).astype(np.int64)


def _clip_event_types(*, study: Study, clip_pks: list[int]) -> list[str]:
    found = dict(annotator_judgments.clip_event_type_rows(proposal_set_id=study.proposal_set_id, clip_pks=clip_pks))
    return [found.get(pk, "") for pk in clip_pks]


def _label_gold(*, clip_pks, label_clip, label_class, category_pks, is_gold, truth, original) -> np.ndarray:
    """Known truth per label of a gold clip: its GoldLabel row; for a dataset without gold
    labels, an original label counts as known present and nothing as known absent."""
    out = np.full(len(label_clip), -1, dtype=np.int64)
    for m in np.flatnonzero(is_gold[label_clip]) if len(label_clip) else ():
        clip, label = label_clip[m], label_class[m]
        if original is not None:
            out[m] = 1 if original[clip, label] else -1
            continue
        known = truth.get((int(clip_pks[clip]), category_pks[label]))
        if known is not None:
            out[m] = int(known)
    return out
