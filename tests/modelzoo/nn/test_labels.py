"""The one LLP single-label rule: crc32 of the clip id over the sorted distinct labels."""

import zlib

import pytest

from modelzoo.nn.labels import single_label


def test_single_label_picks_by_crc32_of_the_clip_id_among_sorted_labels():
    # crc32("clip-c") = 2234449103, which is 2 mod 3: the third of the sorted labels [1, 2, 3]
    assert zlib.crc32(b"clip-c") % 3 == 2
    assert single_label(clip_id="clip-c", label_indices=[3, 1, 2]) == 3
    # crc32("clip-b") = 4062825561, 0 mod 3: the first
    assert single_label(clip_id="clip-b", label_indices=[2, 3, 1]) == 1


def test_single_label_ignores_label_order_and_duplicates():
    assert single_label(clip_id="clip-c", label_indices=[2, 3, 1, 3]) == single_label(
        clip_id="clip-c", label_indices=[1, 2, 3]
    )


def test_single_label_keeps_the_only_label_and_refuses_none():
    assert single_label(clip_id="anything", label_indices=[5]) == 5
    with pytest.raises(ValueError, match="no label"):
        single_label(clip_id="d", label_indices=[])


def test_single_label_spreads_over_the_labels_of_many_clips():
    kept = [single_label(clip_id=f"syn0_{n:05d}", label_indices=[4, 9]) for n in range(400)]
    assert 150 < kept.count(4) < 250 and set(kept) == {4, 9}
