"""Each pooling layer against hand-computed values (B=2, T=4, D=2)."""

import pytest
import torch

from modelzoo.nn.config import get_config
from modelzoo.nn.heads import POOLINGS, EventHead, InstantPooling, correspondence, instant_steps, onset_fallback

# clip 0: S[t] = z_v . z_a = [2, 1, 3, 0.1]
Z_V = torch.tensor(
    [
        [[1.0, 0.0], [0.0, 2.0], [3.0, 0.0], [1.0, 1.0]],
        [[0.0, 0.0], [4.0, 0.0], [0.0, 0.0], [0.0, 4.0]],
    ]
)
Z_A = torch.tensor(
    [
        [[2.0, 0.0], [0.0, 0.5], [1.0, 5.0], [0.0, 0.1]],
        [[1.0, 1.0], [1.0, 0.0], [2.0, 2.0], [0.0, 1.0]],
    ]
)
# clip 0 has onsets at steps 1 and 3, clip 1 has none
ONSETS = torch.tensor([[False, True, False, True], [False, False, False, False]])

CONT_0 = [1.25, 0.75, 0.75, 1.4]
CONT_1 = [1.0, 1.0, 1.0, 1.0]


def pool(name, k=2):
    pooling = InstantPooling(k) if name == "instant" else POOLINGS[name]()
    return pooling(Z_V, Z_A, ONSETS)


def test_correspondence_is_the_per_step_dot_product():
    assert correspondence(Z_V, Z_A)[0].tolist() == pytest.approx([2.0, 1.0, 3.0, 0.1])
    assert correspondence(Z_V, Z_A)[1].tolist() == pytest.approx([0.0, 4.0, 0.0, 4.0])


def test_continuous_pooling_is_the_mean_of_the_concatenation():
    out = pool("continuous")
    assert out.shape == (2, 4)
    assert out[0].tolist() == pytest.approx(CONT_0)
    assert out[1].tolist() == pytest.approx(CONT_1)


def test_instant_pooling_averages_the_top_k_steps_of_s():
    # clip 0: top-2 of S are steps 2 (3.0) and 0 (2.0)
    assert instant_steps(Z_V, Z_A, 2)[0].tolist() == [2, 0]
    out = pool("instant", k=2)
    assert out[0].tolist() == pytest.approx([2.0, 0.0, 1.5, 2.5])
    # clip 1: top-2 are steps 1 and 3 (both 4.0)
    assert sorted(instant_steps(Z_V, Z_A, 2)[1].tolist()) == [1, 3]
    assert out[1].tolist() == pytest.approx([2.0, 2.0, 0.5, 0.5])


def test_instant_pooling_with_k_one_picks_the_single_best_step():
    out = pool("instant", k=1)
    assert out[0].tolist() == pytest.approx([3.0, 0.0, 1.0, 5.0])


def test_instant_pooling_k_comes_from_the_config():
    assert POOLINGS["instant"].from_config(get_config("paper")).k == 10


def test_onset_pooling_averages_the_onset_steps():
    out = pool("onset")
    assert out[0].tolist() == pytest.approx([0.5, 1.5, 0.0, 0.3])


def test_onset_pooling_falls_back_to_continuous_without_onsets():
    out = pool("onset")
    assert out[1].tolist() == pytest.approx(CONT_1)
    assert onset_fallback(ONSETS, 2, ONSETS.device).tolist() == [False, True]
    no_mask = POOLINGS["onset"]()(Z_V, Z_A, None)
    assert no_mask[0].tolist() == pytest.approx(CONT_0)


def test_visual_pooling_zeroes_the_audio_half():
    assert pool("visual")[0].tolist() == pytest.approx([1.25, 0.75, 0.0, 0.0])


def test_audio_pooling_zeroes_the_visual_half():
    assert pool("audio")[0].tolist() == pytest.approx([0.0, 0.0, 0.75, 1.4])


@pytest.mark.parametrize("name", POOLINGS.names())
def test_every_pooling_is_parameter_free(name):
    assert list(POOLINGS[name].from_config(get_config("tiny")).parameters()) == []


def test_event_head_applies_its_own_linear_layer_after_pooling():
    head = EventHead(POOLINGS["continuous"](), embed_dim=2, num_classes=2)
    with torch.no_grad():
        head.fc.weight.copy_(torch.tensor([[1.0, 0.0, 0.0, 0.0], [0.0, 1.0, 1.0, 1.0]]))
        head.fc.bias.copy_(torch.tensor([0.5, -1.0]))
    logits = head(Z_V, Z_A, ONSETS)
    assert logits[0].tolist() == pytest.approx([1.25 + 0.5, 0.75 + 0.75 + 1.4 - 1.0])
