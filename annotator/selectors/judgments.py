"""Bulk reads of annotator's tables for evaluation: judgment counts, a taxonomy's categories,
and clips' metadata and original labels as plain rows (values lists, no model instance per
row), so a 15,000-clip run loads in seconds."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

from annotator.models import Category, Clip, ClipEvidence, ClipLabel, Judgment, Study

#: Primary keys per ``IN (...)`` list: one statement stays small for any number of clips.
CHUNK_SIZE = 5000


def study_judgment_count(*, study: Study) -> int:
    """Judgments on the study's clips (proposals, decoys and labels raters added)."""
    return Judgment.objects.filter(rating__study_clip__study=study).count()


def taxonomy_category_rows(*, taxonomy_id: int) -> list[tuple[int, int, str]]:
    """(pk, index, name) of each category of a taxonomy, by index."""
    return list(Category.objects.filter(taxonomy_id=taxonomy_id).order_by("index").values_list("pk", "index", "name"))


def _in_chunks(query: Callable[[list[int]], Iterator[tuple]], pks: Sequence[int]) -> Iterator[tuple]:
    for start in range(0, len(pks), CHUNK_SIZE):
        yield from query([int(pk) for pk in pks[start : start + CHUNK_SIZE]])


def clip_metadata_rows(*, clip_pks: Sequence[int]) -> Iterator[tuple[int, str, str, float | None]]:
    """(pk, clip_id, youtube_id, start_seconds) of each of these clips, in no set order."""
    return _in_chunks(
        lambda chunk: Clip.objects.filter(pk__in=chunk).values_list("pk", "clip_id", "youtube_id", "start_seconds"),
        clip_pks,
    )


def clip_label_rows(*, clip_pks: Sequence[int]) -> Iterator[tuple[int, int]]:
    """(clip pk, category pk) of each original label of these clips, in no set order."""
    return _in_chunks(
        lambda chunk: ClipLabel.objects.filter(clip_id__in=chunk).values_list("clip_id", "category_id"), clip_pks
    )


def clip_event_type_rows(*, proposal_set_id: int, clip_pks: Sequence[int]) -> Iterator[tuple[int, str]]:
    """(clip pk, the model's dominant event type) for these clips in a proposal set's evidence."""
    return _in_chunks(
        lambda chunk: ClipEvidence.objects.filter(proposal_set_id=proposal_set_id, clip_id__in=chunk)
        .exclude(event_type="")
        .values_list("clip_id", "event_type"),
        clip_pks,
    )
