"""A trained run as a Label Studio ML backend: which run a user may serve, its label config
matched to the run's taxonomy, each task's clip found in the run's dataset and predicted.

A task names its clip by file name (or `data.clip_id`); only a clip of the run's dataset
whose media probed ok is read, at the path the import recorded, inside the dataset's media
root (``selectors.dataset_clip_items``, annotator's one path rule). A URL or path in a task
is never fetched nor opened, so a task cannot make the server read anything else.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from config.errors import ConflictError, NotFoundError
from modelzoo import selectors, services
from modelzoo.ml_backend import contract, predictor
from modelzoo.models import ModelRun

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Target:
    """The Choices tag answered, and what a result names each category it offers."""

    tag: contract.ChoicesTag
    choices: dict[int, str]


def ml_backend_run(*, user, run_id: int) -> ModelRun:
    """A finished training run with a checkpoint that the user may predict with (their own,
    one shared with them, any for an admin); anything else reads as not found."""
    run = selectors.trained_runs(user=user).select_related("dataset__taxonomy").filter(pk=run_id).first()
    if run is None:
        raise NotFoundError(f"no trained model run {run_id} among yours")
    return run


def ml_backend_model_version(*, run: ModelRun) -> str:
    return f"avlabel-run-{run.pk}-{run.model_kind}-{run.config_name}"


def ml_backend_model_class(*, run: ModelRun) -> str:
    return f"avlabel.{run.model_kind}"


def ml_backend_target(*, run: ModelRun, label_config: str) -> Target:
    """The first whole-clip Choices tag of the config with a choice naming one of the run's
    classes. Raises LabelConfigError (400) when there is none: nothing could be predicted."""
    tags = contract.label_config_choices(label_config)
    if not tags:
        raise contract.LabelConfigError(
            "The label config has no Choices tag labelling a Video or Audio object whose value is a task field "
            '(e.g. <Video name="video" value="$video"/> <Choices name="labels" toName="video">).'
        )
    names = selectors.category_names_by_index(taxonomy=run.dataset.taxonomy)
    for tag in tags:
        choices = contract.choices_by_category(tag, names)
        if choices:
            return Target(tag, choices)
    raise contract.LabelConfigError(
        f"No Choice of the label config names a class of taxonomy '{run.dataset.taxonomy.name}' "
        f"(the model of run {run.pk} predicts those).",
        extra={"choices_tags": [tag.from_name for tag in tags]},
    )


def ml_backend_predict(*, run: ModelRun, label_config: str, tasks: Sequence[dict]) -> list[dict]:
    """One prediction per task, in order (an empty one for a task whose clip is not found
    among the run's dataset's usable clips, or does not decode)."""
    target = ml_backend_target(run=run, label_config=label_config)
    clip_ids = [contract.task_clip_id(task, data_key=target.tag.data_key) for task in tasks]
    wanted = sorted({clip_id for clip_id in clip_ids if clip_id})
    items = (
        {item.clip_id: item for item in selectors.dataset_clip_items(dataset=run.dataset, clip_ids=wanted)}
        if wanted
        else {}
    )
    found: dict[str, predictor.ClipLabels | None] = {}
    if items:
        try:
            model = predictor.loaded_model(checkpoint_path=run.checkpoint_path, device=services.device_choose())
        except FileNotFoundError:
            raise ConflictError(f"The checkpoint file of run {run.pk} is gone: train the model again.") from None
        ordered = sorted(items)
        labels = predictor.clips_labels(model=model, paths=[items[c].path for c in ordered], batch_size=run.batch_size)
        found = dict(zip(ordered, labels, strict=True))
    missing = len([clip_id for clip_id in clip_ids if found.get(clip_id) is None])
    if missing:
        logger.info(
            "run %s: %d of %d Label Studio tasks name no readable clip of its dataset", run.pk, missing, len(tasks)
        )
    version = ml_backend_model_version(run=run)
    return [
        contract.task_prediction(tag=target.tag, labels=_offered(found.get(clip_id), target), model_version=version)
        for clip_id in clip_ids
    ]


def _offered(labels: predictor.ClipLabels | None, target: Target) -> list[contract.ProposedLabel]:
    """The proposed labels the config offers as choices (a result may name no other)."""
    if labels is None:
        return []
    return [
        contract.ProposedLabel(target.choices[index], score, heads)
        for index, score, heads in labels.labels
        if index in target.choices
    ]
