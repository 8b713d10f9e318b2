"""import_clips: VGGSound, LLP/AVVP and generic clip lists; reruns, bad rows, unknown labels."""

import json

import pytest
from django.db.models import Count

from annotator.importers import clips as clips_module
from annotator.importers.clips import clips_import
from annotator.importers.report import ImportInputError
from annotator.importers.taxonomy import taxonomy_import_builtin
from annotator.models import Category, Clip, ClipLabel, Dataset
from tests.factories import CategoryFactory, TaxonomyFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def vggsound():
    taxonomy_import_builtin(builtin="vggsound")


@pytest.fixture
def llp():
    taxonomy_import_builtin(builtin="llp")


@pytest.fixture
def animals():
    taxonomy = TaxonomyFactory(name="animals")
    for index, name in enumerate(["dog barking", "cat meowing", "bird chirping, tweeting"]):
        CategoryFactory(taxonomy=taxonomy, name=name, index=index)
    return taxonomy


def labels_of(dataset_name):
    return {
        clip.clip_id: sorted(label.category.name for label in clip.clip_labels.all())
        for clip in Clip.objects.filter(dataset__name=dataset_name).prefetch_related("clip_labels__category")
    }


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_bytes(text.encode())
    return path


def test_vggsound_test_csv_gives_15446_clips_of_309_classes(shared_data, vggsound):
    # given the official VGGSound test list
    path = shared_data / "vggsound" / "test.csv"

    # when it is imported into a new dataset
    report = clips_import(dataset_name="vgg-test", taxonomy_name="vggsound", path=path, file_format="vggsound-test")

    # then every row is a clip with one label, ids and starts taken from the file name
    assert (report.created, report.updated, report.unchanged, report.errors) == (15_446, 0, 0, [])
    clips = Clip.objects.filter(dataset__name="vgg-test")
    assert clips.count() == 15_446
    assert set(clips.values_list("split", flat=True)) == {"test"}
    assert ClipLabel.objects.filter(clip__dataset__name="vgg-test").count() == 15_446
    per_class = ClipLabel.objects.filter(clip__dataset__name="vgg-test").values("category").annotate(n=Count("pk"))
    assert len(per_class) == 309
    assert {row["n"] for row in per_class} <= {49, 50}
    first = clips.get(clip_id="glLQrEijrKg_000300")
    assert (first.youtube_id, first.start_seconds) == ("glLQrEijrKg", 300)
    assert first.labels.get().name == "playing hammond organ"
    quoted = clips.get(clip_id="0_8-g2rof7E_000049")
    assert (quoted.youtube_id, quoted.start_seconds) == ("0_8-g2rof7E", 49)
    assert quoted.labels.get().name == "heart sounds, heartbeat"


def test_vggsound_test_csv_rerun_keeps_counts_and_adds_no_duplicate(shared_data, vggsound):
    path = shared_data / "vggsound" / "test.csv"
    clips_import(dataset_name="vgg-test", taxonomy_name="vggsound", path=path, file_format="vggsound-test")

    # when the same file is imported again (the taxonomy need not be repeated)
    report = clips_import(dataset_name="vgg-test", path=path, file_format="vggsound-test")

    assert (report.created, report.updated, report.unchanged, report.errors) == (0, 0, 15_446, [])
    assert Clip.objects.filter(dataset__name="vgg-test").count() == 15_446
    assert ClipLabel.objects.filter(clip__dataset__name="vgg-test").count() == 15_446
    assert Dataset.objects.filter(name="vgg-test").count() == 1


def test_astest_csv_gives_6927_clips_of_155_classes_under_a_chosen_split(shared_data, vggsound):
    report = clips_import(
        dataset_name="as-test",
        taxonomy_name="vggsound",
        path=shared_data / "vggsound" / "AStest.csv",
        file_format="vggsound-test",
        split="astest",
    )

    assert (report.created, report.errors) == (6_927, [])
    labels = ClipLabel.objects.filter(clip__dataset__name="as-test")
    assert labels.values("category").distinct().count() == 155
    assert set(Clip.objects.filter(dataset__name="as-test").values_list("split", flat=True)) == {"astest"}


