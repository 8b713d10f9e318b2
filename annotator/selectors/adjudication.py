"""Adjudication reads: a study's contested labels with the votes on each, and the decisions
its researcher took on them.

A label of a study clip (a shown proposal or decoy, or one its raters added) is judged on
its counted votes: the answers of completed (not skipped) ratings, raters removed with their
ratings excluded left out. It is contested when
- present and absent differ by at most one vote, with at least one of them; or
- among its present votes the two most-voted modalities (A heard only, V seen only, AV
  both) differ by at most one vote, with at least two modality votes.

The votes are counted by one GROUP BY over the study's answers (by their study column,
joined to their ratings), whose matching rows come back as integer columns: no Python object
per answer nor per label, whatever the study's size. Only a page's labels are then read in
full (each rater's answer and time).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from django.urls import reverse

from annotator.models import (
    Adjudication,
    Category,
    Judgment,
    Modality,
    Rating,
    Study,
    StudyClip,
    StudyClipLabel,
)
from annotator.selectors.judgments import _number_columns, excluded_rater_pks
from annotator.selectors.rawsql import table
from config.errors import NotFoundError

#: What `?state=` lists: contested labels not yet decided, decided labels (contested or not
#: any more), or both.
STATE_OPEN, STATE_ADJUDICATED, STATE_ALL = "open", "adjudicated", "all"
STATES: tuple[str, ...] = (STATE_OPEN, STATE_ADJUDICATED, STATE_ALL)

_PRESENT, _ABSENT, _UNSURE = Judgment.Answer.PRESENT, Judgment.Answer.ABSENT, Judgment.Answer.UNSURE
_MODALITY_COLUMNS = {Modality.AUDIO: "heard", Modality.VISUAL: "seen", Modality.BOTH: "both"}

# Each modality count beaten by less than two votes by another: the two most-voted differ by
# at most one (portable SQL: no GREATEST on SQLite).
_MODALITY_SPLIT = " AND ".join(
    f"NOT (v.{top} >= v.{a} + 2 AND v.{top} >= v.{b} + 2)"
    for top, a, b in (("heard", "seen", "both"), ("seen", "heard", "both"), ("both", "heard", "seen"))
)
CONTESTED_SQL = (
    "((v.present + v.absent >= 1 AND v.present - v.absent BETWEEN -1 AND 1)"
    f" OR (v.heard + v.seen + v.both >= 2 AND {_MODALITY_SPLIT}))"
)
#: The columns ContestedLabels reads, in order.
_ROW = ("study_clip", "category", "position", "present", "absent", "unsure", "heard", "seen", "both", "contested")
_STATE_SQL = {
    STATE_OPEN: f"adj.id IS NULL AND {CONTESTED_SQL}",
    STATE_ADJUDICATED: "adj.id IS NOT NULL",
    STATE_ALL: f"(adj.id IS NOT NULL OR {CONTESTED_SQL})",
}


@dataclass(frozen=True)
class RaterAnswer:
    """One counted rater's answer on a label, and the seconds their rating of the clip took."""

    rater_id: int
    username: str
    answer: str
    modality: str  # A / V / AV, blank when not given
    added_by_rater: bool
    seconds_spent: float | None


@dataclass(frozen=True)
class ContestedLabel:
    """A label of a study clip with its counted votes, each rater's answer, and the
    researcher's decision if any."""

    study_clip_id: int
    position: int
    clip_id: int  # the Clip's primary key
    clip_name: str  # its id in the dataset
    is_gold: bool
    media_url: str
    category_id: int
    category_name: str
    source: str  # proposal | decoy | added
    contested: bool
    votes: dict[str, int]  # present / absent / unsure
    modality_votes: dict[str, int]  # A / V / AV, among the present votes
    raters: list[RaterAnswer]
    adjudication: Adjudication | None


