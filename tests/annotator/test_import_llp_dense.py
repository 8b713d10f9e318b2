"""parse_avvp_dense: the AVVP segment-level audio and visual annotations, quirks included."""

import csv

import pytest

from annotator.importers.llp import llp_class_names, parse_avvp_dense


def filenames(path):
    with path.open(newline="") as handle:
        return [row["filename"] for row in csv.DictReader(handle, delimiter="\t")]


def test_dense_audio_and_visual_files_list_all_their_videos(shared_data):
    folder = shared_data / "llp_avvp"

    audio = parse_avvp_dense(folder / "AVVP_eval_audio.csv")
    visual = parse_avvp_dense(folder / "AVVP_eval_visual.csv")

    assert (len(audio), len(visual)) == (1_848, 1_665)
    assert audio["4YdbENYcIyE_23_33"] == {"Baby_cry_infant_cry": {0, 1, 2, 3}}
    assert visual["4YdbENYcIyE_23_33"] == {"Baby_cry_infant_cry": set(range(10))}
    labels = {label for events in (audio | visual).values() for label in events}
    assert labels <= set(llp_class_names())


def test_rows_with_onset_not_before_offset_mark_no_segment(shared_data):
    audio = parse_avvp_dense(shared_data / "llp_avvp" / "AVVP_eval_audio.csv")

    # `8DF2PxdT5tE_390_400 9 0 Cheering` marks nothing, the file's other events stay
    assert "Cheering" not in audio["8DF2PxdT5tE_390_400"]
    assert audio["8DF2PxdT5tE_390_400"]["Speech"]
    # a file whose only row is degenerate is listed without events
    assert audio["H5WcJwyjxIg_2_12"] == {}


def test_filenames_drop_mangled_ids_and_leave_unannotated_test_videos_out(shared_data):
    folder = shared_data / "llp_avvp"
    test = filenames(folder / "AVVP_test_pd.csv")
    known = test + filenames(folder / "AVVP_val_pd.csv")

    audio = parse_avvp_dense(folder / "AVVP_eval_audio.csv", filenames=known)
    visual = parse_avvp_dense(folder / "AVVP_eval_visual.csv", filenames=known)

    assert (1_848 - len(audio), 1_665 - len(visual)) == (8, 7)
    assert sum(name not in audio for name in test) == 5
    assert sum(name not in visual for name in test) == 121


def test_rows_of_one_file_and_label_are_merged(tmp_path):
    path = tmp_path / "dense.csv"
    path.write_text(
        "filename\tonset\toffset\tevent_labels\nabc_0_10\t0\t2\tDog\nabc_0_10\t7\t12\tDog,Speech\nabc_0_10\t5\t5\tCat\n"
    )

    assert parse_avvp_dense(path) == {"abc_0_10": {"Dog": {0, 1, 7, 8, 9}, "Speech": {7, 8, 9}}}


def test_malformed_dense_rows_raise_with_their_line(tmp_path):
    path = tmp_path / "dense.csv"
    path.write_text("filename\tonset\toffset\tevent_labels\nabc_0_10\t0\t2\tDog\nabc_0_10\tzero\t2\tDog\n")
    with pytest.raises(ValueError, match="line 3"):
        parse_avvp_dense(path)
    path.write_text("filename\tevent_labels\nabc_0_10\tDog\n")
    with pytest.raises(ValueError, match="expected the header"):
        parse_avvp_dense(path)
