"""Gold truth per label: a gold file (docs/gold_labels.md), or an earlier study's consensus.

A gold file is CSV with a header naming `clip_id`, `label` and `truth` (present / absent,
also 1 / 0, yes / no) and optionally `modality` (A = heard only, V = seen only, AV = both;
only for present labels). One row per known label; a label a clip has no row for is unknown
and is not scored. A rerun updates the rows it names and leaves the others as they are.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from django.db import transaction

from annotator.importers.readers import Record, csv_records, text_read
from annotator.importers.report import ImportInputError, ImportReport
from annotator.models import Category, Clip, Dataset, GoldLabel, Modality

TRUTH_WORDS = {"present": True, "1": True, "yes": True, "true": True, "absent": False, "0": False, "no": False}
TRUTH_WORDS["false"] = False
MODALITY_CODES = {value for value in Modality.values if value}
REQUIRED_COLUMNS = ("clip_id", "label", "truth")
#: A label needs this share of decisive votes on its side, and this many, to be promoted.
PROMOTE_MIN_AGREEMENT = 0.8
PROMOTE_MIN_VOTES = 3


@dataclass(frozen=True)
class GoldRow:
    clip_pk: int
    category_pk: int
    present: bool
    modality: str


def gold_labels_import(*, dataset: Dataset, path: Path | str) -> ImportReport:
    """Read a gold file for a dataset's clips and store its rows; bad rows are reported and
    skipped, the good ones stored in one transaction."""
    text = text_read(path=path)
    report = ImportReport()
    records = csv_records(text)
    header = next(records, None)
    if not isinstance(header, Record):
        raise ImportInputError(f"{path}: no header row (need {', '.join(REQUIRED_COLUMNS)})")
    names = [name.strip().lower() for name in header.fields]
    missing = [name for name in REQUIRED_COLUMNS if name not in names]
    if missing:
        raise ImportInputError(f"{path}: the header lacks {', '.join(missing)} (has {', '.join(names)})")
    column = {name: names.index(name) for name in (*REQUIRED_COLUMNS, "modality") if name in names}
    clips = dict(Clip.objects.filter(dataset=dataset).values_list("clip_id", "pk"))
    categories = dict(Category.objects.filter(taxonomy_id=dataset.taxonomy_id).values_list("name", "pk"))
    rows: dict[tuple[int, int], GoldRow] = {}
    for record in records:
        if not isinstance(record, Record):
            report.add_error(*record)
            continue
        row = _gold_row(record, column=column, clips=clips, categories=categories, report=report)
        if row is not None:
            rows[(row.clip_pk, row.category_pk)] = row
    gold_rows_store(rows=rows.values(), source=str(path), report=report)
    return report


def _gold_row(record: Record, *, column: dict, clips: dict, categories: dict, report: ImportReport) -> GoldRow | None:
    fields = record.fields
    if len(fields) < len(column):
        report.add_error(record.line, f"{len(fields)} fields, expected {len(column)}")
        return None
    clip_id, label = fields[column["clip_id"]].strip(), fields[column["label"]].strip()
    truth = fields[column["truth"]].strip().lower()
    modality = fields[column["modality"]].strip().upper() if "modality" in column else ""
    problems = []
    if clip_id not in clips:
        problems.append(f"clip {clip_id!r} is not in the dataset")
    if label not in categories:
        problems.append(f"label {label!r} is not in the dataset's taxonomy")
    if truth not in TRUTH_WORDS:
        problems.append(f"truth {truth!r} is not present or absent")
    if modality and modality not in MODALITY_CODES:
        problems.append(f"modality {modality!r} is not A, V or AV")
    if modality and TRUTH_WORDS.get(truth) is False:
        problems.append("an absent label has no modality")
    if problems:
        report.add_error(record.line, "; ".join(problems))
        return None
    return GoldRow(clips[clip_id], categories[label], TRUTH_WORDS[truth], modality)


def gold_rows_store(*, rows, source: str, report: ImportReport) -> None:
    """Insert or update GoldLabel rows (counted in the report as created / updated / unchanged)."""
    rows = list(rows)
    with transaction.atomic():
        existing = {
            (gold.clip_id, gold.category_id): gold
            for gold in GoldLabel.objects.filter(clip_id__in={row.clip_pk for row in rows})
        }
        create, update = [], []
        for row in rows:
            gold = existing.get((row.clip_pk, row.category_pk))
            if gold is None:
                create.append(
                    GoldLabel(
                        clip_id=row.clip_pk,
                        category_id=row.category_pk,
                        present=row.present,
                        modality=row.modality,
                        source=source[:300],
                    )
                )
            elif (gold.present, gold.modality) != (row.present, row.modality):
                gold.present, gold.modality, gold.source = row.present, row.modality, source[:300]
                update.append(gold)
            else:
                report.unchanged += 1
        GoldLabel.objects.bulk_create(create, batch_size=2000)
        GoldLabel.objects.bulk_update(update, ["present", "modality", "source"], batch_size=2000)
    report.created += len(create)
    report.updated += len(update)


def gold_promote_from_study(
    *, study, min_agreement: float = PROMOTE_MIN_AGREEMENT, min_votes: int = PROMOTE_MIN_VOTES
) -> ImportReport:
    """Make an earlier study's clear consensus gold for its dataset's clips: every judged label
    with at least `min_votes` decisive votes and `min_agreement` of them on one side becomes
    known present (with its modality consensus) or known absent."""
    from evaluation import selectors as evaluation_selectors
    from evaluation.tables import label_votes

    if not 0.5 <= min_agreement <= 1 or min_votes < 1:
        raise ImportInputError("min_agreement must lie in [0.5, 1] and min_votes be at least 1.")
    data = evaluation_selectors.study_data(study=study)
    report = ImportReport()
    rows = []
    for vote in label_votes(data):
        decisive = vote.present + vote.absent
        if decisive < min_votes or vote.agreement < min_agreement:
            report.extra["labels_not_clear_enough"] += 1
            continue
        present = vote.confirmed
        rows.append(
            GoldRow(
                int(data.clips.pks[vote.clip]),
                data.category_pks[vote.label],
                present,
                (vote.modality or "") if present else "",
            )
        )
    gold_rows_store(rows=rows, source=f"study:{study.pk}", report=report)
    return report
