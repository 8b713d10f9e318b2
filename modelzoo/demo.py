"""The one-command demo: synthetic clips, a tiny model trained by a Celery worker, its
proposals, a study with decoys and gold clips, and demo accounts. Every step reuses what a
previous run left, so running the demo again starts serving at once."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction

from annotator import roles
from annotator import selectors as annotator_selectors
from annotator import services as annotator_services
from annotator.models import Dataset, ProposalSet, Study
from config.errors import NotFoundError
from modelzoo import selectors, services, synthetic
from modelzoo.models import ModelRun

logger = logging.getLogger(__name__)

DATASET_NAME = "demo-synthetic"
STUDY_NAME = "Demo study: which events are in each clip?"
INSTRUCTIONS = (
    "Watch and listen to each 10-second clip. For every proposed label, mark whether the event is "
    "present (seen or heard), absent, or if you are unsure. Add any label the model missed."
)


@dataclass(frozen=True)
class DemoAccount:
    username: str
    password: str
    role: str


ACCOUNTS = (
    DemoAccount("researcher", "researcher-demo", roles.RESEARCHER),
    DemoAccount("rater1", "rater1-demo", roles.RATER),
    DemoAccount("rater2", "rater2-demo", roles.RATER),
)


@dataclass(frozen=True)
class DemoPlan:
    # 240 clips split 60/20/20: 48 validation clips (8 per class), so the printed validation
    # accuracy means something, and 48 held-out test clips for Tables 1 and 2.
    clips: int = 240
    classes: int = 6
    seed: int = 0
    frame_size: int = 64
    splits: tuple[tuple[str, float], ...] = (("train", 0.6), ("val", 0.2), ("test", 0.2))
    epochs: int = 8
    batch_size: int = 16
    learning_rate: float = 3e-3
    study_clips: int = 16
    raters_per_clip: int = 2


#: The paper's baselines, trained beside the event-head model so Table 1 has all four columns.
BASELINE_KINDS = (ModelRun.ModelKind.AUDIO_ONLY, ModelRun.ModelKind.VISION_ONLY, ModelRun.ModelKind.NAIVE_AV)
#: Tables 1 and 2 are computed on clips no model trained or early-stopped on.
HELD_OUT_SPLIT = "test"


def demo_accounts_ensure() -> list[DemoAccount]:
    """The researcher and two raters, with the printed passwords (reset on every run)."""
    User = get_user_model()
    for account in ACCOUNTS:
        group, _ = Group.objects.get_or_create(name=account.role)
        user, _ = User.objects.get_or_create(username=account.username)
        user.set_password(account.password)
        user.save()
        user.groups.add(group)
    return list(ACCOUNTS)


def demo_dataset_ensure(
    *, root: Path, plan: DemoPlan, owner, on_progress: Callable[[int, int], None] | None = None
) -> Dataset:
    """Generate the synthetic MP4 clips once and import them through the normal importers, as
    a dataset `owner` (the demo's researcher) owns."""
    try:
        existing = annotator_selectors.dataset_get_by_name(name=DATASET_NAME)
    except NotFoundError:
        existing = None
    if existing is not None and annotator_selectors.dataset_clip_row_count(dataset=existing):
        # A demo database from before datasets had owners: the demo's researcher takes it.
        return annotator_services.dataset_owner_set(dataset=existing, owner=owner)
    if not (root / synthetic.CLIPS_CSV).is_file():
        config = synthetic.SyntheticConfig(
            num_clips=plan.clips, num_classes=plan.classes, seed=plan.seed, size=plan.frame_size, splits=plan.splits
        )
        synthetic.generate_dataset(root, config, on_progress=on_progress)
    dataset, _ = services.synthetic_dataset_import(root=root, dataset_name=DATASET_NAME, owner=owner)
    return dataset


def demo_training_run(
    *, dataset: Dataset, plan: DemoPlan, owner, model_kind: str = ModelRun.ModelKind.EVENT_HEADS
) -> ModelRun:
    """The newest succeeded or unfinished training run of ``model_kind``, or a new queued one."""
    run = (
        ModelRun.objects.filter(dataset=dataset, kind=ModelRun.Kind.TRAIN, model_kind=model_kind)
        .exclude(status__in=[ModelRun.Status.FAILED, ModelRun.Status.CANCELLED])
        .order_by("-created_at")
        .first()
    )
    if run is not None:
        return run
    return services.model_run_start_training(
        dataset=dataset,
        model_kind=model_kind,
        config_name="tiny",
        split="train",
        val_split="val",
        epochs=plan.epochs,
        batch_size=plan.batch_size,
        learning_rate=plan.learning_rate,
        created_by=owner,
    )


def demo_prediction_run(*, source_run: ModelRun, owner, split: str = "") -> ModelRun:
    """Inference of a training run: over every clip (``split=""``), turned into the proposal
    set of the study, or over one held-out split for the tables, with no proposals."""
    make_proposals = not split
    run = (
        ModelRun.objects.filter(
            source_run=source_run, kind=ModelRun.Kind.PREDICT, split=split, make_proposals=make_proposals
        )
        .exclude(status__in=[ModelRun.Status.FAILED, ModelRun.Status.CANCELLED])
        .order_by("-created_at")
        .first()
    )
    if run is not None:
        return run
    return services.model_run_start_prediction(
        source_run=source_run,
        split=split,
        chunk_size=24 if make_proposals else 48,
        make_proposals=make_proposals,
        proposal_set_name=f"demo model run {source_run.pk}" if make_proposals else "",
        with_heatmaps=make_proposals,
        created_by=owner,
    )


def validation_vote_accuracy(run: ModelRun) -> float | None:
    """The vote's accuracy on the validation split after the last epoch, as the run stored it."""
    epochs = run.metrics or []  # one row per finished epoch
    value = (epochs[-1].get("val") or {}).get("vote_accuracy") if epochs else None
    return float(value) if value is not None else None


def demo_study_ensure(*, dataset: Dataset, proposal_set: ProposalSet, plan: DemoPlan) -> Study:
    User = get_user_model()
    owner = User.objects.get(username=ACCOUNTS[0].username)
    existing = annotator_selectors.studies_for_researcher(user=owner).filter(name=STUDY_NAME, dataset=dataset).first()
    if existing is not None:
        return existing
    raters = list(User.objects.filter(username__in=[a.username for a in ACCOUNTS if a.role == roles.RATER]))
    with transaction.atomic():
        study = annotator_services.study_create(
            name=STUDY_NAME,
            dataset=dataset,
            proposal_set=proposal_set,
            owner=owner,
            raters=raters,
            sample_size=plan.study_clips,
            seed=plan.seed,
            stratified=True,
            split="",  # a demo has few clips: sample from every split
            raters_per_clip=plan.raters_per_clip,
            decoys_per_clip=1,
            gold_rate=0.125,
            show_evidence=True,
            reservation_timeout_seconds=600,
            instructions=INSTRUCTIONS,
        )
        annotator_services.spectrogram_job_start(study=study)  # the worker precomputes the strips
    return study


def run_refresh(run: ModelRun) -> ModelRun:
    return selectors.run_get(run_id=run.pk)
