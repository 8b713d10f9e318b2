"""Vote (with its tie-breaking), union set, event type and localisation maps."""

import pytest
import torch

from modelzoo.nn.model import HEAD_NAMES, event_types, localisation_maps, union_labels, vote


def probs_for(labels, confidences, num_classes=6):
    """One clip: head i puts ``confidences[i]`` on ``labels[i]``, the rest spread evenly."""
    out = {}
    for name, label, conf in zip(HEAD_NAMES, labels, confidences, strict=True):
        row = torch.full((1, num_classes), (1 - conf) / (num_classes - 1))
        row[0, label] = conf
        out[name] = row
    return out


def test_vote_takes_the_label_most_heads_agree_on():
    probs = probs_for([2, 2, 2, 1, 1], [0.3, 0.3, 0.3, 0.9, 0.9])
    assert vote(probs).tolist() == [2]


def test_vote_takes_a_unique_plurality_even_against_a_more_confident_head():
    probs = probs_for([1, 1, 2, 3, 0], [0.4, 0.4, 0.95, 0.4, 0.4])
    assert vote(probs).tolist() == [1]


def test_vote_tie_between_two_labels_goes_to_the_most_confident_head():
    probs = probs_for([1, 1, 2, 2, 0], [0.5, 0.6, 0.5, 0.5, 0.9])
    assert vote(probs).tolist() == [0]


def test_vote_with_all_heads_differing_goes_to_the_most_confident_head():
    probs = probs_for([0, 1, 2, 3, 4], [0.3, 0.4, 0.5, 0.8, 0.6])
    assert vote(probs).tolist() == [3]


def test_vote_equal_confidences_go_to_the_earliest_head():
    probs = probs_for([4, 1, 2, 3, 0], [0.5, 0.5, 0.5, 0.5, 0.5])
    assert vote(probs).tolist() == [4]


def test_vote_is_per_clip_in_a_batch():
    a = probs_for([2, 2, 2, 1, 1], [0.3] * 5)
    b = probs_for([0, 1, 2, 3, 4], [0.3, 0.4, 0.5, 0.8, 0.6])
    batch = {name: torch.cat([a[name], b[name]]) for name in HEAD_NAMES}
    assert vote(batch).tolist() == [2, 3]


def test_single_output_vote_is_its_argmax():
    assert vote({"naive_av": torch.tensor([[0.1, 0.7, 0.2]])}).tolist() == [1]


def test_union_lists_each_head_label_once_most_confident_first():
    probs = probs_for([1, 1, 2, 3, 1], [0.4, 0.7, 0.5, 0.9, 0.3])
    assert union_labels(probs) == [[3, 1, 2]]


def test_union_of_agreeing_heads_is_one_label():
    probs = probs_for([5, 5, 5, 5, 5], [0.5] * 5)
    assert union_labels(probs) == [[5]]


def test_event_type_is_the_head_giving_the_label_the_highest_probability():
    probs = probs_for([1, 1, 2, 3, 1], [0.4, 0.7, 0.5, 0.9, 0.3])
    assert event_types(probs, torch.tensor([1])) == ["instant"]
    assert event_types(probs, torch.tensor([3])) == ["visual"]


def test_event_type_ties_go_to_the_earliest_head():
    probs = probs_for([1, 1, 1, 1, 1], [0.6] * 5)
    assert event_types(probs, torch.tensor([1])) == ["continuous"]


def test_localisation_map_is_the_dot_product_of_each_cell_with_the_audio_step():
    # D=2, T=2, h=1, w=2
    v_map = torch.tensor([[[[[1.0, 0.0]], [[2.0, 1.0]]], [[[0.0, 3.0]], [[1.0, 1.0]]]]])  # (1, 2, 2, 1, 2)
    z_a = torch.tensor([[[1.0, 2.0], [0.5, -1.0]]])  # (1, T=2, D=2)
    alpha = localisation_maps(v_map, z_a)
    assert alpha.shape == (1, 2, 1, 2)
    # t=0: cell0 = 1*1 + 0*2 = 1, cell1 = 0*1 + 3*2 = 6
    assert alpha[0, 0, 0].tolist() == pytest.approx([1.0, 6.0])
    # t=1: cell0 = 2*0.5 + 1*-1 = 0, cell1 = 1*0.5 + 1*-1 = -0.5
    assert alpha[0, 1, 0].tolist() == pytest.approx([0.0, -0.5])