class ContestedLabels:
    """A study's labels in one state, in clip position then category order, as a sequence
    the project's paginator reads (`count()`, then a page slice). One statement reads the
    matching labels' keys and vote counts as integer columns (binary COPY on PostgreSQL),
    once per instance: a request's count and page cost one pass over the study's answers."""

    def __init__(self, *, study: Study, state: str) -> None:
        if state not in STATES:
            raise ValueError(f"Unknown state {state!r}; use one of {', '.join(STATES)}.")
        self.study = study
        self.state = state
        self._excluded = excluded_rater_pks(study=study)
        self._columns: list[np.ndarray] | None = None

    def count(self) -> int:
        return len(self._read()[0])

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, index: slice) -> list[ContestedLabel]:
        if not isinstance(index, slice) or index.step not in (None, 1):
            raise TypeError("ContestedLabels is read by slices only (a page).")
        rows = list(zip(*(column[index].tolist() for column in self._read()), strict=True))
        return _labels_in_full(rows=rows, excluded=self._excluded)

    def _read(self) -> list[np.ndarray]:
        """The matching labels' columns (_ROW), ordered by clip position, then category."""
        if self._columns is None:
            columns = _number_columns(self._statement(), [np.int64] * len(_ROW))
            order = np.lexsort((columns[_ROW.index("category")], columns[_ROW.index("position")]))
            self._columns = [column[order] for column in columns]
        return self._columns

    def _statement(self) -> str:
        """The study's vote counts per (study clip, label) in this state. Every value in it is
        an integer of ours (primary keys), written in: the column reader takes no parameters."""
        study_pk = int(self.study.pk)
        where = f"j.study_id = {study_pk} AND sc.study_id = {study_pk} AND NOT r.skipped"
        if self._excluded:
            where += f" AND r.rater_id NOT IN ({', '.join(str(int(pk)) for pk in self._excluded)})"
        if self.state == STATE_ADJUDICATED:  # a handful of clips: count only theirs
            where += (
                f" AND r.study_clip_id IN (SELECT a.study_clip_id FROM {table(Adjudication)} a"
                f" JOIN {table(StudyClip)} adj_sc ON adj_sc.id = a.study_clip_id WHERE adj_sc.study_id = {study_pk})"
            )
        modality_sums = ", ".join(
            f"SUM(CASE WHEN j.answer = '{_PRESENT}' AND j.modality = '{code}' THEN 1 ELSE 0 END) AS {name}"
            for code, name in _MODALITY_COLUMNS.items()
        )
        votes = (
            "SELECT r.study_clip_id AS study_clip_id, j.category_id AS category_id, MIN(sc.position) AS position, "
            f"SUM(CASE WHEN j.answer = '{_PRESENT}' THEN 1 ELSE 0 END) AS present, "
            f"SUM(CASE WHEN j.answer = '{_ABSENT}' THEN 1 ELSE 0 END) AS absent, "
            f"SUM(CASE WHEN j.answer = '{_UNSURE}' THEN 1 ELSE 0 END) AS unsure, {modality_sums} "
            f"FROM {table(Judgment)} j JOIN {table(Rating)} r ON r.id = j.rating_id "
            f"JOIN {table(StudyClip)} sc ON sc.id = r.study_clip_id WHERE {where} "
            "GROUP BY r.study_clip_id, j.category_id"
        )
        return (
            "SELECT v.study_clip_id, v.category_id, v.position, v.present, v.absent, v.unsure, v.heard, v.seen, "
            f"v.both, CASE WHEN {CONTESTED_SQL} THEN 1 ELSE 0 END FROM ({votes}) v "
            f"LEFT JOIN {table(Adjudication)} adj ON adj.study_clip_id = v.study_clip_id "
            f"AND adj.category_id = v.category_id WHERE {_STATE_SQL[self.state]}"
        )


def study_contested_labels(*, study: Study, state: str = STATE_OPEN) -> ContestedLabels:
    """The study's labels in `state` (STATES): open contested ones by default."""
    return ContestedLabels(study=study, state=state)


