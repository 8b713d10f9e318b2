"""Training and inference read a clip's media through annotator's one path rule (issue 9,
point 14): a link leading outside the dataset's media folder is never read, even when the
clip is recorded as ok (the link was changed after the import)."""

import os
from pathlib import Path

import pytest

from annotator.models import Clip, ClipLabel
from modelzoo import selectors
from tests.builders import write_mp4
from tests.factories import CategoryFactory, ClipFactory, DatasetFactory, TaxonomyFactory


@pytest.fixture
def dataset(db, tmp_path):
    folder, elsewhere = tmp_path / "media", tmp_path / "elsewhere"
    write_mp4(folder / "good.mp4")
    write_mp4(elsewhere / "target.mp4")
    os.symlink(elsewhere / "target.mp4", folder / "escape.mp4")
    taxonomy = TaxonomyFactory()
    category = CategoryFactory(taxonomy=taxonomy, name="dog", index=0)
    dataset = DatasetFactory(taxonomy=taxonomy, media_root=str(folder))
    for clip_id in ("escape", "good"):
        clip = ClipFactory(
            dataset=dataset, clip_id=clip_id, split="train", media_path=f"{clip_id}.mp4", media_status="ok"
        )
        ClipLabel.objects.create(clip=clip, category=category)
    return dataset


def good_path(dataset) -> str:
    return str(Path(dataset.media_root).resolve() / "good.mp4")


def test_training_items_leave_out_a_clip_whose_link_leads_outside(dataset):
    items = selectors.dataset_clip_items(dataset=dataset, split="train", labelled_only=True)

    assert [(item.clip_id, item.path) for item in items] == [("good", good_path(dataset))]


def test_prediction_chunks_treat_such_a_clip_as_not_usable(dataset):
    pks = list(Clip.objects.filter(dataset=dataset).order_by("clip_id").values_list("pk", flat=True))

    items = selectors.clip_items_by_pk(dataset=dataset, clip_pks=pks)
    usable = selectors.usable_clip_pks(clip_pks=pks)

    assert [(item.clip_id, item.path) for item in items] == [("escape", ""), ("good", good_path(dataset))]
    assert usable == {pks[1]}
