"""Fixtures for the model zoo: a tiny synthetic dataset (real MP4s) and a tiny trained checkpoint.

The files are generated once per session; each test imports them into its own database
through the annotator importers, as a researcher would.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from modelzoo import synthetic

SYNTHETIC = synthetic.SyntheticConfig(num_clips=12, num_classes=3, seed=5, multi_fraction=0.25)


@pytest.fixture(scope="session")
def synthetic_root(tmp_path_factory) -> Path:
    return synthetic.generate_dataset(tmp_path_factory.mktemp("synthetic"), SYNTHETIC, workers=1).root


@pytest.fixture
def synthetic_dataset(db, synthetic_root, settings, tmp_path, researcher):
    """The synthetic clips imported as dataset 'synthetic' (taxonomy, clips, probed media),
    owned by the researcher."""
    from modelzoo import services

    settings.ARTIFACTS_DIR = tmp_path / "artifacts"
    settings.MEDIA_ROOT = tmp_path / "media"
    dataset, reports = services.synthetic_dataset_import(
        root=synthetic_root, dataset_name="synthetic", owner=researcher
    )
    assert not any(report.errors for report in reports.values())
    return dataset


@pytest.fixture(scope="session")
def tiny_checkpoint(synthetic_root, tmp_path_factory) -> Path:
    """A tiny event-head model trained one epoch on the synthetic train split (no Django)."""
    from modelzoo.nn import train
    from modelzoo.nn.config import TrainConfig, get_config

    manifest = synthetic.load_manifest(synthetic_root)
    items = [(row["abspath"], row["label"]) for row in manifest["clips"] if row["split"] == "train"]
    directory = tmp_path_factory.mktemp("checkpoint")
    result = train.fit(
        config=TrainConfig(
            model_kind="event_heads", num_classes=SYNTHETIC.num_classes, epochs=1, batch_size=4, lr=1e-3
        ),
        model_config=get_config("tiny"),
        train_items=items,
        val_items=[],
        checkpoint_dir=directory,
        cache_dir=directory / "features",
    )
    assert result.checkpoint_path is not None
    return result.checkpoint_path


@pytest.fixture
def researcher(db):
    from tests.factories import make_researcher

    return make_researcher()


@pytest.fixture
def trained_run(synthetic_dataset, tiny_checkpoint, researcher):
    """A succeeded training run whose checkpoint is the tiny model."""
    from modelzoo.models import ModelRun

    return ModelRun.objects.create(
        kind=ModelRun.Kind.TRAIN,
        model_kind=ModelRun.ModelKind.EVENT_HEADS,
        config_name="tiny",
        dataset=synthetic_dataset,
        split="train",
        epochs=1,
        batch_size=4,
        num_classes=SYNTHETIC.num_classes,
        status=ModelRun.Status.SUCCEEDED,
        progress=1.0,
        checkpoint_path=str(tiny_checkpoint),
        created_by=researcher,
    )
