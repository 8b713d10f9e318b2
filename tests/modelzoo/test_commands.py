"""make_synthetic, train and predict from the command line, with no worker (--inline)."""

import pytest
from django.core.management import CommandError, call_command

from annotator.models import Clip, Dataset, Proposal
from modelzoo.models import ModelRun


@pytest.mark.slow
def test_synthetic_dataset_trains_and_proposes_labels_from_the_command_line(db, tmp_path, settings):
    settings.ARTIFACTS_DIR = tmp_path / "artifacts"
    settings.MEDIA_ROOT = tmp_path / "media"
    call_command("make_synthetic", out=str(tmp_path / "syn"), clips=8, classes=2, seed=3, workers=1, import_as="cmd")
    dataset = Dataset.objects.get(name="cmd")
    assert Clip.objects.filter(dataset=dataset, media_status="ok").count() == 8
    assert dataset.taxonomy.categories.count() == 2

    call_command("train", dataset="cmd", kind="naive_av", epochs=1, batch_size=4, inline=True)
    trained = ModelRun.objects.get(kind="train")
    assert trained.status == "succeeded" and len(trained.metrics) == 1

    call_command("predict", run=trained.pk, proposals="cmd proposals", chunk_size=3, inline=True)
    predicted = ModelRun.objects.get(kind="predict")
    assert predicted.status == "succeeded" and predicted.predictions.count() == 8
    # A baseline has one output, so one proposal per clip.
    assert Proposal.objects.filter(proposal_set__name="cmd proposals").count() == 8


def test_commands_explain_bad_input(db, tmp_path):
    with pytest.raises(CommandError, match="num_classes"):
        call_command("make_synthetic", out=str(tmp_path), classes=1)
    with pytest.raises(CommandError, match="no dataset named"):
        call_command("train", dataset="nothing", inline=True)
    with pytest.raises(CommandError, match="does not exist"):
        call_command("predict", run=424242, inline=True)
