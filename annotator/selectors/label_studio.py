"""A study as Label Studio sees a project: per clip its proposals (the study's proposal set)
and each rater's rating as the labels they marked present. Plain rows; the Label Studio JSON
and config are written by evaluation.label_studio."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from annotator.importers.label_studio_tasks import rater_ls_id
from annotator.models import Category, Judgment, Proposal, Rating, Study, StudyClip


@dataclass(frozen=True)
class LabelStudioRating:
    rater_id: int  # as Label Studio knows the rater (importers.label_studio_tasks.rater_ls_id)
    email: str
    present: tuple[str, ...]  # the labels marked present, in taxonomy order
    seconds: float | None
    submitted_at: datetime


@dataclass(frozen=True)
class LabelStudioClip:
    study_clip_id: int
    clip_id: str
    youtube_id: str
    start_seconds: float | None
    proposals: tuple[tuple[str, float | None], ...]  # (label, score), best first
    ratings: tuple[LabelStudioRating, ...] = field(default=())


def study_label_studio_rows(*, study: Study) -> tuple[list[str], list[LabelStudioClip]]:
    """The taxonomy's label names (its order) and the study's clips in serving order, each
    with its proposals and its completed ratings."""
    names = list(
        Category.objects.filter(taxonomy_id=study.dataset.taxonomy_id).order_by("index").values_list("name", flat=True)
    )
    study_clips = list(
        StudyClip.objects.filter(study=study)
        .order_by("position")
        .values_list("pk", "clip_id", "clip__clip_id", "clip__youtube_id", "clip__start_seconds")
    )
    proposals: dict[int, list[tuple[str, float | None]]] = defaultdict(list)
    for clip_pk, name, score in (
        Proposal.objects.filter(proposal_set_id=study.proposal_set_id, clip__study_clips__study=study)
        .order_by("clip_id", "category__index")
        .values_list("clip_id", "category__name", "score")
    ):
        proposals[clip_pk].append((name, score))
    present: dict[int, list[str]] = defaultdict(list)
    for rating_pk, name in (
        Judgment.objects.filter(rating__study_clip__study=study, answer=Judgment.Answer.PRESENT)
        .order_by("rating_id", "category__index")
        .values_list("rating_id", "category__name")
    ):
        present[rating_pk].append(name)
    ratings: dict[int, list[LabelStudioRating]] = defaultdict(list)
    for rating_pk, study_clip_pk, rater_pk, username, email, seconds, submitted in (
        Rating.objects.filter(study_clip__study=study, skipped=False)
        .order_by("study_clip_id", "submitted_at", "pk")
        .values_list(
            "pk", "study_clip_id", "rater_id", "rater__username", "rater__email", "seconds_spent", "submitted_at"
        )
    ):
        ls_id = rater_ls_id(username=username, pk=rater_pk)
        ratings[study_clip_pk].append(
            LabelStudioRating(ls_id, email or "", tuple(present[rating_pk]), seconds, submitted)
        )
    clips = [
        LabelStudioClip(
            pk,
            clip_id,
            youtube_id,
            start,
            tuple(sorted(proposals[clip_pk], key=lambda item: -(item[1] if item[1] is not None else -1))),
            tuple(ratings[pk]),
        )
        for pk, clip_pk, clip_id, youtube_id, start in study_clips
    ]
    return names, clips
