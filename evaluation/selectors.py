"""Reads for evaluation: studies and model runs turned into numpy arrays for ``metrics``.

Judgments come through ``annotator.selectors.study_judgments`` and predictions through
``modelzoo.selectors.run_predictions``; clip metadata and original labels are read in bulk
(values lists, no model instances per row) so a 15,000-clip run loads in seconds.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
from django.contrib.auth import get_user_model
from django.db.models import QuerySet

from annotator import roles
from annotator.models import Category, Clip, ClipLabel, Dataset, Study
from config.errors import NotFoundError
from evaluation import metrics
from evaluation.models import EvaluationReport
from modelzoo.models import ModelRun

ANSWER_CODES = {"present": metrics.PRESENT, "absent": metrics.ABSENT, "unsure": metrics.UNSURE}


# --------------------------------------------------------------------------------------
# Who may see what
# --------------------------------------------------------------------------------------


def studies_for_user(*, user) -> QuerySet[Study]:
    """Studies whose results the user may see: their own; every study for an admin."""
    if not roles.user_is_researcher(user):
        return Study.objects.none()
    studies = Study.objects.select_related("dataset", "owner", "proposal_set")
    return studies if roles.user_is_admin(user) else studies.filter(owner=user)


def study_for_user(*, user, study_id: int) -> Study:
    """A study the user may evaluate; NotFoundError otherwise (existence is not revealed)."""
    study = studies_for_user(user=user).filter(pk=study_id).first()
    if study is None:
        raise NotFoundError(f"Study {study_id} not found.")
    return study


def runs_for_user(*, user) -> QuerySet[ModelRun]:
    """Predict runs whose results the user may see: the ones they started; all for an admin."""
    if not roles.user_is_researcher(user):
        return ModelRun.objects.none()
    runs = ModelRun.objects.filter(kind=ModelRun.Kind.PREDICT).select_related("dataset", "source_run")
    return runs if roles.user_is_admin(user) else runs.filter(created_by=user)


def run_for_user(*, user, run_id: int) -> ModelRun:
    run = runs_for_user(user=user).filter(pk=run_id).first()
    if run is None:
        raise NotFoundError(f"Predict run {run_id} not found.")
    return run


def reports_for_user(*, user) -> QuerySet[EvaluationReport]:
    if not roles.user_is_researcher(user):
        return EvaluationReport.objects.none()
    reports = EvaluationReport.objects.select_related("study", "created_by").prefetch_related("runs")
    return reports if roles.user_is_admin(user) else reports.filter(created_by=user)


def report_for_user(*, user, report_id: int) -> EvaluationReport:
    report = reports_for_user(user=user).filter(pk=report_id).first()
    if report is None:
        raise NotFoundError(f"Evaluation report {report_id} not found.")
    return report


def report_latest(*, study: Study | None = None, runs: Sequence[ModelRun] = ()) -> EvaluationReport | None:
    """The newest report of a study, or of exactly this set of runs."""
    if study is not None:
        return EvaluationReport.objects.filter(study=study).order_by("-created_at", "-pk").first()
    wanted = sorted(run.pk for run in runs)
    for report in (
        EvaluationReport.objects.filter(study__isnull=True, runs__in=wanted).distinct().order_by("-created_at", "-pk")
    ):
        if sorted(report.runs.values_list("pk", flat=True)) == wanted:
            return report
    return None


def companion_runs(*, run: ModelRun, user=None) -> dict[str, ModelRun]:
    """The run and, for each other model kind, the newest succeeded predict run on the same
    dataset and split (among the user's runs when a user is given): Table 1's four columns."""
    from modelzoo import selectors as modelzoo_selectors

    chosen = {run.model_kind: run}
    candidates = (
        modelzoo_selectors.runs_for_dataset(dataset=run.dataset)
        .filter(kind=ModelRun.Kind.PREDICT, status=ModelRun.Status.SUCCEEDED, split=run.split)
        .order_by("-created_at", "-pk")
    )
    if user is not None:
        candidates = candidates.filter(pk__in=runs_for_user(user=user).values("pk"))
    for other in candidates:
        chosen.setdefault(other.model_kind, other)
    return chosen


# --------------------------------------------------------------------------------------
# Shared lookups
# --------------------------------------------------------------------------------------


def taxonomy_categories(*, dataset: Dataset) -> tuple[list[str], dict[int, int]]:
    """Category names by model index, and category pk -> index, for a dataset's taxonomy."""
    rows = list(
        Category.objects.filter(taxonomy_id=dataset.taxonomy_id).order_by("index").values_list("pk", "index", "name")
    )
    size = (max(index for _, index, _ in rows) + 1) if rows else 0
    names = [""] * size
    for _, index, name in rows:
        names[index] = name
    return names, {pk: index for pk, index, _ in rows}


@dataclass(frozen=True)
class ClipTable:
    """Metadata and original labels of N clips, in a fixed order."""

    pks: np.ndarray  # (N,) Clip primary keys
    clip_ids: list[str]
    youtube_ids: list[str]
    starts: list[int | None]
    original: np.ndarray  # (N, C) bool: the clips' original labels

    def index_of(self) -> dict[int, int]:
        return {int(pk): n for n, pk in enumerate(self.pks)}


def clip_table(*, clip_pks: Sequence[int], num_classes: int, category_index: dict[int, int]) -> ClipTable:
    pks = np.asarray(list(clip_pks), dtype=np.int64)
    position = {int(pk): n for n, pk in enumerate(pks)}
    meta = {
        pk: (clip_id, youtube_id, start)
        for pk, clip_id, youtube_id, start in _in_chunks(
            lambda chunk: Clip.objects.filter(pk__in=chunk).values_list("pk", "clip_id", "youtube_id", "start_seconds"),
            pks,
        )
    }
    original = np.zeros((len(pks), num_classes), dtype=bool)
    for clip_pk, category_pk in _in_chunks(
        lambda chunk: ClipLabel.objects.filter(clip_id__in=chunk).values_list("clip_id", "category_id"), pks
    ):
        original[position[clip_pk], category_index[category_pk]] = True
    return ClipTable(
        pks=pks,
        clip_ids=[meta[int(pk)][0] for pk in pks],
        youtube_ids=[meta[int(pk)][1] for pk in pks],
        starts=[_seconds_as_written(meta[int(pk)][2]) for pk in pks],
        original=original,
    )


def _seconds_as_written(seconds: float | None) -> int | float | None:
    """Whole seconds as an integer, so exports write `30`, not `30.0`; LLP's `101.8` stays."""
    return int(seconds) if seconds is not None and float(seconds).is_integer() else seconds


def _in_chunks(query, pks: np.ndarray, size: int = 5000) -> Iterable[tuple]:
    for start in range(0, len(pks), size):
        yield from query([int(pk) for pk in pks[start : start + size]])


# --------------------------------------------------------------------------------------
# Studies
# --------------------------------------------------------------------------------------


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
    from annotator import selectors as annotator_selectors

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


# --------------------------------------------------------------------------------------
# Model runs
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RunData:
    """A predict run's stored predictions as arrays.

    Clips are those with a usable prediction (no error) and at least one original label.
    heads: the run's output names (the five event heads, or the one baseline kind).
    """

    run: ModelRun
    categories: list[str]
    clips: ClipTable
    heads: tuple[str, ...]
    top5: np.ndarray  # (H, N, 5) class indices, -1 padded, best first
    top5_prob: np.ndarray  # (H, N, 5) probabilities, nan padded
    vote: np.ndarray  # (N,) the vote label (event heads) or the top-1 (baselines); -1 = none
    union: np.ndarray  # (N, C) bool, the union set of the heads' top-1
    label_probs: np.ndarray  # (N, H) probability of the clip's label per head, nan = unknown
    stored_event_type: np.ndarray  # (N,) index into EVENT_TYPES, -1 = none
    label: np.ndarray  # (N,) the class the event type refers to (lowest original label)
    errors: int = 0
    unlabelled: int = 0

    @property
    def top1(self) -> np.ndarray:
        """(H, N) each head's top-1 class."""
        return self.top5[:, :, 0]

    def prediction_for(self, kind_head: str) -> np.ndarray:
        return self.top1[self.heads.index(kind_head)]


def run_data(*, run: ModelRun) -> RunData:
    """Load a predict run's predictions into ``RunData`` (errored and unlabelled clips left out)."""
    from modelzoo import selectors as modelzoo_selectors

    categories, category_index = taxonomy_categories(dataset=run.dataset)
    heads = metrics.EVENT_TYPES if run.model_kind == ModelRun.ModelKind.EVENT_HEADS else (run.model_kind,)
    rows = modelzoo_selectors.run_predictions(run=run).values_list(
        "clip_id", "heads", "vote_index", "union_indices", "event_type", "error"
    )
    kept = []
    errors = 0
    for row in rows.iterator(chunk_size=2000):
        if row[5]:
            errors += 1
            continue
        kept.append(row)
    table = clip_table(clip_pks=[row[0] for row in kept], num_classes=len(categories), category_index=category_index)
    labelled = table.original.any(axis=1)
    if not labelled.all():
        kept = [row for row, ok in zip(kept, labelled, strict=True) if ok]
        table = _clip_subset(table, labelled)
    n, h = len(kept), len(heads)
    top5 = np.full((h, n, 5), -1, dtype=np.int64)
    top5_prob = np.full((h, n, 5), np.nan)
    label_probs = np.full((n, h), np.nan)
    vote = np.full(n, -1, dtype=np.int64)
    union_sets: list[list[int]] = []
    stored = np.full(n, -1, dtype=np.int64)
    for i, (_, head_json, vote_index, union_indices, event_type, _) in enumerate(kept):
        for k, head in enumerate(heads):
            entry = (head_json or {}).get(head) or {}
            pairs = entry.get("top5") or []
            for j, (index, prob) in enumerate(pairs[:5]):
                top5[k, i, j] = int(index)
                top5_prob[k, i, j] = float(prob)
            if entry.get("label_prob") is not None:
                label_probs[i, k] = float(entry["label_prob"])
        vote[i] = vote_index if vote_index is not None else top5[0, i, 0]
        union_sets.append(list(union_indices or []) or [int(x) for x in top5[:, i, 0] if x >= 0])
        if event_type in metrics.EVENT_TYPES:
            stored[i] = metrics.EVENT_TYPES.index(event_type)
    original = table.original
    label = np.where(original.any(axis=1), np.argmax(original, axis=1), -1)
    return RunData(
        run=run,
        categories=categories,
        clips=table,
        heads=tuple(heads),
        top5=top5,
        top5_prob=top5_prob,
        vote=vote,
        union=metrics.indices_to_indicator(union_sets, len(categories)),
        label_probs=label_probs,
        stored_event_type=stored,
        label=label,
        errors=errors,
        unlabelled=int((~labelled).sum()),
    )


def _clip_subset(table: ClipTable, keep: np.ndarray) -> ClipTable:
    idx = np.flatnonzero(keep)
    return ClipTable(
        pks=table.pks[idx],
        clip_ids=[table.clip_ids[i] for i in idx],
        youtube_ids=[table.youtube_ids[i] for i in idx],
        starts=[table.starts[i] for i in idx],
        original=table.original[idx],
    )


def runs_by_ids(*, run_ids: Sequence[int], user=None) -> list[ModelRun]:
    """Predict runs with these ids, in the given order (only the user's when a user is given);
    NotFoundError for any other."""
    base = runs_for_user(user=user) if user is not None else ModelRun.objects.filter(kind=ModelRun.Kind.PREDICT)
    runs = {run.pk: run for run in base.select_related("dataset").filter(pk__in=list(run_ids))}
    missing = [pk for pk in run_ids if pk not in runs]
    if missing:
        raise NotFoundError(f"Predict runs not found: {', '.join(map(str, missing))}.")
    return [runs[pk] for pk in run_ids]