def test_llp_test_split_gives_1200_clips_with_1_815_labels_on_average(shared_data, llp):
    report = clips_import(
        dataset_name="llp",
        taxonomy_name="llp",
        path=shared_data / "llp_avvp" / "AVVP_test_pd.csv",
        file_format="llp",
    )

    assert (report.created, report.errors) == (1_200, [])
    labels = ClipLabel.objects.filter(clip__dataset__name="llp").count()
    assert round(labels / 1_200, 3) == 1.815
    clip = Clip.objects.get(dataset__name="llp", clip_id="KSRjje7GH44_60_70")
    assert (clip.youtube_id, clip.start_seconds, clip.split) == ("KSRjje7GH44", 60, "test")
    assert sorted(clip.labels.values_list("name", flat=True)) == ["Blender", "Speech"]


def test_llp_train_split_keeps_fractional_starts_in_the_clip_id(shared_data, llp):
    report = clips_import(
        dataset_name="llp",
        taxonomy_name="llp",
        path=shared_data / "llp_avvp" / "AVVP_train.csv",
        file_format="llp",
    )

    assert (report.created, report.errors) == (10_000, [])
    assert round(ClipLabel.objects.filter(clip__dataset__name="llp").count() / 10_000, 3) == 1.606
    clip = Clip.objects.get(dataset__name="llp", clip_id="AP0061o0Nvk_101.8_111.8")
    assert (clip.youtube_id, clip.start_seconds, clip.split) == ("AP0061o0Nvk", 101.8, "train")


def test_llp_file_with_another_header_is_refused(shared_data, llp):
    with pytest.raises(ImportInputError, match="filename<TAB>event_labels"):
        clips_import(
            dataset_name="llp",
            taxonomy_name="llp",
            path=shared_data / "llp_avvp" / "AVVP_eval_audio.csv",
            file_format="llp",
        )
    assert not Dataset.objects.filter(name="llp").exists()


def test_vggsound_csv_rows_give_padded_clip_ids_and_split_filter(tmp_path, animals):
    path = write(
        tmp_path,
        "vggsound.csv",
        "---g-f_I2yQ,1,dog barking,test\n"
        '--9O4XZOge4,30,"bird chirping, tweeting",train\n'
        "abcdefghijk,7,cat meowing,train",
    )

    report = clips_import(dataset_name="vgg", taxonomy_name="animals", path=path, file_format="vggsound", split="train")

    assert (report.created, report.extra["skipped_other_split"]) == (2, 1)
    assert labels_of("vgg") == {
        "--9O4XZOge4_000030": ["bird chirping, tweeting"],
        "abcdefghijk_000007": ["cat meowing"],
    }
    clip = Clip.objects.get(clip_id="--9O4XZOge4_000030")
    assert (clip.youtube_id, clip.start_seconds, clip.split) == ("--9O4XZOge4", 30, "train")


def test_malformed_rows_are_reported_by_line_while_good_rows_land(tmp_path, animals):
    # given a vggsound.csv with good rows around malformed ones
    path = write(
        tmp_path,
        "vggsound.csv",
        "aaaaaaaaaaa,1,dog barking,train\r\n"
        "bbbbbbbbbbb,x,dog barking,train\r\n"
        "ccccccccccc,2,train\r\n"
        "ddddddddddd,3,,train\r\n"
        "\r\n"
        "eeeeeeeeeee,4.5,cat meowing,test\r\n"
        "fffffffffff,5,cat meowing,test\r\n",
    )

    report = clips_import(dataset_name="vgg", taxonomy_name="animals", path=path, file_format="vggsound")

    assert [(error.line, error.message) for error in report.errors] == [
        (2, "start 'x' is not a whole number of seconds"),
        (3, "expected 4 columns (youtube_id,start,label,split), got 3"),
        (4, "empty label"),
        (6, "start '4.5' is not a whole number of seconds"),
    ]
    assert sorted(labels_of("vgg")) == ["aaaaaaaaaaa_000001", "fffffffffff_000005"]