def _labels_in_full(*, rows: Sequence[tuple], excluded: Sequence[int]) -> list[ContestedLabel]:
    """A page of vote rows with their clip, label, answers and decision: five statements,
    each over the page's clips only."""
    if not rows:
        return []
    study_clip_ids = sorted({int(row[0]) for row in rows})
    category_ids = sorted({int(row[1]) for row in rows})
    clips = {
        pk: (position, clip_pk, name, is_gold)
        for pk, position, clip_pk, name, is_gold in StudyClip.objects.filter(pk__in=study_clip_ids).values_list(
            "pk", "position", "clip_id", "clip__clip_id", "is_gold"
        )
    }
    names = dict(Category.objects.filter(pk__in=category_ids).values_list("pk", "name"))
    sources = {
        (study_clip_pk, category_pk): source
        for study_clip_pk, category_pk, source in StudyClipLabel.objects.filter(
            study_clip_id__in=study_clip_ids, category_id__in=category_ids
        ).values_list("study_clip_id", "category_id", "source")
    }
    answers: dict[tuple[int, int], list[RaterAnswer]] = {}
    judgments = (
        Judgment.objects.filter(
            rating__study_clip_id__in=study_clip_ids, category_id__in=category_ids, rating__skipped=False
        )
        .exclude(rating__rater_id__in=list(excluded))
        .order_by("rating__rater__username", "rating__rater_id")
        .values_list(
            "rating__study_clip_id",
            "category_id",
            "rating__rater_id",
            "rating__rater__username",
            "answer",
            "modality",
            "added_by_rater",
            "rating__seconds_spent",
        )
    )
    for study_clip_pk, category_pk, *answer in judgments:
        answers.setdefault((study_clip_pk, category_pk), []).append(RaterAnswer(*answer))
    decisions = {
        (adjudication.study_clip_id, adjudication.category_id): adjudication
        for adjudication in Adjudication.objects.filter(
            study_clip_id__in=study_clip_ids, category_id__in=category_ids
        ).select_related("decided_by", "category")
    }
    labels = []
    for study_clip_pk, category_pk, _, present, absent, unsure, heard, seen, both, contested in rows:
        key = (int(study_clip_pk), int(category_pk))
        position, clip_pk, clip_name, is_gold = clips[key[0]]
        added = any(answer.added_by_rater for answer in answers.get(key, ()))
        default = StudyClipLabel.Source.ADDED if added else StudyClipLabel.Source.PROPOSAL
        labels.append(
            ContestedLabel(
                study_clip_id=key[0],
                position=position,
                clip_id=clip_pk,
                clip_name=clip_name,
                is_gold=is_gold,
                media_url=reverse("annotator:clip-media", args=[key[0]]),
                category_id=key[1],
                category_name=names[key[1]],
                source=sources.get(key, default),
                contested=bool(contested),
                votes={_PRESENT: int(present), _ABSENT: int(absent), _UNSURE: int(unsure)},
                modality_votes={
                    code: int(count) for code, count in zip(_MODALITY_COLUMNS, (heard, seen, both), strict=True)
                },
                raters=answers.get(key, []),
                adjudication=decisions.get(key),
            )
        )
    return labels


def adjudication_target(*, study: Study, study_clip_id: int, category_id: int) -> tuple[StudyClip, Category]:
    """The study clip and category a decision is about: a clip of this study, a category of
    its taxonomy; anything else is not found."""
    study_clip = StudyClip.objects.select_related("clip").filter(pk=study_clip_id, study=study).first()
    if study_clip is None:
        raise NotFoundError(f"Clip {study_clip_id} is not in study {study.pk}.")
    category = Category.objects.filter(pk=category_id, taxonomy_id=study.dataset.taxonomy_id).first()
    if category is None:
        raise NotFoundError(f"Category {category_id} is not in this study's taxonomy.")
    return study_clip, category


def study_clip_label_known(*, study_clip: StudyClip, category: Category) -> bool:
    """Whether the label was shown on the study clip (hidden since or not) or added by one of
    its raters."""
    shown = StudyClipLabel.objects.filter(study_clip=study_clip, category=category).exists()
    return (
        shown or Judgment.objects.filter(rating__study_clip=study_clip, category=category, added_by_rater=True).exists()
    )


def study_clip_label_vote_count(*, study: Study, study_clip: StudyClip, category: Category) -> int:
    """Counted votes on the label: answers of completed ratings, excluded raters left out."""
    return (
        Judgment.objects.filter(rating__study_clip=study_clip, category=category, rating__skipped=False)
        .exclude(rating__rater_id__in=excluded_rater_pks(study=study))
        .count()
    )


def study_adjudication_rows(*, study: Study) -> list[tuple[int, int, str, str]]:
    """(study clip pk, category pk, decision, modality) of every decision on the study's
    labels: what the consensus takes over the vote (evaluation reads these)."""
    return list(
        Adjudication.objects.filter(study_clip__study=study)
        .order_by("study_clip_id", "category_id")
        .values_list("study_clip_id", "category_id", "decision", "modality")
    )
