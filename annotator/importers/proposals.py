"""The one write path for proposal sets, from files and from model runs alike.

`proposal_set_store` replaces a set's proposals and evidence with the rows given, in one
transaction: a study never samples a half-replaced set, and a crash leaves the previous
set as it was. Rows naming an unknown clip or label, or with a score outside [0, 1] (a
score is the model's probability for the label), are reported and skipped.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from numbers import Real

from django.db import transaction

from annotator.importers.bulk import rows_delete, rows_upsert
from annotator.importers.report import ImportInputError, ImportReport, RowError
from annotator.models import Category, Clip, ClipEvidence, Dataset, Proposal, ProposalSet

logger = logging.getLogger(__name__)

EVENT_TYPE_MAX = ClipEvidence._meta.get_field("event_type").max_length
HEATMAP_PATH_MAX = ClipEvidence._meta.get_field("heatmap_path").max_length
SOURCE_REF_MAX = ProposalSet._meta.get_field("source_ref").max_length
SCORE_MIN, SCORE_MAX = 0.0, 1.0


@dataclass(frozen=True)
class ProposalRow:
    """A label proposed for a clip. `line` (not part of equality) is the row's line in a
    source file; rows from code leave it None and are reported by their position."""

    clip_id: str
    category_name: str
    score: float | None
    heads: tuple[str, ...] = ()
    line: int | None = field(default=None, compare=False)


@dataclass(frozen=True)
class EvidenceRow:
    """What the model saw in a clip: event type, instant and onset moments, heatmap path."""

    clip_id: str
    event_type: str = ""
    instant_seconds: tuple[float, ...] = ()
    onset_seconds: tuple[float, ...] = ()
    heatmap_path: str = ""
    line: int | None = field(default=None, compare=False)


def proposal_set_store(
    *,
    dataset: Dataset,
    name: str,
    source: str,
    source_ref: str = "",
    proposals: Iterable[ProposalRow],
    evidence: Iterable[EvidenceRow] = (),
    errors: Sequence[RowError] = (),
) -> ImportReport:
    """Create proposal set `name` of `dataset`, or replace its proposals and evidence.
    created / updated / unchanged count proposals against the set's previous content;
    extra holds `deleted` and the same counts for evidence (`evidence_created`, ...).
    `errors`: rows a file reader already refused, so the report and its log line count
    every error. Raises ImportInputError for an unknown source, or when rows were given
    and none is usable (the stored set is then left as it was)."""
    if source not in ProposalSet.Source.values:
        raise ImportInputError(f"unknown proposal source {source!r}; use one of {', '.join(ProposalSet.Source.values)}")
    proposals, evidence = list(proposals), list(evidence)
    report = ImportReport(errors=list(errors))
    clip_pks = dict(Clip.objects.filter(dataset=dataset).values_list("clip_id", "pk"))
    category_pks = dict(Category.objects.filter(taxonomy_id=dataset.taxonomy_id).values_list("name", "pk"))
    wanted = _checked_proposals(proposals, clip_pks, category_pks, dataset, report)
    wanted_evidence = _checked_evidence(evidence, clip_pks, dataset, report)
    if proposals and not wanted:
        raise ImportInputError(f"no usable proposal among {len(proposals)} rows ({len(report.errors)} errors)")
    if evidence and not proposals and not wanted_evidence:
        raise ImportInputError(f"no usable evidence among {len(evidence)} rows ({len(report.errors)} errors)")
    with transaction.atomic():
        proposal_set, _ = ProposalSet.objects.update_or_create(
            dataset=dataset, name=name, defaults={"source": source, "source_ref": source_ref[:SOURCE_REF_MAX]}
        )
        _replace_proposals(proposal_set, wanted, report)
        _replace_evidence(proposal_set, wanted_evidence, report)
    report.errors.sort(key=lambda error: error.line or 0)
    logger.info("proposal set %s of %s: %s", name, dataset.name, report.summary())
    return report


def _checked_proposals(
    rows: list[ProposalRow],
    clip_pks: dict[str, int],
    category_pks: dict[str, int],
    dataset: Dataset,
    report: ImportReport,
) -> dict[tuple[int, int], tuple[float | None, list[str]]]:
    wanted: dict[tuple[int, int], tuple[float | None, list[str]]] = {}
    first_line: dict[tuple[int, int], int] = {}
    for position, row in enumerate(rows, start=1):
        line = row.line if row.line is not None else position
        clip_pk = clip_pks.get(row.clip_id)
        category_pk = category_pks.get(row.category_name)
        if clip_pk is None:
            report.add_error(line, f"unknown clip {row.clip_id!r} (not in dataset {dataset.name!r})")
        elif category_pk is None:
            report.add_error(line, f"unknown label {row.category_name!r} (not in the dataset's taxonomy)")
        elif row.score is not None and not (isinstance(row.score, Real) and math.isfinite(row.score)):
            report.add_error(line, f"score {row.score!r} is not a finite number")
        elif row.score is not None and not SCORE_MIN <= row.score <= SCORE_MAX:
            report.add_error(line, f"score {float(row.score):g} is outside [{SCORE_MIN:g}, {SCORE_MAX:g}]")
        elif not all(isinstance(head, str) and head for head in row.heads):
            report.add_error(line, f"heads {row.heads!r} must be non-empty names")
        elif (clip_pk, category_pk) in wanted:
            report.add_error(
                line,
                f"clip {row.clip_id!r} already has label {row.category_name!r} "
                f"(first on line {first_line[clip_pk, category_pk]})",
            )
        else:
            score = None if row.score is None else float(row.score)
            wanted[clip_pk, category_pk] = (score, list(dict.fromkeys(row.heads)))
            first_line[clip_pk, category_pk] = line
    return wanted


def _checked_evidence(
    rows: list[EvidenceRow], clip_pks: dict[str, int], dataset: Dataset, report: ImportReport
) -> dict[int, tuple[str, list[float], list[float], str]]:
    wanted: dict[int, tuple[str, list[float], list[float], str]] = {}
    for position, row in enumerate(rows, start=1):
        line = row.line if row.line is not None else position
        clip_pk = clip_pks.get(row.clip_id)
        moments = [*row.instant_seconds, *row.onset_seconds]
        if clip_pk is None:
            report.add_error(line, f"evidence for unknown clip {row.clip_id!r} (not in dataset {dataset.name!r})")
        elif clip_pk in wanted:
            report.add_error(line, f"clip {row.clip_id!r} already has evidence")
        elif len(row.event_type) > EVENT_TYPE_MAX or len(row.heatmap_path) > HEATMAP_PATH_MAX:
            report.add_error(line, f"event type or heatmap path too long for clip {row.clip_id!r}")
        elif not all(isinstance(value, Real) and math.isfinite(value) for value in moments):
            report.add_error(line, f"instant and onset seconds of clip {row.clip_id!r} must be finite numbers")
        else:
            wanted[clip_pk] = (
                row.event_type,
                [float(value) for value in row.instant_seconds],
                [float(value) for value in row.onset_seconds],
                row.heatmap_path,
            )
    return wanted


def _replace_proposals(
    proposal_set: ProposalSet, wanted: dict[tuple[int, int], tuple[float | None, list[str]]], report: ImportReport
) -> None:
    stored = {
        (clip_pk, category_pk): (pk, (score, heads))
        for pk, clip_pk, category_pk, score, heads in Proposal.objects.filter(proposal_set=proposal_set).values_list(
            "pk", "clip_id", "category_id", "score", "heads"
        )
    }
    upserts = []
    for key, values in wanted.items():
        previous = stored.get(key)
        if previous is None:
            report.created += 1
        elif previous[1] != values:
            report.updated += 1
        else:
            report.unchanged += 1
            continue
        upserts.append((proposal_set.pk, *key, *values))
    stale = [pk for key, (pk, _) in stored.items() if key not in wanted]
    report.extra["deleted"] += rows_delete(model=Proposal, pks=stale)
    rows_upsert(
        model=Proposal,
        fields=("proposal_set", "clip", "category", "score", "heads"),
        rows=upserts,
        unique_fields=("proposal_set", "clip", "category"),
        update_fields=("score", "heads"),
    )


def _replace_evidence(
    proposal_set: ProposalSet, wanted: dict[int, tuple[str, list[float], list[float], str]], report: ImportReport
) -> None:
    stored = {
        clip_pk: (pk, tuple(values))
        for pk, clip_pk, *values in ClipEvidence.objects.filter(proposal_set=proposal_set).values_list(
            "pk", "clip_id", "event_type", "instant_seconds", "onset_seconds", "heatmap_path"
        )
    }
    upserts = []
    for clip_pk, values in wanted.items():
        previous = stored.get(clip_pk)
        if previous is None:
            report.extra["evidence_created"] += 1
        elif previous[1] != values:
            report.extra["evidence_updated"] += 1
        else:
            report.extra["evidence_unchanged"] += 1
            continue
        upserts.append((proposal_set.pk, clip_pk, *values))
    stale = [pk for clip_pk, (pk, _) in stored.items() if clip_pk not in wanted]
    report.extra["evidence_deleted"] += rows_delete(model=ClipEvidence, pks=stale)
    rows_upsert(
        model=ClipEvidence,
        fields=("proposal_set", "clip", "event_type", "instant_seconds", "onset_seconds", "heatmap_path"),
        rows=upserts,
        unique_fields=("proposal_set", "clip"),
        update_fields=("event_type", "instant_seconds", "onset_seconds", "heatmap_path"),
    )