def test_unbalanced_quote_is_reported_at_its_line(tmp_path, animals):
    path = write(
        tmp_path,
        "test.csv",
        'aaaaaaaaaaa_000001.mp4,dog barking\nbbbbbbbbbbb_000002.mp4,"cat meowing\nccccccccccc_000003.mp4,cat meowing\n',
    )

    report = clips_import(dataset_name="vgg", taxonomy_name="animals", path=path, file_format="vggsound-test")

    assert report.created == 1
    assert [error.line for error in report.errors] == [2]
    assert report.errors[0].message == "unbalanced quote: a quoted field opened on line 2 is never closed"


def test_unknown_labels_are_reported_per_row_and_never_created(tmp_path, animals):
    path = write(
        tmp_path,
        "test.csv",
        "aaaaaaaaaaa_000001.mp4,dog barking\n"
        "bbbbbbbbbbb_000002.mp4,unicorn neighing\n"
        "ccccccccccc_000003.mp4,Dog Barking\n",
    )

    report = clips_import(dataset_name="vgg", taxonomy_name="animals", path=path, file_format="vggsound-test")

    assert report.created == 1
    assert [(error.line, error.message) for error in report.errors] == [
        (2, "unknown label 'unicorn neighing' (not in taxonomy 'animals')"),
        (3, "unknown label 'Dog Barking' (not in taxonomy 'animals')"),
    ]
    assert Category.objects.filter(taxonomy=animals).count() == 3
    assert list(labels_of("vgg")) == ["aaaaaaaaaaa_000001"]


def test_rerun_with_changed_labels_replaces_them(tmp_path, animals):
    path = write(tmp_path, "generic.csv", "clip_id,labels\nc1,dog barking;cat meowing\nc2,cat meowing\n")
    clips_import(dataset_name="mine", taxonomy_name="animals", path=path, file_format="generic")
    path.write_text("clip_id,labels\nc1,dog barking\nc2,cat meowing\n")

    report = clips_import(dataset_name="mine", path=path, file_format="generic")

    assert (report.created, report.updated, report.unchanged) == (0, 1, 1)
    assert labels_of("mine") == {"c1": ["dog barking"], "c2": ["cat meowing"]}


def test_generic_csv_reads_every_documented_column(tmp_path, animals):
    labels = json.dumps(["dog barking", "bird chirping, tweeting"]).replace('"', '""')
    path = write(
        tmp_path,
        "generic.csv",
        "Clip_ID,labels,youtube_id,start_seconds,split,media_path,notes\n"
        f'c1,"{labels}",yt1,30,train,train/c1.mp4,ignored\n'
        "c2,cat meowing; dog barking ,yt2,12.0,,,\n"
        "c3,,,,val,,\n"
        "c4,,yt4,7.5,val,,\n",
    )

    report = clips_import(dataset_name="mine", taxonomy_name="animals", path=path, file_format="generic", split="test")

    assert (report.created, report.errors) == (4, [])
    assert labels_of("mine") == {
        "c1": ["bird chirping, tweeting", "dog barking"],
        "c2": ["cat meowing", "dog barking"],
        "c3": [],
        "c4": [],
    }
    rows = {c.clip_id: (c.youtube_id, c.start_seconds, c.split, c.media_path) for c in Clip.objects.all()}
    assert rows == {
        "c1": ("yt1", 30, "train", "train/c1.mp4"),
        "c2": ("yt2", 12, "test", ""),
        "c3": ("", None, "val", ""),
        "c4": ("yt4", 7.5, "val", ""),
    }


