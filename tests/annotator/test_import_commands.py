"""The import_* management commands: thin wrappers that print a summary and exit 1 on unusable input."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from annotator.models import Clip, Proposal, Taxonomy
from tests.factories import CategoryFactory, ClipFactory, DatasetFactory, TaxonomyFactory

pytestmark = pytest.mark.django_db


def run(*args):
    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_import_taxonomy_builtin_and_file(tmp_path):
    classes = tmp_path / "ave.txt"
    classes.write_text("Church bell\nBark\n")

    assert "taxonomy llp: 25 created" in run("import_taxonomy", "--builtin", "llp")
    assert "taxonomy ave: 2 created" in run("import_taxonomy", "--name", "ave", "--file", str(classes))
    assert Taxonomy.objects.count() == 2
    with pytest.raises(CommandError, match="--name is required"):
        run("import_taxonomy", "--file", str(classes))


def test_import_clips_prints_summary_and_first_errors(tmp_path):
    run("import_taxonomy", "--builtin", "llp")
    path = tmp_path / "AVVP_val_mine.csv"
    path.write_text("filename\tevent_labels\na_0_10\tDog\nb_0_10\tUnicorn\nc_0_10\tMoose\nd_0_10\tCat,Speech\n")

    output = run(
        "import_clips",
        "--dataset",
        "llp",
        "--taxonomy",
        "llp",
        "--file",
        str(path),
        "--format",
        "llp",
        "--show-errors",
        "1",
    )

    assert "clips of llp: 2 created, 0 updated, 0 unchanged, 2 row errors" in output
    assert "line 3: unknown label 'Unicorn'" in output
    assert "and 1 more" in output
    assert set(Clip.objects.values_list("split", flat=True)) == {"val"}


@pytest.mark.parametrize(
    "args",
    [
        ["--file", "/no/such/file.csv", "--format", "generic"],
        ["--file", "/etc/hostname", "--format", "excel"],
    ],
)
def test_import_clips_exits_non_zero_on_unusable_input(args):
    TaxonomyFactory(name="t")
    with pytest.raises(CommandError):
        run("import_clips", "--dataset", "d", "--taxonomy", "t", *args)


def test_import_clips_exits_non_zero_when_every_row_is_rejected(tmp_path):
    TaxonomyFactory(name="t")
    path = tmp_path / "generic.csv"
    path.write_text("clip_id,labels\nc1,nothing known\n")

    with pytest.raises(CommandError, match="every row of the input was rejected"):
        run("import_clips", "--dataset", "d", "--taxonomy", "t", "--file", str(path), "--format", "generic")


def test_import_media_and_proposals_commands(tmp_path):
    dataset = DatasetFactory(name="d")
    CategoryFactory(taxonomy=dataset.taxonomy, name="dog")
    ClipFactory(dataset=dataset, clip_id="c1")
    (tmp_path / "c1.mp4").write_text("not a video")
    proposals = tmp_path / "p.csv"
    proposals.write_text("clip_id,label,score\nc1,dog,0.5\n")

    media = run("import_media", "--dataset", "d", "--folder", str(tmp_path), "--workers", "1")
    stored = run("import_proposals", "--dataset", "d", "--name", "seed", "--file", str(proposals))

    assert "1 clips unusable" in media
    assert "c1.mp4: not a media file" in media
    assert "proposal set seed of d: 1 created" in stored
    assert Proposal.objects.count() == 1
    with pytest.raises(CommandError, match="dataset 'nope' does not exist"):
        run("import_media", "--dataset", "nope", "--folder", str(tmp_path))
