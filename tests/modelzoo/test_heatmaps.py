"""Localisation heatmap strips: which steps are drawn and how the map lands on the frame."""

import numpy as np
from PIL import Image

from modelzoo import heatmaps


def test_instant_steps_are_drawn_in_time_order():
    assert heatmaps.heatmap_steps(num_steps=20, instant_steps=[9, 2, 14]) == [2, 9, 14]


def test_many_instant_steps_are_thinned_to_five():
    steps = heatmaps.heatmap_steps(num_steps=100, instant_steps=list(range(0, 100, 10)))
    assert steps == [0, 20, 40, 70, 90]


def test_without_instant_steps_evenly_spread_steps_are_drawn():
    assert heatmaps.heatmap_steps(num_steps=20, instant_steps=[]) == [0, 5, 10, 14, 19]
    assert heatmaps.heatmap_steps(num_steps=3, instant_steps=[]) == [0, 1, 2]


def test_the_hot_cell_of_the_map_is_the_bright_part_of_the_panel(tmp_path):
    frames = np.zeros((4, 56, 56, 3), dtype=np.uint8)
    maps = np.zeros((4, 7, 7), dtype=np.float32)
    maps[1, 0, 6] = 5.0  # top right at step 1
    relative = heatmaps.heatmap_write(
        media_root=tmp_path, run_id=3, clip_pk=11, frames=frames, maps=maps, instant_steps=[1]
    )
    assert relative == "heatmaps/run-3/11.png"
    image = np.asarray(Image.open(tmp_path / relative).convert("L"), dtype=float)
    assert image.shape == (112, 112)  # one panel, zoomed to at least 112 pixels
    assert image[:20, -20:].mean() > 3 * image[-20:, :20].mean()
    assert not list(tmp_path.rglob("*.part"))
