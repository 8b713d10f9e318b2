"""A study clip's labels as submit and the settled queue read them: which were shown when,
the votes on each, and the gold tallies of the clip's raters. Read under the clip's row lock
by rating_submit (the caller holds it), so what they return is what the submit changes."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from annotator.models import GoldLabel, Judgment, RaterGoldTally, Rating, StudyClipLabel
from annotator.selectors.rawsql import fetch_all, table


@dataclass(frozen=True)
class ShownLabel:
    """One label of a study clip: shown from created_at until hidden_at (None: still shown)."""

    category_id: int
    source: str
    position: int
    created_at: datetime
    hidden_at: datetime | None
    hidden_reason: str

    def shown_at(self, moment: datetime) -> bool:
        return self.created_at <= moment and (self.hidden_at is None or self.hidden_at > moment)

    @property
    def shown_now(self) -> bool:
        return self.hidden_at is None


def study_clip_labels(*, study_clip_id: int) -> list[ShownLabel]:
    """Every label of a study clip, shown or hidden, in position order."""
    rows = (
        StudyClipLabel.objects.filter(study_clip_id=study_clip_id)
        .order_by("position")
        .values_list("category_id", "source", "position", "created_at", "hidden_at", "hidden_reason")
    )
    return [ShownLabel(*row) for row in rows]


def study_clip_votes(*, study_clip_id: int) -> list[tuple[int, int, str]]:
    """(rater id, category id, answer) of every judgment of the clip's completed ratings."""
    # Raw: one join read once per submit of a settled study, where the ORM adds a model per row.
    return [
        (rater_pk, category_pk, answer)
        for rater_pk, category_pk, answer in fetch_all(
            f"SELECT r.rater_id, j.category_id, j.answer FROM {table(Judgment)} j"
            f" JOIN {table(Rating)} r ON r.id = j.rating_id WHERE r.study_clip_id = %s AND r.skipped = %s",
            [study_clip_id, False],
        )
    ]


def gold_tallies(*, study_id: int, rater_ids: Iterable[int]) -> dict[int, RaterGoldTally]:
    """The gold tallies of these raters in a study (raters without one are left out)."""
    rows = RaterGoldTally.objects.filter(study_id=study_id, rater_id__in=list(rater_ids))
    return {row.rater_id: row for row in rows}


def clip_gold_truth(*, clip_id: int) -> dict[int, bool]:
    """Category id -> known present (True) or known absent (False) for a clip's gold labels."""
    return dict(GoldLabel.objects.filter(clip_id=clip_id).values_list("category_id", "present"))