def test_generic_csv_bad_cells_are_reported_by_line(tmp_path, animals):
    path = write(
        tmp_path,
        "generic.csv",
        "clip_id,labels,start_seconds,media_path\n"
        "c1,dog barking,-3,\n"
        'c2,"[""dog barking""",1,\n'
        "c3,dog barking,1,/etc/passwd\n"
        "c4,dog barking,1,../up.mp4\n"
        ",dog barking,1,\n"
        "c6,dog barking\n"
        "c7,dog barking,1,ok.mp4\n",
    )

    report = clips_import(dataset_name="mine", taxonomy_name="animals", path=path, file_format="generic")

    assert [error.line for error in report.errors] == [2, 3, 4, 5, 6, 7]
    assert report.errors[0].message == "start_seconds '-3' is not a number of seconds of at least 0"
    assert "not valid JSON" in report.errors[1].message
    assert "relative" in report.errors[2].message
    assert "inside" in report.errors[3].message
    assert report.errors[4].message == "empty clip id"
    assert report.errors[5].message == "expected 4 columns as in the header, got 2"
    assert list(labels_of("mine")) == ["c7"]


def test_generic_csv_without_required_columns_is_refused(tmp_path, animals):
    path = write(tmp_path, "generic.csv", "id,label\nc1,dog barking\n")

    with pytest.raises(ImportInputError, match="lacks the required column"):
        clips_import(dataset_name="mine", taxonomy_name="animals", path=path, file_format="generic")


def test_clip_on_several_rows_gets_all_labels_and_conflicts_are_reported(tmp_path, animals):
    path = write(
        tmp_path,
        "generic.csv",
        'clip_id,labels,split\nc1,dog barking,train\nc1,cat meowing,train\nc1,"bird chirping, tweeting",test\n',
    )

    report = clips_import(dataset_name="mine", taxonomy_name="animals", path=path, file_format="generic")

    assert labels_of("mine") == {"c1": ["cat meowing", "dog barking"]}
    assert report.extra["duplicate_rows_merged"] == 1
    assert [error.line for error in report.errors] == [4]
    assert "already listed on line 2 with a different split" in report.errors[0].message


def test_new_dataset_needs_an_existing_taxonomy_and_an_existing_one_keeps_its_own(tmp_path, animals):
    path = write(tmp_path, "generic.csv", "clip_id,labels\nc1,dog barking\n")

    with pytest.raises(ImportInputError, match="name its taxonomy"):
        clips_import(dataset_name="mine", path=path, file_format="generic")
    with pytest.raises(ImportInputError, match="import it first"):
        clips_import(dataset_name="mine", taxonomy_name="nope", path=path, file_format="generic")
    clips_import(dataset_name="mine", taxonomy_name="animals", path=path, file_format="generic")
    TaxonomyFactory(name="other")
    with pytest.raises(ImportInputError, match="uses taxonomy 'animals'"):
        clips_import(dataset_name="mine", taxonomy_name="other", path=path, file_format="generic")
    with pytest.raises(ImportInputError, match="unknown clip list format"):
        clips_import(dataset_name="mine", path=path, file_format="xlsx")


def test_a_crash_keeps_the_batches_written_before_it_and_a_rerun_finishes(tmp_path, animals, monkeypatch):
    # given a 5-row list written 2 rows a batch, and a store that fails on the third batch
    rows = "".join(f"c{n},dog barking\n" for n in range(5))
    path = write(tmp_path, "generic.csv", "clip_id,labels\n" + rows)
    real_store = clips_module._store_batch
    calls = []

    def failing_store(*args):
        calls.append(args)
        if len(calls) == 3:
            raise RuntimeError("worker killed")
        real_store(*args)

    monkeypatch.setattr(clips_module, "_store_batch", failing_store)

    # when the import crashes
    with pytest.raises(RuntimeError):
        clips_import(dataset_name="mine", taxonomy_name="animals", path=path, file_format="generic", batch_size=2)

    # then the first two batches are stored, and a rerun completes without duplicates
    assert sorted(Clip.objects.values_list("clip_id", flat=True)) == ["c0", "c1", "c2", "c3"]
    monkeypatch.setattr(clips_module, "_store_batch", real_store)
    report = clips_import(dataset_name="mine", path=path, file_format="generic", batch_size=2)
    assert (report.created, report.unchanged) == (1, 4)
    assert ClipLabel.objects.count() == 5
