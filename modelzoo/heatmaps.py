"""Sound-localisation heatmaps as PNG strips: alpha_t = V_t . z^A_t over the frame at step t.

A strip shows up to five time steps (the instant steps when the model found any, else evenly
spread ones), each frame with its 7x7 map upsampled and blended in. Files go under
MEDIA_ROOT/heatmaps/run-<id>/; the path stored is relative to MEDIA_ROOT.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image

MAX_PANELS = 5
MIN_PANEL_PIXELS = 112
BLEND = 0.55


def heatmap_steps(*, num_steps: int, instant_steps: Sequence[int], max_panels: int = MAX_PANELS) -> list[int]:
    """Which steps to draw: the instant steps (ascending) or, without them, evenly spread steps."""
    steps = sorted({int(step) for step in instant_steps if 0 <= step < num_steps})
    if len(steps) > max_panels:
        steps = [steps[i] for i in np.linspace(0, len(steps) - 1, max_panels).round().astype(int)]
    if not steps:
        steps = sorted({int(s) for s in np.linspace(0, num_steps - 1, min(max_panels, num_steps)).round()})
    return steps


def _inferno(values: np.ndarray) -> np.ndarray:
    """(H, W) in [0, 1] -> (H, W, 3) uint8 through matplotlib's inferno colour map."""
    from matplotlib import colormaps

    return (colormaps["inferno"](values)[..., :3] * 255).astype(np.uint8)


def heatmap_image(*, frames: np.ndarray, maps: np.ndarray, steps: Sequence[int]) -> Image.Image:
    """frames: (T, H, W, 3) uint8; maps: (T, h, w) raw alpha; one panel per step, side by side.

    The maps of the drawn steps share one min-max scale, so panels compare with each other.
    """
    if frames.shape[0] != maps.shape[0]:
        raise ValueError(f"{frames.shape[0]} frames for {maps.shape[0]} maps")
    picked = maps[list(steps)].astype(np.float32)
    low, high = float(picked.min()), float(picked.max())
    scaled = (picked - low) / (high - low) if high > low else np.zeros_like(picked)
    height, width = frames.shape[1:3]
    zoom = max(1, -(-MIN_PANEL_PIXELS // min(height, width)))
    panels = []
    for position, step in enumerate(steps):
        heat = Image.fromarray((scaled[position] * 255).astype(np.uint8)).resize((width, height), Image.BILINEAR)
        colour = _inferno(np.asarray(heat, dtype=np.float32) / 255.0)
        blended = (frames[step].astype(np.float32) * (1 - BLEND) + colour.astype(np.float32) * BLEND).astype(np.uint8)
        panels.append(Image.fromarray(blended).resize((width * zoom, height * zoom), Image.NEAREST))
    strip = Image.new("RGB", (sum(p.width for p in panels) + 2 * (len(panels) - 1), panels[0].height), "white")
    left = 0
    for panel in panels:
        strip.paste(panel, (left, 0))
        left += panel.width + 2
    return strip


def heatmap_write(
    *, media_root: Path, run_id: int, clip_pk: int, frames: np.ndarray, maps: np.ndarray, instant_steps: Sequence[int]
) -> str:
    """Write the strip PNG for one clip; returns its path relative to ``media_root``."""
    relative = Path("heatmaps") / f"run-{run_id}" / f"{clip_pk}.png"
    target = Path(media_root) / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    image = heatmap_image(
        frames=frames, maps=maps, steps=heatmap_steps(num_steps=maps.shape[0], instant_steps=instant_steps)
    )
    partial = target.with_name(target.name + ".part")
    image.save(partial, format="PNG")
    partial.replace(target)
    return relative.as_posix()
