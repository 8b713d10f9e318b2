"""Build a dataset: plan the clips, render and encode each (in worker processes), write the
manifests."""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from modelzoo.synthetic.audio import render_audio
from modelzoo.synthetic.classes import SynthClass, make_classes
from modelzoo.synthetic.drawing import render_video
from modelzoo.synthetic.manifest import write_manifests
from modelzoo.synthetic.specs import (
    CLASSES_FILE,
    CLIPS_CSV,
    CLIPS_DIR,
    MANIFEST_CSV,
    MANIFEST_JSON,
    ClipSpec,
    SyntheticConfig,
    clip_rng,
    plan_clips,
)
from modelzoo.synthetic.writer import encode_mp4

logger = logging.getLogger(__name__)

# Offsets a clip's rendering seed from its planning seed, so the two draw different streams.
RENDER_SEED_OFFSET = 1 << 20


@dataclass(frozen=True)
class SyntheticDataset:
    """What :func:`generate_dataset` wrote; paths are absolute."""

    root: Path
    classes: tuple[SynthClass, ...]
    clips: tuple[ClipSpec, ...]
    manifest_json: Path
    manifest_csv: Path
    classes_file: Path
    clips_csv: Path
    config: SyntheticConfig = field(repr=False)

    def clip_path(self, clip: ClipSpec) -> Path:
        return self.root / clip.relpath


def write_clip(spec: ClipSpec, classes: Sequence[SynthClass], config: SyntheticConfig, root: Path) -> str:
    """Render and encode one clip; its own seed makes it independent of order and workers."""
    rng = clip_rng(config.seed, spec.number + RENDER_SEED_OFFSET)
    video = render_video(spec, classes, config, rng)
    audio = render_audio(spec, classes, config, rng)
    encode_mp4(root / spec.relpath, video, audio, fps=config.fps, sample_rate=config.sample_rate)
    return spec.clip_id


def _write_clip_star(args: tuple[ClipSpec, Sequence[SynthClass], SyntheticConfig, Path]) -> str:
    return write_clip(*args)


def generate_dataset(
    out_dir: str | Path,
    config: SyntheticConfig,
    *,
    workers: int | None = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> SyntheticDataset:
    """Write every clip, the manifests, the class list and the generic clips CSV under ``out_dir``.

    ``workers``: processes for rendering and encoding (None: up to the CPU count; 1: in this
    process). The output does not depend on it.
    """
    root = Path(out_dir).resolve()
    (root / CLIPS_DIR).mkdir(parents=True, exist_ok=True)
    classes = make_classes(config.num_classes)
    clips = plan_clips(config)
    workers = min(os.cpu_count() or 1, 8, len(clips)) if workers is None else max(1, workers)
    jobs = [(spec, classes, config, root) for spec in clips]
    done = 0
    if workers == 1:
        for job in jobs:
            _write_clip_star(job)
            done += 1
            if on_progress:
                on_progress(done, len(clips))
    else:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            for _ in pool.map(_write_clip_star, jobs, chunksize=max(1, math.ceil(len(jobs) / (workers * 8)))):
                done += 1
                if on_progress:
                    on_progress(done, len(clips))
    write_manifests(root, config, classes, clips)
    logger.info("wrote %d synthetic clips of %d classes under %s", len(clips), len(classes), root)
    return SyntheticDataset(
        root=root,
        classes=classes,
        clips=clips,
        manifest_json=root / MANIFEST_JSON,
        manifest_csv=root / MANIFEST_CSV,
        classes_file=root / CLASSES_FILE,
        clips_csv=root / CLIPS_CSV,
        config=config,
    )
