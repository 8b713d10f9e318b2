"""import_taxonomy: VGGSound stat.csv, one-label-a-line lists, built-ins, reruns and bad rows."""

from collections import Counter

import pytest

from annotator.importers.report import ImportInputError
from annotator.importers.taxonomy import taxonomy_import, taxonomy_import_builtin
from annotator.models import Category, Taxonomy

pytestmark = pytest.mark.django_db

VGGSOUND_GROUPS = {
    "animals": 74,
    "music": 63,
    "people": 49,
    "others": 33,
    "vehicle": 30,
    "sports": 26,
    "tools": 12,
    "home": 11,
    "nature": 11,
}


def categories(name):
    return list(Category.objects.filter(taxonomy__name=name).order_by("index"))


def test_vggsound_stat_csv_gives_309_classes_in_9_groups_in_file_order(shared_data):
    # given the real VGGSound class list (CRLF, quoted labels, no final newline)
    path = shared_data / "vggsound" / "stat.csv"

    # when it is imported
    report = taxonomy_import(name="vggsound", path=path, file_format="vggsound-stat")

    # then every row is a category, indexed by row order, grouped by its category column
    assert (report.created, report.updated, report.errors) == (309, 0, [])
    stored = categories("vggsound")
    assert [category.index for category in stored] == list(range(309))
    assert stored[0].name == "ambulance siren"
    assert (stored[0].group, stored[0].source_count) == ("vehicle", 1050)
    assert stored[2].name == "bird chirping, tweeting"
    assert stored[-1].name == "air horn"
    assert Counter(category.group for category in stored) == VGGSOUND_GROUPS
    assert sum(category.source_count for category in stored) == 199_176


def test_builtin_vggsound_is_the_shared_class_list(shared_data):
    # given the shipped copy imported by name and the shared file imported from disk
    taxonomy_import_builtin(builtin="vggsound")
    taxonomy_import(name="from-file", path=shared_data / "vggsound" / "stat.csv", file_format="vggsound-stat")

    # then both give the same classes, groups and counts in the same order
    def rows(name):
        return [(c.index, c.name, c.group, c.source_count) for c in categories(name)]

    assert rows("vggsound") == rows("from-file")
    assert "CC BY 4.0" in Taxonomy.objects.get(name="vggsound").source


def test_builtin_llp_has_the_25_classes_in_reference_order():
    # when the shipped LLP list is imported under another name
    report = taxonomy_import_builtin(builtin="llp", name="llp25")

    # then its order is the reference code's index order
    assert report.created == 25
    names = [category.name for category in categories("llp25")]
    assert names[:6] == ["Speech", "Car", "Cheering", "Dog", "Cat", "Frying_(food)"]
    assert names[-1] == "Clapping"
    assert len(set(names)) == 25


def test_lines_format_keeps_commas_inside_labels(shared_data):
    # given VGGSound's Common.txt, one label a line, some with commas
    report = taxonomy_import(name="common", path=shared_data / "vggsound" / "Common.txt", file_format="lines")

    assert (report.created, report.errors) == (164, [])
    assert "pigeon, dove cooing" in {category.name for category in categories("common")}
    assert all(category.source_count is None for category in categories("common"))


def test_taxonomy_rerun_changes_nothing_and_duplicates_nothing(shared_data):
    path = shared_data / "vggsound" / "stat.csv"
    taxonomy_import(name="vggsound", path=path, file_format="vggsound-stat")

    # when the same file is imported again
    report = taxonomy_import(name="vggsound", path=path, file_format="vggsound-stat")

    assert (report.created, report.updated, report.unchanged) == (0, 0, 309)
    assert Category.objects.filter(taxonomy__name="vggsound").count() == 309
    assert Taxonomy.objects.filter(name="vggsound").count() == 1


def test_taxonomy_rerun_updates_counts_and_appends_new_classes(tmp_path):
    first = tmp_path / "first.csv"
    first.write_text("dog,10,animals\r\ncat,5,animals\r\n")
    taxonomy_import(name="pets", path=first, file_format="vggsound-stat")
    second = tmp_path / "second.csv"
    second.write_text("dog,12,animals\r\ncat,5,animals\r\nbird,3,animals")

    report = taxonomy_import(name="pets", path=second, file_format="vggsound-stat")

    assert (report.created, report.updated, report.unchanged) == (1, 1, 1)
    assert [(c.name, c.index, c.source_count) for c in categories("pets")] == [
        ("dog", 0, 12),
        ("cat", 1, 5),
        ("bird", 2, 3),
    ]


def test_taxonomy_reordered_file_is_refused_and_keeps_the_stored_order(tmp_path):
    path = tmp_path / "classes.txt"
    path.write_text("dog\ncat\n")
    taxonomy_import(name="pets", path=path, file_format="lines")
    path.write_text("cat\ndog\n")

    with pytest.raises(ImportInputError, match="different class list"):
        taxonomy_import(name="pets", path=path, file_format="lines")

    assert [(c.name, c.index) for c in categories("pets")] == [("dog", 0), ("cat", 1)]


def test_bad_taxonomy_rows_are_reported_by_line_and_keep_their_index(tmp_path):
    # given rows with a bad count, a wrong column count and a duplicate between good rows
    path = tmp_path / "stat.csv"
    path.write_text(
        "dog,10,animals\r\ncat,many,animals\r\nowl,1\r\n\r\nbird,3,animals\r\ndog,4,animals\r\nfish,2,nature\r\n"
    )

    report = taxonomy_import(name="pets", path=path, file_format="vggsound-stat")

    # then the good rows land at their row positions and each bad row is named by its line
    assert [(c.name, c.index) for c in categories("pets")] == [("dog", 0), ("bird", 3), ("fish", 5)]
    assert [(error.line, error.message) for error in report.errors] == [
        (2, "clip_count 'many' is not a whole number"),
        (3, "expected 3 columns (label,clip_count,category), got 2"),
        (6, "duplicate label 'dog' (first on line 1)"),
    ]


def test_taxonomy_import_refuses_unusable_input(tmp_path):
    with pytest.raises(ImportInputError, match="file not found"):
        taxonomy_import(name="x", path=tmp_path / "missing.csv", file_format="lines")
    with pytest.raises(ImportInputError, match="unknown taxonomy format"):
        taxonomy_import(name="x", path=tmp_path, file_format="xml")
    latin1 = tmp_path / "latin1.txt"
    latin1.write_bytes("dog\ncaf\xe9 noise\n".encode("latin-1"))
    with pytest.raises(ImportInputError, match="not UTF-8 text"):
        taxonomy_import(name="x", path=latin1, file_format="lines")
    empty = tmp_path / "empty.txt"
    empty.write_text("\n\n")
    with pytest.raises(ImportInputError, match="no usable class"):
        taxonomy_import(name="x", path=empty, file_format="lines")
    assert not Taxonomy.objects.filter(name="x").exists()
