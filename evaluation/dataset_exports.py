"""The multi-labelled dataset of a study (also as Label Studio tasks), and the retargeted
sub-datasets of a predict run, in every export format (the files are written by
evaluation.exporters, evaluation.dataset_files and evaluation.label_studio)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import numpy as np

from annotator import selectors as annotator_selectors
from config.errors import ApplicationError
from evaluation import dataset_files, exporters, label_studio, metrics, selectors
from modelzoo.models import ModelRun

if TYPE_CHECKING:
    from annotator.models import Study


def predict_runs_check(runs: Sequence[ModelRun]) -> None:
    """Refuse anything but succeeded predict runs (what the tables and the retarget read)."""
    if not runs:
        raise ApplicationError("Name at least one predict run.")
    not_ready = [str(run.pk) for run in runs if run.kind != ModelRun.Kind.PREDICT or run.status != "succeeded"]
    if not_ready:
        raise ApplicationError(f"Runs {', '.join(not_ready)} are not succeeded predict runs.")


CONSENSUS_RULE = (
    "confirmed = more of the raters shown the label answered present than absent; unsure abstains; "
    f"a label a rater added needs {metrics.ADDED_MIN_PRESENT} present answers; "
    "a label the researcher adjudicated (adjudicated: true) takes their decision instead"
)
MODALITY_RULE = (
    "heard? and seen? each by the majority of the label's modality votes, a tie as yes; "
    "an adjudicated present label takes the modality the researcher gave, if any"
)


def study_dataset_export(
    *, study: Study, fmt: str, include_rejected: bool = False, licence: str = "unknown"
) -> str | bytes:
    """The multi-labelled dataset of a study as CSV, JSON or JSON Lines text, or as Parquet
    or a zipped Hugging Face folder (bytes); ``licence`` goes into the Hugging Face card."""
    if fmt not in exporters.STUDY_DATASET_FORMATS:
        raise ApplicationError(f"Unknown dataset format {fmt!r}; use {', '.join(exporters.STUDY_DATASET_FORMATS)}.")
    try:
        licence = dataset_files.licence_check(licence)
    except ValueError as error:
        raise ApplicationError(str(error)) from error
    data = selectors.study_data(study=study)
    # The one-pass formats take the records as they are made; the others need them all.
    stream = exporters.study_dataset_record_iter(data, include_rejected=include_rejected)
    if fmt == "csv":
        return exporters.dataset_to_csv(stream)
    if fmt == "jsonl":
        return dataset_files.dataset_to_jsonl(stream)
    if fmt == "parquet":
        return dataset_files.dataset_to_parquet(stream)
    records = list(stream)
    if fmt == "hf":
        return dataset_files.dataset_to_hf_zip(records, facts=_card_facts(study=study, data=data, licence=licence))
    meta = {
        "study": {"id": study.pk, "name": study.name, "dataset": study.dataset.name},
        "taxonomy": study.dataset.taxonomy.name,
        "rule": CONSENSUS_RULE,
        "modality_rule": MODALITY_RULE,
        "serving": study.serving,
    }
    return exporters.dataset_to_json(records, meta=meta)


def _card_facts(*, study: Study, data: selectors.StudyData, licence: str) -> dataset_files.CardFacts:
    """The study's design and its raters' agreement for the dataset card (sampled clips:
    gold clips were chosen for their known labels, not sampled)."""
    sampled = ~data.is_gold[data.labels.clip]
    alpha = metrics.krippendorff_alpha_nominal(metrics.agreement_counts(data.labels.counts[sampled]))
    modality = metrics.modality_agreement(data.modality_votes[sampled])
    if study.serving == study.Serving.SETTLED:
        serving = f"settled: {study.min_raters} to {study.raters_per_clip} raters per clip, error {study.settle_error}"
    else:
        serving = f"fixed: {study.raters_per_clip} raters per clip"
    design = [
        ("Proposals", f"{study.proposal_set.name} ({study.proposal_set.get_source_display()})"),
        ("Serving", serving),
        ("Sampled clips", f"{study.sample_size}" + (f" of split {study.split}" if study.split else "")),
        ("Stratified by original label", "yes" if study.stratified else "no"),
        ("Decoys per clip", str(study.decoys_per_clip)),
        ("Gold clip rate", f"{study.gold_rate:g}"),
        ("Labels shown per clip at most", str(study.max_labels_shown)),
        ("Modality asked", "yes" if study.ask_modality else "no"),
    ]
    return dataset_files.CardFacts(
        title=study.name,
        dataset=study.dataset.name,
        taxonomy=study.dataset.taxonomy.name,
        categories=data.categories,
        design=design,
        rules=[("Consensus", CONSENSUS_RULE), ("Modality", MODALITY_RULE)],
        raters=len(set(data.rating_rater.tolist())),
        ratings=len(data.rating_rater),
        krippendorff_alpha=alpha,
        modality_agreement=float(np.nanmean(modality)) if np.isfinite(modality).any() else float("nan"),
        licence=licence,
    )


LABEL_STUDIO_FILES = {"tasks": "json", "config": "xml"}


def study_label_studio_export(*, study: Study, part: str, media_url: Callable[[int], str]) -> str:
    """The study as Label Studio tasks (`part` "tasks", JSON; `media_url(study_clip_id)` the
    absolute URL of a clip's video) or their labelling config ("config", XML)."""
    if part not in LABEL_STUDIO_FILES:
        raise ApplicationError(f"Unknown Label Studio file {part!r}; use {', '.join(LABEL_STUDIO_FILES)}.")
    names, clips = annotator_selectors.study_label_studio_rows(study=study)
    if part == "config":
        return label_studio.label_studio_config(names)
    tasks = label_studio.label_studio_tasks(clips, model_version=study.proposal_set.name, media_url=media_url)
    return label_studio.label_studio_json(tasks)


def label_studio_filename(study_pk: int, part: str) -> str:
    return f"study-{study_pk}-label-studio-{part}.{LABEL_STUDIO_FILES[part]}"


def run_retarget_export(*, run: ModelRun, target: str, fmt: str) -> str:
    """The clips of an event-head predict run of one event type or modality, as CSV or JSON."""
    if fmt not in exporters.DATASET_FORMATS:
        raise ApplicationError(f"Unknown dataset format {fmt!r}; use csv or json.")
    predict_runs_check([run])
    try:
        records = exporters.retarget_records(selectors.run_data(run=run), target=target)
    except ValueError as error:
        raise ApplicationError(str(error)) from error
    if fmt == "csv":
        return exporters.retarget_to_csv(records)
    meta = {
        "run": run.pk,
        "dataset": run.dataset.name,
        "target": target,
        "event_types": list(exporters.retarget_types(target)),
    }
    return exporters.dataset_to_json(records, meta=meta)


# --------------------------------------------------------------------------------------
# Files
# --------------------------------------------------------------------------------------
